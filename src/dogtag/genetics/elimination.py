"""The symbolic half of the pedigree likelihood: factors, elimination order, array program.

For one pedigree structure, typing pattern and (padded) allele count, :func:`compile_plan`
decides which factors exist and over which variables, in which order the variables
are summed out (greedy, smallest intermediate first: Zhang & Poole 1994; Fishelson &
Geiger 2002), and how each product is laid out as a broadcast multiply or a batched
matrix product or a fused multiply-and-sum, so that the numeric half (:mod:`dogtag.genetics.factors`) only
runs a fixed list of array operations. Plans are cached by structure.

Variables are the ordered alleles (paternal, maternal) of untyped members, and the
*phase* (which allele came from the father) of typed members. Most phases never
become variables:

* a typed member whose parents are typed, collapsed founders or absent has a phase
  that enters only its own factor ("isolated"): it is summed out when the factor is
  built;
* a typed member with one untyped parent (x, y) enters that parent's factor only
  through ``sum_phase u(phase) (M[x, c(phase)] + M[y, c(phase)]) / 2``
  ``= D[x] + D[y]``, where ``u`` holds its other terms (its other parent's
  transmission, the phase weight) and ``c(phase)`` is the allele it got from that
  parent: one factor over the parent's two alleles ("single");
* only a typed member with two untyped parents keeps its phase as a variable
  ("double").

Data-dependent factors are built by gathers from per-marker tables with index
arrays ``A @ coef + offset``, ``A`` the flattened allele matrix of the pedigree
(member * 2 + allele), all members at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import PedigreeError
from dogtag.genetics.pedigree import find_cycle

__all__ = ["Factor", "Plan", "best_order", "compile_plan", "eliminate", "relevance", "table_layout", "topological"]

# Factor kinds; their arrays are built in ``factors.build_factors``.
PHASE = 0         # typed "double" member: over (phase); prior-free unary terms and phase weights
TRANS_UT = 1      # untyped parent -> typed "double" child: over (phase_c, p_par, m_par)
PAIR = 2          # untyped parent -> typed "single" child, phase summed: over (p_par, m_par)
TRANS_TU = 3      # typed parent -> untyped child slot: over (slot_c)
TRANS_UU = 4      # untyped parent -> untyped child slot: over (p_par, m_par, slot_c)
PRIOR_ALLELE = 5  # untyped founder allele: over (allele)
FOUNDER_U = 7     # collapsed untyped founder -> untyped child slot: q @ M, over (slot_c)
OBS_PARTIAL = 8   # one known allele: over (p, m)
OBS_SOFT = 9      # soft evidence: over (p, m)

# Unary contributions to a typed member's phase factor, as (i1, i2, i3) gathers:
# value = (G[i1] + G[i2]) * G[i3].
_C_NONE, _C_PRIOR, _C_TT, _C_FT = 0, 1, 2, 3


def table_layout(n: int) -> dict[str, int]:
    """Offsets in the flat per-item table ``G`` of a marker padded to ``n`` alleles.

    ``G = [q | q | M_male / 2 | M_female / 2 | q @ M_male | q @ M_female | 1 | 0 | NE]``
    (matrices row-major, ``M[x, z]`` = P(child allele z | parent allele x);
    ``NE[a, b] = [a != b]``, the weight of a typed member's second phase).
    """
    q = 0
    qq = n
    mh = (2 * n, 2 * n + n * n)
    v = (2 * n + 2 * n * n, 3 * n + 2 * n * n)
    one = 4 * n + 2 * n * n
    return {"q": q, "qq": qq, "mh0": mh[0], "mh1": mh[1], "v0": v[0], "v1": v[1],
            "one": one, "zero": one + 1, "ne": one + 2, "size": one + 2 + n * n}


@dataclass(frozen=True)
class Factor:
    """One factor: its kind, its variables in storage order, and where its numbers come from.

    ``index`` is the factor's position within its kind's batch (typed column for
    PHASE, column pair for TRANS_UT / PAIR / TRANS_TU, position in the partial or
    soft list); ``sex`` is 0 for the father's (male) matrix, 1 for the mother's.
    """

    kind: int
    vars: tuple[int, ...]
    index: int = 0
    sex: int = 0


@dataclass(frozen=True, eq=False)
class Plan:
    """A compiled elimination for one structure, typing pattern and allele count.

    Attributes
    ----------
    n : padded allele count.
    size : pedigree size (allele matrices have ``2 * size`` columns).
    typed : typed members, ordered isolated, then single, then double.
    n_iso, n_single, n_double : how many of each.
    partial, soft : members with one known allele / soft evidence.
    coef, offset : index program (see module docstring): ``A @ coef + offset``; the
        first ``12 * len(typed)`` columns address ``G`` (layout (3, T, 2, 2):
        gather, member, contribution, phase), then ``2 * (n_single + 2 n_double)``
        columns address the column table (member/slot, phase), then
        ``2 * n_tu`` the row table (transmission, parent allele).
    stride_g, stride_m : per column, the distance between items in ``G`` (zero for the
        other columns) and in the column / row tables (zero for ``G`` columns).
    w0, w1 : allele columns of the typed members (phase weights).
    factors : factors in creation order; their arrays are numbered 0..len-1.
    program : instructions (see below), run by ``factors.run``.
    keep : kept variables (conditional distribution), in output order.
    keep_shape : their sizes.
    """

    n: int
    size: int
    typed: tuple[int, ...]
    n_iso: int
    n_single: int
    n_double: int
    partial: tuple[int, ...]
    soft: tuple[int, ...]
    n_ut: int
    n_tu: int
    coef: NDArray[np.float64]
    offset: NDArray[np.float64]
    stride_g: NDArray[np.intp]
    stride_m: NDArray[np.intp]
    w0: NDArray[np.intp]
    w1: NDArray[np.intp]
    partial_cols: NDArray[np.intp]
    factors: tuple[Factor, ...]
    program: tuple[tuple, ...]
    keep: tuple[int, ...]
    keep_shape: tuple[int, ...]


def topological(father: Sequence[int], mother: Sequence[int]) -> list[int]:
    """Member indices with parents before children; a cycle raises :class:`PedigreeError`."""
    cycle = find_cycle(father, mother)
    if cycle:  # the engine guards itself: a cycle would make this walk endless
        raise PedigreeError("pedigree has a cycle (someone is their own ancestor): members "
                            + " -> ".join(map(str, cycle)))
    size = len(father)
    done = [False] * size
    order: list[int] = []
    for k in range(size):
        stack = [k]
        while stack:
            x = stack[-1]
            if done[x]:
                stack.pop()
                continue
            pending = [p for p in (father[x], mother[x]) if p >= 0 and not done[p]]
            if pending:
                stack.extend(pending)
            else:
                done[x] = True
                order.append(x)
                stack.pop()
    return order


def relevance(father: Sequence[int], mother: Sequence[int], observed: frozenset[int], target: int
              ) -> tuple[list[int], list[bool], set[int]]:
    """Members in topological order, which are relevant, and the collapsed founders.

    Relevant: observed, the target, or with a relevant descendant (the rest sums to 1).
    Collapsed: an unobserved founder (not the target) with one relevant child, which only
    passes on one of its alleles (drawn from q @ M, or by exchangeability one draw with theta).
    """
    size = len(father)
    kids: list[list[int]] = [[] for _ in range(size)]
    for c in range(size):
        if father[c] >= 0:
            kids[father[c]].append(c)
            kids[mother[c]].append(c)
    order = topological(father, mother)
    relevant = [False] * size
    for k in reversed(order):
        relevant[k] = k in observed or k == target or any(relevant[c] for c in kids[k])
    collapsed = {k for k in range(size) if relevant[k] and father[k] < 0 and k not in observed
                 and k != target and sum(relevant[c] for c in kids[k]) == 1}
    return order, relevant, collapsed


@lru_cache(maxsize=4096)
def compile_plan(
    father: tuple[int, ...],
    mother: tuple[int, ...],
    typed: frozenset[int],
    partial: frozenset[int],
    soft: frozenset[int],
    target: int,
    n: int,
) -> Plan:
    """Plan the elimination for one pedigree structure and typing pattern (cached)."""
    size = len(father)
    order, relevant, collapsed = relevance(father, mother, typed | partial | soft, target)

    def untyped_parent(p: int) -> bool:
        return p >= 0 and p not in typed and p not in collapsed

    groups: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for k in order:
        if k in typed:
            nu = sum(untyped_parent(p) for p in (father[k], mother[k]))
            groups[nu].append(k)
    typed_order = groups[0] + groups[1] + groups[2]
    col = {k: i for i, k in enumerate(typed_order)}
    T = len(typed_order)

    var_size: list[int] = []
    slots: dict[int, tuple[int, int]] = {}
    for k in order:
        if not relevant[k] or k in collapsed:
            continue
        if k in typed:
            if k in groups[2]:
                var_size.append(2)
                slots[k] = (len(var_size) - 1,) * 2
        else:
            var_size.extend((n, n))
            slots[k] = (len(var_size) - 2, len(var_size) - 1)

    lay = table_layout(n)
    # unary gathers: (3, T, 2, 2) -> i1, i2, i3 per (member, contribution, phase)
    uj1 = np.zeros((3, T, 2, 2), dtype=np.intp)
    uj2 = np.zeros((3, T, 2, 2), dtype=np.intp)
    ua = np.zeros((3, T, 2, 2), dtype=np.intp)
    ub = np.zeros((3, T, 2, 2), dtype=np.intp)
    uo = np.zeros((3, T, 2, 2), dtype=np.intp)
    uo[0] = lay["one"]
    uo[1] = lay["zero"]
    uo[2] = lay["one"]

    def child_col(k: int, slot: int, ph: int) -> int:
        # the child's allele in slot ``slot`` at phase ``ph``: phase 0 is (a0, a1)
        return 2 * k + (slot + ph) % 2

    factors: list[Factor] = []
    ut_cols: list[tuple[int, int, int]] = []    # (child, slot, sex) per UT column pair
    tu_cols: list[tuple[int, int]] = []         # (parent, sex)
    single_factors: list[Factor] = []
    double_factors: list[Factor] = []
    for k in typed_order:
        t = col[k]
        # the phase weight [a0 != a1] (a homozygote's second phase is the first one again)
        # rides on the third gather of the second contribution, which is otherwise 1
        uo[2, t, 1, 1] = lay["ne"]
        uj1[2, t, 1, 1] = 2 * k
        ua[2, t, 1, 1] = n
        uj2[2, t, 1, 1] = 2 * k + 1
        ub[2, t, 1, 1] = 1
        if father[k] < 0:
            for ph in (0, 1):
                uo[0, t, 0, ph] = lay["qq"]
                uj1[0, t, 0, ph] = 2 * k + 1
                ua[0, t, 0, ph] = 1
                uo[2, t, 0, ph] = lay["q"]
                uj1[2, t, 0, ph] = 2 * k
                ua[2, t, 0, ph] = 1
            continue
        for slot, par in ((0, father[k]), (1, mother[k])):
            sex = slot
            if par in typed:
                for ph in (0, 1):
                    uo[0, t, slot, ph] = lay[f"mh{sex}"]
                    uj1[0, t, slot, ph] = 2 * par
                    ua[0, t, slot, ph] = n
                    uj2[0, t, slot, ph] = child_col(k, slot, ph)
                    ub[0, t, slot, ph] = 1
                    uo[1, t, slot, ph] = lay[f"mh{sex}"]
                    uj1[1, t, slot, ph] = 2 * par + 1
                    ua[1, t, slot, ph] = n
                    uj2[1, t, slot, ph] = child_col(k, slot, ph)
                    ub[1, t, slot, ph] = 1
            elif par in collapsed:
                for ph in (0, 1):
                    uo[0, t, slot, ph] = lay[f"v{sex}"]
                    uj1[0, t, slot, ph] = child_col(k, slot, ph)
                    ua[0, t, slot, ph] = 1
            else:
                ut_cols.append((k, slot, sex))
                pp, pm = slots[par]
                if k in groups[1]:
                    single_factors.append(Factor(PAIR, (pp, pm), len(single_factors), sex))
                else:
                    double_factors.append(
                        Factor(TRANS_UT, (slots[k][0], pp, pm), len(double_factors), sex))
    factors.extend(single_factors)
    factors.extend(double_factors)
    for k in groups[2]:
        factors.append(Factor(PHASE, (slots[k][0],), col[k]))

    for k in order:
        if not relevant[k] or k in collapsed or k in typed:
            continue
        p, m = slots[k]
        if father[k] < 0:
            factors.append(Factor(PRIOR_ALLELE, (p,)))
            factors.append(Factor(PRIOR_ALLELE, (m,)))
        else:
            for slot, par in ((0, father[k]), (1, mother[k])):
                cvar = slots[k][slot]
                if par in collapsed:
                    factors.append(Factor(FOUNDER_U, (cvar,), sex=slot))
                elif par in typed:
                    factors.append(Factor(TRANS_TU, (cvar,), len(tu_cols), slot))
                    tu_cols.append((par, slot))
                else:
                    pp, pm = slots[par]
                    factors.append(Factor(TRANS_UU, (pp, pm, cvar), sex=slot))
        if k in partial:
            factors.append(Factor(OBS_PARTIAL, (p, m), sorted(partial).index(k)))
        if k in soft:
            factors.append(Factor(OBS_SOFT, (p, m), sorted(soft).index(k)))

    # column-table gathers (single children first: their order matches ``single_factors``)
    cj = np.zeros((len(ut_cols), 2), dtype=np.intp)
    co = np.zeros((len(ut_cols), 2), dtype=np.intp)
    singles = [c for c in ut_cols if c[0] in groups[1]]
    doubles = [c for c in ut_cols if c[0] in groups[2]]
    for i, (k, slot, sex) in enumerate(singles + doubles):
        for ph in (0, 1):
            cj[i, ph] = child_col(k, slot, ph)
            co[i, ph] = sex * n
    rj = np.zeros((len(tu_cols), 2), dtype=np.intp)
    ro = np.zeros((len(tu_cols), 2), dtype=np.intp)
    for i, (par, sex) in enumerate(tu_cols):
        rj[i] = (2 * par, 2 * par + 1)
        ro[i] = sex * n
    j1 = np.concatenate([uj1.ravel(), cj.ravel(), rj.ravel()])
    j2 = np.concatenate([uj2.ravel(), np.zeros(cj.size + rj.size, dtype=np.intp)])
    alpha = np.concatenate([ua.ravel(), np.ones(cj.size + rj.size, dtype=np.intp)])
    beta = np.concatenate([ub.ravel(), np.zeros(cj.size + rj.size, dtype=np.intp)])
    offset = np.concatenate([uo.ravel(), co.ravel(), ro.ravel()])
    # index = A @ coef + offset, A (B, 2 * size) the allele matrix; in float64 (exact for
    # these small integers) so that it runs as one BLAS product
    coef = np.zeros((2 * size, j1.size))
    cols = np.arange(j1.size)
    np.add.at(coef, (j1, cols), alpha)
    np.add.at(coef, (j2, cols), beta)
    stride_g = np.concatenate([np.full(uo.size, lay["size"]), np.zeros(cj.size + rj.size, dtype=np.intp)])
    stride_m = np.concatenate([np.zeros(uo.size, dtype=np.intp), np.full(cj.size + rj.size, 2 * n)])
    w0 = np.array([2 * k for k in typed_order], dtype=np.intp)
    w1 = w0 + 1
    partial_cols = np.array([2 * k for k in sorted(partial)], dtype=np.intp)

    keep: tuple[int, ...] = () if target < 0 else slots[target]
    program = eliminate(factors, var_size, keep)
    return Plan(
        n=n, size=size, typed=tuple(typed_order), n_iso=len(groups[0]), n_single=len(groups[1]),
        n_double=len(groups[2]), partial=tuple(sorted(partial)), soft=tuple(sorted(soft)),
        n_ut=len(ut_cols), n_tu=len(tu_cols),
        coef=coef, offset=offset.astype(np.float64), stride_g=stride_g, stride_m=stride_m, w0=w0, w1=w1,
        partial_cols=partial_cols,
        factors=tuple(factors), program=program, keep=keep,
        keep_shape=tuple(var_size[v] for v in keep),
    )


# ---------------------------------------------------------------------------
# Elimination order and the array program
# ---------------------------------------------------------------------------

# Each elimination multiplies factors of at most a few hundred values per item, each
# in (0, 1]; rescaling every 4 steps keeps values far above the float64 minimum.
RESCALE_EVERY = 4

# Program instructions (``factors.run`` runs them):
#   (SUM, src, axis, dest)
#   (MUL, a, b, a_perm, a_shape, b_perm, b_shape, out_shape, dest)
#   (MULSUM, a, b, einsum subscripts, dest)
#   (MATMUL, a, b, a_perm, a_shape, b_perm, b_shape, out_shape, dest)
#   (LOG, src)            add log(src) (a scalar per item) to the log scale
#   (SCALE, src)          rescale src in place, add log(scale) to the log scale
#   (FINAL, src, perm, shape)  src holds the kept variables: transpose to ``keep`` order
SUM, MUL, MULSUM, MATMUL, LOG, SCALE, FINAL, FUSED = range(8)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def program_width(program: tuple[tuple, ...], least: int) -> int:
    """Largest array a program makes, in values per item (for chunking), at least ``least``.

    Products and matrix products carry their shapes; a fused multiply-sum (MULSUM) makes
    an array no larger than its first operand, so ``least`` must bound the input factors.
    """
    width = least
    for ins in program:
        for part in ins[1:] if ins[0] != FUSED else ins[4:]:     # (a fused one's ids are no shape)
            if isinstance(part, tuple) and part and all(isinstance(x, int) for x in part) and part[0] == -1:
                width = max(width, _prod(part[1:]))
    return width


def _perm(have: Sequence[int], want: Sequence[int]) -> tuple[int, ...] | None:
    """Axis permutation (batch axis first) taking ``have`` to ``want``; None if identity."""
    p = tuple(have.index(v) for v in want)
    if p == tuple(range(len(p))):
        return None
    return (0, *(i + 1 for i in p))


def _prod(sizes: Sequence[int]) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


def _binary(av: tuple[int, ...], bv: tuple[int, ...], elim: int, a: int, b: int, dest: int,
            size: Sequence[int]) -> tuple[tuple, tuple[int, ...]]:
    """One product of two factors, summing out ``elim`` (-1: none). Returns (instruction, out vars)."""
    if elim < 0 or not (set(av) - set(bv) and set(bv) - set(av)):
        # broadcast multiply in the order of ``av`` + new variables of ``bv``
        if not set(bv) <= set(av) and set(av) < set(bv):
            av, bv, a, b = bv, av, b, a
        union = av + tuple(v for v in bv if v not in av)
        a_shape = (-1, *(size[v] for v in av), *([1] * (len(union) - len(av))))
        b_order = [v for v in union if v in bv]
        b_shape = (-1, *(size[v] if v in bv else 1 for v in union))
        a_perm = None
        b_perm = _perm(bv, b_order)
        if elim < 0:
            out_shape = (-1, *(size[v] for v in union))
            return (MUL, a, b, a_perm, a_shape, b_perm, b_shape, out_shape, dest), union
        # fused multiply and sum (einsum with the batch axis as the ellipsis: no temporaries)
        out = tuple(v for v in union if v != elim)
        letter = {v: _LETTERS[i] for i, v in enumerate(union)}
        subs = "...{},...{}->...{}".format(*("".join(letter[v] for v in vs) for vs in (av, bv, out)))
        return (MULSUM, a, b, subs, dest), out
    # batched matrix product: a -> (shared, left, k), b -> (shared, k, right)
    best: tuple | None = None
    for x, y, xv, yv in ((a, b, av, bv), (b, a, bv, av)):
        shared = [v for v in xv if v in yv and v != elim]
        left = [v for v in xv if v not in yv]
        right = [v for v in yv if v not in xv]
        x_perm = _perm(xv, shared + left + [elim])
        y_perm = _perm(yv, [*shared, elim, *right])
        cost = (x_perm is not None) + (y_perm is not None)
        S, L, R = _prod([size[v] for v in shared]), _prod([size[v] for v in left]), _prod(
            [size[v] for v in right])
        K = size[elim]
        out = tuple(shared + left + right)
        instr = (MATMUL, x, y, x_perm, (-1, S, L, K), y_perm, (-1, S, K, R),
                 (-1, *(size[v] for v in out)), dest)
        if best is None or cost < best[0]:
            best = (cost, instr, out)
    assert best is not None
    return best[1], best[2]


#: relative per-element cost of the array operations, for choosing elimination orders: a batched
#: matrix product per multiply-add (BLAS), a broadcast multiply per element it writes, a fused
#: multiply-sum (einsum) per element of its scope, three factors' (:data:`FUSED`) likewise
COST_MATMUL, COST_MUL, COST_MULSUM, COST_FUSED = 0.2, 1.0, 1.0, 1.5


@lru_cache(maxsize=65536)
def step_cost(scopes: tuple[frozenset[int], ...], elim: int, size: tuple[int, ...]) -> float:
    """Per-item cost of summing ``elim`` out of factors over ``scopes``, by the operations
    :func:`_bucket` makes for them (weighted by :data:`COST_MATMUL` and the others)."""
    if len(scopes) == 1:
        return COST_MULSUM * _prod([size[u] for u in scopes[0]])
    facs = list(scopes)
    work = 0.0
    while len(facs) > 2:
        pairs = [(a, b) for a in range(len(facs)) for b in range(a + 1, len(facs))]
        a, b = min(pairs, key=lambda ab: (_prod([size[u] for u in facs[ab[0]] | facs[ab[1]]]), ab))
        union = facs[a] | facs[b]
        if len(facs) == 3:
            everything = facs[0] | facs[1] | facs[2]
            whole = _prod([size[u] for u in everything])
            if union == everything and whole >= FUSE_RATIO * _prod([size[u] for u in everything - {elim}]):
                return work + COST_FUSED * whole
        work += COST_MUL * _prod([size[u] for u in union])
        facs = [f for k, f in enumerate(facs) if k not in (a, b)] + [union]
    x, y = facs
    whole = _prod([size[u] for u in x | y])
    return work + (COST_MATMUL if x - y and y - x else COST_MULSUM) * whole


def order_cost(fvars: Sequence[tuple[int, ...]], shared: Sequence[bool], size: Sequence[int],
               order: Sequence[int]) -> float:
    """Per-item cost of eliminating ``order`` from factors over ``fvars`` (see :func:`best_order`)."""
    live = [(frozenset(v), sh) for v, sh in zip(fvars, shared, strict=True)]
    work = 0.0
    for v in order:
        touching = [f for f in live if v in f[0]]
        if not all(sh for _, sh in touching):
            work += step_cost(tuple(sc for sc, _ in touching), v, tuple(size))
        scope = frozenset().union(*(sc for sc, _ in touching))
        live = [f for f in live if v not in f[0]] + [(scope - {v}, all(sh for _, sh in touching))]
    return work


#: most variables for which :func:`best_order` searches every elimination order (by subsets)
BEST_ORDER_MAX = 12
#: most variables for which it costs each step by its operations (:func:`step_cost`); beyond, by
#: the size of its scope (the search would take seconds)
FINE_ORDER_MAX = 8


@lru_cache(maxsize=4096)
def best_order(fvars: tuple[tuple[int, ...], ...], shared: tuple[bool, ...], size: tuple[int, ...],
               keep: tuple[int, ...]) -> tuple[int, ...] | None:
    """The elimination order of least work per item, or None beyond :data:`BEST_ORDER_MAX` variables.

    ``shared``: per factor, whether its array is one for the whole batch (a marker table).
    The work of eliminating a variable is that of the operations :func:`eliminate` makes for it
    with ``fuse`` (:func:`step_cost`), and nothing where all its factors are shared (computed
    once per batch).
    The factors after eliminating a set E of variables do not depend on the order: those
    that meet E merge by the connected parts of E. So the least work of each set follows
    from its subsets (dynamic programming over the 2^m sets of m variables). Greedy choices
    by scope size alone can be far off: eliminating a variable of shared tables first is
    free, but couples the per-item factors into larger ones later (n^4 instead of n^3 for
    full siblings with the joint theta correction).
    """
    elim = sorted({v for fv in fvars for v in fv} - set(keep))
    m = len(elim)
    if m > BEST_ORDER_MAX:
        return None
    bit = {v: 1 << i for i, v in enumerate(elim)}
    fine = m <= FINE_ORDER_MAX

    def state(E: int) -> list[tuple[frozenset[int], bool]]:
        parent = {v: v for v in elim if bit[v] & E}

        def find(v: int) -> int:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for fv in fvars:
            inside = [v for v in fv if v in parent]
            for v in inside[1:]:
                parent[find(v)] = find(inside[0])
        merged: dict[int, tuple[set[int], bool]] = {}
        out: list[tuple[frozenset[int], bool]] = []
        for fv, sh in zip(fvars, shared, strict=True):
            inside = [v for v in fv if v in parent]
            if not inside:
                out.append((frozenset(fv), sh))
                continue
            root = find(inside[0])
            scope, all_shared = merged.get(root, (set(), True))
            merged[root] = (scope | {v for v in fv if v not in parent}, all_shared and sh)
        out.extend((frozenset(sc), sh) for sc, sh in merged.values())
        return out

    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for E in sorted(range(1 << m), key=lambda x: bin(x).count("1")):
        if E not in best:
            continue
        done, order = best[E]
        facs = state(E)
        for v in elim:
            if bit[v] & E:
                continue
            touching = [(sc, sh) for sc, sh in facs if v in sc]
            if all(sh for _, sh in touching):
                cost = 0.0
            elif fine:
                cost = step_cost(tuple(sc for sc, _ in touching), v, size)
            else:
                cost = COST_MULSUM * _prod([size[u] for u in frozenset().union(*(sc for sc, _ in touching))])
            key = E | bit[v]
            if key not in best or done + cost < best[key][0]:
                best[key] = (done + cost, (*order, v))
    return best[(1 << m) - 1][1]


def _bucket(program: list[tuple], facs: list[tuple[int, tuple[int, ...]]], elim: int, dest: int,
            size: Sequence[int]) -> tuple[int, ...]:
    """Instructions for summing ``elim`` out of the product of factors ``facs`` (id, vars), at
    least two, into ``dest``; returns its variables.

    The pair of factors with the smallest product is multiplied first, until two are left for
    a matrix product (or fused multiply-sum) that sums ``elim``; for example full siblings'
    transmissions from one untyped parent merge before the parents meet, so that the phases
    become a batch of matrix products instead of axes of one large product. Where three
    factors are left and every pair's product would hold all their variables, at least
    :data:`FUSE_RATIO` times the result, they are one sum of products (einsum) without it.
    """
    facs = list(facs)
    while len(facs) > 2:
        pairs = [(a, b) for a in range(len(facs)) for b in range(a + 1, len(facs))]
        a, b = min(pairs, key=lambda ab: (_prod([size[v] for v in set(facs[ab[0]][1]) | set(facs[ab[1]][1])]), ab))
        if len(facs) == 3:
            union = tuple(dict.fromkeys(v for _, fv in facs for v in fv))
            out = tuple(v for v in union if v != elim)
            if len(set(facs[a][1]) | set(facs[b][1])) == len(union) \
                    and _prod([size[v] for v in union]) >= FUSE_RATIO * _prod([size[v] for v in out]):
                letter = {v: _LETTERS[i] for i, v in enumerate(union)}
                subs = "{}->...{}".format(",".join("..." + "".join(letter[v] for v in fv) for _, fv in facs),
                                          "".join(letter[v] for v in out))
                program.append((FUSED, tuple(i for i, _ in facs), subs, dest, (-1, *(size[v] for v in out))))
                return out
        tmp = -(len(program) + 1)
        instr, vs = _binary(facs[a][1], facs[b][1], -1, facs[a][0], facs[b][0], tmp, size)
        program.append(instr)
        facs = [f for k, f in enumerate(facs) if k not in (a, b)] + [(tmp, vs)]
    instr, vs = _binary(facs[0][1], facs[1][1], elim, facs[0][0], facs[1][0], dest, size)
    program.append(instr)
    return vs


#: least ratio of a product's array to its summed result for which :func:`_bucket` sums without it
FUSE_RATIO = 8


def eliminate(factors: Sequence[Factor], size: Sequence[int], keep: tuple[int, ...],
              order: Sequence[int] | None = None, *, fuse: bool = False) -> tuple[tuple, ...]:
    """Elimination compiled to instructions: in ``order``, or greedily (smallest scope first).
    ``fuse``: the factors of each elimination are multiplied smallest product first (:func:`_bucket`)."""
    live: dict[int, tuple[int, ...]] = {i: f.vars for i, f in enumerate(factors)}
    next_id = len(factors)
    remaining = set(range(len(size))) - set(keep)
    program: list[tuple] = []
    step = 0
    n_steps = len(remaining)
    if order is not None and sorted(order) != sorted(remaining):
        order = None
    while remaining:
        best, best_cost = -1, -1
        if order is not None:
            best = order[step]
        for v in remaining if order is None else ():
            scope: set[int] = set()
            for fv in live.values():
                if v in fv:
                    scope.update(fv)
            cost = _prod([size[u] for u in scope])
            if best_cost < 0 or cost < best_cost:
                best, best_cost = v, cost
        ins = sorted((i for i, fv in live.items() if best in fv), key=lambda i: (len(live[i]), i))
        acc, acc_vars = ins[0], live[ins[0]]
        if len(ins) == 1:
            out_vars = tuple(u for u in acc_vars if u != best)
            program.append((SUM, acc, 1 + acc_vars.index(best), next_id))
        elif fuse:
            out_vars = _bucket(program, [(i, live[i]) for i in ins], best, next_id, size)
        else:
            for j, i in enumerate(ins[1:], start=2):
                last = j == len(ins)
                dest = next_id if last else -(len(program) + 1)
                instr, out_vars = _binary(acc_vars, live[i], best if last else -1, acc, i, dest, size)
                program.append(instr)
                acc, acc_vars = dest, out_vars
        for i in ins:
            del live[i]
        step += 1
        if not out_vars:
            program.append((LOG, next_id))
        else:
            live[next_id] = out_vars
            if step % RESCALE_EVERY == 0 or step == n_steps:
                program.append((SCALE, next_id))
        next_id += 1
        remaining.discard(best)
    if keep and not live:
        program.append((FINAL, -1, None, (), 0))
    elif keep:
        ids = sorted(live, key=lambda i: (len(live[i]), i))
        acc, acc_vars = ids[0], live[ids[0]]
        for i in ids[1:]:
            dest = next_id
            next_id += 1
            instr, acc_vars = _binary(acc_vars, live[i], -1, acc, i, dest, size)
            program.append(instr)
            acc = dest
        missing = [v for v in keep if v not in acc_vars]
        have = acc_vars + tuple(missing)
        program.append((FINAL, acc, _perm(have, keep), (-1, *(size[v] for v in acc_vars)),
                        len(missing)))
    else:
        for i, fv in live.items():
            # only scalars can be left without kept variables
            assert not fv, fv
            program.append((LOG, i))
    return tuple(program)
