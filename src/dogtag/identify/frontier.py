"""Exact joint identification of big *sparse* components: DP over a moving frontier.

The subset recursion of :mod:`dogtag.identify.matching` keeps, after each
sample, the set of missing persons used so far. Only those that a later sample
could still choose matter; a missing person is dropped from the state after the
last sample that lists it (its "retirement"). With the samples ordered to keep
this *frontier* small (greedy: next the sample that opens the fewest new missing
persons), a sparse component of any size is solved exactly with a few states per
step, in the style of path-decomposition dynamic programming (Bodlaender, H. L.
(1998) A partial k-arboretum of graphs with bounded treewidth. *Theor. Comput.
Sci.* 209:1-45). Forward and backward tables (log-sum-exp and max) give the
normaliser, pairing marginals, GLRs and an exact best-first search of the top
assignments. Additive components only (each family has one missing person in
the component).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.components import Component
from dogtag.identify.problem import JointProblem

#: largest frontier (missing persons in the state) solved this way
MAX_FRONTIER = 14
#: frontiers up to this size are preferred to the vectorised subset DP
SMALL_FRONTIER = 8


def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) for Python floats."""
    m = a if a > b else b
    if m == -math.inf:
        return m
    return m + math.log1p(math.exp(-abs(a - b)))


def _order(opts: list[list[int]]) -> list[int]:
    """Greedy sample order keeping the frontier small: next, the sample that opens the
    fewest new missing persons net of those it closes (ties: input order)."""
    ns = len(opts)
    remaining = set(range(ns))
    left: dict[int, int] = {}  # missing -> samples not yet placed that list it
    for op in opts:
        for j in op:
            left[j] = left.get(j, 0) + 1
    opened: set[int] = set()
    order: list[int] = []
    while remaining:
        def cost(s: int) -> tuple[int, int, int]:
            new = sum(1 for j in opts[s] if j not in opened)
            closing = sum(1 for j in opts[s] if left[j] == 1)
            return (new - closing, new, s)

        s = min(remaining, key=cost)
        order.append(s)
        remaining.discard(s)
        opened.update(opts[s])
        for j in opts[s]:
            left[j] -= 1
    return order


def frontier_cost_ok(opts: list[list[int]]) -> bool:
    """Whether planning is cheap enough to try (the greedy order is O(samples x edges))."""
    return len(opts) * sum(len(op) for op in opts) <= 20_000_000


def frontier_plan(opts: list[list[int]]) -> tuple[list[int], list[int], int]:
    """(sample order, retire bitmask after each step, largest frontier)."""
    order = _order(opts)
    last: dict[int, int] = {}
    first: dict[int, int] = {}
    for pos, s in enumerate(order):
        for j in opts[s]:
            last[j] = pos
            first.setdefault(j, pos)
    retire = [0] * len(order)
    for j, pos in last.items():
        retire[pos] |= 1 << j
    width = 0
    for pos in range(len(order)):
        width = max(width, sum(1 for j in last if first[j] <= pos < last[j]))
    return order, retire, width


def _forward(w: list[dict[int, float]], retire: list[int], use_max: bool) -> list[dict[int, float]]:
    tables: list[dict[int, float]] = [{0: 0.0}]
    for s, ws in enumerate(w):
        cur: dict[int, float] = {}
        for mask, val in tables[-1].items():
            for j, x in ws.items():
                if j >= 0 and mask >> j & 1:
                    continue
                nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[s]
                v = val + x
                old = cur.get(nm)
                if old is None:
                    cur[nm] = v
                elif use_max:
                    if v > old:
                        cur[nm] = v
                else:
                    cur[nm] = _lae(old, v)
        tables.append(cur)
    return tables


def _backward(w: list[dict[int, float]], retire: list[int], fwd: list[dict[int, float]],
              use_max: bool) -> list[dict[int, float]]:
    ns = len(w)
    tables: list[dict[int, float]] = [{} for _ in range(ns + 1)]
    tables[ns] = dict.fromkeys(fwd[ns], 0.0)
    for s in range(ns - 1, -1, -1):
        nxt = tables[s + 1]
        cur: dict[int, float] = {}
        for mask in fwd[s]:
            acc = -math.inf
            for j, x in w[s].items():
                if j >= 0 and mask >> j & 1:
                    continue
                nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[s]
                b = nxt.get(nm, -math.inf)
                v = x + b
                acc = max(acc, v) if use_max else _lae(acc, v)
            cur[mask] = acc
        tables[s] = cur
    return tables


def frontier_component(problem: JointProblem, samples: list[int], missing: list[int],
                       options: list[NDArray[np.int64]], logprior: NDArray[np.float64],
                       *, top: int) -> Component:
    """Exact solution of an additive component by frontier DP (method "exact-dp")."""
    ns, k = len(samples), len(missing)
    llr = problem.log_lr[np.ix_(samples, missing)]
    opts = [[int(o) for o in op if o >= 0] for op in options]
    order, retire, width = frontier_plan(opts)
    # per step (in plan order): option -> weight; -1 = "*"
    w: list[dict[int, float]] = []
    ll: list[dict[int, float]] = []
    for s in order:
        ws: dict[int, float] = {}
        ls: dict[int, float] = {}
        for o in options[s]:
            j = int(o)
            ws[j] = float(logprior[s, k if j < 0 else j]) + (0.0 if j < 0 else float(llr[s, j]))
            ls[j] = 0.0 if j < 0 else float(llr[s, j])
        w.append(ws)
        ll.append(ls)
    fwd = _forward(w, retire, use_max=False)
    bwd = _backward(w, retire, fwd, use_max=False)
    logz = bwd[0][0]
    if logz == -math.inf:
        names = ", ".join(problem.samples[s] for s in samples)
        raise InconsistentCaseError(
            f"no assignment of samples {names} has positive probability under the prior and data"
        )
    marg = np.zeros((ns, k + 1))
    for pos, s in enumerate(order):
        for mask, f in fwd[pos].items():
            for j, x in w[pos].items():
                if j >= 0 and mask >> j & 1:
                    continue
                nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[pos]
                b = bwd[pos + 1].get(nm, -math.inf)
                marg[s, k if j < 0 else j] += math.exp(f + x + b - logz)
    # exact count with Python integers
    counts: dict[int, int] = {0: 1}
    for pos in range(ns):
        nxt: dict[int, int] = {}
        for mask, c in counts.items():
            for j in w[pos]:
                if j >= 0 and mask >> j & 1:
                    continue
                nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[pos]
                nxt[nm] = nxt.get(nm, 0) + c
        counts = nxt
    n_assign = sum(counts.values())
    # GLR from max tables over log-likelihoods
    fmax = _forward(ll, retire, use_max=True)
    bmax = _backward(ll, retire, fmax, use_max=True)
    glr = np.full((ns, k), np.nan)
    for pos, s in enumerate(order):
        g: dict[int, float] = {}
        for j, x in ll[pos].items():
            best = -math.inf
            for mask, f in fmax[pos].items():
                if j >= 0 and mask >> j & 1:
                    continue
                nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[pos]
                best = max(best, f + x + bmax[pos + 1].get(nm, -math.inf))
            g[j] = best
        present = {j: v for j, v in g.items() if v > -math.inf}  # reachable values of s
        if len(present) < 2:
            continue
        for j in present:
            if j >= 0:
                glr[s, j] = present[j] - max(v for o, v in present.items() if o != j)
    # top assignments: best-first with the exact max heuristic
    hfwd = _forward(w, retire, use_max=True)
    hmax = _backward(w, retire, hfwd, use_max=True)
    heap: list[tuple[float, int, int, int, float, tuple[int, ...]]] = [(-hmax[0][0], 0, 0, 0, 0.0, ())]
    tie = 0
    found: list[tuple[tuple[int, ...], float]] = []
    while heap and len(found) < top:
        _, _, pos, mask, gsum, path = heapq.heappop(heap)
        if pos == ns:
            found.append((path, gsum))
            continue
        for j, x in w[pos].items():
            if j >= 0 and mask >> j & 1:
                continue
            nm = (mask | (1 << j) if j >= 0 else mask) & ~retire[pos]
            h = hmax[pos + 1].get(nm, -math.inf)
            if h == -math.inf:
                continue
            tie += 1
            heapq.heappush(heap, (-(gsum + x + h), tie, pos + 1, nm, gsum + x, (*path, j)))
    rows = np.full((len(found), ns), -1, dtype=np.int64)
    logw = np.empty(len(found))
    loglr = np.zeros(len(found))
    for r, (path, gsum) in enumerate(found):
        for pos, j in enumerate(path):
            rows[r, order[pos]] = j
            if j >= 0:
                loglr[r] += float(llr[order[pos], j])
        logw[r] = gsum
    comp = Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64),
                     "exact-dp", n_assign, rows, loglr, logw - logz, marg, glr)
    comp.diagnostics["frontier"] = width
    return comp
