"""The compiled tile kernel of the blind search: the top candidates of a block of samples
against a batch of missing persons, without the (samples x missing) matrix.

Per pair it does what :func:`dogtag.identify.search._tile_log_lr` does, in the same
order of floating-point operations, so the log LRs are equal bit for bit: for each
marker j in turn, ``acc = acc + T_j[g] - h`` where ``T_j`` is the family's table of
natural-log conditional probabilities, ``g`` the sample's genotype and ``h`` its
Hardy-Weinberg log-likelihood at j (with theta: the family's unrelated-person table
gathered at ``g``); for a degraded or half-typed observation the term is the log of
``o @ P(. | family)``, computed outside the kernel with the same sparse product as the
NumPy path (per block of columns, so memory stays bounded); untyped markers add nothing.
Then lineage log LRs are added, pairs of opposite sexes become nan (never kept) and
other nan (impossible family data) -inf.

Each row keeps its ``top`` best pairs (log LR descending, then column) and, beside them,
up to :data:`EXTRA` pairs with log LR >= ``min_log``; a row with more such pairs is
reported, and :func:`dogtag.identify.search.tile_top` falls back to the NumPy path for
the tile. The kernel holds no Python objects and releases the GIL, so the driver's
threads run tiles in parallel (a ``prange`` inside would fight those threads, and
Dask's worker threads, for the same cores).

:func:`kernel_top` drives it for :func:`dogtag.identify.search.tile_top`: the samples' views as
index arrays, the families' tables as stacked by the caller, the degraded samples' log terms per
block of columns (each distinct observation once). It returns plain arrays, so this module needs
nothing of :mod:`dogtag.identify.search` but its types (no import circle).

Compiled on first use with ``cache=True``: the first search after a fresh install
compiles it (a few seconds, once; the cache lives beside this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numba import njit
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dogtag.identify.search import FamilyBatch, Lineage, SampleBatch

#: a block of columns: its first column, its batch, and the batch's stacked log tables
#: (:func:`dogtag.identify.search._stacked`: numerators, denominators, offset of each marker)
Block = tuple[int, "FamilyBatch", tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]]

__all__ = ["EXTRA", "WIDTH", "kept_pairs", "kept_state", "kernel_top", "top_pairs"]

#: pairs per row kept beside the top ones for ``min_log`` before a tile falls back to NumPy
EXTRA = 16

#: columns per cache block: a block of the tables (about 2,500 genotype rows at 23 STRs)
#: x WIDTH float64 stays in the processor's cache while a tile's rows go through it
WIDTH = 256


@njit(nogil=True, cache=True)
def _better(v: float, c: int, w: float, wc: int) -> bool:
    return v > w or (v == w and c < wc)


@njit(nogil=True, cache=True)
def top_pairs(gi, si, log_hw, logp, den, soft_num, soft_den, lin, ssex, msex, c_lo, c_hi, col0, top, min_log,
              best_val, best_col, n_best, ext_val, ext_col, n_ext):
    """Fold columns ``c_lo:c_hi`` of a tile into each row's kept pairs (in place).

    Parameters
    ----------
    gi : int64, (s, J): row of the stacked tables of each sample's clean genotype at marker j,
        -1 where it is not a clean call.
    si : int64, (s, J): row of ``soft_num`` of a degraded or half-typed observation, else -1.
    log_hw : float64, (s, J): Hardy-Weinberg log-likelihood of the observation (0 untyped).
    logp : float64, (R, M): the markers' log tables stacked (rows of marker j at its offset).
    den : float64, (R, M) with theta (the unrelated person's log tables), else (0, M).
    soft_num, soft_den : float64, (E, c_hi - c_lo): log(o @ cond) of the soft observations for
        these columns (``soft_den`` with theta, else (0, 0)).
    lin : float64, (s, M) lineage log LRs, or (0, 0).
    ssex : int8 (s,), msex : int8 (M,): 0 unknown.
    c_lo, c_hi : the columns folded in; col0 : added to a column's index in what is kept.
    top : pairs kept per row; min_log : every pair with log LR >= min_log is kept too.
    best_val, best_col : (s, top), n_best (s,): each row's best pairs so far, sorted.
    ext_val, ext_col : (s, EXTRA), n_ext (s,): pairs >= min_log (n_ext may exceed EXTRA:
        the row overflowed).
    """
    s, J = gi.shape
    theta = den.shape[0] > 0
    has_lin = lin.shape[0] > 0
    cap = ext_val.shape[1]
    acc = np.empty(WIDTH)
    for b0 in range(c_lo, c_hi, WIDTH):
        w = min(WIDTH, c_hi - b0)
        for i in range(s):
            acc[:w] = 0.0
            for j in range(J):
                g, e = gi[i, j], si[i, j]
                if g >= 0:                        # a clean call: its genotype's row
                    row = logp[g, b0:b0 + w]
                    d = den[g, b0:b0 + w] if theta else row
                elif e >= 0:                      # degraded or half-typed: its log(o @ cond)
                    row = soft_num[e, b0 - c_lo:b0 - c_lo + w]
                    d = soft_den[e, b0 - c_lo:b0 - c_lo + w] if theta else row
                else:                             # untyped: adds nothing
                    continue
                if theta:
                    for c in range(w):
                        acc[c] = acc[c] + row[c] - d[c]
                else:
                    h = log_hw[i, j]
                    for c in range(w):
                        acc[c] = acc[c] + row[c] - h
            if has_lin:
                for c in range(w):
                    acc[c] += lin[i, b0 + c]
            sx = ssex[i]
            nb = n_best[i]
            for c in range(w):
                if sx != 0 and msex[b0 + c] != 0 and sx != msex[b0 + c]:
                    continue                      # not a candidate (nan): never kept
                v = acc[c]
                col = col0 + b0 + c
                if np.isnan(v):
                    v = -np.inf                   # impossible family data: LR 0
                if v >= min_log:
                    k = n_ext[i]
                    if k < cap:
                        ext_val[i, k] = v
                        ext_col[i, k] = col
                    n_ext[i] = k + 1
                if nb < top:
                    at = nb
                    nb += 1
                elif top > 0 and _better(v, col, best_val[i, top - 1], best_col[i, top - 1]):
                    at = top - 1
                else:
                    continue
                while at > 0 and _better(v, col, best_val[i, at - 1], best_col[i, at - 1]):
                    best_val[i, at] = best_val[i, at - 1]
                    best_col[i, at] = best_col[i, at - 1]
                    at -= 1
                best_val[i, at] = v
                best_col[i, at] = col
            n_best[i] = nb


#: floats of the degraded samples' log terms made at once for the kernel (bounds memory)
_SOFT_FLOATS = 1 << 22


def _distinct_rows(o: sp.csr_matrix) -> tuple[sp.csr_matrix, NDArray[np.int64]]:
    """The distinct rows of ``o`` (by their stored entries) and each row's index among them."""
    p, idx, val = o.indptr, o.indices, o.data
    at: dict[tuple[bytes, bytes], int] = {}
    row_of = np.array([at.setdefault((idx[p[r]:p[r + 1]].tobytes(), val[p[r]:p[r + 1]].tobytes()), len(at))
                       for r in range(o.shape[0])], dtype=np.int64)
    firsts = np.unique(row_of, return_index=True)[1]
    return o[firsts], row_of


def _compact(o: sp.csr_matrix | None) -> tuple[sp.csr_matrix, NDArray[np.intp]]:
    """``o`` restricted to the genotypes (columns) where it has entries, and those genotypes:
    ``o @ x`` equals ``restricted @ x[genotypes]`` bit for bit (the same products in the same
    order), with only those rows of ``x`` read."""
    assert o is not None
    used, idx = np.unique(o.indices, return_inverse=True)
    return sp.csr_matrix((o.data, idx.astype(o.indices.dtype), o.indptr), shape=(o.shape[0], used.size)), used


def kernel_top(samples: SampleBatch, blocks: Sequence[Block], *, col0: int, top: int, min_log: float,
               lineage: Lineage | None) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None:
    """:func:`~dogtag.identify.search.tile_top`'s kept pairs by :func:`top_pairs`, as (row within the
    tile, column + ``col0``, log LR), each pair once; None where a row has more pairs >= ``min_log``
    than the kernel keeps (the caller then takes the NumPy path)."""
    s, J = samples.n_samples, len(samples.views)
    K = max(top, 0)
    state = kept_state(s, K)
    si = np.full((s, J), -1, dtype=np.int64)
    soft = [j for j, v in enumerate(samples.views) if v.soft is not None]
    # each marker's distinct soft observations (samples typed alike share their log terms), over
    # just the genotypes they allow (the same sums in the same order)
    obs, sizes = [], [0]
    for j in soft:
        v = samples.views[j]
        assert v.soft is not None
        distinct, row_of = _distinct_rows(v.soft)
        si[v.soft_rows, j] = sum(sizes) + row_of
        obs.append(_compact(distinct))
        sizes.append(distinct.shape[0])
    first = np.cumsum(sizes)
    log_hw = np.stack([v.log_hw for v in samples.views], axis=1) if J else np.zeros((s, 0))
    ssex = np.ascontiguousarray(samples.sex, dtype=np.int8)
    for c, fb, (logp, den, offsets) in blocks:
        theta = fb.logp_unrelated is not None
        gi = np.full((s, J), -1, dtype=np.int64)
        for j, v in enumerate(samples.views):
            ok = v.clean_g >= 0
            gi[ok, j] = offsets[j] + v.clean_g[ok]
        lin = np.zeros((0, 0)) if lineage is None else \
            np.ascontiguousarray(lineage[0][:, c:c + fb.n_missing], dtype=np.float64)
        msex = np.ascontiguousarray(fb.sex, dtype=np.int8)
        m = fb.n_missing
        step = max(256, _SOFT_FLOATS // max(int(first[-1]), 1)) if soft else max(m, 1)
        for lo in range(0, m, step):
            hi = min(m, lo + step)
            num = np.empty((int(first[-1]), hi - lo))
            dnum = np.empty((int(first[-1]) if theta else 0, hi - lo))
            with np.errstate(divide="ignore"):
                for k, (o, used) in enumerate(obs):
                    j = soft[k]
                    np.log(o @ fb.cond[j][used, lo:hi], out=num[first[k]:first[k + 1]])
                    if theta:
                        assert fb.cond_unrelated is not None
                        np.log(o @ fb.cond_unrelated[j][used, lo:hi], out=dnum[first[k]:first[k + 1]])
            top_pairs(gi, si, log_hw, logp, den, num, dnum, lin, ssex, msex, lo, hi, col0 + c, K, min_log, *state)
    return kept_pairs(state)


#: what :func:`top_pairs` keeps of each row: best_val, best_col, n_best, ext_val, ext_col, n_ext
State = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64],
              NDArray[np.int64]]


def kept_state(s: int, top: int) -> State:
    """Empty kept pairs of ``s`` rows for :func:`top_pairs` (its last six arguments)."""
    return (np.zeros((s, top)), np.zeros((s, top), dtype=np.int64), np.zeros(s, dtype=np.int64),
            np.zeros((s, EXTRA)), np.zeros((s, EXTRA), dtype=np.int64), np.zeros(s, dtype=np.int64))


def kept_pairs(state: State) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None:
    """The pairs of a :func:`kept_state` after :func:`top_pairs` as (row, column, log LR), each pair
    once; None where a row has more pairs >= ``min_log`` than :data:`EXTRA`."""
    best_val, best_col, n_best, ext_val, ext_col, n_ext = state
    if (n_ext > EXTRA).any():
        return None
    s, K = best_val.shape
    rows = np.concatenate([np.repeat(np.arange(s), n_best), np.repeat(np.arange(s), n_ext)])
    take_b = np.arange(K)[None, :] < n_best[:, None]
    take_e = np.arange(EXTRA)[None, :] < n_ext[:, None]
    cols = np.concatenate([best_col[take_b], ext_col[take_e]])
    vals = np.concatenate([best_val[take_b], ext_val[take_e]])
    _, at = np.unique(rows * (int(cols.max(initial=0)) + 1) + cols, return_index=True)
    return rows[at].astype(np.int64), cols[at], vals[at]
