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
  once (only the allele it transmits matters, by exchangeability of its two).
  Beyond :data:`MAX_DRAWS` later draws the computation is refused
  (:class:`~dogtag.errors.TooLargeError`), never approximated.

With theta = 0 the engine of :mod:`dogtag.genetics.likelihood` runs instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import TooLargeError
from dogtag.genetics import elimination as el
from dogtag.genetics.factors import Tables, execute

__all__ = ["MAX_DRAWS", "check_theta", "run_theta", "set_partitions"]

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


# ---------------------------------------------------------------------------
# The network of one structure and typing pattern
# ---------------------------------------------------------------------------

# Factor kinds. Untyped members have two allele variables (n states each); a fully typed
# member has one phase variable (2 states: which of its alleles came from its father), as
# in :mod:`dogtag.genetics.elimination`. Keys are (kind, member or index, slot or sex):
#   _T   untyped parent (p, m) -> untyped child slot          (T, 0, sex)
#   _C   collapsed founder (x) -> untyped child slot           (C, 0, sex)
#   _HALF, _SOFT  observations of an untyped member over (p, m) (kind, index, 0)
#   _R   a block's prior over its allele                       (R, 0, 0)
#   _UT  untyped parent (p, m) -> typed child's phase          (UT, child, slot)
#   _CT  collapsed founder (x) -> typed child's phase          (CT, child, slot)
#   _TT  typed parent -> typed child's phase                   (TT, child, slot)
#   _TU  typed parent -> untyped child slot                    (TU, parent, slot)
#   _W   a typed member's phase weight [1, a != b]             (W, member, 0)
_T, _C, _HALF, _SOFT, _R, _UT, _CT, _TT, _TU, _W = range(10)


@dataclass(frozen=True)
class _Term:
    """One partition's elimination: factors as (kind, index, sex, diagonal spec or None)."""

    factors: tuple[tuple[int, int, int, str | None], ...]
    program: tuple[tuple, ...]
    keep_shape: tuple[int, ...]
    tied_target: bool
    log_weight: float


@dataclass(frozen=True)
class _Net:
    typed_founder_cols: tuple[int, ...]     # allele columns of fully typed relevant founders
    typed: tuple[int, ...]                  # fully typed members, in observation-factor order
    partial: tuple[int, ...]
    soft: tuple[int, ...]
    draws: int                              # D
    terms: tuple[_Term, ...]


@lru_cache(maxsize=512)
def _net(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], partial: frozenset[int],
         soft: frozenset[int], target: int, n: int, theta: float) -> _Net:
    order, relevant, collapsed = el.relevance(father, mother, typed | partial | soft, target)
    # variables: two allele slots per relevant untyped member, one per collapsed founder,
    # a phase per typed member
    slots: dict[int, tuple[int, int]] = {}
    sizes: list[int] = []
    draw_vars: list[int] = []
    typed_founders: list[int] = []
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
            draw_vars.extend((v, v + 1))
    n_vars = len(sizes)
    D = len(draw_vars)
    if D > MAX_DRAWS:
        raise TooLargeError(
            f"theta: {D} founder alleles outside typed founders (at most {MAX_DRAWS}); the exact joint "
            "correction would need Bell(D) eliminations")
    tlist, plist, slist = sorted(typed), sorted(partial), sorted(soft)
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
                    base.append((_T, 0, slot, (*slots[par], cv)))
        if k in partial:
            base.append((_HALF, plist.index(k), 0, slots[k]))
        if k in soft:
            base.append((_SOFT, slist.index(k), 0, slots[k]))
    N0 = 2 * len(typed_founders)
    log_den = sum(math.log1p((j - 2) * theta) for j in range(N0 + 1, N0 + D + 1))
    terms = []
    for part in set_partitions(D):
        rep = list(range(n_vars))
        blocks: dict[int, list[int]] = {}
        for v, b in zip(draw_vars, part, strict=True):
            blocks.setdefault(b, []).append(v)
        for members in blocks.values():
            for v in members:
                rep[v] = members[0]
        used = sorted(set(rep))
        new = {v: i for i, v in enumerate(used)}
        factors: list[tuple[int, int, int, str | None]] = []
        fvars: list[tuple[int, ...]] = []
        for kind, idx, sex, vs in base:
            mapped = tuple(new[rep[v]] for v in vs)
            uniq = tuple(dict.fromkeys(mapped))
            spec = None
            if len(uniq) < len(mapped):
                spec = "Z{}->Z{}".format("".join(_LETTERS[uniq.index(v)] for v in mapped),
                                         "".join(_LETTERS[i] for i in range(len(uniq))))
            factors.append((kind, idx, sex, spec))
            fvars.append(uniq)
        for members in blocks.values():
            factors.append((_R, 0, 0, None))
            fvars.append((new[members[0]],))
        keep: tuple[int, ...] = ()
        tied = False
        if target >= 0:
            p, m = (new[rep[v]] for v in slots[target])
            tied = p == m
            keep = (p,) if tied else (p, m)
        program = el.eliminate([el.Factor(0, v) for v in fvars], [sizes[v] for v in used], keep)
        nb = len(blocks)
        logw = (D - nb) * math.log(theta) if nb < D else 0.0
        logw += sum(math.lgamma(len(b)) for b in blocks.values()) - log_den
        terms.append(_Term(tuple(factors), program, (n,) * len(keep), tied, logw))
    cols = tuple(c for k in typed_founders for c in (2 * k, 2 * k + 1))
    return _Net(cols, tuple(tlist), tuple(plist), tuple(slist), D, tuple(terms))


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
    n = tab.n
    B = A.shape[0]
    net = _net(father, mother, typed, partial, soft, target, n, float(theta))
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
    inputs[(_T, 0, 0)] = tab.uu(0)
    inputs[(_T, 0, 1)] = tab.uu(1)
    inputs[(_C, 0, 0)] = Mm
    inputs[(_C, 0, 1)] = Mf
    inputs[(_R, 0, 0)] = r
    best = np.full(B, -np.inf)
    acc: NDArray[np.float64] | float = 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for term in net.terms:
            arrays: dict[int, NDArray[np.float64]] = {}
            for i, (kind, idx, sex, spec) in enumerate(term.factors):
                arr = inputs[(kind, idx, sex)]
                arrays[i] = np.einsum(spec, arr) if spec is not None else arr
            ls, res = execute(term.program, arrays, 0.0, B, term.keep_shape)
            ls = ls + term.log_weight
            if res is not None and term.tied_target:
                full = np.zeros((B, n, n))
                np.einsum("bii->bi", full)[...] = res
                res = full
            val: NDArray[np.float64] = np.ones(B) if res is None else np.array(res, dtype=np.float64)
            top = np.maximum(best, ls)
            fin = np.isfinite(top)
            old = np.where(fin, np.exp(best - top), 0.0)
            add = np.where(fin, np.exp(ls - top), 0.0)
            shape = (B,) + (1,) * (val.ndim - 1)
            acc = acc * old.reshape(shape) + val * add.reshape(shape)
            best = np.where(fin, top, best)
    acc_arr = np.asarray(acc, dtype=np.float64)
    if target < 0:
        with np.errstate(divide="ignore"):
            return log_first + best + np.log(acc_arr), None
    tot = acc_arr.reshape(B, -1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = log_first + best + np.log(tot)
        dist = np.divide(acc_arr, tot[:, None, None], out=np.zeros_like(acc_arr),
                         where=(tot > 0)[:, None, None])
    return ll, dist
