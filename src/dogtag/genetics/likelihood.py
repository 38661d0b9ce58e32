"""Exact pedigree likelihoods for autosomal markers by variable elimination.

Each member of a pedigree carries a paternal and a maternal allele. The joint
distribution factorises into founder priors (Hardy-Weinberg, optionally with the
Balding-Nichols theta correction), transmission terms
``T(c | x, y) = (M[x, c] + M[y, c]) / 2`` with the sex-specific mutation matrix
``M`` of the transmitting parent, and observation terms. The likelihood is the
sum of that product over all unobserved alleles; we compute it exactly by
variable elimination (Zhang & Poole 1994; for pedigrees: Lauritzen & Sheehan
2003, Fishelson & Geiger 2002), which handles loops (inbreeding, marriage loops)
with no special case, unlike the Elston-Stewart peeling of pedprobr (which
breaks loops by conditioning). Results equal pedprobr's.

Two devices keep it fast:

* A fully typed member with genotype {a, b} needs only a *phase* variable with
  two states ((a, b) or (b, a)); a homozygote's second phase has weight 0.
  A typed parent's phase does not enter its children's transmission terms.
* Untyped members with no typed descendant are pruned (their terms sum to 1).

Markers (and families of the same shape) that share a pruned structure and a
bucketed allele count are batched: one elimination runs on arrays with a leading
batch axis. Alleles are padded with frequency 0, which is exact.
Every elimination rescales its result and keeps the log of the scale, so
likelihoods of large pedigrees over many markers never underflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree

__all__ = [
    "MarkerData",
    "conditional_genotypes",
    "loglik",
    "loglik_batch",
    "same_shape_batch",
    "unordered_index",
]

_BUCKETS = (2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256)


def _bucket(n: int) -> int:
    for b in _BUCKETS:
        if n <= b:
            return b
    return n


def unordered_index(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Unordered genotypes (i, j), i <= j, in ``np.triu_indices(n)`` order."""
    return np.triu_indices(n)


# ---------------------------------------------------------------------------
# Observations of one marker
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MarkerData:
    """Observations at one marker, by member index.

    Attributes
    ----------
    marker : the marker.
    typed : mapping member index -> (i, j) allele indices; -1 marks a missing allele.
    soft : mapping member index -> ndarray float, shape (n_alleles*(n_alleles+1)//2,):
        P(observed data | true unordered genotype), genotypes in ``np.triu_indices`` order
        (drop-out / drop-in evidence).
    """

    marker: Marker
    typed: Mapping[int, tuple[int, int]]
    soft: Mapping[int, NDArray[np.float64]] | None = None


# ---------------------------------------------------------------------------
# Plans: the symbolic part, cached by structure
# ---------------------------------------------------------------------------

# Factor kinds (the numeric part is built per batch in ``_build``):
_PRIOR_TYPED = 0      # founder typed: over (phase)
_PRIOR_ALLELE = 1     # founder untyped, theta = 0: over (allele) (one per slot)
_PRIOR_JOINT = 2      # founder untyped, theta > 0: over (p, m)
_TRANS_T_T = 3        # typed parent -> typed child slot: over (phase_c)
_TRANS_T_U = 4        # typed parent -> untyped child slot: over (slot_c)
_TRANS_U_T = 5        # untyped parent -> typed child slot: over (p_par, m_par, phase_c)
_TRANS_U_U = 6        # untyped parent -> untyped child slot: over (p_par, m_par, slot_c)
_OBS_TYPED = 7        # typed member: phase weights, over (phase)
_OBS_PARTIAL = 8      # one known allele: over (p, m)
_OBS_SOFT = 9         # soft evidence: over (p, m)
_FOUNDER_U = 10       # collapsed untyped founder -> untyped child slot: q @ M, over (slot_c)
_FOUNDER_T = 11       # collapsed untyped founder -> typed child slot: (q @ M)[allele], over (phase_c)


@dataclass(frozen=True)
class _Factor:
    kind: int
    vars: tuple[int, ...]
    person: int          # the member (child for transmission factors)
    other: int = -1      # parent for transmission; slot index for priors
    slot: int = 0        # 0 paternal, 1 maternal (transmission: which child slot)
    obs: int = -1        # typed member whose phase weights are folded into this factor


@dataclass(frozen=True)
class _Step:
    """One elimination as a chain of binary einsums: (left, right or -1, subscripts, out)."""

    ops: tuple[tuple[int, int, str, int], ...]


@dataclass(frozen=True)
class _Plan:
    n: int
    var_size: tuple[int, ...]
    factors: tuple[_Factor, ...]
    steps: tuple[_Step, ...]
    final: tuple[int, ...]           # factor ids left at the end
    keep: tuple[int, ...]            # kept variables (conditional distribution), else ()
    final_subscripts: str
    typed_slots: tuple[int, ...]     # members with phase variables, in order of ``typed`` columns
    partial: tuple[int, ...]
    soft: tuple[int, ...]
    width: int = 1                   # largest elimination scope, in values per item


_PATHS: dict[tuple[str, tuple[tuple[int, ...], ...]], list] = {}
# Each elimination multiplies factors of at most a few hundred values per item, each
# in (0, 1]; rescaling every 4 steps keeps values far above the float64 minimum.
_RESCALE_EVERY = 4

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"


@lru_cache(maxsize=4096)
def _compile(
    father: tuple[int, ...],
    mother: tuple[int, ...],
    typed: frozenset[int],
    partial: frozenset[int],
    soft: frozenset[int],
    target: int,
    n: int,
    theta_pos: bool,
) -> _Plan:
    """Symbolic variable elimination for one pedigree structure and typing pattern."""
    size = len(father)
    observed = typed | partial | soft
    # relevant members: observed, the target, or with a relevant descendant
    relevant = [False] * size
    kids: list[list[int]] = [[] for _ in range(size)]
    for c in range(size):
        if father[c] >= 0:
            kids[father[c]].append(c)
            kids[mother[c]].append(c)
    order = _topo(father, mother)
    for k in reversed(order):
        relevant[k] = k in observed or k == target or any(relevant[c] for c in kids[k])

    # An untyped founder with one relevant child only passes on one allele drawn
    # from q @ M: it needs no variables of its own (its prior marginal is q, with theta too).
    collapsed = {
        k for k in range(size)
        if relevant[k] and father[k] < 0 and k not in observed and k != target
        and sum(relevant[c] for c in kids[k]) == 1
    }
    var_size: list[int] = []
    slots: dict[int, tuple[int, int]] = {}   # member -> (var of p, var of m); same var if typed
    for k in order:
        if not relevant[k] or k in collapsed:
            continue
        if k in typed:
            v = len(var_size)
            var_size.append(2)
            slots[k] = (v, v)
        else:
            var_size.extend((n, n))
            slots[k] = (len(var_size) - 2, len(var_size) - 1)

    factors: list[_Factor] = []
    for k in order:
        if not relevant[k] or k in collapsed:
            continue
        p, m = slots[k]
        if father[k] < 0:
            if k in typed:
                factors.append(_Factor(_PRIOR_TYPED, (p,), k, obs=k))
            elif theta_pos:
                factors.append(_Factor(_PRIOR_JOINT, (p, m), k))
            else:
                factors.append(_Factor(_PRIOR_ALLELE, (p,), k, other=0))
                factors.append(_Factor(_PRIOR_ALLELE, (m,), k, other=1))
        else:
            for slot, par in ((0, father[k]), (1, mother[k])):
                cvar = slots[k][slot]
                obs = k if (k in typed and slot == 1) else -1
                if par in collapsed:
                    kind = _FOUNDER_T if k in typed else _FOUNDER_U
                    factors.append(_Factor(kind, (cvar,), k, other=par, slot=slot, obs=obs))
                    continue
                pp, pm = slots[par]
                if par in typed:
                    kind = _TRANS_T_T if k in typed else _TRANS_T_U
                    factors.append(_Factor(kind, (cvar,), k, other=par, slot=slot, obs=obs))
                else:
                    kind = _TRANS_U_T if k in typed else _TRANS_U_U
                    factors.append(_Factor(kind, (pp, pm, cvar), k, other=par, slot=slot, obs=obs))
        if k in partial:
            factors.append(_Factor(_OBS_PARTIAL, (p, m), k))
        if k in soft:
            factors.append(_Factor(_OBS_SOFT, (p, m), k))

    keep: tuple[int, ...] = () if target < 0 else slots[target]
    # greedy elimination: smallest resulting factor first
    live: dict[int, tuple[int, ...]] = {i: f.vars for i, f in enumerate(factors)}
    next_id = len(factors)
    remaining = set(range(len(var_size))) - set(keep)
    steps: list[_Step] = []
    width = 1
    while remaining:
        best, best_cost = -1, -1
        best_scope: tuple[int, ...] = ()
        for v in remaining:
            scope: set[int] = set()
            for fv in live.values():
                if v in fv:
                    scope.update(fv)
            cost = 1
            for u in scope:
                cost *= var_size[u]
            if best_cost < 0 or cost < best_cost:
                best, best_cost, best_scope = v, cost, tuple(sorted(scope))
        width = max(width, best_cost)
        ins = sorted((i for i, fv in live.items() if best in fv), key=lambda i: len(live[i]))
        out_vars = tuple(u for u in best_scope if u != best)
        letters = {u: _LETTERS[i] for i, u in enumerate(best_scope)}

        def sub(vs: Sequence[int], letters: dict[int, str] = letters) -> str:
            return "z" + "".join(letters[u] for u in vs)

        ops: list[tuple[int, int, str, int]] = []
        acc, acc_vars = ins[0], live[ins[0]]
        if len(ins) == 1:
            ops.append((acc, -1, f"{sub(acc_vars)}->{sub(out_vars)}", next_id))
        for j, i in enumerate(ins[1:], start=2):
            last = j == len(ins)
            union = tuple(sorted(set(acc_vars) | set(live[i])))
            res_vars = out_vars if last else union
            out_id = next_id if last else -(len(steps) * 1000 + j)
            ops.append((acc, i, f"{sub(acc_vars)},{sub(live[i])}->{sub(res_vars)}", out_id))
            acc, acc_vars = out_id, res_vars
        steps.append(_Step(tuple(ops)))
        for i in ins:
            del live[i]
        live[next_id] = out_vars
        next_id += 1
        remaining.discard(best)
    final = tuple(live)
    kept_letters = {u: _LETTERS[i] for i, u in enumerate(keep)}
    final_subs = ",".join("z" + "".join(kept_letters[u] for u in live[i]) for i in final)
    final_subs += "->z" + "".join(kept_letters[u] for u in keep)
    return _Plan(
        n=n, var_size=tuple(var_size), factors=tuple(factors), steps=tuple(steps),
        final=final, keep=keep, final_subscripts=final_subs,
        typed_slots=tuple(sorted(typed)), partial=tuple(sorted(partial)), soft=tuple(sorted(soft)),
        width=width,
    )


def _topo(father: Sequence[int], mother: Sequence[int]) -> list[int]:
    size = len(father)
    done = [False] * size
    order: list[int] = []

    def visit(k: int) -> None:
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

    for k in range(size):
        visit(k)
    return order


# ---------------------------------------------------------------------------
# Execution on a batch
# ---------------------------------------------------------------------------

@dataclass
class _Batch:
    """Numeric inputs for B items (marker x family) sharing one plan.

    freqs (B, n); male, female (B, n, n) or None (no mutation);
    alleles (B, T, 2) allele indices of the plan's typed members;
    partial (B, P) the known allele; soft (B, S, n, n) ordered-genotype evidence.
    """

    freqs: NDArray[np.float64]
    male: NDArray[np.float64] | None
    female: NDArray[np.float64] | None
    alleles: NDArray[np.intp]
    partial: NDArray[np.intp]
    soft: NDArray[np.float64]
    theta: float


def _run(plan: _Plan, batch: _Batch) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Execute a plan. Returns (log scale (B,), final factor (B, *kept sizes))."""
    B, _n = batch.freqs.shape
    arrays = _factor_arrays(plan, batch)
    logscale = np.zeros(B)
    last = len(plan.steps) - 1
    out = np.empty(0)
    for t, step in enumerate(plan.steps):
        for left, right, subs, dest in step.ops:
            if right < 0:
                out = np.einsum(subs, arrays.pop(left))
            else:
                out = np.einsum(subs, arrays.pop(left), arrays.pop(right))
            arrays[dest] = out
        # Rescale now and then (and at the end) so that nothing underflows.
        if t % _RESCALE_EVERY == _RESCALE_EVERY - 1 or t == last:
            mx = out.reshape(B, -1).max(axis=1) if out.ndim > 1 else out.copy()
            scale = np.where(mx > 0, mx, 1.0)
            arrays[dest] = out / scale.reshape((B,) + (1,) * (out.ndim - 1))
            logscale += np.log(scale)
    finals = [arrays[i] for i in plan.final]
    if finals:
        res = np.einsum(plan.final_subscripts, *finals)
    else:
        res = np.ones((B, *tuple(plan.var_size[v] for v in plan.keep)))
    return logscale, res


def _factor_arrays(plan: _Plan, batch: _Batch) -> dict[int, NDArray[np.float64]]:
    """The numeric factors of a plan, with shared work done once for all members."""
    q, theta = batch.freqs, batch.theta
    B, n = q.shape
    A = batch.alleles                                        # (B, T, 2)
    col = {k: i for i, k in enumerate(plan.typed_slots)}
    b3 = np.arange(B)[:, None, None]
    b2 = np.arange(B)[:, None]
    w = np.ones(A.shape)                                     # phase weights
    w[:, :, 1] = A[:, :, 0] != A[:, :, 1]
    parent_vec: dict[bool, NDArray[np.float64]] = {}

    def vec(male: bool) -> NDArray[np.float64]:
        # parent_vec[male][b, t, :] = P(transmitted allele | typed member t as parent)
        if male not in parent_vec:
            M = batch.male if male else batch.female
            if M is None:
                eye = np.eye(n)
                parent_vec[male] = 0.5 * (eye[A[:, :, 0]] + eye[A[:, :, 1]])
            else:
                bb = b3[:, :, 0]
                parent_vec[male] = 0.5 * (M[bb, A[:, :, 0]] + M[bb, A[:, :, 1]])
        return parent_vec[male]

    arrays: dict[int, NDArray[np.float64]] = {}
    for fid, f in enumerate(plan.factors):
        kind = f.kind
        if kind == _PRIOR_ALLELE:
            arr = q
        elif kind == _PRIOR_JOINT:
            arr = (1 - theta) * q[:, :, None] * q[:, None, :]
            np.einsum("bii->bi", arr)[...] += theta * q
        elif kind == _PRIOR_TYPED:
            a = A[:, col[f.person], :]
            qa = q[b2, a]
            val = (1 - theta) * qa[:, 0] * qa[:, 1] + theta * qa[:, 0] * (a[:, 0] == a[:, 1])
            arr = val[:, None] * w[:, col[f.person], :]
        elif kind == _OBS_PARTIAL:
            a = batch.partial[:, plan.partial.index(f.person)]
            hit = (np.arange(n)[None, :] == a[:, None])
            arr = (hit[:, :, None] | hit[:, None, :]).astype(np.float64)
        elif kind == _OBS_SOFT:
            arr = batch.soft[:, plan.soft.index(f.person)]
        else:
            male = f.slot == 0
            if kind in (_FOUNDER_U, _FOUNDER_T):
                M = batch.male if male else batch.female
                v = q if M is None else np.einsum("bx,bxz->bz", q, M)
                if kind == _FOUNDER_U:
                    arr = v
                else:
                    ca = _child_slot_alleles(A[:, col[f.person], :], f.slot)
                    arr = np.take_along_axis(v, ca, axis=1)
            elif kind in (_TRANS_T_U, _TRANS_T_T):
                v = vec(male)[:, col[f.other], :]             # (B, n)
                if kind == _TRANS_T_U:
                    arr = v
                else:
                    ca = _child_slot_alleles(A[:, col[f.person], :], f.slot)
                    arr = np.take_along_axis(v, ca, axis=1)
            else:
                M = batch.male if male else batch.female
                if M is None:
                    M = np.broadcast_to(np.eye(n), (B, n, n))
                if kind == _TRANS_U_U:
                    arr = _trans_uu(batch, male, M)
                else:
                    ca = _child_slot_alleles(A[:, col[f.person], :], f.slot)
                    sel = np.take_along_axis(M, ca[:, None, :], axis=2)   # (B, n, 2)
                    arr = 0.5 * (sel[:, :, None, :] + sel[:, None, :, :])
            if f.obs >= 0:
                wk = w[:, col[f.obs], :]
                arr = arr * (wk if arr.ndim == 2 else wk[:, None, None, :])
        arrays[fid] = arr
    return arrays


def _trans_uu(batch: _Batch, male: bool, M: NDArray[np.float64]) -> NDArray[np.float64]:
    """T[b, x, y, z] = (M[x, z] + M[y, z]) / 2, cached on the batch (data-independent)."""
    cache = batch.__dict__.setdefault("_uu", {})
    if male not in cache:
        if M.strides[0] == 0:  # one marker for the whole batch
            one = 0.5 * (M[0, :, None, :] + M[0, None, :, :])
            cache[male] = np.broadcast_to(one, (M.shape[0], *one.shape))
        else:
            cache[male] = 0.5 * (M[:, :, None, :] + M[:, None, :, :])
    return cache[male]


def _child_slot_alleles(a: NDArray[np.intp], slot: int) -> NDArray[np.intp]:
    """Allele in the child's paternal (slot 0) or maternal (1) position, per phase."""
    return a if slot == 0 else a[:, ::-1]


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def _padded(vec: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    out = np.zeros(n)
    out[: vec.shape[0]] = vec
    return out


def _padded_matrix(m: NDArray[np.float64] | None, k: int, n: int) -> NDArray[np.float64]:
    out = np.eye(n)
    if m is None:
        return out
    out[:k, :k] = m
    return out


_MUTPAD: dict[tuple[int, int], tuple[Marker, NDArray[np.float64], NDArray[np.float64]]] = {}


def _padded_mutation(mk: Marker, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Male and female matrices padded to n alleles, cached per marker object."""
    hit = _MUTPAD.get((id(mk), n))
    if hit is not None and hit[0] is mk:
        return hit[1], hit[2]
    k = mk.n_alleles
    male = _padded_matrix(mk.mutation_matrix(1), k, n)
    female = _padded_matrix(mk.mutation_matrix(2), k, n)
    if len(_MUTPAD) > 20000:
        _MUTPAD.clear()
    _MUTPAD[(id(mk), n)] = (mk, male, female)
    return male, female


def _soft_ordered(vec: NDArray[np.float64], k: int, n: int) -> NDArray[np.float64]:
    out = np.zeros((n, n))
    i, j = np.triu_indices(k)
    out[i, j] = vec
    out[j, i] = vec
    return out


_STRUCT: dict[int, tuple[Pedigree, tuple[int, ...], tuple[int, ...]]] = {}


def _structure(ped: Pedigree) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(father, mother) index tuples of a pedigree, cached by object identity."""
    hit = _STRUCT.get(id(ped))
    if hit is not None and hit[0] is ped:
        return hit[1], hit[2]
    fa = tuple(int(x) for x in ped.father)
    mo = tuple(int(x) for x in ped.mother)
    if len(_STRUCT) > 10000:
        _STRUCT.clear()
    _STRUCT[id(ped)] = (ped, fa, mo)
    return fa, mo


def loglik_batch(
    peds: Sequence[Pedigree],
    data: Sequence[MarkerData],
    *,
    theta: float = 0.0,
    mutation: bool = True,
    target: Sequence[int] | None = None,
) -> list[NDArray[np.float64]] | NDArray[np.float64]:
    """Log-likelihoods of many (pedigree, marker) items, batching items of one shape.

    Parameters
    ----------
    peds : pedigree of each item (items may share a pedigree object).
    data : observations of each item (member indices refer to that item's pedigree).
    theta : Balding-Nichols correction applied to each founder (as pedprobr does).
    mutation : False ignores mutation models (Mendelian inheritance only).
    target : per item, a member index whose genotype distribution is returned
        instead of the likelihood (see :func:`conditional_genotypes`).

    Returns
    -------
    loglik : ndarray, float64, shape (n_items,); natural log, ``-inf`` for impossible data.
    Or, with ``target``: a list of ndarrays, shape (n_alleles*(n_alleles+1)//2,), the
    joint probability P(data, G_target = g) scaled by exp(-loglik) i.e. the normalised
    conditional distribution, in ``np.triu_indices`` order.
    """
    if len(peds) != len(data):
        raise ValueError("`peds` and `data` must have the same length")
    groups: dict[tuple, list[int]] = {}
    for it, (ped, d) in enumerate(zip(peds, data, strict=True)):
        typed = frozenset(k for k, (a, b) in d.typed.items() if a >= 0 and b >= 0)
        partial = frozenset(k for k, (a, b) in d.typed.items() if (a >= 0) != (b >= 0))
        soft = frozenset(d.soft) if d.soft else frozenset()
        tgt = -1 if target is None else int(target[it])
        fa, mo = _structure(ped)
        key = (
            fa, mo, typed, partial, soft, tgt, _bucket(d.marker.n_alleles),
            bool(mutation and d.marker.has_mutation),
        )
        groups.setdefault(key, []).append(it)
    out_ll = np.empty(len(data))
    out_dist: list[NDArray[np.float64]] = [np.empty(0)] * len(data)
    for key, items in groups.items():
        father, mother, typed, partial, soft, tgt, n, mut = key
        plan = _compile(father, mother, typed, partial, soft, tgt, n, theta > 0)
        batch = _make_batch(plan, [data[i] for i in items], n, theta, mut)
        logscale, res = _run(plan, batch)
        if tgt < 0:
            with np.errstate(divide="ignore"):
                out_ll[items] = logscale + np.log(res)
        else:
            by_k: dict[int, list[int]] = {}
            for r, it in enumerate(items):
                by_k.setdefault(data[it].marker.n_alleles, []).append(r)
            for k, rows in by_k.items():
                i, j = np.triu_indices(k)
                f = res[rows][:, :k, :k]
                g = f[:, i, j] + np.where(i == j, 0.0, f[:, j, i])
                tot = g.sum(axis=1, keepdims=True)
                g = np.divide(g, tot, out=np.zeros_like(g), where=tot > 0)
                for r, row in zip(rows, g, strict=True):
                    out_dist[items[r]] = row
    return out_ll if target is None else out_dist


def same_shape_batch(
    ped: Pedigree,
    marker: Marker,
    typed: Sequence[int],
    alleles: NDArray[np.intp],
    *,
    target: int = -1,
    mutation: bool = True,
    max_floats: int = 24_000_000,
) -> NDArray[np.float64]:
    """Many families of one shape at one marker, built straight from allele arrays.

    The fast path of the blind search: B families share the pedigree structure of
    ``ped`` and the typed members ``typed`` (fully typed, no soft evidence), so one
    plan serves them all and no per-family Python objects are made.

    Parameters
    ----------
    ped : the shared pedigree structure.
    marker : the marker.
    typed : member indices typed in every family, in the column order of ``alleles``.
    alleles : ndarray, int, shape (B, len(typed), 2); allele indices.
    target : a member index: return P(G_target = g | data) instead of log-likelihoods.
    max_floats : bound on the largest intermediate array, by chunking B.

    Returns
    -------
    ndarray, float64: shape (B,) log-likelihoods, or (B, n(n+1)/2) conditional distributions.
    """
    B = alleles.shape[0]
    k = marker.n_alleles
    mut = bool(mutation and marker.has_mutation)
    if not mut and B:
        return _lumped_batch(ped, marker, typed, alleles, target, max_floats)
    n = _bucket(k)
    fa, mo = _structure(ped)
    plan = _compile(fa, mo, frozenset(typed), frozenset(), frozenset(), target, n, False)
    order = [list(typed).index(p) for p in plan.typed_slots]
    alleles = np.ascontiguousarray(alleles[:, order, :], dtype=np.intp)
    freqs = np.broadcast_to(_padded(marker.freqs, n), (B, n))
    if float(marker.freqs.sum()) != 1.0 and (not mut or {
            m.model for m in (marker.female, marker.male) if m is not None} <= _LUMPABLE):
        # pedprobr's lumping convention, per family (see _lumped_freqs)
        seen = np.zeros((B, n), dtype=bool)
        np.put_along_axis(seen, alleles.reshape(B, -1), True, axis=1)
        seen[:, k:] = False
        f = np.array(freqs)
        tot_seen = (f * seen).sum(axis=1)
        rest = (f * ~seen).sum(axis=1)
        scale = np.where(rest > 0, (1.0 - tot_seen) / np.where(rest > 0, rest, 1.0), 1.0)
        freqs = np.where(seen, f, f * scale[:, None])
    male = female = None
    if mut:
        pm, pf = _padded_mutation(marker, n)
    step = max(1, max_floats // (4 * plan.width))
    i, j = np.triu_indices(k)
    out = np.empty((B, len(i))) if target >= 0 else np.empty(B)
    for lo in range(0, B, step):
        hi = min(B, lo + step)
        b = hi - lo
        if mut:
            male = np.broadcast_to(pm, (b, n, n))
            female = np.broadcast_to(pf, (b, n, n))
        batch = _Batch(np.ascontiguousarray(freqs[lo:hi]), male, female, alleles[lo:hi],
                       np.zeros((b, 0), dtype=np.intp), np.zeros((b, 0, n, n)), 0.0)
        logscale, res = _run(plan, batch)
        if target < 0:
            with np.errstate(divide="ignore"):
                out[lo:hi] = logscale + np.log(res)
        else:
            f = res[:, :k, :k]
            g = f[:, i, j] + np.where(i == j, 0.0, f[:, j, i])
            tot = g.sum(axis=1, keepdims=True)
            out[lo:hi] = np.divide(g, tot, out=np.zeros_like(g), where=tot > 0)
    return out


def _lumped_batch(ped: Pedigree, marker: Marker, typed: Sequence[int], alleles: NDArray[np.intp],
                  target: int, max_floats: int) -> NDArray[np.float64]:
    """:func:`same_shape_batch` without mutation, on each family's own alleles.

    Without mutation the alleles nobody in a family carries are exchangeable, so
    they are lumped into one allele of frequency ``1 - sum(observed)`` (pedprobr's
    rule) and the elimination runs on at most 2T + 1 alleles instead of all of the
    marker's. A lumped genotype's probability is shared out again in proportion to
    the frequencies of the alleles it stands for, which is exact.
    """
    B, T = alleles.shape[0], alleles.shape[1]
    k = marker.n_alleles
    f = marker.freqs
    flat = alleles.reshape(B, 2 * T)
    order = np.argsort(flat, axis=1, kind="stable")
    srt = np.take_along_axis(flat, order, axis=1)
    new = np.ones_like(srt, dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    rank = np.cumsum(new, axis=1) - 1                        # local index in sorted order
    local = np.empty_like(rank)
    np.put_along_axis(local, order, rank, axis=1)
    lump = 2 * T                                             # the lump's local index
    n_loc = 2 * T + 1
    fl = np.zeros((B, n_loc))
    np.put_along_axis(fl, rank, f[srt], axis=1)
    seen = np.zeros((B, k), dtype=bool)
    np.put_along_axis(seen, flat, True, axis=1)
    fl[:, lump] = np.maximum(1.0 - (f[None, :] * seen).sum(axis=1), 0.0)
    loc_alleles = local.reshape(B, T, 2)
    n = _bucket(n_loc)
    fa, mo = _structure(ped)
    plan = _compile(fa, mo, frozenset(typed), frozenset(), frozenset(), target, n, False)
    cols = [list(typed).index(p) for p in plan.typed_slots]
    loc_alleles = np.ascontiguousarray(loc_alleles[:, cols, :])
    freqs = np.zeros((B, n))
    freqs[:, :n_loc] = fl
    i, j = np.triu_indices(k)
    out = np.empty((B, len(i))) if target >= 0 else np.empty(B)
    step = max(1, min(max_floats // (4 * plan.width), max_floats // (k * k + 1)))
    for lo in range(0, B, step):
        hi = min(B, lo + step)
        b = hi - lo
        batch = _Batch(freqs[lo:hi], None, None, loc_alleles[lo:hi], np.zeros((b, 0), dtype=np.intp),
                       np.zeros((b, 0, n, n)), 0.0)
        logscale, res = _run(plan, batch)
        if target < 0:
            with np.errstate(divide="ignore"):
                out[lo:hi] = logscale + np.log(res)
            continue
        # local -> marker alleles: L[b, a] local index of allele a, w its share of the lump
        L = np.full((b, k), lump)
        np.put_along_axis(L, srt[lo:hi], rank[lo:hi], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(lump == L, f[None, :] / fl[lo:hi, lump:lump + 1], 1.0)
        w = np.nan_to_num(w, nan=0.0, posinf=0.0)
        bb = np.arange(b)[:, None]
        li, lj = L[:, i], L[:, j]
        pij = res[bb, li, lj] * w[:, i] * w[:, j]
        pji = res[bb, lj, li] * w[:, i] * w[:, j]
        g = pij + np.where(i == j, 0.0, pji)
        tot = g.sum(axis=1, keepdims=True)
        out[lo:hi] = np.divide(g, tot, out=np.zeros_like(g), where=tot > 0)
    return out


_LUMPABLE = frozenset({"equal", "proportional", "trivial"})


def _lumped_freqs(d: MarkerData, mut: bool) -> NDArray[np.float64]:
    """Frequencies as pedprobr uses them when it lumps unobserved alleles.

    pedprobr lumps the alleles that nobody carries into one allele of frequency
    ``1 - sum(observed)``, when the mutation model allows it (none, equal,
    proportional). Where a database sums to 1 only approximately, that differs
    from the plain sum in the tenth digit; we scale the unobserved alleles so
    their total is exactly that, to agree with the reference to 1e-9.
    """
    f = d.marker.freqs
    total = float(f.sum())
    if total == 1.0 or d.soft:
        return f
    if mut:
        models = {m.model for m in (d.marker.female, d.marker.male) if m is not None}
        if not models <= _LUMPABLE:
            return f
    seen = np.zeros(f.shape[0], dtype=bool)
    for a1, a2 in d.typed.values():
        for a in (a1, a2):
            if a >= 0:
                seen[a] = True
    rest = float(f[~seen].sum())
    if rest <= 0:
        return f
    out = f.copy()
    out[~seen] *= (1.0 - float(f[seen].sum())) / rest
    return out


def _make_batch(plan: _Plan, items: Sequence[MarkerData], n: int, theta: float, mut: bool) -> _Batch:
    B = len(items)
    freqs = np.empty((B, n))
    male = np.empty((B, n, n)) if mut else None
    female = np.empty((B, n, n)) if mut else None
    alleles = np.zeros((B, len(plan.typed_slots), 2), dtype=np.intp)
    partial = np.zeros((B, len(plan.partial)), dtype=np.intp)
    soft = np.zeros((B, len(plan.soft), n, n))
    shared = all(d.marker is items[0].marker for d in items)
    if shared and male is not None and female is not None:
        # one marker for the whole batch: stride-0 views, and _trans_uu builds one tensor
        pm, pf = _padded_mutation(items[0].marker, n)
        male = np.broadcast_to(pm, (B, n, n))
        female = np.broadcast_to(pf, (B, n, n))
    for b, d in enumerate(items):
        mk = d.marker
        k = mk.n_alleles
        freqs[b] = _padded(_lumped_freqs(d, mut), n)
        if not shared and male is not None and female is not None:
            male[b], female[b] = _padded_mutation(mk, n)
        for c, person in enumerate(plan.typed_slots):
            alleles[b, c] = d.typed[person]
        for c, person in enumerate(plan.partial):
            a1, a2 = d.typed[person]
            partial[b, c] = a1 if a1 >= 0 else a2
        if d.soft:
            for c, person in enumerate(plan.soft):
                soft[b, c] = _soft_ordered(d.soft[person], k, n)
    return _Batch(freqs, male, female, alleles, partial, soft, theta)


def encode(ped: Pedigree, marker: Marker, genotypes: Mapping[str, Mapping[str, tuple[str | None, str | None]]]) -> MarkerData:
    """Observations of ``marker`` for the members of ``ped`` from a label genotype table.

    Members absent from ``ped`` are ignored; an allele not in the marker raises ``ValueError``.
    """
    typed: dict[int, tuple[int, int]] = {}
    name = marker.name
    index = marker._index
    for member, row in genotypes.items():
        g = row.get(name)
        if g is None or member not in ped.ids:
            continue
        a1, a2 = g
        i1 = -1 if a1 is None else index.get(a1, -2)
        i2 = -1 if a2 is None else index.get(a2, -2)
        if i1 == -2 or i2 == -2:
            bad = a1 if i1 == -2 else a2
            raise ValueError(f"allele {bad!r} of {member!r} is not in marker {name!r}")
        if i1 < 0 and i2 < 0:
            continue
        typed[ped.index(member)] = (i1, i2)
    return MarkerData(marker, typed)


def loglik(
    ped: Pedigree,
    markers: Sequence[Marker],
    genotypes: Mapping[str, Mapping[str, tuple[str | None, str | None]]],
    *,
    theta: float = 0.0,
    mutation: bool = True,
) -> NDArray[np.float64]:
    """Log-likelihood of a pedigree's data, per marker.

    Parameters
    ----------
    ped : the pedigree.
    markers : the markers.
    genotypes : member id -> marker name -> (allele, allele); members not in ``ped`` are ignored.
    theta : founder subpopulation correction (pedprobr's ``theta``).
    mutation : False ignores the markers' mutation models.

    Returns
    -------
    ndarray, float64, shape (n_markers,): natural-log likelihoods; ``-inf`` where the data are impossible.
    """
    data = [encode(ped, m, genotypes) for m in markers]
    res = loglik_batch([ped] * len(data), data, theta=theta, mutation=mutation)
    assert isinstance(res, np.ndarray)
    return res


def conditional_genotypes(
    ped: Pedigree,
    markers: Sequence[Marker],
    genotypes: Mapping[str, Mapping[str, tuple[str | None, str | None]]],
    target: str,
    *,
    theta: float = 0.0,
    mutation: bool = True,
) -> list[NDArray[np.float64]]:
    """P(G_target = g | typed relatives), per marker.

    Returns
    -------
    list (one per marker) of ndarray, float64, shape (n_alleles*(n_alleles+1)//2,):
    probabilities of the unordered genotypes (i, j), i <= j, in ``np.triu_indices`` order.
    All zeros where the relatives' data are impossible.
    """
    k = ped.index(target)
    data = []
    for m in markers:
        d = encode(ped, m, genotypes)
        if k in d.typed:
            d = MarkerData(m, {p: g for p, g in d.typed.items() if p != k})
        data.append(d)
    res = loglik_batch([ped] * len(data), data, theta=theta, mutation=mutation, target=[k] * len(data))
    assert isinstance(res, list)
    return res
