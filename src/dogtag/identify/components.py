"""Exact enumeration of a component of the joint identification problem.

A *component* is a set of samples and missing persons joined by non-excluded
candidate pairs (the missing persons of one family joined to each other); no
assignment couples two components, so each is solved on its own
(:func:`dogtag.identify.joint.solve_joint` combines them). This module splits
the problem, enumerates a component's assignments (vectorised, with a cap),
scores them (pairwise log LRs, joint family terms for families with several
placements) and computes its posterior, pairing marginals and GLRs.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.problem import JointProblem


@dataclass
class Component:
    """One independent part of the problem and its solution.

    ``rows`` are the best assignments of the component (local missing index per
    local sample, -1 = ``"*"``), best first, with their log LR (``loglr``, sum of
    family terms) and log posterior within the component (``logpost``).
    """

    samples: NDArray[np.int64]
    missing: NDArray[np.int64]
    method: str
    n_assignments: int | None
    rows: NDArray[np.int64]
    loglr: NDArray[np.float64]
    logpost: NDArray[np.float64]
    marginals: NDArray[np.float64]  # (n local samples, n local missing + 1)
    glr: NDArray[np.float64]  # (n local samples, n local missing), log GLR, nan = undefined
    diagnostics: dict[str, object] = field(default_factory=dict)
    #: proven upper bounds of the marginals when those are lower bounds (method "bounds")
    upper: NDArray[np.float64] | None = None


#: largest proven posterior error (total variation) a component is reported resolved with
BOUND_OK = 1e-3


def component_resolved(c: Component) -> bool:
    """Whether a component's posteriors may be reported: exact, or pruned with a proven error of
    at most :data:`BOUND_OK`, or sampled to convergence (R-hat and ESS within the time given), or
    bounded (method "bounds": the reported posteriors are proven lower bounds).
    A pruned component without a proven bound (families with several missing persons) is not."""
    d = c.diagnostics or {}
    if d.get("status") == "unresolved":
        return False
    if c.method == "mcmc" and not d.get("converged"):
        return False
    if c.method == "exact-pruned":
        bound = d.get("error_bound")
        return isinstance(bound, float) and bound <= BOUND_OK
    return True


def component_provenance(c: Component) -> dict[str, object]:
    """Method, status and error bound of a solved component (its diagnostics hold the settings)."""
    exact = c.method in ("exact", "exact-dp")
    bound = 0.0 if exact else (c.diagnostics or {}).get("error_bound")
    return {"method": c.method, "status": "resolved" if component_resolved(c) else "unresolved",
            "error_bound": bound,
            "error": "none (exact)" if exact else (
                ("posteriors are lower bounds, proven; upper bounds beside them" if "bound_note" not in
                 (c.diagnostics or {}) else "posteriors are lower bounds; see bound_note")
                if c.method == "bounds" else
                "total variation, proven" if isinstance(bound, float) else
                "Monte Carlo (R-hat, ESS)" if c.method == "mcmc" else "no proven bound")}


def split_components(problem: JointProblem, allowed: NDArray[np.bool_]) -> list[tuple[list[int], list[int]]]:
    """Connected components (samples, missing) of the graph of allowed pairs.

    Missing persons of one family are joined; samples with no allowed pair are
    singleton components. Missing persons without allowed pairs are left out.
    With more than :data:`DENSE_PAIRS` allowed pairs the big components are first peeled
    off by a vectorised breadth-first search (an open incident of 10,000 samples is one
    component of 10^8 pairs), the rest joined pair by pair.
    """
    n_s, n_m = allowed.shape
    if int(np.count_nonzero(allowed)) > DENSE_PAIRS:
        return _peel_dense(problem, allowed)
    parent = list(range(n_s + n_m))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for s, m in zip(*np.nonzero(allowed), strict=True):
        union(int(s), n_s + int(m))
    active_m = np.nonzero(allowed.any(axis=0))[0]
    first: dict[str, int] = {}
    for m in active_m:
        f = problem.family[m]
        if f in first:
            union(n_s + int(m), n_s + first[f])
        else:
            first[f] = int(m)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for s in range(n_s):
        groups.setdefault(find(s), ([], []))[0].append(s)
    for m in active_m:
        r = find(n_s + int(m))
        if r in groups:
            groups[r][1].append(int(m))
    return list(groups.values())


#: allowed pairs above which :func:`split_components` peels big components off first
DENSE_PAIRS = 1_000_000


def _peel_dense(problem: JointProblem, allowed: NDArray[np.bool_]) -> list[tuple[list[int], list[int]]]:
    """Components of a dense graph: breadth-first search from the sample with most pairs left
    (whole rows and columns at a time, families joined), until few pairs are left."""
    n_s, n_m = allowed.shape
    _, fam_code = np.unique(np.array(problem.family, dtype=object), return_inverse=True)
    active = allowed.any(axis=0)
    left = np.ones(n_s, dtype=bool)
    out: list[tuple[list[int], list[int]]] = []
    while True:
        degree = np.where(left, np.count_nonzero(allowed, axis=1), 0)
        if int(degree.sum()) <= DENSE_PAIRS:
            break
        rows = np.zeros(n_s, dtype=bool)
        rows[int(np.argmax(degree))] = True
        cols = np.zeros(n_m, dtype=bool)
        while True:
            new_cols = allowed[rows].any(axis=0)
            new_cols |= np.isin(fam_code, np.unique(fam_code[new_cols])) & active
            new_rows = allowed[:, new_cols].any(axis=1) | rows
            if new_rows.sum() == rows.sum() and new_cols.sum() == cols.sum():
                break
            rows, cols = new_rows, new_cols
        out.append((np.nonzero(rows)[0].tolist(), np.nonzero(cols)[0].tolist()))
        left &= ~rows
    rest = allowed.copy()
    rest[~left] = False
    out += [(ss, ms) for ss, ms in split_components(problem, rest) if ms or left[ss[0]]]
    return out


def enumerate_component(options: list[NDArray[np.int64]], n_missing: int, cap: int) -> NDArray[np.int64] | None:
    """All assignments: row k, column s = option of local sample s (-1 = "*").

    ``options[s]`` lists the allowed local missing indices (and -1 if "*" is
    allowed). Returns None if there would be more than ``cap`` rows (the count
    never shrinks from one sample to the next while "*" is allowed, so the check
    is exact then; with "*" forbidden it is conservative).

    Rows are ordered by the option's position in ``options[s]``, the last sample's first
    (as if each sample's options were appended in turn). The rows are built in place: a
    sample's "*" keeps the rows so far, each other option copies those where it is free, so
    the work is the size of the result, not of every intermediate table.
    """
    ns = len(options)
    if _count_exceeds(options, n_missing, cap):
        return None
    size = 1
    rows = np.full((size, ns), -1, dtype=np.int64)
    used = np.zeros((size, n_missing), dtype=bool)
    n = 1
    for i, opts in enumerate(options):
        real = opts[opts >= 0]
        star = real.size < opts.size
        free = ~used[:n][:, real]
        add = int(free.sum())
        # count first: building the rows costs memory in proportion to them
        total = (n if star else 0) + add
        if total > cap:
            return None
        if n + add > size:
            size = max(n + add, min(2 * size, cap + n))
            grown = np.full((size, ns), -1, dtype=np.int64)
            grown[:n] = rows[:n]
            grown_used = np.zeros((size, n_missing), dtype=bool)
            grown_used[:n] = used[:n]
            rows, used = grown, grown_used
        pos = n
        for t, o in enumerate(real.tolist()):
            sel = np.nonzero(free[:, t])[0]
            k = sel.size
            rows[pos:pos + k] = rows[sel]
            rows[pos:pos + k, i] = o
            used[pos:pos + k] = used[sel]
            used[pos:pos + k, o] = True
            pos += k
        if star:
            n = pos
        else:
            rows[:add] = rows[n:pos]
            used[:add] = used[n:pos]
            n = add
    out = rows[:n]
    if n > 1 and ns:
        # the order of appending option by option: last sample's option position first
        keys = []
        for i, opts in enumerate(options):
            rank = np.empty(max(int(opts.max(initial=-1)), -1) + 2, dtype=np.int64)
            rank[opts] = np.arange(opts.size)  # -1 (star) lands in the last slot
            keys.append(rank[out[:, i]])
        out = out[np.lexsort(keys)]
    return np.ascontiguousarray(out)


def _count_exceeds(options: list[NDArray[np.int64]], n_missing: int, cap: int) -> bool:
    """Whether there are more than ``cap`` assignments, counted without building them (a dynamic
    programme over the sets of missing persons used, saturated at ``cap + 1``), when every sample
    may be "*" and there are at most 16 missing persons; False when it cannot tell."""
    if n_missing > 16 or not all(bool(np.any(o < 0)) for o in options):
        return False
    idx = np.arange(1 << n_missing)
    counts = np.zeros(1 << n_missing, dtype=np.int64)
    counts[0] = 1
    for opts in options:
        new = counts.copy()
        for o in opts[opts >= 0].tolist():
            free = idx[(idx >> o) & 1 == 0]
            new[free | (1 << o)] += counts[free]
        counts = np.minimum(new, cap + 1)
        if int(counts.sum()) > cap:
            return True
    return False


def score_rows(problem: JointProblem, samples: Sequence[int], missing: Sequence[int],
                rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """log LR of each assignment row of a component (sum of family terms)."""
    ns, nm = len(samples), len(missing)
    llr = np.zeros((ns, nm + 1))
    llr[:, :nm] = problem.log_lr[np.ix_(samples, missing)]
    cols = np.where(rows < 0, nm, rows)
    with np.errstate(invalid="ignore"):
        total = llr[np.arange(ns)[None, :], cols].sum(axis=1) if ns else np.zeros(rows.shape[0])
    # families with several missing persons in this component: joint terms
    by_fam: dict[str, list[int]] = {}
    for j, m in enumerate(missing):
        by_fam.setdefault(problem.family[m], []).append(j)
    multi = {f: js for f, js in by_fam.items() if len(js) >= 2}
    if not multi or rows.shape[0] == 0:
        return total
    inv = np.full((rows.shape[0], nm), -1, dtype=np.int64)
    r_idx, s_idx = np.nonzero(rows >= 0)
    inv[r_idx, rows[r_idx, s_idx]] = s_idx
    for fam, js in multi.items():
        sub = inv[:, js]
        n_placed = (sub >= 0).sum(axis=1)
        sel = np.nonzero(n_placed >= 2)[0]
        if sel.size == 0:
            continue
        combos, back = np.unique(sub[sel], axis=0, return_inverse=True)
        problem.prefetch(fam, [[(missing[js[t]], samples[int(c[t])]) for t in range(len(js)) if c[t] >= 0]
                               for c in combos])
        terms = np.empty(combos.shape[0])
        pair_sums = np.empty(combos.shape[0])
        for k, combo in enumerate(combos):
            placed = [(missing[js[t]], samples[int(combo[t])]) for t in range(len(js)) if combo[t] >= 0]
            terms[k] = problem.family_term(fam, placed)
            pair_sums[k] = sum(problem.log_lr[s, m] for m, s in placed)
        total[sel] += terms[back.ravel()] - pair_sums[back.ravel()]
    return total


def joint_terms_needed(problem: JointProblem, missing: Sequence[int], rows: NDArray[np.int64]) -> int:
    """Number of distinct joint family terms (families with two or more placements) that scoring
    ``rows`` would need from the pedigree engine."""
    nm = len(missing)
    by_fam: dict[str, list[int]] = {}
    for j, m in enumerate(missing):
        by_fam.setdefault(problem.family[m], []).append(j)
    multi = [js for js in by_fam.values() if len(js) >= 2]
    if not multi or rows.shape[0] == 0:
        return 0
    inv = np.full((rows.shape[0], nm), -1, dtype=np.int64)
    r_idx, s_idx = np.nonzero(rows >= 0)
    inv[r_idx, rows[r_idx, s_idx]] = s_idx
    total = 0
    for js in multi:
        sub = inv[:, js]
        sel = (sub >= 0).sum(axis=1) >= 2
        if sel.any():
            total += int(np.unique(sub[sel], axis=0).shape[0])
    return total


def _logsumexp(x: NDArray[np.float64]) -> float:
    if x.size == 0:
        return -math.inf
    mx = float(np.max(x))
    if mx == -math.inf:
        return -math.inf
    return mx + math.log(float(np.exp(x - mx).sum()))


def _group_max(values: NDArray[np.float64], groups: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups, values)
    return out


def exact_component(problem: JointProblem, samples: list[int], missing: list[int],
                     rows: NDArray[np.int64], logprior: NDArray[np.float64], top: int) -> Component:
    ns, nm = len(samples), len(missing)
    loglr = score_rows(problem, samples, missing, rows)
    cols = np.where(rows < 0, nm, rows)
    lp = logprior[np.arange(ns)[None, :], cols].sum(axis=1) if ns else np.zeros(rows.shape[0])
    logw = loglr + lp
    logz = _logsumexp(logw)
    if logz == -math.inf:
        names = ", ".join(problem.samples[s] for s in samples)
        raise InconsistentCaseError(
            f"no assignment of samples {names} has positive probability under the prior and data"
        )
    logpost = logw - logz
    post = np.exp(logpost)
    marg = np.zeros((ns, nm + 1))
    for s in range(ns):
        marg[s] = np.bincount(cols[:, s], weights=post, minlength=nm + 1)
    # generalised LR (dvir's GLR): max loglik with s = m over max loglik with s != m
    glr = np.full((ns, nm), np.nan)
    for s in range(ns):
        gmax = _group_max(loglr, cols[:, s], nm + 1)
        present = np.bincount(cols[:, s], minlength=nm + 1) > 0
        if present.sum() < 2:
            continue
        order = np.argsort(-gmax)
        best, second = order[0], order[1]
        for j in range(nm):
            if not present[j]:
                continue
            den = gmax[second] if j == best else gmax[best]
            glr[s, j] = gmax[j] - den
    order = np.lexsort((np.arange(rows.shape[0]), -logw))[: max(top, 1)]
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), "exact",
                     int(rows.shape[0]), rows[order], loglr[order], logpost[order], marg, glr)



def _kbest_sum(a: NDArray[np.float64], b: NDArray[np.float64], k: int) -> list[tuple[int, int]]:
    """Index pairs (i, j) of the k largest a[i] + b[j]; a and b sorted descending."""
    if a.size == 0 or b.size == 0:
        return []
    heap = [(-(a[0] + b[0]), 0, 0)]
    seen = {(0, 0)}
    out: list[tuple[int, int]] = []
    while heap and len(out) < k:
        _, i, j = heapq.heappop(heap)
        out.append((i, j))
        for ii, jj in ((i + 1, j), (i, j + 1)):
            if ii < a.size and jj < b.size and (ii, jj) not in seen:
                seen.add((ii, jj))
                heapq.heappush(heap, (-(a[ii] + b[jj]), ii, jj))
    return out


def merge_top(components: list[Component], top: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Best ``top`` combinations: (log posterior sums, choice of row per component)."""
    scores = np.zeros(1)
    choice = np.zeros((1, len(components)), dtype=np.int64)
    for c_idx, comp in enumerate(components):
        # a bounded component's one assignment has an unknown posterior (nan): ranked as certain,
        # and the caller reports the products as unknown
        logpost = np.where(np.isnan(comp.logpost), 0.0, comp.logpost)
        if logpost.size == 1:
            scores = scores + logpost[0]
            continue
        pairs = _kbest_sum(scores, logpost, top)
        ia = np.array([p[0] for p in pairs], dtype=np.int64)
        ib = np.array([p[1] for p in pairs], dtype=np.int64)
        scores = scores[ia] + logpost[ib]
        choice = choice[ia]
        choice[:, c_idx] = ib
    return scores, choice
