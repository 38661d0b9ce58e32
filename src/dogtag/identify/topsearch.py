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


def soft_terms(samples: SampleBatch, fams: FamilyBatch, workers: int = 1
               ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The distinct degraded and half-typed observations of ``samples`` and their log terms.

    Returns
    -------
    si : int64, shape (S, J): each sample's row in the tables below at marker j, -1 where its
        observation there is a clean call or none.
    num : float64, shape (E, M): ``log(o @ cond_j)`` of each distinct observation ``o``.
    den : float64, shape (E, M) with theta (``log(o @ cond_unrelated_j)``), else (0, M).
    """
    S, J, M = samples.n_samples, len(samples.views), fams.n_missing
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
    theta = fams.cond_unrelated is not None
    num = np.empty((first, M))
    den = np.empty((first if theta else 0, M))

    def fill(part: tuple) -> None:
        j, at, (o, used) = part
        tables = [(fams.cond[j], num)]
        if theta:
            assert fams.cond_unrelated is not None
            tables.append((fams.cond_unrelated[j], den))
        with np.errstate(divide="ignore"):
            for cond, out in tables:
                for lo in range(0, M, _SOFT_COLUMNS):
                    hi = min(M, lo + _SOFT_COLUMNS)
                    np.log(o @ cond[used, lo:hi], out=out[at:at + o.shape[0], lo:hi])

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
    :func:`~dogtag.identify.search.tile_top`, with exclusions and evidence."""
    logp, den, offsets = _stacked(fams)
    S, J, M = samples.n_samples, len(samples.views), fams.n_missing
    si, soft_num, soft_den = soft_terms(samples, fams, workers)
    gi = np.full((S, J), -1, dtype=np.int64)
    log_hw = np.zeros((S, J))
    for j, v in enumerate(samples.views):
        ok = v.clean_g >= 0
        gi[ok, j] = offsets[j] + v.clean_g[ok]
        log_hw[:, j] = v.log_hw
    ssex = np.ascontiguousarray(samples.sex, dtype=np.int8)
    msex = np.ascontiguousarray(fams.sex, dtype=np.int8)
    K = max(top, 0)

    def run(b: tuple[int, int]) -> Candidates:
        lo, hi = b
        part = lineage.block(lo, hi) if lineage is not None else None
        lin = np.zeros((0, 0)) if part is None else np.ascontiguousarray(part[0], dtype=np.float64)
        state = kept_state(hi - lo, K)
        top_pairs(gi[lo:hi], si[lo:hi], log_hw[lo:hi], logp, den, soft_num, soft_den, lin, ssex[lo:hi], msex,
                  0, M, 0, K, min_log, *state)
        rows = sample_rows(samples, lo, hi)
        pairs = kept_pairs(state)
        if pairs is None:   # more pairs >= min_log in a row than the kernel holds
            return tile_top(rows, fams, row0=lo, col0=0, top=top, min_log=min_log, lineage=part, compiled=False)
        r, c, v = pairs
        n = r.size
        kept = _keep(Candidates(r + lo, c, v, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int8)),
                     top, min_log)
        return _pair_details(kept, rows, [(0, fams)], row0=lo, col0=0, lineage=part)

    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    kept: list[Candidates] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for (_, hi), res in zip(blocks, pool.map(run, blocks), strict=True):
            kept.append(res)
            if progress:
                progress(hi, S, "samples")
    return merge(kept, top=top, min_log=min_log)
