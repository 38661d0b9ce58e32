"""Proven bounds on the pairing posteriors of big *open* components, without the normaliser.

In an open incident every sample may be "not among the missing" (``"*"``). Half the remains of
a large open incident are nobody on the list; each spreads a little posterior over hundreds of
families, and the whole component is one dense permanent that no exact method reaches. Yet
every pairing probability is bounded by two re-assignments of the samples, with no normaliser.

For a component whose families each have one missing person there, an assignment's weight is
the product of per-sample weights ``w[s, a(s)]`` (LR x prior; ``w[s, *]`` the prior of ``"*"``).
Let ``a_so = w[s, o] / w[s, *]``.

- **Lower bound.** Map every assignment with ``s != o`` to the one with ``s`` on ``o`` and the
  former holder ``t`` of ``o`` (if any) on ``"*"``. Each image has at most one preimage per
  (former option ``k`` of ``s``, former holder ``t``), of weight ``w[s,k] / w[s,o]`` (times
  ``a_to`` if there was a holder) relative to it. So ``P(s != o) <= R_so (1 + A_o) P(s = o)``
  with ``R_so = sum_{k != o} w[s, k] / w[s, o]`` (``"*"`` included) and
  ``A_o = sum_{t != s} a_to`` (``A = 0`` when ``o`` is ``"*"``): ::

      P(s = o) >= L_so = 1 / (1 + R_so (1 + A_o)).

  It is close to 1 exactly when ``s`` dominates its row and nobody else is a credible holder
  of ``o``: the near-certain pairings of an incident.
- **Upper bound.** Moving ``s`` from ``o`` to ``"*"`` is injective: ``P(s = o) <= a_so P(s = *)``;
  and the probabilities of one sample's options, or of one missing person's holders, sum to at
  most 1: ::

      U_s* = 1 - sum_o L_so,
      U_so = min(a_so U_s*, 1 - sum_{o' != o} L_so', 1 - sum_{t != s} L_to).

The reported posterior of a bounded component is ``L`` (a proven lower bound: a claim made on
it is never stronger than the data); ``U`` goes with it. Everything is vectorised over rows in
chunks (two passes over the weights), so a 10,000 x 10,000 component costs seconds.

Families with several missing persons in the component: their joint family terms couple the
placements (a placed brother changes the other's LR, up or down). Write ``u[s, k]`` for a proven
upper bound of what sample ``s`` on missing person ``k`` can weigh in the arguments above; for a
missing person alone in its family ``u = w``. Both arguments hold with ``u`` in place of ``w``
for the other members ``k``: ``R_so`` sums ``u[s, k]`` and ``U_sk <= (u[s, k] / w[s, *]) U_s*``.
Placing ``s`` on ``o`` needs a *lower* bound of its weight there, which only a missing person
alone in its family has: pairings with a member of a family with several missing persons get
``L = 0`` (never claimed from the bounds); ``A_o`` is needed only where ``L`` is computed. Three
bounds ``u``, each proven, the least of them used (:func:`multi_upper`):

(i) **Any placement of the others.** By the chain rule a family term is the term of the other
    placements times the conditional LR of ``s`` given them, at most ``Ubar(s, k)``, the largest
    over the others' genotypes (:meth:`dogtag.identify.problem.JointProblem.upper_log_lr`). So
    moving ``s`` off ``k`` (the others staying) changes a weight by at most
    ``u = prior(s, k) Ubar(s, k)``. Tight when the references make the members independent
    (both parents typed); weak otherwise (a sister alone: ``Ubar`` ~ 10^20 for anyone).
(ii), (iii) **Moving the partner too** (families with two missing persons ``A``, ``B`` here). An
    assignment with ``s`` on ``B`` and ``r`` on ``A`` maps to the one with ``s`` on ``o`` and ``r``
    (and ``o``'s holder) on ``"*"``, one preimage per ``r``, of relative weight
    ``prior(s, B) prior(r, A) LR_f(A: r, B: s) / (w[s, o] w[r, *])``; with ``A`` free the weight is
    pairwise. As ``LR_f(A: r, B: s) = LR(s, B) LR(r on A | s on B)``, ::

        u[s, B] = w[s, B] (1 + sum_{r != s} c_r LR(r on A | s on B)),   c_r = prior(r, A) / w[r, *],

    (iii) computed exactly from ``A``'s genotype distribution given ``s`` on ``B``
    (:meth:`dogtag.identify.problem.JointProblem.partner_log_sums`: one table row per ``s``, one
    LR per ``r``) for the partners ``r`` with the largest terms ``c_r Ubar(r, A)``, and with
    ``Ubar(r, A)`` for the rest where their sum is negligible (:func:`_partners`); for the samples
    that could be claimed elsewhere, within a time budget; (ii) for the others, with ``Ubar(r, A)``
    in place of every conditional LR. "Could be claimed": the lower bound at the sample's best
    option reaches :data:`CLAIM` with every ``u`` at its least possible value, the pairwise weight
    (:func:`_claim_margin`); for the other samples no bound ``u`` can give a claim, and (i)/(ii) are
    kept (their lower bounds stay proven, only less tight).

Without ``u`` (no bound available, e.g. with theta) the pairwise weights are used and the
component says so in its diagnostics (``bound_note``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from dogtag.identify.components import Component, score_rows
from dogtag.identify.problem import JointProblem
from dogtag.identify.prune import most_probable

#: rows of the weight matrix processed at once (bounds the temporaries: CHUNK x k floats each)
CHUNK = 512


def _lse(x: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """log-sum-exp along ``axis`` (``-inf`` for an all ``-inf`` slice)."""
    mx = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    safe = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(x - safe).sum(axis=axis, keepdims=True)) + safe
    return np.squeeze(out, axis=axis)


def _minus(total: NDArray[np.float64], part: NDArray[np.float64]) -> NDArray[np.float64]:
    """log(exp(total) - exp(part)), for ``part <= total - log 2`` (accurate there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = total + np.log1p(-np.exp(part - total))
    return np.where(np.isneginf(part), total, out)


def posterior_bounds(w: NDArray[np.float64], wstar: NDArray[np.float64],
                     multi: NDArray[np.bool_] | None = None, upper: NDArray[np.float64] | None = None, *,
                     chunk: int = CHUNK) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper bounds of every pairing probability (module docstring).

    Parameters
    ----------
    w : ndarray, float64, shape (S, k); log weight (log LR + log prior) of each pair,
        ``-inf`` = not allowed.
    wstar : ndarray, float64, shape (S,); log weight of ``"*"``, finite for every sample.
    multi : ndarray, bool, shape (k,); missing persons whose family has several missing persons
        in the component (their pairings get lower bound 0).
    upper : ndarray, float64, shape (S, multi.sum()); the log upper weights ``u`` of the ``multi``
        columns (module docstring), ``>= w`` there; required when ``multi`` has any.

    Returns
    -------
    lower, upper : ndarray, float64, shape (S, k + 1); the last column is ``"*"``.
    """
    ns, k = w.shape
    if not np.all(np.isfinite(wstar)):
        raise ValueError("posterior bounds need every sample to be allowed '*' (an open component)")
    multi = np.zeros(k, dtype=bool) if multi is None else np.asarray(multi, dtype=bool)
    mcols = np.nonzero(multi)[0]
    uw = upper
    if mcols.size and (uw is None or uw.shape != (ns, mcols.size)):
        raise ValueError(f"`upper` must give the upper weights of the {mcols.size} multi columns, "
                         f"shape ({ns}, {mcols.size})")
    # pass 1: per missing person, the largest a_to (and its sample) and log sum_t a_to
    colmax = np.full(k, -np.inf)
    colarg = np.full(k, -1, dtype=np.int64)
    for lo in range(0, ns, chunk):
        la = w[lo:lo + chunk] - wstar[lo:lo + chunk, None]
        arg = np.argmax(la, axis=0) if la.shape[0] else np.zeros(k, dtype=np.int64)
        mx = la[arg, np.arange(k)] if la.shape[0] else np.full(k, -np.inf)
        better = mx > colmax
        colmax[better] = mx[better]
        colarg[better] = arg[better] + lo
    safe = np.where(np.isfinite(colmax), colmax, 0.0)
    total = np.zeros(k)
    rest = np.zeros(k)  # without the largest one
    for lo in range(0, ns, chunk):
        e = np.exp(w[lo:lo + chunk] - wstar[lo:lo + chunk, None] - safe[None, :])
        total += e.sum(axis=0)
        mine = (colarg >= lo) & (colarg < lo + e.shape[0])
        e[colarg[mine] - lo, np.nonzero(mine)[0]] = 0.0
        rest += e.sum(axis=0)
    with np.errstate(divide="ignore"):
        log_a_all = np.log(total) + safe
        log_a_rest = np.log(rest) + safe
    lower = np.zeros((ns, k + 1))
    for lo in range(0, ns, chunk):
        ws = np.column_stack([w[lo:lo + chunk], wstar[lo:lo + chunk]])  # (c, k + 1)
        c = ws.shape[0]
        rows = np.arange(c)
        # the options' weights as alternatives: upper weights for members of multi families
        wu = ws
        if mcols.size:
            assert uw is not None
            wu = ws.copy()
            wu[:, mcols] = np.maximum(uw[lo:lo + chunk], ws[:, mcols])
        tot = _lse(wu, axis=1)
        best = np.argmax(wu, axis=1)
        masked = wu.copy()
        masked[rows, best] = -np.inf
        others = _minus(tot[:, None], wu)  # exact for options below the best
        others[rows, best] = _lse(masked, axis=1)
        with np.errstate(invalid="ignore"):
            log_r = others - ws
        # A_o without the sample itself: the sum of the others, or all of it (an upper bound)
        own = colarg[None, :] == (lo + rows)[:, None]
        log_a = np.where(own, log_a_rest[None, :], log_a_all[None, :])
        log_a = np.column_stack([log_a, np.full(c, -np.inf)])
        with np.errstate(invalid="ignore", over="ignore"):
            x = log_r + np.logaddexp(0.0, log_a)
            low = np.exp(-np.logaddexp(0.0, x))
        low[~np.isfinite(ws)] = 0.0
        low[np.isnan(low)] = 0.0
        low[:, :k][:, multi] = 0.0
        lower[lo:lo + chunk] = low
    row_l = lower.sum(axis=1)
    col_l = lower[:, :k].sum(axis=0)
    upper = np.empty_like(lower)
    for lo in range(0, ns, chunk):
        low = lower[lo:lo + chunk]
        rl = row_l[lo:lo + chunk, None]
        u_star = np.clip(1.0 - rl[:, 0] + low[:, k], 0.0, 1.0)
        la = w[lo:lo + chunk] - wstar[lo:lo + chunk, None]
        if mcols.size:
            assert uw is not None
            la[:, mcols] = np.maximum(uw[lo:lo + chunk], w[lo:lo + chunk][:, mcols]) - wstar[lo:lo + chunk, None]
        with np.errstate(over="ignore"):
            by_star = np.exp(np.minimum(la, 700.0)) * u_star[:, None]
        u = np.minimum.reduce([by_star, 1.0 - rl + low[:, :k], 1.0 - col_l[None, :] + low[:, :k]])
        u = np.where(np.isfinite(w[lo:lo + chunk]), u, 0.0)
        upper[lo:lo + chunk, :k] = np.clip(np.maximum(u, low[:, :k]), 0.0, 1.0)
        upper[lo:lo + chunk, k] = np.maximum(u_star, low[:, k])
    return lower, upper


def widest(lower: NDArray[np.float64], upper: NDArray[np.float64]) -> tuple[float, float]:
    """(widest interval over all pairings, widest at each sample's best-bounded option)."""
    if lower.size == 0:
        return 0.0, 0.0
    best = np.argmax(lower, axis=1)
    rows = np.arange(lower.shape[0])
    at_best = float((upper[rows, best] - lower[rows, best]).max())
    gap = max(float((upper[lo:lo + CHUNK] - lower[lo:lo + CHUNK]).max()) for lo in range(0, lower.shape[0], CHUNK))
    return gap, at_best


#: what bounds (i)/(ii) may add, unrefined by the exact partner sums (iii), to a likely sample's
#: ``R``, as a fraction of its best option (:func:`multi_upper`)
REFINE_FRACTION = 1e-4
#: seconds one component may spend on exact partner sums (the rest keep bounds (i) and (ii))
PARTNER_SECONDS = 120.0
#: families whose genotype tables are computed together (each table a few MB)
TABLE_BLOCK = 16
#: partners ``r`` of a two-member family whose conditional LRs the exact partner sums (iii) compute
#: at least (those with the largest bound-(i) terms; the rest are counted by bound (i)) before all of
#: them are computed (:func:`_partners`)
PARTNERS = 64
#: the lower bound a claim needs; the exact partner sums are computed only for samples that could
#: reach it (:func:`_claim_margin`)
CLAIM = 0.99


def multi_upper(problem: JointProblem, samples: list[int], missing: list[int], w: NDArray[np.float64],
                wstar: NDArray[np.float64], mcols: NDArray[np.int64], *, seconds: float = PARTNER_SECONDS
                ) -> tuple[NDArray[np.float64] | None, dict[str, int]]:
    """The log upper weights ``u`` (module docstring) of a component's ``mcols`` (local columns of
    members of families with several missing persons there), shape (S, len(mcols)), ``-inf`` where
    ``w`` is, and counts of how they were found; None when the problem offers no upper bound.

    Each entry is the least of the proven bounds (i)-(iii) of the module docstring. (iii) is
    computed for the samples whose best option, a missing person alone in its family, holds at
    least half of their pairwise weight and could reach a lower bound of :data:`CLAIM`, at the
    columns where bounds (i)/(ii) exceed the pairwise weight by more than an equal share of
    :data:`REFINE_FRACTION` of that option (so what is left unrefined adds at most that fraction to
    the sample's ``R``; the partners counted by bound (i) in (iii) at most half of it), within
    ``seconds``.
    """
    import time

    stop = time.monotonic() + seconds
    n = len(samples)
    stats = {"refined_pairs": 0, "unrefined_pairs": 0}
    u = np.zeros((n, mcols.size))
    if not mcols.size:
        return u, stats
    rows = np.asarray(samples, dtype=np.int64)
    best = np.empty(n)
    total = np.empty(n)
    log_r = np.empty(n)    # log R at the best option with every multi column at its pairwise weight
    arg = np.zeros(n, dtype=np.int64)
    for lo in range(0, n, CHUNK):
        rest = w[lo:lo + CHUNK].copy()
        total[lo:lo + CHUNK] = _lse(rest, axis=1)
        rest[:, mcols] = -np.inf
        best[lo:lo + CHUNK] = rest.max(axis=1, initial=-np.inf)
        if rest.shape[1]:
            arg[lo:lo + CHUNK] = np.argmax(rest, axis=1)
        others = w[lo:lo + CHUNK].copy()
        c = np.arange(others.shape[0])
        others[c, arg[lo:lo + CHUNK]] = -np.inf
        with np.errstate(invalid="ignore"):
            log_r[lo:lo + CHUNK] = np.logaddexp(_lse(others, axis=1), wstar[lo:lo + CHUNK]) - best[lo:lo + CHUNK]
    likely = (best > wstar) & (best >= np.logaddexp(total, wstar) - math.log(2.0))
    margin = _claim_margin(w, wstar, arg, log_r)
    likely &= margin >= 0.0
    by_fam: dict[str, list[int]] = {}
    for t, j in enumerate(mcols.tolist()):
        by_fam.setdefault(problem.family[missing[j]], []).append(t)
    n_s = len(problem.samples)
    share = REFINE_FRACTION / max(1, sum(len(ts) for ts in by_fam.values() if len(ts) == 2))
    # the time of the partner sums is shared out among the (family, direction) pairs left, most
    # promising samples first (the largest margin), so the same samples are refined in every family
    n_dirs = 2 * sum(1 for ts in by_fam.values() if len(ts) == 2)
    spent, refined_rows, dirs_done = 0.0, 0, 0
    wm = w[:, mcols]
    ok = np.isfinite(wm)
    prior = np.full((n, mcols.size), -np.inf)
    # family by family: bounds (i), (ii), then (iii) where it matters; the families' genotype
    # tables in blocks of TABLE_BLOCK families, each block in one batched computation
    fams = list(by_fam.values())
    for f_no, ts in enumerate(fams):
        if f_no % TABLE_BLOCK == 0:
            problem.prefetch_tables([missing[int(mcols[t])] for block in fams[f_no:f_no + TABLE_BLOCK]
                                     for t in block])
        cols = [missing[int(mcols[t])] for t in ts]
        up = problem.upper_log_lr(cols)
        if up is None:
            return None, stats
        with np.errstate(invalid="ignore"):
            pr = np.where(ok[:, ts], wm[:, ts] - problem.log_lr[np.ix_(rows, np.asarray(cols, dtype=np.int64))],
                          -np.inf)
            ui = np.where(ok[:, ts], np.maximum(np.nan_to_num(pr + up[rows], nan=-np.inf), wm[:, ts]), -np.inf)
        prior[:, ts] = pr
        if len(ts) == 2:
            # (ii) needs bound (i) itself: the others' refined u bound R-terms, not conditional LRs
            u1 = ui.copy()
            for b, a in ((0, 1), (1, 0)):
                lse = _lse(u1[:, a] - wstar, axis=0)   # (ii): w[s, B] (1 + sum_r exp(u1[r, A] - w[r, *]))
                with np.errstate(invalid="ignore"):
                    ui[:, b] = np.where(ok[:, ts[b]], np.minimum(ui[:, b], wm[:, ts[b]] + np.logaddexp(0.0, lse)),
                                        -np.inf)
            # (iii) for the likely samples at the columns where (i)/(ii) could add more than an
            # equal share of REFINE_FRACTION of their best option to their R
            for b, a in ((0, 1), (1, 0)):
                tb, ta = ts[b], ts[a]
                with np.errstate(invalid="ignore", over="ignore"):
                    excess = np.exp(np.minimum(ui[:, b] - best, 700.0)) - np.exp(np.minimum(wm[:, tb] - best, 700.0))
                rows_b = np.nonzero(likely & ok[:, tb] & (np.nan_to_num(excess, nan=0.0) > share))[0]
                rows_b = rows_b[np.argsort(-margin[rows_b], kind="stable")]
                dirs_done += 1
                if refined_rows and rows_b.size:
                    left = max(0.0, stop - time.monotonic()) / max(1, n_dirs - dirs_done + 1)
                    quota = int(left / (spent / refined_rows))
                    stats["unrefined_pairs"] += int(rows_b[quota:].size)
                    rows_b = rows_b[:quota]
                if not rows_b.size:
                    continue
                sums = None
                if time.monotonic() < stop:
                    t0 = time.monotonic()
                    # exact conditional LRs for the partners with the largest bound-(i) terms
                    # c_r Ubar(r, A), bound (i) for the rest (LR(r | s) <= Ubar(r, A)) where their
                    # sum adds at most half the share to every refined sample's R
                    terms = u1[:, a] - wstar
                    top, tail = _partners(terms, float(np.min(best[rows_b] - wm[rows_b, tb])) + math.log(share / 2))
                    log_c = np.full(n_s, -np.inf)
                    log_c[rows[top]] = prior[top, ta] - wstar[top]
                    sums = problem.partner_log_sums(missing[int(mcols[tb])], missing[int(mcols[ta])],
                                                    rows[rows_b].tolist(), log_c)
                    if sums is not None and tail.size:
                        sums = np.logaddexp(sums, _lse(terms[tail], axis=0))
                    spent += time.monotonic() - t0
                    refined_rows += int(rows_b.size)
                if sums is None:
                    stats["unrefined_pairs"] += int(rows_b.size)
                    continue
                ui[rows_b, b] = np.minimum(ui[rows_b, b], wm[rows_b, tb] + np.logaddexp(0.0, sums))
                stats["refined_pairs"] += int(rows_b.size)
        u[:, ts] = ui
    return u, stats


def _partners(terms: NDArray[np.float64], log_tol: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The fewest partners (indices into ``terms``, the log bound-(i) terms) whose conditional LRs
    must be computed so that the others' terms sum to at most ``exp(log_tol)``, and the others;
    every partner with a finite term when more than a quarter of them would be needed."""
    finite = np.nonzero(np.isfinite(terms))[0]
    order = finite[np.argsort(-terms[finite], kind="stable")]
    # tail[k] = log sum of the terms after the first k
    tail = np.append(np.logaddexp.accumulate(terms[order][::-1])[::-1], -np.inf)
    k = int(np.argmax(tail <= log_tol)) if np.any(tail <= log_tol) else order.size
    if k > max(PARTNERS, order.size // 4):
        k = order.size
    return order[:k], order[k:]


def _claim_margin(w: NDArray[np.float64], wstar: NDArray[np.float64], arg: NDArray[np.int64],
                  log_r: NDArray[np.float64]) -> NDArray[np.float64]:
    """How far each sample's lower bound at option ``arg`` (a missing person alone in its family)
    could clear :data:`CLAIM` whatever the bounds ``u`` of the multi columns, in log odds (``>= 0``:
    it could reach it; ``nan`` or ``< 0``: no bound can make it a claim): with ``u = w`` there (the
    least any of them can be, as each is at least the pairwise weight), ``R = exp(log_r)`` and
    ``A_o`` without the sample, ``L = 1 / (1 + R (1 + A_o))`` is the largest lower bound possible."""
    ns = w.shape[0]
    cols = np.unique(arg)
    if not ns or not cols.size:
        return np.full(ns, -np.inf)
    # log A_o = log sum_t exp(w[t, o] - w[t, *]) over the needed columns, in row chunks
    log_a = np.full(cols.size, -np.inf)
    for lo in range(0, ns, CHUNK):
        la = w[lo:lo + CHUNK][:, cols] - wstar[lo:lo + CHUNK, None]
        log_a = np.logaddexp(log_a, _lse(la, axis=0))
    at = np.searchsorted(cols, arg)
    own = w[np.arange(ns), arg] - wstar
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = log_a[at] + np.log(np.clip(-np.expm1(own - log_a[at]), 0.0, None))   # A_o without s
        log_term = log_r + np.logaddexp(0.0, np.nan_to_num(rest, nan=-np.inf))
    if CLAIM <= 0.0:
        return np.where(np.isnan(log_term), np.inf, -log_term)
    return np.asarray(math.log(1.0 / CLAIM - 1.0) - log_term)


def bounded_component(problem: JointProblem, samples: list[int], missing: list[int],
                      w: NDArray[np.float64], wstar: NDArray[np.float64], *, seconds: float = PARTNER_SECONDS
                      ) -> Component:
    """An open component reported by its proven bounds (method "bounds").

    ``w`` (S, k) and ``wstar`` (S,) are the log weights of its pairs (``-inf``: not allowed) and
    of ``"*"``, indexed like ``samples`` / ``missing``. The marginals are the lower bounds,
    :attr:`Component.upper` the upper bounds; the one reported assignment is the most probable
    one under the pairwise weights (exact when every family has one missing person in the
    component), with unknown posterior; GLRs are not computed. ``seconds``: the time the exact
    partner sums (bound (iii)) may take.
    """
    fams = [problem.family[m] for m in missing]
    count: dict[str, int] = {}
    for f in fams:
        count[f] = count.get(f, 0) + 1
    multi = np.array([count[f] > 1 for f in fams], dtype=bool)
    mcols = np.nonzero(multi)[0]
    upper_w, refine = multi_upper(problem, samples, missing, w, wstar, mcols, seconds=seconds)
    proven = upper_w is not None
    lower, upper = posterior_bounds(w, wstar, multi, w[:, mcols] if upper_w is None else upper_w)
    best = most_probable(w, wstar)[None, :]
    loglr = score_rows(problem, samples, missing, best)
    gap_all, gap_best = widest(lower, upper)
    diagnostics: dict[str, object] = {
        "posterior": "proven lower bounds (upper bounds beside them)",
        "widest_interval": round(gap_all, 6), "widest_interval_at_best": round(gap_best, 6),
        "lower_ge_0.99": int((lower[:, :-1] >= 0.99).sum()),
        "assignment": "most probable under pairwise weights (linear assignment); posterior unknown",
        "glr": "not computed",
    }
    if multi.any():
        diagnostics["multi_missing"] = (
            f"{int(multi.sum())} missing persons of families with several missing persons: their pairings "
            "have lower bound 0; a placement in such a family is counted by a proven upper bound of its "
            f"LR given any placement of the family's others (exact partner sums for {refine['refined_pairs']} "
            f"pairs, cruder bounds for {refine['unrefined_pairs']} left when time ran out)" if proven else
            f"{int(multi.sum())} missing persons of families with several missing persons: their pairings "
            "have lower bound 0")
    if multi.any() and proven:
        diagnostics.update(refine)
    if not proven:
        diagnostics["bound_note"] = (
            "not proven: no upper bound of the joint family terms is available (theta > 0, or no "
            "pedigree engine); a placement in a family with several missing persons is counted by its "
            "pairwise LR, proven only when a placed member never raises another's LR")
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), "bounds", None,
                     best, loglr, np.array([math.nan]), lower, np.full((len(samples), len(missing)), np.nan),
                     diagnostics, upper)
