"""The subpopulation correction (theta) as pedprobr and Familias define it: one joint draw.

Model (Balding & Nichols 1994; NRC II 1996, ch. 4; Egeland, Kling & Mostad 2016,
ch. 2 for Familias). All founder alleles of a hypothesis -- every founder of every
connected part, an "unrelated" person included -- are drawn from one subpopulation
whose allele frequencies vary around the population's ``p`` with coancestry theta.
Integrating the subpopulation frequencies out (a Dirichlet with parameters
``p (1 - theta) / theta``) gives the sampling formula: the j-th founder allele drawn
is ``a`` with probability

    (b theta + (1 - theta) p_a) / (1 + (j - 2) theta),

b the number of earlier draws equal to ``a``. The draws are exchangeable, so the
prior of the founder alleles depends only on their counts, and a founder with no
typed descendant drops out exactly (the urn's margins are urns again). pedprobr
(``likelihood(theta = )``) sums over every founder genotype, which is exponential in
the number of founders; we compute the same number exactly as follows.

* Fully typed founders have known alleles: their count vector ``c0`` gives the first
  factor (the formula above, in any order) and the urn the other draws start from.
* Every other relevant founder allele (untyped, half-typed, with soft evidence, or
  the target of a conditional distribution) is a later draw. Expanding the product
  of the formula's numerators, each later draw either comes "fresh" from
  ``r = theta c0 + (1 - theta) p`` or copies one earlier later draw (weight theta),
  so their prior is a sum over the set partitions P of the D later draws of

      theta^(D - |P|) prod_blocks (|block| - 1)! prod_blocks r(x_block) / prod_j (1 + (j - 2) theta)

  with the alleles of a block tied to one value (the Chinese-restaurant form of the
  Dirichlet-multinomial). Each term is an ordinary pedigree likelihood with tied
  founder alleles, computed exactly by variable elimination (loops and mutation
  included; a typed member is a two-state phase variable, as in
  :mod:`dogtag.genetics.elimination`), so the cost is Bell(D) eliminations: polynomial in the number of
  alleles, exponential only in D. An untyped founder with one relevant child counts
  once (only the allele it transmits matters, by exchangeability of its two). An
  untyped founder's two alleles enter symmetrically, so partitions that differ by
  swapping them give equal terms and one of each orbit is computed
  (:func:`partition_orbits`; two untyped parents: 9 terms instead of 15). An untyped
  child's allele from an untyped parent, (M[x, z] + M[y, z]) / 2, is split by which
  allele passes on (h) into two n x n x 2 factors, so no term holds an n^3 table; per
  partition, h is either a variable of the elimination or summed by cases (each case a
  plain elimination with M[x, z] / 2 or M[y, z] / 2), whichever program costs less
  (:func:`_cases`): with both parents' alleles tied (full siblings' untyped parents) the
  child's two slots meet in an n^4 step with h as variables and n^3 steps by cases. Each
  program sums its factors in the order of least estimated work
  (:func:`~dogtag.genetics.elimination.best_order` with
  :func:`~dogtag.genetics.elimination.step_cost`: matrix products preferred to large
  intermediate arrays).
  Beyond :data:`MAX_DRAWS` later draws the computation is refused
  (:class:`~dogtag.errors.TooLargeError`), never approximated.
* An unrelated person U (a target founder with no relatives: the blind search's
  denominator) draws its two alleles last. Their probability given the N earlier
  founder alleles with counts c is quadratic in c, so P(data, G_U) needs only P(data)
  and the first two moments of c with the data: per partition, the joint of each pair
  of blocks (:func:`_moment_terms`), not the Bell(D + 2) terms of U's draws tied in.
* The blind search needs, per family, both the missing person's distribution and U's. Where
  the missing person is an untyped child of two untyped founders whose alleles are all
  relevant draws (full siblings' references), its distribution is a linear image of the
  joints of its parents' alleles, which U's moments already hold: P(data, child = (z1, z2))
  = (M_f^T S M_m)[z1, z2] / 4, S the sum of the four joints (father's allele i, mother's j)
  (:func:`run_theta_child`). One network then gives both, instead of two.

With theta = 0 the engine of :mod:`dogtag.genetics.likelihood` runs instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache, total_ordering
from typing import cast

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import TooLargeError
from dogtag.genetics import elimination as el
from dogtag.genetics.factors import Tables, execute

__all__ = ["MAX_DRAWS", "check_theta", "child_with_unrelated", "partition_orbits", "run_theta", "run_theta_child",
           "set_partitions", "theta_width"]

#: most founder alleles outside the typed founders (Bell(8) = 4140 eliminations)
MAX_DRAWS = 8

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def check_theta(theta: float) -> float:
    """``theta`` as a float, or ``ValueError`` unless 0 <= theta < 1."""
    t = float(theta)
    if not 0.0 <= t < 1.0:
        raise ValueError(f"`theta` must be in [0, 1), got {theta!r}")
    return t


@lru_cache(maxsize=16)
def set_partitions(d: int) -> tuple[tuple[int, ...], ...]:
    """All set partitions of ``range(d)`` as restricted growth strings (block of each element)."""
    out: list[tuple[int, ...]] = []

    def grow(prefix: list[int], top: int) -> None:
        if len(prefix) == d:
            out.append(tuple(prefix))
            return
        for b in range(top + 2):
            prefix.append(b)
            grow(prefix, max(top, b))
            prefix.pop()

    grow([], -1)
    return tuple(out)


def _canonical(part: tuple[int, ...]) -> tuple[int, ...]:
    """A labelling of blocks as a restricted growth string (blocks numbered by first element)."""
    seen: dict[int, int] = {}
    return tuple(seen.setdefault(b, len(seen)) for b in part)


@lru_cache(maxsize=64)
def partition_orbits(d: int, swaps: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], int], ...]:
    """The set partitions of ``range(d)`` up to swapping elements i and i + 1 for i in ``swaps``.

    An untyped founder's two alleles enter its children's transmission (and its
    observations) symmetrically, so partitions that differ by such swaps give equal
    terms: one representative per orbit, with the orbit's size.
    """
    orbits: dict[tuple[int, ...], int] = {}
    for part in set_partitions(d):
        best = part
        for mask in range(1, 1 << len(swaps)):
            perm = list(range(d))
            for bit, i in enumerate(swaps):
                if mask >> bit & 1:
                    perm[i], perm[i + 1] = i + 1, i
            image = _canonical(tuple(part[perm[i]] for i in range(d)))
            best = min(best, image)
        orbits[best] = orbits.get(best, 0) + 1
    return tuple(orbits.items())


# ---------------------------------------------------------------------------
# The network of one structure and typing pattern
# ---------------------------------------------------------------------------

# Factor kinds. Untyped members have two allele variables (n states each); a fully typed
# member has one phase variable (2 states: which of its alleles came from its father), as
# in :mod:`dogtag.genetics.elimination`. Keys are (kind, member or index, slot or sex):
#   _TF, _TG  untyped parent (p, m) -> untyped child slot z, as
#        F(p, z, h) G(m, z, h) summed over h (which allele passes) (TF / TG, 0, sex)
#   _C   collapsed founder (x) -> untyped child slot           (C, 0, sex)
#   _HALF, _SOFT  observations of an untyped member over (p, m) (kind, index, 0)
#   _R   a block's prior over its allele                       (R, 0, 0)
#   _UT  untyped parent (p, m) -> typed child's phase          (UT, child, slot)
#   _CT  collapsed founder (x) -> typed child's phase          (CT, child, slot)
#   _TT  typed parent -> typed child's phase                   (TT, child, slot)
#   _TU  typed parent -> untyped child slot                    (TU, parent, slot)
#   _W   a typed member's phase weight [1, a != b]             (W, member, 0)
_TF, _TG, _C, _HALF, _SOFT, _R, _UT, _CT, _TT, _TU, _W = range(11)
#: factors whose arrays are the marker's, one for the whole batch
_SHARED = frozenset({_TF, _TG, _C})
#: the allele count the elimination order is chosen for (orders are cached without n)
_ORDER_N = 16


@dataclass(frozen=True)
class _Term:
    """One partition's elimination: factors as (kind, index, sex, diagonal spec or None)."""

    factors: tuple[tuple[int, int, int, str | None], ...]
    program: tuple[tuple, ...]
    keep_shape: tuple[int, ...]
    tied_target: bool
    log_weight: float
    moment: tuple[int, ...] = ()           # unrelated target: what the term adds (see _moment_terms)
    child: tuple[int, ...] = ()            # and the child's parents' alleles (see _child_weights)


@dataclass(frozen=True)
class _Net:
    typed_founder_cols: tuple[int, ...]     # allele columns of fully typed relevant founders
    partial: tuple[int, ...]
    soft: tuple[int, ...]
    draws: int                              # D
    terms: tuple[_Term, ...]
    width: int                              # largest array of a term, per item (for chunking)
    unrelated: bool = False                 # the target is an unrelated founder: by moments
    child: bool = False                     # with the distribution of a child of two untyped founders


@total_ordering
class _Size:
    """A size ``c n^a`` in the marker's allele count n, not yet chosen: the sizes of a network's
    program before they are set for a marker (:func:`_instantiate`). Compared, when the
    program's choices are made, by its value at :data:`_ORDER_N`, so that one program (the
    same operations in the same order) serves every allele count."""

    __slots__ = ("a", "c")

    def __init__(self, c: int, a: int) -> None:
        self.c, self.a = c, a

    def at(self, n: int) -> int:
        return self.c * n ** self.a

    def _v(self, other: object) -> int:
        return other.at(_ORDER_N) if isinstance(other, _Size) else other  # type: ignore[return-value]

    def __mul__(self, other: object) -> _Size:
        if isinstance(other, _Size):
            return _Size(self.c * other.c, self.a + other.a)
        if isinstance(other, int):
            return _Size(self.c * other, self.a)
        return NotImplemented

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        return self.at(_ORDER_N) == self._v(other)

    def __hash__(self) -> int:
        return hash(self.at(_ORDER_N))

    def __lt__(self, other: object) -> bool:
        return self.at(_ORDER_N) < self._v(other)

    def __repr__(self) -> str:
        return f"{self.c}n^{self.a}"


#: the allele count of a network's programs before a marker sets it
_N = _Size(1, 1)


def _at(x: object, n: int) -> object:
    if isinstance(x, _Size):
        return x.at(n)
    if isinstance(x, tuple):
        return tuple(_at(y, n) for y in x)
    return x


def _instantiate(program: tuple[tuple, ...], n: int) -> tuple[tuple, ...]:
    """A program of :func:`_template`'s with its sizes set for allele count ``n``."""
    return tuple(tuple(_at(part, n) for part in ins) for ins in program)


@lru_cache(maxsize=512)
def _net(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], partial: frozenset[int],
         soft: frozenset[int], target: int, n: int, theta: float, child: int = -1) -> _Net:
    """The network of a structure and typing pattern for a marker of ``n`` alleles:
    :func:`_template`'s, its programs' sizes set (compiled once for every allele count)."""
    tpl = _template(father, mother, typed, partial, soft, target, theta, child)
    terms = tuple(replace(t, program=_instantiate(t.program, n), keep_shape=(n,) * len(t.keep_shape))
                  for t in tpl.terms)
    # input factors are at most n x n x 2; the kept result and the moments n x n (+ n + 1)
    width = max(el.program_width(t.program, 2 * n * n + n + 1) for t in terms)
    return replace(tpl, terms=terms, width=width)


@lru_cache(maxsize=128)
def _template(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], partial: frozenset[int],
              soft: frozenset[int], target: int, theta: float, child: int = -1) -> _Net:
    """The network with its programs' sizes in terms of the allele count (:class:`_Size`);
    every choice (elimination orders, cases, products) made at :data:`_ORDER_N` alleles.
    ``child``: with an unrelated target, also the distribution of this member (see
    :func:`child_with_unrelated`), or -1."""
    n = _N
    observed = typed | partial | soft
    unrelated = target >= 0 and father[target] < 0 and target not in observed \
        and target not in father and target not in mother
    if child >= 0 and not (unrelated and child_with_unrelated(father, mother, typed | partial | soft, child)):
        raise ValueError(f"member {child} is not a child of two untyped founders with relatives typed")
    # a target founder with no relatives (the search's unrelated person): its two alleles are
    # the last two draws, a quadratic function of the family's founder-allele counts (_unrelated)
    order, relevant, collapsed = el.relevance(father, mother, observed, -1 if unrelated else target)
    # variables: two allele slots per relevant untyped member, one per collapsed founder,
    # a phase per typed member
    slots: dict[int, tuple[int, int]] = {}
    sizes: list = []                # 2 (phases, passed-on alleles) or n (alleles)
    draw_vars: list[int] = []
    swaps: list[int] = []       # draws i, i + 1: the two alleles of an untyped founder (not the target)
    typed_founders: list[int] = []
    founder_draws: dict[int, tuple[int, int]] = {}    # an untyped founder's two draws
    for k in order:
        if not relevant[k]:
            continue
        v = len(sizes)
        if k in typed:
            slots[k] = (v, v)
            sizes.append(2)
            if father[k] < 0:
                typed_founders.append(k)
            continue
        if k in collapsed:
            slots[k] = (v, v)
            draw_vars.append(v)
            sizes.append(n)
            continue
        slots[k] = (v, v + 1)
        sizes.extend((n, n))
        if father[k] < 0:
            if k != target:
                swaps.append(len(draw_vars))
            founder_draws[k] = (len(draw_vars), len(draw_vars) + 1)
            draw_vars.extend((v, v + 1))
    D = len(draw_vars)
    if D > MAX_DRAWS:
        raise TooLargeError(
            f"theta: {D} founder alleles outside typed founders (at most {MAX_DRAWS}); the exact joint "
            "correction would need Bell(D) eliminations")
    plist, slist = sorted(partial), sorted(soft)
    # factors over base variables: (kind, index, sex, vars)
    base: list[tuple[int, int, int, tuple[int, ...]]] = []
    for k in order:
        if not relevant[k] or k in collapsed:
            continue
        if k in typed:
            base.append((_W, k, 0, (slots[k][0],)))
        if father[k] >= 0:
            for slot, par in ((0, father[k]), (1, mother[k])):
                cv = slots[k][slot]
                if k in typed:
                    if par in typed:
                        base.append((_TT, k, slot, (cv,)))
                    elif par in collapsed:
                        base.append((_CT, k, slot, (slots[par][0], cv)))
                    else:
                        base.append((_UT, k, slot, (*slots[par], cv)))
                elif par in typed:
                    base.append((_TU, par, slot, (cv,)))
                elif par in collapsed:
                    base.append((_C, 0, slot, (slots[par][0], cv)))
                else:
                    # (M[x, z] + M[y, z]) / 2 = sum_h F(x, z, h) G(y, z, h), h which allele is
                    # passed on: two n x n x 2 factors instead of one n^3
                    h = len(sizes)
                    sizes.append(2)
                    base.append((_TF, 0, slot, (slots[par][0], cv, h)))
                    base.append((_TG, 0, slot, (slots[par][1], cv, h)))
        if k in partial:
            base.append((_HALF, plist.index(k), 0, slots[k]))
        if k in soft:
            base.append((_SOFT, slist.index(k), 0, slots[k]))
    N0 = 2 * len(typed_founders)
    log_den = sum(math.log1p((j - 2) * theta) for j in range(N0 + 1, N0 + D + 1))
    splits = tuple(sorted({vs[2] for kind, _, _, vs in base if kind == _TF}))
    terms: list[_Term] = []
    for part, count in partition_orbits(D, tuple(swaps)):
        rep = list(range(len(sizes)))
        blocks: dict[int, list[int]] = {}
        for v, b in zip(draw_vars, part, strict=True):
            blocks.setdefault(b, []).append(v)
        for members in blocks.values():
            for v in members:
                rep[v] = members[0]
        nb = len(blocks)
        logw = (D - nb) * math.log(theta) if nb < D else 0.0
        logw += sum(math.lgamma(len(b)) for b in blocks.values()) - log_den + math.log(count)
        mapped = [(kind, idx, sex, tuple(rep[v] for v in vs)) for kind, idx, sex, vs in base]
        mapped += [(_R, 0, 0, (b[0],)) for b in blocks.values()]
        kept = tuple(rep[v] for v in slots[target]) if target >= 0 and not unrelated else ()
        heads = [(b[0], len(b)) for b in blocks.values()]
        perms = _block_symmetries(part, tuple(swaps)) if unrelated and SYMMETRIES else ()
        # the blocks of the child's father's and mother's alleles
        fm = (tuple(part[d] for d in founder_draws[father[child]]),
              tuple(part[d] for d in founder_draws[mother[child]])) if child >= 0 else None
        # an untyped child's allele from an untyped parent: which allele passes (h) as a
        # variable, or fixed by cases (2^H eliminations without h: SPLIT), whichever costs less
        fixes = [()] if not splits or SPLIT is False or len(splits) > MAX_SPLIT else [splits] if SPLIT is True \
            else [(), splits]
        best: list[_Term] = []
        best_cost = math.inf
        for fixed in fixes:
            cand: list[_Term] = []
            cost = 0.0
            for case in _cases(mapped, sizes, kept, fixed):
                # a case with passed-on alleles fixed is not symmetric under the swaps; the whole sum is
                ts, w = _case_terms(case, kept, heads, unrelated, fm, () if fixed else perms)
                cand += ts
                cost += w
            if cost < best_cost:
                best, best_cost = cand, cost
        terms.extend(replace(t, log_weight=t.log_weight + logw) for t in best)
    cols = tuple(c for k in typed_founders for c in (2 * k, 2 * k + 1))
    return _Net(cols, tuple(plist), tuple(slist), D, tuple(terms), 0, unrelated, child >= 0)


#: how an untyped child's allele from an untyped parent is summed: None by least cost, True
#: always by cases, False always as a variable (both exact; tests force each)
SPLIT: bool | None = None

#: whether an unrelated person's moments use the partitions' symmetries (:func:`_moment_terms`;
#: exact either way, tests compare both)
SYMMETRIES = True

#: most such alleles summed by cases (2^MAX_SPLIT eliminations per partition, each compiled)
MAX_SPLIT = 3

#: per-item work that one array operation is worth (its Python and NumPy call overhead), for
#: choosing between programs: a few hundred items per batch, about a microsecond per call
_OP_COST = 200


@dataclass(frozen=True)
class _Case:
    """A partition's network with the passed-on alleles ``fixed``: its factors over its own variables."""

    factors: tuple[tuple[int, int, int, str | None], ...]
    fvars: tuple[tuple[int, ...], ...]
    shared: tuple[bool, ...]
    shape: tuple[int, ...]
    new: dict[int, int]          # network variable -> the case's variable
    log_weight: float


def _cases(mapped: list[tuple[int, int, int, tuple[int, ...]]], sizes: list[int], kept: tuple[int, ...],
           fixed: tuple[int, ...]) -> list[_Case]:
    """The network ``mapped`` (factors over the network's variables, tied alleles already one
    variable), with each variable h of ``fixed`` summed by cases.

    ``(M[x, z] + M[y, z]) / 2 = sum_h F(x, z, h) G(y, z, h)``: with h = 0 the factor pair is
    ``M[x, z] / 2``, with h = 1 ``M[y, z] / 2``. Summing the 2^|fixed| cases of these plain
    eliminations is the same sum, and each case may cost far less: with both parents'
    alleles tied to each other (full siblings' untyped parents under the joint correction),
    the child's two slots meet in an n^4 step with h as variables, n^3 by cases.
    """
    out = []
    for bits in range(1 << len(fixed)):
        pick = {h: bits >> i & 1 for i, h in enumerate(fixed)}
        facs = []
        for kind, idx, sex, vs in mapped:
            if kind in (_TF, _TG) and vs[2] in pick:
                if (kind == _TF) == (pick[vs[2]] == 0):
                    facs.append((_C, 0, sex, vs[:2]))
                continue
            facs.append((kind, idx, sex, vs))
        used = sorted({v for *_, vs in facs for v in vs} | set(kept))
        new = {v: i for i, v in enumerate(used)}
        factors: list[tuple[int, int, int, str | None]] = []
        fvars: list[tuple[int, ...]] = []
        for kind, idx, sex, vs in facs:
            local = tuple(new[v] for v in vs)
            uniq = tuple(dict.fromkeys(local))
            spec = None
            if len(uniq) < len(local):
                spec = "Z{}->Z{}".format("".join(_LETTERS[uniq.index(v)] for v in local),
                                         "".join(_LETTERS[i] for i in range(len(uniq))))
            factors.append((kind, idx, sex, spec))
            fvars.append(uniq)
        out.append(_Case(tuple(factors), tuple(fvars), tuple(f[0] in _SHARED for f in factors),
                         tuple(sizes[v] for v in used), new, len(fixed) * math.log(0.5)))
    return out


def _case_terms(case: _Case, kept: tuple[int, ...], heads: list[tuple[int, int]], unrelated: bool,
                fm: tuple[tuple[int, ...], tuple[int, ...]] | None = None, perms: tuple[tuple[int, ...], ...] = ()
                ) -> tuple[list[_Term], float]:
    """A case's eliminations (weights without the partition's) and their work: keeping the target's
    alleles, or, for an unrelated target, the moments' pairs of blocks (:func:`_moment_terms`)."""
    keeps: list[_Moment]
    if unrelated:
        keeps = _moment_terms([(case.new[v], size) for v, size in heads], perms)
    else:
        keeps = [(tuple(dict.fromkeys(case.new[v] for v in kept)), (), (), 1, (0, 0))]
    terms, work = [], 0.0
    for keep, moment, pair, mult, margins in keeps:
        program, w = _program(case.fvars, case.shared, case.shape, keep)
        work += w
        shape = cast(tuple[int, ...], (_N,) * len(keep))        # set per marker by _net
        weights = _child_weights(pair, mult, margins, fm) if fm is not None else ()
        terms.append(_Term(case.factors, program, shape, len(kept) == 2 and len(keep) == 1, case.log_weight, moment,
                           weights))
    return terms, work


def _program(fvars: tuple[tuple[int, ...], ...], shared: tuple[bool, ...], shape: tuple[int, ...],
             keep: tuple[int, ...]) -> tuple[tuple[tuple, ...], float]:
    """A term's elimination, in the order of least per-item work (:func:`~dogtag.genetics.elimination.best_order`),
    chosen once per structure for any allele count (``shape`` holds :class:`_Size` values, taken as
    :data:`_ORDER_N` for every choice), and its per-item cost at that size
    (:func:`~dogtag.genetics.elimination.order_cost`, and :data:`_OP_COST` per array operation)."""
    nominal = cast(tuple[int, ...], _at(shape, _ORDER_N))
    order = el.best_order(fvars, shared, nominal, keep)
    program = el.eliminate([el.Factor(0, v) for v in fvars], shape, keep, order, fuse=True)
    work = _OP_COST * len(program)
    if order is None:
        return program, work + sum(math.prod(ins[7][1:]) for ins in _instantiate(program, _ORDER_N)
                                   if ins[0] == el.MUL)
    return program, work + el.order_cost(fvars, shared, nominal, order)


def theta_width(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], target: int, n: int,
                theta: float, child: int = -1) -> int:
    """Largest array of :func:`run_theta` (with ``child``, :func:`run_theta_child`) on fully typed
    members ``typed``, per item (for chunking)."""
    return _net(father, mother, typed, frozenset(), frozenset(), target, n, float(theta), child).width


# ---------------------------------------------------------------------------
# Execution
# ---------------------------------------------------------------------------

def run_theta(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int],
              partial: frozenset[int], soft: frozenset[int], target: int, tab: Tables,
              A: NDArray[np.intp], part: NDArray[np.intp] | None, soft_arr: NDArray[np.float64] | None,
              theta: float) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Log-likelihood (B,) and, with a target, P(data, target alleles) (B, n, n) up to the scale.

    Like :func:`dogtag.genetics.factors.run`, on a batch of B items of one structure and
    typing pattern: ``tab`` the marker tables (frequencies q of 1 or B rows, the
    matrices), ``A`` (B, 2 * size) allele indices, ``part`` (B, n_partial) the known
    allele of half-typed members, ``soft_arr`` (B, n_soft, n, n) soft evidence.
    The second result is normalised so that it sums to 1 per item where possible.
    """
    return _run(father, mother, typed, partial, soft, target, tab, A, part, soft_arr, theta, -1)[:2]


def run_theta_child(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], target: int,
                    child: int, tab: Tables, A: NDArray[np.intp], theta: float
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The child's log-likelihood (B,) and distribution (B, n, n), and the unrelated person's
    distribution (B, n, n), from one run of the unrelated person's network (fully typed members
    ``typed``; ``target`` the unrelated person, ``child`` as :func:`child_with_unrelated` requires).

    The child's paternal allele is its father's first or second allele (1/2 each), then
    transmitted (mutation matrix); so is its maternal one. With S = sum over the father's
    alleles i and the mother's j of P(data, x_i, x_j), which the moments' joints of pairs of
    blocks hold (:func:`_child_weights`), P(data, child = (z1, z2)) = (M_f^T S M_m)[z1, z2] / 4.
    The child adds no founder alleles, so the normaliser is the likelihood of the data.
    """
    ll, dist, S = _run(father, mother, typed, frozenset(), frozenset(), target, tab, A, None, None, theta, child)
    assert dist is not None and S is not None
    Mm, Mf = tab._M
    P = 0.25 * np.matmul(np.matmul(np.swapaxes(Mm, -1, -2), S), Mf)
    B = A.shape[0]
    tot = P.reshape(B, -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll_child = ll + np.log(tot)
        dist_child = np.divide(P, tot[:, None, None], out=np.zeros_like(P), where=(tot > 0)[:, None, None])
    return ll_child, dist_child, dist


def _run(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int],
         partial: frozenset[int], soft: frozenset[int], target: int, tab: Tables,
         A: NDArray[np.intp], part: NDArray[np.intp] | None, soft_arr: NDArray[np.float64] | None,
         theta: float, child: int) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                                            NDArray[np.float64] | None]:
    """:func:`run_theta`'s work: (log-likelihood, distribution, None); with ``child``, (the log
    scale of S, the unrelated person's distribution, S of :func:`run_theta_child`), the unrelated
    person's own normaliser being of no use there."""
    n = tab.n
    B = A.shape[0]
    net = _net(father, mother, typed, partial, soft, target, n, float(theta), child)
    q = np.broadcast_to(tab.q, (B, n))
    # the typed founders' alleles, drawn first
    counts = np.zeros((B, n))
    log_first = np.zeros(B)
    rows = np.arange(B)
    for j, c in enumerate(net.typed_founder_cols, start=1):
        a = A[:, c]
        log_first += np.log((theta * counts[rows, a] + (1 - theta) * q[rows, a]) / (1 + (j - 2) * theta))
        counts[rows, a] += 1
    r = theta * counts + (1 - theta) * q
    Mm, Mf = tab._M
    inputs: dict[tuple[int, int, int], NDArray[np.float64]] = {}
    Mb = (np.broadcast_to(Mm, (B, n, n)), np.broadcast_to(Mf, (B, n, n)))

    def child_cols(k: int, slot: int) -> NDArray[np.intp]:
        # the typed child's allele in ``slot`` at phase 0 and 1 (phase 0: (A[2k], A[2k + 1]))
        return np.stack([A[:, 2 * k + slot], A[:, 2 * k + 1 - slot]], axis=1)

    for kind, key, slot in {(f[0], f[1], f[2]) for term in net.terms for f in term.factors}:
        if kind == _W:
            inputs[(kind, key, slot)] = np.stack([np.ones(B), (A[:, 2 * key] != A[:, 2 * key + 1]) * 1.0], axis=1)
        elif kind in (_CT, _UT, _TT):
            Mc = np.take_along_axis(Mb[slot], child_cols(key, slot)[:, None, :], axis=2)   # (B, n, 2)
            if kind == _CT:
                inputs[(kind, key, slot)] = Mc
            elif kind == _UT:
                inputs[(kind, key, slot)] = 0.5 * (Mc[:, :, None, :] + Mc[:, None, :, :])
            else:
                par = (father, mother)[slot][key]
                inputs[(kind, key, slot)] = 0.5 * (Mc[rows, A[:, 2 * par]] + Mc[rows, A[:, 2 * par + 1]])
        elif kind == _TU:
            inputs[(kind, key, slot)] = 0.5 * (Mb[slot][rows, A[:, 2 * key]] + Mb[slot][rows, A[:, 2 * key + 1]])
    for t in range(len(net.partial)):
        assert part is not None
        hit = np.arange(n)[None, :] == part[:, t, None]
        inputs[(_HALF, t, 0)] = (hit[:, :, None] | hit[:, None, :]).astype(np.float64)
    for t in range(len(net.soft)):
        assert soft_arr is not None
        inputs[(_SOFT, t, 0)] = soft_arr[:, t]
    for sex, M in enumerate((Mm, Mf)):
        half, one = 0.5 * M, np.ones_like(M)
        inputs[(_TF, 0, sex)] = np.stack([half, one], axis=-1)
        inputs[(_TG, 0, sex)] = np.stack([one, half], axis=-1)
    inputs[(_C, 0, 0)] = Mm
    inputs[(_C, 0, 1)] = Mf
    inputs[(_R, 0, 0)] = r
    # the terms' sum on one running log scale per item, ``best``: the sum so far is rescaled only
    # where a term is larger than it (rarely: the first terms hold the most weight)
    best = np.full(B, -np.inf)
    kept = target >= 0 and not net.unrelated
    acc = np.zeros((B, n, n) if kept else B)
    diag = np.einsum("bii->bi", acc) if kept else acc
    # an unrelated target: L, s, the upper part of Q and its diagonal's extra (see _moments)
    mom = (np.zeros(B), np.zeros((B, n)), np.zeros((B, n, n)), np.zeros((B, n))) if net.unrelated else ()
    S = np.zeros((B, n, n)) if net.child else None
    S_diag = np.einsum("bii->bi", S) if S is not None else None
    tied: dict[tuple[int, int, int, str], NDArray[np.float64]] = {}   # diagonals, shared by terms
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for term in net.terms:
            arrays: dict[int, NDArray[np.float64]] = {}
            for i, (kind, idx, sex, spec) in enumerate(term.factors):
                arr = inputs[(kind, idx, sex)]
                if spec is not None:
                    tkey = (kind, idx, sex, spec)
                    if tkey not in tied:
                        tied[tkey] = np.einsum(spec, arr)
                    arr = tied[tkey]
                arrays[i] = arr
            ls, res = execute(term.program, arrays, 0.0, B, term.keep_shape)
            ls = ls + term.log_weight
            up = ls > best
            if up.any():
                down = np.where(up, np.exp(best - ls), 1.0)
                for part in (acc, *mom, *(() if S is None else (S,))):
                    part *= down.reshape((B,) + (1,) * (part.ndim - 1))
                best = np.where(up, ls, best)
            f = np.where(np.isfinite(ls), np.exp(ls - best), 0.0)
            if net.unrelated:
                _moments(mom, res, term.moment, f)
                if S is not None:
                    _child_sum(S, S_diag, res, term.child, f)
            elif res is None:
                acc += f
            elif term.tied_target:
                diag += res * f[:, None]
            else:
                acc += res * f[:, None, None]
    acc_arr = acc
    if net.unrelated:
        acc_arr = _unrelated(mom, counts, q, len(net.typed_founder_cols) + net.draws, theta)
    if target < 0:
        with np.errstate(divide="ignore"):
            return log_first + best + np.log(acc_arr), None, None
    tot = acc_arr.reshape(B, -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = log_first + best if S is not None else log_first + best + np.log(tot)
        dist = np.divide(acc_arr, tot[:, None, None], out=np.zeros_like(acc_arr),
                         where=(tot > 0)[:, None, None])
    return ll, dist, S


#: a moment elimination: kept block variables, what it adds (see _moments), kept blocks' indices,
#: how many pairs of blocks it stands for, and for how many blocks each kept block's margin counts
_Moment = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int, tuple[int, int]]


def _moment_terms(blocks: list[tuple[int, int]], perms: tuple[tuple[int, ...], ...] = ()) -> list[_Moment]:
    """The eliminations of one partition for the moments of its draws' allele counts.

    ``blocks``: (variable, size) of each block. The count vector of the draws is
    c = sum_blocks |block| e_(allele of block); its moments need the joint of every pair
    of blocks (and the margin of each block once). Each elimination keeps one pair (or
    the only block, or nothing) and says what it adds, as
    (L?, pair weight, margin weights (2), diagonal weights (2)); see :func:`_moments`.

    ``perms``: the partition's symmetries (:func:`_block_symmetries`), as permutations of its
    blocks. A symmetry leaves the likelihood and the partition as they are, so the joint of
    blocks (i, j) equals that of their images, and a block's margin its image's: one
    elimination per orbit of pairs, weighted by the orbit's size, and each orbit of blocks'
    margins from one of them (a full siblings' parents with four distinct alleles: 3
    eliminations instead of 6).
    """
    k = len(blocks)
    if k == 0:
        return [((), (1, 0, 0, 0, 0, 0), (), 1, (0, 0))]
    if k == 1:
        v, b = blocks[0]
        return [((v,), (1, 0, b, 0, b * (b - 1), 0), (0,), 1, (1, 0))]
    group = ((*range(k),), *perms)
    orbit_of_pair: dict[tuple[int, int], int] = {}      # representative pair -> orbit size
    for i in range(k):
        for j in range(i + 1, k):
            images = {(min(g[i], g[j]), max(g[i], g[j])) for g in group}
            if min(images) == (i, j):
                orbit_of_pair[(i, j)] = len(images)
    pairs = list(orbit_of_pair)            # (0, 1) first: L from it
    margin: dict[tuple[int, int], list[int]] = {pq: [0, 0] for pq in pairs}
    done: set[int] = set()
    for b in range(k):
        if b in done:
            continue
        orbit = {g[b] for g in group}
        done |= orbit
        # the first kept pair holding a block of this orbit gives its margin, times the orbit's size
        pq = next(pq for pq in pairs if pq[0] in orbit or pq[1] in orbit)
        margin[pq][0 if pq[0] in orbit else 1] = len(orbit)
    out: list[_Moment] = []
    for (i, j), m in orbit_of_pair.items():
        (vi, bi), (vj, bj) = blocks[i], blocks[j]
        o0, o1 = margin[(i, j)]
        out.append(((vi, vj), (int((i, j) == (0, 1)), m * bi * bj, o0 * bi, o1 * bj, o0 * bi * (bi - 1),
                               o1 * bj * (bj - 1)), (i, j), m, (o0, o1)))
    return out


def _block_symmetries(part: tuple[int, ...], swaps: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The swaps of untyped founders' two alleles (draws i, i + 1 for i in ``swaps``) that map the
    partition ``part`` to itself, each as the permutation of its blocks it makes (identity left out)."""
    k = max(part, default=-1) + 1
    out = set()
    for mask in range(1, 1 << len(swaps)):
        perm = list(range(len(part)))
        for bit, i in enumerate(swaps):
            if mask >> bit & 1:
                perm[i], perm[i + 1] = i + 1, i
        # draw d goes where perm[d] was: block part[d] -> block part[perm[d]], if that is a bijection
        pi: dict[int, int] = {}
        if all(pi.setdefault(part[d], part[perm[d]]) == part[perm[d]] for d in range(len(part))) \
                and len(set(pi.values())) == k:
            g = tuple(pi[b] for b in range(k))
            if g != tuple(range(k)):
                out.add(g)
    return tuple(sorted(out))


def _child_weights(pair: tuple[int, ...], mult: int, margins: tuple[int, int],
                   fm: tuple[tuple[int, ...], tuple[int, ...]]) -> tuple[int, ...]:
    """What one moment elimination (kept blocks ``pair``, standing for ``mult`` pairs, its blocks'
    margins for ``margins`` blocks each; :func:`_moment_terms`) adds to S = the sum over the
    child's father's draws i and mother's draws j of P(data, x_i, x_j) (``fm``: their blocks), as
    (weight of the kept joint, of its transpose, of the diagonal of pair[0]'s margin, of pair[1]'s)."""
    F, M = fm
    if len(pair) == 1:                   # one block: every draw in it
        return (0, 0, len(F) * len(M), 0)
    i, j = pair
    both = [(a, b) for a in F for b in M]
    return (mult * both.count((i, j)), mult * both.count((j, i)), margins[0] * both.count((i, i)),
            margins[1] * both.count((j, j)))


def _child_sum(S: NDArray[np.float64], S_diag: NDArray[np.float64] | None, res: NDArray[np.float64] | None,
               weights: tuple[int, ...], f: NDArray[np.float64]) -> None:
    """Add one moment elimination's part of S (:func:`run_theta_child`), times ``f`` (B,), in place."""
    if res is None or not any(weights):
        return
    assert S_diag is not None
    cxy, cyx, d0, d1 = weights
    if res.ndim == 2:                    # one block: S's diagonal
        S_diag += d0 * res * f[:, None]
        return
    fr = res * f[:, None, None]
    if cxy:
        S += cxy * fr
    if cyx:
        S += cyx * fr.transpose(0, 2, 1)
    if d0:
        S_diag += d0 * fr.sum(axis=2)
    if d1:
        S_diag += d1 * fr.sum(axis=1)


def child_with_unrelated(father: tuple[int, ...], mother: tuple[int, ...], observed: frozenset[int],
                         child: int) -> bool:
    """Whether ``child``'s distribution follows from the unrelated person's moments: an untyped
    member with no children whose parents are untyped founders, each with two relevant
    (non-collapsed) alleles in the family without the child (a typed descendant through two
    children, as full siblings' parents). Its parents' two pairs of alleles are then draws whose
    joints the moments hold."""
    if child in observed or father[child] < 0 or child in father or child in mother:
        return False
    _, relevant, collapsed = el.relevance(father, mother, observed, -1)
    return all(father[p] < 0 and p not in observed and relevant[p] and p not in collapsed
               for p in (father[child], mother[child]))


def _moments(mom: tuple[NDArray[np.float64], ...], res: NDArray[np.float64] | None, moment: tuple[int, ...],
             f: NDArray[np.float64]) -> None:
    """Add one elimination's part, times ``f`` (B,), to ``mom`` = (L, s, R, e) in place.

    ``res`` holds P(data, kept block alleles) (B,) + (n,) * kept (None: nothing kept).
    Summed over the partitions with their weights: L = P(data), s_a = E[c_a; data],
    Q_ab = E[c_a c_b - [a = b] c_a; data] = R_ab + R_ba + [a = b] e_a, c the count vector of the
    later draws (:func:`_unrelated` makes Q).
    """
    with_l, w, a0, a1, d0, d1 = moment
    L, s, R, e = mom
    if res is None:
        L += with_l * f
        return
    B = f.shape[0]
    if with_l:
        L += res.reshape(B, -1).sum(axis=1) * f
    if res.ndim == 2:
        fr = res * f[:, None]
        if a0:
            s += a0 * fr
        if d0:
            e += d0 * fr
        return
    R += res * (w * f)[:, None, None]
    for marg, a, d in ((res.sum(axis=2), a0, d0), (res.sum(axis=1), a1, d1)):
        if a or d:
            fm = marg * f[:, None]
            if a:
                s += a * fm
            if d:
                e += d * fm


def _unrelated(mom: tuple[NDArray[np.float64], ...], c0: NDArray[np.float64], q: NDArray[np.float64], N: int,
               theta: float) -> NDArray[np.float64]:
    """P(data, U = (a, b)) (B, n, n), ordered, of a founder U with no relatives, up to the scale.

    U's alleles are draws N + 1 and N + 2 of the urn, after the N relevant founder alleles
    of the family with counts c = c0 + (the later draws): (theta c_a + (1 - theta) p_a) /
    (1 + (N - 1) theta), then (theta (c_b + [a = b]) + (1 - theta) p_b) / (1 + N theta).
    The product is quadratic in c, so its expectation with the data needs only
    L = P(data), m = E[c; data] and E[c c^T; data], from ``mom`` (:func:`_moments` summed
    over the partitions with their weights).
    """
    n = c0.shape[1]
    L, s, R, e = mom
    Q = R + R.transpose(0, 2, 1)
    np.einsum("bii->bi", Q)[...] += e
    p = q
    m = c0 * L[:, None] + s
    M = c0[:, :, None] * c0[:, None, :] * L[:, None, None] + c0[:, :, None] * s[:, None, :] \
        + s[:, :, None] * c0[:, None, :] + Q
    idx = np.arange(n)
    M[:, idx, idx] += s
    t = theta
    num = (1 - t) ** 2 * p[:, :, None] * p[:, None, :] * L[:, None, None] \
        + t * (1 - t) * (p[:, :, None] * m[:, None, :] + m[:, :, None] * p[:, None, :]) + t * t * M
    num[:, idx, idx] += t * (t * m + (1 - t) * p * L[:, None])
    return num / ((1 + (N - 1) * t) * (1 + N * t))
