"""The single-process top-K blind search on the compiled kernel (:mod:`dogtag.identify.tilekernel`).

:func:`dogtag.identify.search.blind_search` with ``top`` runs here when the kernel is there. The
result is that of the tiles of :func:`~dogtag.identify.search.tile_top`, bit for bit; what
differs is where the work is done once rather than per tile:

- the samples' observations are read once (one :func:`~dogtag.identify.search.sample_batch`);
- the log terms ``log(o @ P(. | family))`` of the degraded and half-typed observations are
  made once per distinct observation of the whole case (samples typed alike share them: at
  10,000 samples with 10% degraded, about 1,400 rows against 9,500 made tile by tile), for all
  columns, with the same sparse products in the same order as the tiles make them;
- the families' log tables are written straight into the kernel's stacked tables
  (:func:`~dogtag.identify.search._family_work` with ``stacked``).

Blocks of rows then go through :func:`~dogtag.identify.tilekernel.top_pairs` in threads (the
kernel releases the GIL); a block with more pairs >= ``min_log`` per row than the kernel holds
takes the NumPy path (:func:`~dogtag.identify.search.tile_top` with ``compiled=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from numpy.typing import NDArray

from dogtag.identify.lineage_search import LineageEvidence
from dogtag.identify.search import (
    Candidates,
    FamilyBatch,
    SampleBatch,
    _keep,
    _pair_details,
    _stacked,
    merge,
    sample_rows,
    tile_top,
)
from dogtag.identify.tilekernel import _compact, _distinct_rows, kept_pairs, kept_state, top_pairs

__all__ = ["search_top", "soft_terms"]

#: columns of a degraded observation's log terms made at once (bounds the product's temporaries)
_SOFT_COLUMNS = 2048

#: floats of the degraded observations' log terms held at once (128 MB; with theta twice): the
#: columns are cut into chunks of at most this many log terms, each run through every block of samples
SOFT_FLOATS = 1 << 24


def _observations(samples: SampleBatch) -> tuple[NDArray[np.int64], list[tuple], int]:
    """Each sample's row among the distinct degraded and half-typed observations (see
    :func:`soft_terms`), per marker those observations (compacted) and their first row, and
    their number."""
    S, J = samples.n_samples, len(samples.views)
    si = np.full((S, J), -1, dtype=np.int64)
    parts = []
    first = 0
    for j, v in enumerate(samples.views):
        if v.soft is None:
            continue
        distinct, row_of = _distinct_rows(v.soft)
        si[v.soft_rows, j] = first + row_of
        parts.append((j, first, _compact(distinct)))
        first += distinct.shape[0]
    return si, parts, first


def soft_terms(samples: SampleBatch, fams: FamilyBatch, workers: int = 1, lo: int = 0, hi: int | None = None
               ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The distinct degraded and half-typed observations of ``samples`` and their log terms at
    columns ``lo:hi`` (default: all).

    Returns
    -------
    si : int64, shape (S, J): each sample's row in the tables below at marker j, -1 where its
        observation there is a clean call or none.
    num : float64, shape (E, hi - lo): ``log(o @ cond_j)`` of each distinct observation ``o``.
    den : float64, shape (E, hi - lo) with theta (``log(o @ cond_unrelated_j)``), else (0, hi - lo).
    """
    hi = fams.n_missing if hi is None else hi
    si, parts, E = _observations(samples)
    theta = fams.cond_unrelated is not None
    num = np.empty((E, hi - lo))
    den = np.empty((E if theta else 0, hi - lo))

    def fill(part: tuple) -> None:
        j, at, (o, used) = part
        tables = [(fams.cond[j], num)]
        if theta:
            assert fams.cond_unrelated is not None
            tables.append((fams.cond_unrelated[j], den))
        with np.errstate(divide="ignore"):
            for cond, out in tables:
                for c0 in range(lo, hi, _SOFT_COLUMNS):
                    c1 = min(hi, c0 + _SOFT_COLUMNS)
                    np.log(o @ cond[used, c0:c1], out=out[at:at + o.shape[0], c0 - lo:c1 - lo])

    if workers > 1 and len(parts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fill, parts))
    else:
        for part in parts:
            fill(part)
    return si, num, den


def search_top(samples: SampleBatch, fams: FamilyBatch, *, top: int, min_log: float,
               lineage: LineageEvidence | None, workers: int = 1, chunk: int = 512,
               progress: Callable[[int, int, str], None] | None = None) -> Candidates:
    """The kept pairs of every sample of ``samples`` (all of the case's, in order) against every
    missing person of ``fams``: :func:`~dogtag.identify.search.merge` of the tiles'
    :func:`~dogtag.identify.search.tile_top`, with exclusions and evidence.

    The columns go in chunks of at most :data:`SOFT_FLOATS` log terms of the degraded
    observations (one chunk at 10,000 x 10,000); each row keeps its pairs across the chunks in
    the kernel's state, which folds columns in ascending order either way (the same pairs). With
    lineage evidence, a block's lineage LRs are made once per chunk."""
    logp, den, offsets = _stacked(fams)
    S, J, M = samples.n_samples, len(samples.views), fams.n_missing
    E = _observations(samples)[2]
    width = M if E * M <= SOFT_FLOATS else max(1, SOFT_FLOATS // E)
    gi = np.full((S, J), -1, dtype=np.int64)
    log_hw = np.zeros((S, J))
    for j, v in enumerate(samples.views):
        ok = v.clean_g >= 0
        gi[ok, j] = offsets[j] + v.clean_g[ok]
        log_hw[:, j] = v.log_hw
    ssex = np.ascontiguousarray(samples.sex, dtype=np.int8)
    msex = np.ascontiguousarray(fams.sex, dtype=np.int8)
    K = max(top, 0)
    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    states = {b: kept_state(b[1] - b[0], K) for b in blocks}

    def lin_of(b: tuple[int, int]) -> tuple[NDArray[np.float64], tuple | None]:
        part = lineage.block(*b) if lineage is not None else None
        return (np.zeros((0, 0)) if part is None else np.ascontiguousarray(part[0], dtype=np.float64)), part

    def fold(c_lo: int, c_hi: int, terms: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
             b: tuple[int, int]) -> None:
        lo, hi = b
        si, num, dnum = terms
        top_pairs(gi[lo:hi], si[lo:hi], log_hw[lo:hi], logp, den, num, dnum, lin_of(b)[0], ssex[lo:hi], msex,
                  c_lo, c_hi, 0, K, min_log, *states[b])

    def finish(b: tuple[int, int]) -> Candidates:
        lo, hi = b
        rows = sample_rows(samples, lo, hi)
        part = lin_of(b)[1]
        pairs = kept_pairs(states.pop(b))
        if pairs is None:   # more pairs >= min_log in a row than the kernel holds
            return tile_top(rows, fams, row0=lo, col0=0, top=top, min_log=min_log, lineage=part, compiled=False)
        r, c, v = pairs
        n = r.size
        kept = _keep(Candidates(r + lo, c, v, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int8)),
                     top, min_log)
        return _pair_details(kept, rows, [(0, fams)], row0=lo, col0=0, lineage=part)

    kept: list[Candidates] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for c_lo in range(0, M, width):
            c_hi = min(M, c_lo + width)
            terms = soft_terms(samples, fams, workers, c_lo, c_hi)
            list(pool.map(partial(fold, c_lo, c_hi, terms), blocks))
            del terms     # before the next chunk's are made
        for (_, hi), res in zip(blocks, pool.map(finish, blocks), strict=True):
            kept.append(res)
            if progress:
                progress(hi, S, "samples")
    return merge(kept, top=top, min_log=min_log)
