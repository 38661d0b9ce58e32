"""Big dense components solved exactly after pruning negligible pairs, with a proven error bound.

For a component whose families each have one missing person there, an assignment's weight is
a product of per-pair weights ``w[s, a(s)] = LR * prior`` (``w[s, *]`` the prior of "not
among the missing"), and the posterior is ``W(a) / Z`` with ``Z`` the sum over all assignments
(a permanent: #P-hard). In a real incident almost every pair is negligible: a sample with LR
10^20 to its own family leaves no room for its other pairings, nor for anyone else's pairing
with that family. This module makes that precise:

1. **Most probable assignment**, exactly, as a minimum-weight full bipartite matching
   (LAPJVsp, scipy's ``min_weight_full_bipartite_matching``; Jonker, R. and Volgenant, A.
   (1987) *Computing* 38:325-340) of the samples to the missing persons and to one private
   "not among the missing" column per sample that may be nobody (open incidents).
2. **Column scaling.** For a missing person ``j`` held in that assignment by sample ``t``, let
   ``v_j = max(0, log w[t, j] - log alt_t - log MARGIN)`` (``alt_t`` the best other option of
   ``t``); ``v_j = 0`` for the others. Since ``v >= 0``, every assignment satisfies
   ``W(a) <= e^V W'(a)`` with ``w'[s, j] = w[s, j] e^{-v_j}`` and ``V = sum_j v_j``.
3. **Pruning.** A pair is kept when ``w'[s, j] >= DELTA * max_o w'[s, o]`` (and always when it
   is in the most probable assignment); the others are pruned. ``p_s`` = the sum of sample
   ``s``'s pruned ``w'``. The kept pairs fall apart into small parts, each solved exactly
   (enumeration or dynamic programming) on the original weights.
4. **Bound.** Summing over which samples take a pruned pair and relaxing the one-sample-per-
   missing constraint on pruned pairs only (all terms are non-negative),
   ``Z <= e^V Z'  <= e^V prod_c Z'^+_c`` where ``Z'^+_c`` is part ``c``'s normaliser under
   ``w'`` with each sample's "pruned" mass ``p_s`` as one more private option. The kept
   problem's normaliser is ``Z_K = prod_c Z_c``, and the posterior of the kept problem differs
   from the true one by at most ``eps = 1 - Z_K / Z <= 1 - prod_c Z_c / (e^{V_c} Z'^+_c)`` in
   total variation: every pairing probability, and every event's, is within ``eps``. ``eps`` is
   computed exactly, part by part, and reported; pruned pairs get posterior 0 (truly at most
   ``eps``).

Pairs already pruned before (``pruned`` log masses per sample, e.g. by
:func:`dogtag.identify.joint.plan_joint` on huge problems, in the original weights, which bound
the scaled ones since ``w' <= w``) enter ``p_s`` the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.components import Component, merge_top
from dogtag.identify.frontier import MAX_FRONTIER, _forward, frontier_cost_ok, frontier_plan
from dogtag.identify.matching import MAX_DP_CELLS, MAX_DP_MISSING, _tables
from dogtag.identify.problem import JointProblem

#: relative weight below which a pair is pruned (of its sample's best scaled weight)
DELTA = 1e-12
#: odds kept between a held missing person and its holder's next option after scaling
MARGIN = 1e8


@dataclass
class Pruned:
    """The kept parts of a component and what the bound needs.

    ``parts`` are (local sample indices, local missing indices, options per sample) of the kept
    graph; ``w`` (S, k) and ``wstar`` (S,) the log weights, ``v`` (k,) the column scaling,
    ``extra`` (S,) the log pruned mass per sample (scaled), ``best`` the most probable
    assignment (local missing index per sample, -1 = "*").
    """

    parts: list[tuple[list[int], list[int], list[list[int]]]]
    w: NDArray[np.float64]
    wstar: NDArray[np.float64]
    v: NDArray[np.float64]
    extra: NDArray[np.float64]
    best: NDArray[np.int64]
    n_pruned: int


def _logsumexp_rows(x: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    y = np.where(mask, x, -np.inf)
    mx = y.max(axis=1, initial=-np.inf)
    safe = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(y - safe[:, None]).sum(axis=1))


def most_probable(w: NDArray[np.float64], wstar: NDArray[np.float64]) -> NDArray[np.int64]:
    """The most probable assignment of an additive component (exact).

    ``w`` (S, k) log weights of the pairs (``-inf`` = not allowed), ``wstar`` (S,) log weight of
    "*" (``-inf`` = not allowed). Returns the missing index per sample, -1 = "*".
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    ns, k = w.shape
    # a sample that may be "*" never takes a pair weighing no more than its "*" in a most
    # probable assignment (moving it to its own "*" would do no worse): such pairs are left out,
    # which makes the graph of an open incident sparse
    rows, cols = np.nonzero(np.isfinite(w) & ~(w <= wstar[:, None]))
    srow = np.nonzero(np.isfinite(wstar))[0]
    top = np.maximum(np.where(np.isfinite(w), w, -np.inf).max(axis=1, initial=-np.inf),
                     np.where(np.isfinite(wstar), wstar, -np.inf))
    # costs >= 1 (a row constant does not change which full matching is best)
    cost = np.concatenate([top[rows] - w[rows, cols], top[srow] - wstar[srow]]) + 1.0
    r = np.concatenate([rows, srow])
    c = np.concatenate([cols, k + np.arange(srow.size)])
    graph = coo_matrix((cost, (r, c)), shape=(ns, k + srow.size)).tocsr()
    try:
        ri, ci = min_weight_full_bipartite_matching(graph)
    except ValueError:
        raise InconsistentCaseError(
            "no assignment gives every sample that must be identified its own missing person"
        ) from None
    best = np.full(ns, -1, dtype=np.int64)
    best[ri] = np.where(ci < k, ci, -1)
    return best


def prune(w: NDArray[np.float64], wstar: NDArray[np.float64], *, pruned: NDArray[np.float64] | None = None,
          delta: float | None = None, margin: float | None = None,
          family: NDArray[np.int64] | None = None) -> Pruned:
    """Most probable assignment, column scaling, kept parts and pruned masses (module docstring);
    ``delta`` and ``margin`` default to :data:`DELTA` and :data:`MARGIN`; ``family`` (k,) joins the
    missing persons of one family into one part (their joint family term couples them)."""
    delta = DELTA if delta is None else delta
    margin = MARGIN if margin is None else margin
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ns, k = w.shape
    best = most_probable(w, wstar)
    allowed = np.isfinite(w)
    # the holder's best alternative: its second-best option overall
    held = np.nonzero(best >= 0)[0]
    v = np.zeros(k)
    if held.size:
        wh = w[held].copy()
        wh[np.arange(held.size), best[held]] = -np.inf
        alt = np.maximum(wh.max(axis=1, initial=-np.inf), wstar[held])
        gain = w[held, best[held]] - alt - math.log(margin)
        v[best[held]] = np.where(np.isfinite(gain), np.maximum(gain, 0.0), 0.0)
        # a holder with no alternative at all holds its column in every assignment: any v works,
        # the scaling is then exact; cap it to keep the numbers finite
        v[best[held]] = np.where(np.isinf(alt), 0.0, v[best[held]])
    ws = w - v[None, :]
    rowmax = np.maximum(np.where(allowed, ws, -np.inf).max(axis=1, initial=-np.inf), wstar)
    keep = allowed & (ws >= rowmax[:, None] + math.log(delta))
    keep[held, best[held]] = True
    drop = allowed & ~keep
    extra = _logsumexp_rows(ws, drop)
    if pruned is not None:
        extra = np.logaddexp(extra, pruned)
    r, c = np.nonzero(keep)
    gr, gc = r, ns + c
    if family is not None:
        # one edge from each kept missing person to the first kept one of its family
        kept_cols = np.unique(c)
        fam = family[kept_cols]
        _, first = np.unique(fam, return_index=True)
        head = kept_cols[first][np.searchsorted(fam[first], fam)] if kept_cols.size else kept_cols
        gr = np.concatenate([gr, ns + kept_cols])
        gc = np.concatenate([gc, ns + head])
    g = coo_matrix((np.ones(gr.size), (gr, gc)), shape=(ns + k, ns + k))
    _, lab = connected_components(g, directed=False)
    parts: dict[int, tuple[list[int], list[int]]] = {}
    for s in range(ns):
        parts.setdefault(int(lab[s]), ([], []))[0].append(s)
    used_cols = np.unique(c)
    for j in used_cols.tolist():
        parts[int(lab[ns + j])][1].append(j)
    out = []
    for s_list, m_list in parts.values():
        local = {j: t for t, j in enumerate(m_list)}
        opts = []
        for s in s_list:
            op = [local[int(j)] for j in np.nonzero(keep[s])[0]]
            if np.isfinite(wstar[s]):
                op.append(-1)
            opts.append(op)
        out.append((s_list, m_list, opts))
    return Pruned(out, w, wstar, v, extra, best, int(drop.sum()))


def log_partition(weights: list[dict[int, float]], n_missing: int) -> float | None:
    """log of the sum over assignments of the product of weights; ``weights[s][j]`` the log
    weight of sample ``s`` on local missing ``j`` (-1: a private option, no constraint).

    Exact by frontier or subset dynamic programming; None if neither is affordable.
    """

    opts = [[j for j in ws if j >= 0] for ws in weights]
    if frontier_cost_ok(opts):
        order, retire, width = frontier_plan(opts)
        if width <= MAX_FRONTIER:
            fwd = _forward([weights[s] for s in order], retire, use_max=False)
            vals = list(fwd[-1].values())
            if not vals:
                return -math.inf
            mx = max(vals)
            return mx if mx == -math.inf else mx + math.log(sum(math.exp(x - mx) for x in vals))
    if n_missing <= MAX_DP_MISSING and (len(weights) + 1) * (1 << n_missing) <= MAX_DP_CELLS:
        w = np.full((len(weights), n_missing), -np.inf)
        wstar = np.full(len(weights), -np.inf)
        for s, ws in enumerate(weights):
            for j, x in ws.items():
                if j >= 0:
                    w[s, j] = x
                else:
                    wstar[s] = x
        _, bwd = _tables(w, wstar, opts, n_missing, use_max=False)
        return float(bwd[0][0])
    return None


def part_bound(pr: Pruned, samples: list[int], missing: list[int], opts: list[list[int]],
               log_z: float | None) -> float:
    """``log r_c = log Z_c - V_c - log Z'^+_c`` of one kept part (<= 0; module docstring).

    ``log_z`` is the part's exact log normaliser under the original weights, or None when the
    part could not be solved exactly: the most probable assignment's weight, a lower bound of it,
    is used then, and ``Z'^+_c`` by the product of row sums (an upper bound).
    """
    weights = []
    for s, op in zip(samples, opts, strict=True):
        ws: dict[int, float] = {}
        for t in op:
            if t >= 0:
                ws[t] = float(pr.w[s, missing[t]] - pr.v[missing[t]])
        star = float(np.logaddexp(pr.wstar[s], pr.extra[s]))
        if star > -math.inf:
            ws[-1] = star
        weights.append(ws)
    vc = float(pr.v[missing].sum()) if missing else 0.0
    zplus = log_partition(weights, len(missing)) if log_z is not None else None
    if log_z is None or zplus is None:
        mp = 0.0
        for s in samples:
            b = int(pr.best[s])
            mp += float(pr.w[s, b]) if b >= 0 else float(pr.wstar[s])
        lz = mp if log_z is None else log_z
        zplus = sum(float(np.logaddexp.reduce(np.array(list(ws.values())))) for ws in weights)
        return min(0.0, lz - vc - zplus)
    return min(0.0, log_z - vc - zplus)


def scaled_weights(problem: JointProblem, samples: list[int], missing: list[int],
                   options: list[NDArray[np.int64]], logprior: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log weights (S, k) and (S,) of a component's pairs and of "*" from its options."""
    ns, k = len(samples), len(missing)
    llr = problem.log_lr[np.ix_(samples, missing)]
    w = np.full((ns, k), -np.inf)
    wstar = np.full(ns, -np.inf)
    for s, op in enumerate(options):
        js = op[op >= 0]
        w[s, js] = llr[s, js] + logprior[s, js]
        if np.any(op < 0):
            wstar[s] = logprior[s, k]
    return w, wstar


def solve_pruned(problem: JointProblem, samples: list[int], missing: list[int],
                 options: list[NDArray[np.int64]], logprior: NDArray[np.float64], *, top: int,
                 solve_part: Callable[[list[int], list[int], list[NDArray[np.int64]], NDArray[np.float64]],
                                      tuple[Component, float | None]],
                 pruned: NDArray[np.float64] | None = None) -> Component:
    """An additive component solved part by part after pruning (method "exact-pruned").

    ``solve_part(samples, missing, options, logprior)`` solves one kept part and returns it with
    its exact log normaliser (None if it had to be sampled). The result's diagnostics carry the
    error bound ``error_bound`` (total variation; module docstring; None when a family has several
    missing persons in the component: pairs are then pruned by their pairwise LRs, and a pruned
    pair's joint family term has no proven bound), the number of pruned pairs and of parts, and the
    largest part. Parts with several missing persons of one family are enumerated with their joint
    family terms.
    """
    ns, k = len(samples), len(missing)
    w, wstar = scaled_weights(problem, samples, missing, options, logprior)
    fams = [problem.family[m] for m in missing]
    multi = len(set(fams)) < len(fams)
    fam_ids = np.unique(np.array(fams, dtype=object), return_inverse=True)[1].astype(np.int64) if multi else None
    pr = prune(w, wstar, pruned=pruned, family=fam_ids)
    marg = np.zeros((ns, k + 1))
    glr = np.full((ns, k), np.nan)
    comps: list[Component] = []
    locs: list[tuple[list[int], list[int]]] = []
    log_r = 0.0
    sampled: list[dict[str, object]] = []
    # smallest parts first: a big part that must be sampled then gets the time that is left
    for s_list, m_list, opts in sorted(pr.parts, key=lambda p: len(p[0])):
        g_s = [samples[s] for s in s_list]
        g_m = [missing[j] for j in m_list]
        lp = logprior[np.ix_(s_list, [*m_list, k])]
        arrs = [np.array(op, dtype=np.int64) for op in opts]
        comp, log_z = solve_part(g_s, g_m, arrs, lp)
        # the part's solver may reorder its samples: map back through the global indices
        pos = {int(x): t for t, x in enumerate(samples)}
        s_loc = [pos[int(x)] for x in comp.samples]
        mpos = {int(x): t for t, x in enumerate(missing)}
        m_loc = [mpos[int(x)] for x in comp.missing]
        marg[np.ix_(s_loc, [*m_loc, k])] = comp.marginals
        glr[np.ix_(s_loc, m_loc)] = comp.glr
        if not multi:
            log_r += part_bound(pr, s_loc, m_loc, [opts[s_list.index(x)] for x in s_loc], log_z)
        if comp.method == "mcmc":
            sampled.append(comp.diagnostics)
        comps.append(comp)
        locs.append((s_loc, m_loc))
    scores, choice = merge_top(comps, top)
    rows = np.full((scores.shape[0], ns), -1, dtype=np.int64)
    loglr = np.zeros(scores.shape[0])
    for c_idx, (comp, (s_loc, m_loc)) in enumerate(zip(comps, locs, strict=True)):
        r = choice[:, c_idx]
        sub = comp.rows[r]
        if m_loc:
            rows[:, s_loc] = np.where(sub >= 0, np.asarray(m_loc, dtype=np.int64)[np.maximum(sub, 0)], -1)
        loglr += comp.loglr[r]
    eps = None if multi else -math.expm1(log_r)
    diagnostics: dict[str, object] = {
        "error_bound": eps, "pruned_pairs": pr.n_pruned, "parts": len(pr.parts),
        "largest_part": max((len(p[0]) for p in pr.parts), default=0),
        "delta": DELTA, "margin": MARGIN,
        "glr": "within each kept part (pruned pairs have no GLR)",
    }
    if multi:
        diagnostics["bound_note"] = (
            "no proven bound: a family with several missing persons is in this component, and a pruned "
            "pair's joint family term is not bounded by its pairwise LR (pruned by pairwise LRs)")
    if sampled:
        diagnostics["sampled_parts"] = sampled
        diagnostics["converged"] = all(bool(d.get("converged")) for d in sampled)
    method = "exact-pruned" if not sampled else "mcmc"
    out = Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), method, None,
                    rows, loglr, scores, marg, glr, diagnostics)
    return out

