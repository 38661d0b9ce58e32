"""Exact joint identification of big components by dynamic programming over subsets.

When every family in a component has one missing person there (the usual case),
an assignment's log-likelihood is a sum of pairwise log LRs, and its weight a
product of per-pair factors ``w[s, a(s)] = LR(s, a(s)) * prior(s, a(s))``. The
normaliser ``Z = sum over partial matchings of prod w`` is then a sum over the
matchings of a bipartite graph, computed exactly by a forward-backward recursion
over the samples with the set of used missing persons as state (a bitmask):

    F_{s+1}(U) = F_s(U) w[s,*] + sum_{m in U} F_s(U - m) w[s, m]
    B_s(U)     = B_{s+1}(U) w[s,*] + sum_{m not in U} B_{s+1}(U + m) w[s, m]

``Z = B_0(empty)``, ``P(s = m) = sum_U F_s(U) w[s,m] B_{s+1}(U + m) / Z``
(Valiant's permanent is #P-hard in general; this is the Ryser-style subset
recursion, O(S 2^M M), exact and fast for up to ~20 missing persons in a
component). The max-product version gives the GLR and an exact heuristic for a
best-first (A*) search of the top assignments, so all results are exact.
This is how dogtag solves exclusionExample (16 victims x 15 families, ≥ 4e13
assignments, which dvir had to reduce).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.components import Component
from dogtag.identify.problem import JointProblem

#: largest number of missing persons in a component solved by subset DP
MAX_DP_MISSING = 20
#: largest number of DP table entries (samples x 2^missing) kept in memory
MAX_DP_CELLS = 40_000_000


def dp_feasible(problem: JointProblem, missing: list[int], n_samples: int) -> bool:
    """Whether the subset recursion applies: additive terms and a small enough table."""
    fams = [problem.family[m] for m in missing]
    if len(set(fams)) != len(fams):
        return False  # a family with several missing persons here: joint terms, not a sum
    k = len(missing)
    return k <= MAX_DP_MISSING and (n_samples + 1) * (1 << k) <= MAX_DP_CELLS


def _tables(w: NDArray[np.float64], wstar: NDArray[np.float64], opts: list[list[int]], k: int,
            *, use_max: bool) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """Forward and backward tables in log space (logsumexp or max)."""
    ns = len(opts)
    size = 1 << k
    masks = np.arange(size)
    comb = np.maximum if use_max else np.logaddexp
    fwd = [np.full(size, -np.inf)]
    fwd[0][0] = 0.0
    for s in range(ns):
        prev = fwd[-1]
        cur = prev + wstar[s]
        for j in opts[s]:
            bit = 1 << j
            idx = masks[(masks & bit) != 0]
            cur[idx] = comb(cur[idx], prev[idx ^ bit] + w[s, j])
        fwd.append(cur)
    bwd = [np.zeros(size)]
    for s in range(ns - 1, -1, -1):
        nxt = bwd[0]
        cur = nxt + wstar[s]
        for j in opts[s]:
            bit = 1 << j
            idx = masks[(masks & bit) == 0]
            cur[idx] = comb(cur[idx], nxt[idx | bit] + w[s, j])
        bwd.insert(0, cur)
    return fwd, bwd


def dp_component(problem: JointProblem, samples: list[int], missing: list[int],
                 options: list[NDArray[np.int64]], logprior: NDArray[np.float64],
                 *, top: int) -> Component:
    """Exact solution of an additive component by subset DP (method "exact-dp")."""
    ns, k = len(samples), len(missing)
    size = 1 << k
    masks = np.arange(size)
    llr = problem.log_lr[np.ix_(samples, missing)]
    opts = [[int(o) for o in op if o >= 0] for op in options]
    star_ok = [bool(np.any(op < 0)) for op in options]
    wstar = np.array([logprior[s, k] if star_ok[s] else -np.inf for s in range(ns)])
    w = np.full((ns, k), -np.inf)
    ll = np.full((ns, k), -np.inf)
    for s in range(ns):
        for j in opts[s]:
            w[s, j] = llr[s, j] + logprior[s, j]
            ll[s, j] = llr[s, j]
    llstar = np.where(np.isfinite(wstar), 0.0, -np.inf)

    fwd, bwd = _tables(w, wstar, opts, k, use_max=False)
    logz = float(bwd[0][0])
    if logz == -math.inf:
        names = ", ".join(problem.samples[s] for s in samples)
        raise InconsistentCaseError(
            f"no assignment of samples {names} has positive probability under the prior and data"
        )
    marg = np.zeros((ns, k + 1))
    for s in range(ns):
        f, b = fwd[s], bwd[s + 1]
        marg[s, k] = float(np.exp(f + wstar[s] + b - logz).sum()) if star_ok[s] else 0.0
        for j in opts[s]:
            bit = 1 << j
            idx = masks[(masks & bit) == 0]
            marg[s, j] = float(np.exp(f[idx] + w[s, j] + b[idx | bit] - logz).sum())

    # count of assignments (float64: exact below 2**53)
    cnt_w = np.where(np.isfinite(w), 0.0, -np.inf)
    cnt_star = np.where(np.isfinite(wstar), 0.0, -np.inf)
    _, cb = _tables(cnt_w, cnt_star, opts, k, use_max=False)
    n_assign = round(math.exp(cb[0][0]))

    # GLR from max-product tables over log-likelihoods (allowed pairs only)
    fmax, bmax = _tables(ll, llstar, opts, k, use_max=True)
    glr = np.full((ns, k), np.nan)
    for s in range(ns):
        g = np.full(k + 1, -np.inf)
        if star_ok[s]:
            g[k] = float(np.max(fmax[s] + bmax[s + 1]))
        for j in opts[s]:
            bit = 1 << j
            idx = masks[(masks & bit) == 0]
            g[j] = float(np.max(fmax[s][idx] + ll[s, j] + bmax[s + 1][idx | bit]))
        # values sample s takes in some consistent assignment (all pair terms are finite)
        present = [j for j in [*opts[s], k] if g[j] > -math.inf]
        if len(present) < 2:
            continue
        for j in present:
            if j < k:
                glr[s, j] = g[j] - max(g[o] for o in present if o != j)

    # top assignments: best-first search with the exact max-product heuristic
    _, hmax = _tables(w, wstar, opts, k, use_max=True)
    rows, logw = _best_first(w, wstar, opts, hmax, top)
    cols = np.where(rows < 0, k, rows)
    loglr = np.where(cols == k, 0.0, llr[np.arange(ns)[None, :], np.minimum(cols, k - 1)]).sum(axis=1) \
        if k else np.zeros(rows.shape[0])
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64),
                     "exact-dp", n_assign, rows, loglr, logw - logz, marg, glr)


def _best_first(w: NDArray[np.float64], wstar: NDArray[np.float64], opts: list[list[int]],
                hmax: list[NDArray[np.float64]], top: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``top`` best complete assignments, best first (A* with an exact heuristic)."""
    ns = len(opts)
    heap: list[tuple[float, int, int, int, float, tuple[int, ...]]] = []
    tie = 0
    heapq.heappush(heap, (-float(hmax[0][0]), tie, 0, 0, 0.0, ()))
    rows: list[tuple[int, ...]] = []
    scores: list[float] = []
    while heap and len(rows) < top:
        _, _, s, mask, g, path = heapq.heappop(heap)
        if s == ns:
            rows.append(path)
            scores.append(g)
            continue
        children = [(-1, float(wstar[s]))] if np.isfinite(wstar[s]) else []
        children += [(j, float(w[s, j])) for j in opts[s] if not mask & (1 << j)]
        for j, wj in children:
            nmask = mask | (1 << j) if j >= 0 else mask
            g2 = g + wj
            h = float(hmax[s + 1][nmask])
            if h == -math.inf:
                continue
            tie += 1
            heapq.heappush(heap, (-(g2 + h), tie, s + 1, nmask, g2, (*path, j)))
    return np.array(rows, dtype=np.int64).reshape(len(rows), ns), np.array(scores)
