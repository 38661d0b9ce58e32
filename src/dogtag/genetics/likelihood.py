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

What keeps it fast:

* A fully typed member with genotype {a, b} needs only a *phase* variable with
  two states ((a, b) or (b, a)); a homozygote's second phase has weight 0. A
  typed parent's phase does not enter its children's transmission terms, and
  most phases are summed out while the factors are built
  (:mod:`dogtag.genetics.elimination`).
* Untyped members with no typed descendant are pruned (their terms sum to 1), and
  an untyped founder with one relevant child collapses into ``q @ M``.
* The symbolic work (which factors, the elimination order, the array layout of
  every product) is compiled once per structure and typing pattern; everything that
  depends only on the markers (padded frequencies, mutation matrices and the tables
  derived from them) is prepared once per marker, or, for :func:`loglik`, once per
  (pedigree, markers). A call then runs a few gathers for the data-dependent
  factors, all members at once, and a fixed list of broadcast multiplies and
  batched matrix products.
* Markers (and families of the same shape) that share a plan are batched: one
  elimination runs on arrays with a leading batch axis. Alleles are padded with
  frequency 0, which is exact.

Every elimination rescales its intermediate results and keeps the log of the
scale, so likelihoods of large pedigrees over many markers never underflow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics import elimination as el
from dogtag.genetics.dropout import unordered_index
from dogtag.genetics.factors import (
    Tables,
    distributions,
    lumped_tables,
    lumps,
    marker_tables,
    padded,
    run,
)
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.theta import (
    check_theta,
    child_with_unrelated,
    run_theta,
    run_theta_child,
    theta_width,
)

__all__ = [
    "MarkerData",
    "child_and_unrelated",
    "conditional_genotypes",
    "encode",
    "loglik",
    "loglik_batch",
    "same_shape_batch",
    "same_shape_conditionals",
    "same_shape_support",
    "target_adds_founder_alleles",
    "unordered_index",
]

_BUCKETS = (2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256)


def _bucket(n: int) -> int:
    for b in _BUCKETS:
        if n <= b:
            return b
    return n


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


def _lumped_freqs(d: MarkerData, mut: bool) -> NDArray[np.float64]:
    """Frequencies as pedprobr uses them when it lumps unobserved alleles.

    pedprobr lumps the alleles that nobody carries into one allele of frequency
    ``1 - sum(observed)``, when the mutation model allows it (none, equal,
    proportional). Where a database sums to 1 only approximately, that differs
    from the plain sum in the tenth digit; we scale the unobserved alleles so
    their total is exactly that, to agree with the reference to 1e-9.
    (The engine applies this to whole batches: :func:`dogtag.genetics.factors.lumped_tables`.)
    """
    f = d.marker.freqs
    if d.soft or not lumps(d.marker, mut):
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


# ---------------------------------------------------------------------------
# Batches of (pedigree, marker data) items
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class _Structure:
    """A pedigree's parent index tuples, a small id shared by equal structures, member index."""

    father: tuple[int, ...]
    mother: tuple[int, ...]
    sid: int
    index: dict[str, int]


_STRUCT: dict[int, tuple[Pedigree, _Structure]] = {}
_SIDS: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}


def _structure(ped: Pedigree) -> _Structure:
    """The structure of a pedigree, cached by object identity."""
    hit = _STRUCT.get(id(ped))
    if hit is not None and hit[0] is ped:
        return hit[1]
    fa = tuple(int(x) for x in ped.father)
    mo = tuple(int(x) for x in ped.mother)
    if len(_STRUCT) > 10000:
        _STRUCT.clear()
    if len(_SIDS) > 10000:
        _SIDS.clear()
    sid = _SIDS.setdefault((fa, mo), len(_SIDS))
    st = _Structure(fa, mo, sid, {m: i for i, m in enumerate(ped.ids)})
    _STRUCT[id(ped)] = (ped, st)
    return st


def _soft_ordered(vec: NDArray[np.float64], k: int, n: int) -> NDArray[np.float64]:
    out = np.zeros((n, n))
    i, j = unordered_index(k)
    out[i, j] = vec
    out[j, i] = vec
    return out


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
    theta : the joint Balding-Nichols correction of all founder alleles (:mod:`dogtag.genetics.theta`).
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
    theta = check_theta(theta)
    # Items of one group share a plan (structure, typing pattern, padded allele count).
    groups: dict[tuple, list[int]] = {}
    structs: dict[int, _Structure] = {}
    empty: frozenset[int] = frozenset()
    for it, (ped, d) in enumerate(zip(peds, data, strict=True)):
        obs = d.typed
        if any(-1 in g for g in obs.values()):
            typed = frozenset(k for k, (a, b) in obs.items() if a >= 0 and b >= 0)
            partial = frozenset(k for k, (a, b) in obs.items() if (a >= 0) != (b >= 0))
        else:
            typed, partial = frozenset(obs), empty
        soft = frozenset(d.soft) if d.soft else empty
        if soft & typed:
            raise ValueError(f"`data[{it}]`: members {sorted(soft & typed)} have both a genotype "
                             "and soft evidence; give one or the other")
        tgt = -1 if target is None else int(target[it])
        st = _structure(ped)
        structs[st.sid] = st
        mk = d.marker
        key = (st.sid, typed, partial, soft, tgt, _bucket(mk.n_alleles), bool(mutation and mk.has_mutation))
        groups.setdefault(key, []).append(it)
    # A group whose markers repeat (families x markers) runs one batch per marker, with
    # tables shared by the batch (b = 1); otherwise one batch with per-item tables.
    batches: list[tuple[tuple, list[int], bool]] = []
    for key, items in groups.items():
        by_marker: dict[int, list[int]] = {}
        for it in items:
            by_marker.setdefault(id(data[it].marker), []).append(it)
        if len(by_marker) == 1 or len(items) >= 4 * len(by_marker):
            batches.extend((key, sub, True) for sub in by_marker.values())
        else:
            batches.append((key, items, False))
    out_ll = np.empty(len(data))
    out_dist: list[NDArray[np.float64]] = [np.empty(0)] * len(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        for key, items, shared in batches:
            sid, typed, partial, soft, tgt, _, mut = key
            st = structs[sid]
            mks = [data[it].marker for it in items]
            n = mks[0].n_alleles if shared else max(m.n_alleles for m in mks)
            plan = None if theta > 0 else el.compile_plan(st.father, st.mother, typed, partial, soft, tgt, n)
            B = len(items)
            width = 2 * len(st.father)
            vals = [-1] * (B * width)
            for r, it in enumerate(items):
                base = r * width
                for k, g in data[it].typed.items():
                    vals[base + 2 * k:base + 2 * k + 2] = g
            A = np.array(vals, dtype=np.intp).reshape(B, width)
            pcols = 2 * np.array(sorted(partial), dtype=np.intp)
            part = np.maximum(A[:, pcols], A[:, pcols + 1]) if partial else None
            soft_arr = None
            if soft:
                soft_arr = np.zeros((B, len(soft), n, n))
                for r, it in enumerate(items):
                    sd = data[it].soft
                    assert sd is not None
                    for c, person in enumerate(sorted(soft)):
                        soft_arr[r, c] = _soft_ordered(sd[person], mks[r].n_alleles, n)
            if shared:
                tab = marker_tables(mks[0], n, mut)
            else:
                parts = [padded(m, n, mut) for m in mks]
                tab = Tables(np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts]),
                             np.stack([p[2] for p in parts]))
            if not soft:
                if shared:
                    rows = np.arange(B) if lumps(mks[0], mut) else np.empty(0, dtype=np.intp)
                else:
                    rows = np.array([r for r, m in enumerate(mks) if lumps(m, mut)], dtype=np.intp)
                if rows.size:
                    tab = lumped_tables(tab, rows, A)
            if plan is None:
                ll, res = run_theta(st.father, st.mother, typed, partial, soft, tgt, tab, A, part, soft_arr,
                                    theta)
            else:
                ll, res = run(plan, tab, A, part, soft_arr)
            if tgt < 0:
                assert res is None
                out_ll[items] = ll
                continue
            assert res is not None
            ks = np.full(B, n) if shared else np.array([m.n_alleles for m in mks])
            for k in np.unique(ks).tolist():
                sel = np.nonzero(ks == k)[0]
                for r, dist in zip(sel.tolist(), distributions(res[sel], ll[sel], k), strict=True):
                    out_dist[items[r]] = dist
    return out_ll if target is None else out_dist


# ---------------------------------------------------------------------------
# One pedigree, many markers: a prepared object per (pedigree, markers)
# ---------------------------------------------------------------------------

_GENO: dict[int, tuple[Marker, dict[object, tuple[int, int]]]] = {}


def _genotype_codes(mk: Marker) -> dict[object, tuple[int, int]]:
    """(allele label or None, allele label or None) -> allele indices (-1 for None), cached."""
    hit = _GENO.get(id(mk))
    if hit is not None and hit[0] is mk:
        return hit[1]
    labels: list[str | None] = [*mk.alleles, None]
    codes: dict[object, tuple[int, int]] = {}
    for i, a in enumerate(labels):
        ia = i if a is not None else -1
        for j, b in enumerate(labels):
            codes[(a, b)] = (ia, j if b is not None else -1)
    if len(_GENO) > 2000:
        _GENO.clear()
    _GENO[id(mk)] = (mk, codes)
    return codes


@dataclass(eq=False)
class _Group:
    plan: el.Plan
    rows: NDArray[np.intp] | None        # marker positions, None = all, in order
    tables: Tables
    lumped: NDArray[np.intp]            # positions within the group with lumped frequencies
    k_alleles: NDArray[np.intp]


class _Prepared:
    """What :func:`loglik` needs of one (pedigree, markers, mutation, theta), data aside."""

    def __init__(self, ped: Pedigree, markers: tuple[Marker, ...], mutation: bool, theta: float):
        self.ped = ped
        self.markers = markers
        self.mutation = mutation
        self.theta = theta
        st = _structure(ped)
        self.father, self.mother = st.father, st.mother
        self.size = len(ped)
        self.index = st.index
        names = [m.name for m in markers]
        self.lookup: dict[str, tuple[int, dict[object, tuple[int, int]]]] | None = None
        if len(set(names)) == len(names):
            self.lookup = {m.name: (2 * self.size * j, _genotype_codes(m)) for j, m in enumerate(markers)}
        self.mut = [bool(mutation and m.has_mutation) for m in markers]
        self.bucket = [_bucket(m.n_alleles) for m in markers]
        self.groupings: dict[tuple[bytes, int], list[_Group]] = {}
        self.stacks: dict[tuple[tuple[int, ...], int, bool], Tables] = {}

    def alleles(self, genotypes: Mapping[str, Mapping[str, tuple[str | None, str | None]]]
                ) -> NDArray[np.intp]:
        """Allele indices (n_markers, 2 * size); -1 = missing. Raises like :func:`encode`."""
        J, size = len(self.markers), self.size
        lookup = self.lookup
        if lookup is not None:
            vals = [-1] * (J * 2 * size)
            index = self.index
            try:
                for member, row in genotypes.items():
                    k = index.get(member)
                    if k is None:
                        continue
                    off = 2 * k
                    for name, g in row.items():
                        hit = lookup.get(name)
                        if hit is None or g is None:
                            continue
                        pair = hit[1][g]
                        base = hit[0] + off
                        vals[base] = pair[0]
                        vals[base + 1] = pair[1]
                return np.array(vals, dtype=np.intp).reshape(J, 2 * size)
            except (KeyError, TypeError):
                pass  # an unknown allele (encode raises the error) or a genotype that is not a tuple
        A = np.full((J, 2 * size), -1, dtype=np.intp)
        for j, mk in enumerate(self.markers):
            for k, (a, b) in encode(self.ped, mk, genotypes).typed.items():
                A[j, 2 * k] = a
                A[j, 2 * k + 1] = b
        return A

    def groups(self, A: NDArray[np.intp], target: int) -> list[_Group]:
        """Batches of markers sharing a plan, for the typing pattern of ``A`` (cached by pattern)."""
        t = A >= 0
        key = (t.tobytes(), target)
        hit = self.groupings.get(key)
        if hit is not None:
            return hit
        full = t[:, 0::2] & t[:, 1::2]
        half = t[:, 0::2] ^ t[:, 1::2]
        by: dict[tuple, list[int]] = {}
        for j in range(len(self.markers)):
            typed = frozenset(np.nonzero(full[j])[0].tolist())
            partial = frozenset(np.nonzero(half[j])[0].tolist())
            by.setdefault((typed, partial, self.bucket[j], self.mut[j]), []).append(j)
        out = []
        for (typed, partial, _, mut), rows in by.items():
            # pad to the largest allele count of the batch (the bucket only groups)
            n = max(self.markers[j].n_alleles for j in rows)
            plan = el.compile_plan(self.father, self.mother, typed, partial, frozenset(), target, n)
            tables = self._stack(tuple(rows), n, mut)
            lumped = np.array([r for r, j in enumerate(rows) if lumps(self.markers[j], mut)], dtype=np.intp)
            ks = np.array([self.markers[j].n_alleles for j in rows], dtype=np.intp)
            sel = None if len(rows) == len(self.markers) else np.array(rows, dtype=np.intp)
            out.append(_Group(plan, sel, tables, lumped, ks))
        if len(self.groupings) > 256:
            self.groupings.clear()
        self.groupings[key] = out
        return out

    def _stack(self, rows: tuple[int, ...], n: int, mut: bool) -> Tables:
        key = (rows, n, mut)
        hit = self.stacks.get(key)
        if hit is None:
            parts = [padded(self.markers[j], n, mut) for j in rows]
            q = np.stack([p[0] for p in parts])
            Mm = np.stack([p[1] for p in parts])
            Mf = np.stack([p[2] for p in parts])
            hit = self.stacks[key] = Tables(q, Mm, Mf)
        return hit

    def run(self, A: NDArray[np.intp], target: int = -1
            ) -> tuple[NDArray[np.float64], list[NDArray[np.float64]] | None]:
        J = len(self.markers)
        ll = np.empty(J)
        dists: list[NDArray[np.float64]] | None = None if target < 0 else [np.empty(0)] * J
        with np.errstate(divide="ignore", invalid="ignore"):
            for grp in self.groups(A, target):
                plan = grp.plan
                Ag = A if grp.rows is None else A[grp.rows]
                part = None
                if plan.partial:
                    part = np.maximum(Ag[:, plan.partial_cols], Ag[:, plan.partial_cols + 1])
                tab = grp.tables
                if grp.lumped.size:
                    tab = lumped_tables(tab, grp.lumped, Ag)
                if self.theta > 0:
                    lg, res = run_theta(self.father, self.mother, frozenset(plan.typed), frozenset(plan.partial),
                                        frozenset(), target, tab, Ag, part, None, self.theta)
                else:
                    lg, res = run(plan, tab, Ag, part)
                if dists is None:
                    if grp.rows is None:
                        ll = np.array(lg)
                    else:
                        ll[grp.rows] = lg
                else:
                    assert res is not None
                    rows = range(J) if grp.rows is None else grp.rows.tolist()
                    for k in np.unique(grp.k_alleles).tolist():
                        sel = np.nonzero(grp.k_alleles == k)[0]
                        dk = distributions(res[sel], lg[sel], k)
                        for r, d in zip(sel.tolist(), dk, strict=True):
                            dists[rows[r]] = d
        return ll, dists


_PREPARED: dict[tuple, _Prepared] = {}


def _prepared(ped: Pedigree, markers: Sequence[Marker], mutation: bool, theta: float) -> _Prepared:
    key = (id(ped), tuple(map(id, markers)), mutation, theta)
    hit = _PREPARED.get(key)
    if hit is not None and hit.ped is ped:
        return hit
    if len(_PREPARED) > 128:
        _PREPARED.clear()
    hit = _PREPARED[key] = _Prepared(ped, tuple(markers), mutation, theta)
    return hit


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def encode(ped: Pedigree, marker: Marker, genotypes: Mapping[str, Mapping[str, tuple[str | None, str | None]]]) -> MarkerData:
    """Observations of ``marker`` for the members of ``ped`` from a label genotype table.

    Members absent from ``ped`` are ignored; an allele not in the marker raises ``ValueError``.
    """
    typed: dict[int, tuple[int, int]] = {}
    name = marker.name
    index = marker._index
    members = _structure(ped).index
    for member, row in genotypes.items():
        g = row.get(name)
        if g is None or member not in members:
            continue
        a1, a2 = g
        i1 = -1 if a1 is None else index.get(a1, -2)
        i2 = -1 if a2 is None else index.get(a2, -2)
        if i1 == -2 or i2 == -2:
            bad = a1 if i1 == -2 else a2
            raise ValueError(f"allele {bad!r} of {member!r} is not in marker {name!r}")
        if i1 < 0 and i2 < 0:
            continue
        typed[members[member]] = (i1, i2)
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
    theta = check_theta(theta)
    if not markers:
        return np.zeros(0)
    prep = _prepared(ped, markers, mutation, theta)
    return prep.run(prep.alleles(genotypes))[0]


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
    theta = check_theta(theta)
    if not markers:
        return []
    prep = _prepared(ped, markers, mutation, theta)
    A = prep.alleles(genotypes)
    A[:, 2 * k:2 * k + 2] = -1
    dists = prep.run(A, target=k)[1]
    assert dists is not None
    return dists


# ---------------------------------------------------------------------------
# Many families of one shape (the blind search's hot path)
# ---------------------------------------------------------------------------

def _plan_width(plan: el.Plan) -> int:
    """Largest array of the plan's program, in values per item (for chunking)."""
    return el.program_width(plan.program, plan.n * plan.n)


def _allele_matrix(size: int, typed: Sequence[int], alleles: NDArray[np.intp]) -> NDArray[np.intp]:
    """(B, T, 2) allele indices of members ``typed`` -> the engine's (B, 2 * size) layout (-1 untyped)."""
    A = np.full((alleles.shape[0], 2 * size), -1, dtype=np.intp)
    cols = 2 * np.asarray(typed, dtype=np.intp)
    A[:, cols] = alleles[:, :, 0]
    A[:, cols + 1] = alleles[:, :, 1]
    return A


def same_shape_batch(
    ped: Pedigree,
    marker: Marker,
    typed: Sequence[int],
    alleles: NDArray[np.intp],
    *,
    target: int = -1,
    mutation: bool = True,
    theta: float = 0.0,
    max_floats: int = 24_000_000,
) -> NDArray[np.float64]:
    """Many families of one shape at one marker, built straight from allele arrays.

    The fast path of the blind search: B families share the pedigree structure of
    ``ped`` and the fully typed members ``typed``, so one plan serves them all and no
    per-family Python objects are made.

    Parameters
    ----------
    ped : the shared pedigree structure.
    marker : the marker.
    typed : member indices typed in every family, in the column order of ``alleles``.
    alleles : ndarray, int, shape (B, len(typed), 2); allele indices.
    target : a member index: return P(G_target = g | data) instead of log-likelihoods.
    mutation : False ignores the marker's mutation model.
    theta : the joint subpopulation correction (:mod:`dogtag.genetics.theta`).
    max_floats : bound on the largest intermediate array, by chunking B.

    Returns
    -------
    ndarray, float64: shape (B,) natural-log likelihoods, or (B, n(n+1)/2) conditional
    genotype distributions (``np.triu_indices`` order; zeros where the data are impossible).
    """
    dist, ll = same_shape_conditionals(ped, marker, typed, alleles, target=target, mutation=mutation,
                                       theta=theta, max_floats=max_floats)
    return ll if dist is None else dist


def same_shape_conditionals(
    ped: Pedigree,
    marker: Marker,
    typed: Sequence[int],
    alleles: NDArray[np.intp],
    *,
    target: int = -1,
    mutation: bool = True,
    theta: float = 0.0,
    max_floats: int = 24_000_000,
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """:func:`same_shape_batch` with a target, and the log-likelihood of the data from the same run.

    Returns (distributions (B, n(n+1)/2), or None without a target; log-likelihoods (B,)).
    With a target the log-likelihood is the log of the normaliser of the target's
    distribution, ``log sum_g P(data, G_target = g)``: the likelihood of the family's data
    with the target's genotype summed out. That equals the likelihood of the data alone
    (``target=-1``) when the target adds no founder alleles to the relevant part of the
    pedigree (:func:`target_adds_founder_alleles`): what it adds are transmissions, whose rows
    sum to 1, so the two agree to rounding (a few units in the last place), with or without
    theta. Founder alleles would add sums of frequencies, which a database may round away from 1
    (pedprobr leaves them out of the likelihood).
    """
    B = alleles.shape[0]
    theta = check_theta(theta)
    if B == 1:
        # NumPy runs a batch of one through other inner loops (a length-1 axis is dropped),
        # which round differently in the last bit; a family's result must not depend on
        # the other families of its batch, so it is computed in a batch of two.
        both = np.concatenate([alleles, alleles])
        d2, l2 = same_shape_conditionals(ped, marker, typed, both, target=target, mutation=mutation, theta=theta,
                                         max_floats=max_floats)
        return None if d2 is None else d2[:1], l2[:1]
    k = marker.n_alleles
    mut = bool(mutation and marker.has_mutation)
    if not mut and B and theta == 0:
        return _lumped_batch(ped, marker, typed, alleles, target, max_floats)
    st = _structure(ped)
    tset = frozenset(typed)
    plan = None if theta > 0 else el.compile_plan(st.father, st.mother, tset, frozenset(), frozenset(), target, k)
    out = np.empty((B, k * (k + 1) // 2)) if target >= 0 else None
    out_ll = np.empty(B)
    width = theta_width(st.father, st.mother, tset, target, k, theta) if plan is None else _plan_width(plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo, hi, tab, Ac in _chunks(len(ped), marker, mut, typed, alleles, max_floats // (2 * width)):
            if plan is None:
                lg, res = run_theta(st.father, st.mother, tset, frozenset(), frozenset(), target, tab, Ac, None, None,
                                    theta)
            else:
                lg, res = run(plan, tab, Ac)
            if out is None:
                out_ll[lo:hi] = lg
            else:
                assert res is not None
                out[lo:hi] = distributions(res, lg, k, out_ll[lo:hi])
    return out, out_ll


def child_and_unrelated(ped: Pedigree, marker: Marker, typed: Sequence[int], alleles: NDArray[np.intp], *,
                        child: int, unrelated: int, theta: float, max_floats: int = 24_000_000
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None:
    """With theta > 0, :func:`same_shape_conditionals` of ``child`` (its distributions and the
    log-likelihoods) and the distributions of ``unrelated`` (a founder with no relatives), from
    one run of the unrelated person's network (:func:`~dogtag.genetics.theta.run_theta_child`);
    None where that does not apply (:func:`~dogtag.genetics.theta.child_with_unrelated`:
    ``child`` an untyped leaf whose parents are untyped founders each with two relevant alleles,
    as full siblings' parents). The same numbers as the two calls, to rounding.
    """
    theta = check_theta(theta)
    st = _structure(ped)
    tset = frozenset(typed)
    if theta == 0 or not child_with_unrelated(st.father, st.mother, tset, child):
        return None
    B = alleles.shape[0]
    if B == 1:      # as same_shape_conditionals: a batch of one computed in a batch of two
        got = child_and_unrelated(ped, marker, typed, np.concatenate([alleles, alleles]), child=child,
                                  unrelated=unrelated, theta=theta, max_floats=max_floats)
        assert got is not None
        return got[0][:1], got[1][:1], got[2][:1]
    k = marker.n_alleles
    G = k * (k + 1) // 2
    dist, ll, du = np.empty((B, G)), np.empty(B), np.empty((B, G))
    width = theta_width(st.father, st.mother, tset, unrelated, k, theta, child)
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo, hi, tab, Ac in _chunks(len(ped), marker, marker.has_mutation, typed, alleles,
                                       max_floats // (2 * width)):
            lc, rc, ru = run_theta_child(st.father, st.mother, tset, unrelated, child, tab, Ac, theta)
            dist[lo:hi] = distributions(rc, lc, k, ll[lo:hi])
            du[lo:hi] = distributions(ru, np.zeros(hi - lo), k)
    return dist, ll, du


def target_adds_founder_alleles(ped: Pedigree, typed: Sequence[int], target: int) -> bool:
    """Whether making ``target`` relevant adds founder alleles to the computation on ``ped``
    (fully typed members ``typed``): a founder that was irrelevant, or collapsed (one relevant
    child: only the allele it passes on counts). Then the normaliser of the target's
    distribution is not the likelihood of the data alone (see :func:`same_shape_conditionals`)."""
    st = _structure(ped)
    return _founder_alleles(st.father, st.mother, frozenset(typed), target) \
        != _founder_alleles(st.father, st.mother, frozenset(typed), -1)


@lru_cache(maxsize=4096)
def _founder_alleles(father: tuple[int, ...], mother: tuple[int, ...], typed: frozenset[int], target: int) -> int:
    """Founder alleles summed over (or typed) in the likelihood with ``target`` kept (-1: none)."""
    _, relevant, collapsed = el.relevance(father, mother, typed, target)
    return sum(1 if k in collapsed else 2 for k in range(len(father)) if relevant[k] and father[k] < 0)


def _chunks(size: int, marker: Marker, mut: bool, typed: Sequence[int], alleles: NDArray[np.intp], step: int
            ) -> Iterator[tuple[int, int, Tables, NDArray[np.intp]]]:
    """A batch of one shape (``size`` members, ``alleles`` (B, T, 2) of members ``typed``) in chunks
    of at most ``step`` items (:func:`_spans`): (lo, hi, the marker's tables, lumped where pedprobr
    lumps, the chunk's allele matrix)."""
    base = marker_tables(marker, marker.n_alleles, mut)
    A = _allele_matrix(size, typed, alleles)
    for lo, hi in _spans(alleles.shape[0], max(1, step)):
        Ac = A[lo:hi]
        yield lo, hi, lumped_tables(base, np.arange(Ac.shape[0]), Ac) if lumps(marker, mut) else base, Ac


def _spans(n: int, step: int) -> list[tuple[int, int]]:
    """Chunks (lo, hi) of ``range(n)`` of at most ``step`` rows, except that a last chunk
    of one row joins the chunk before it (see :func:`same_shape_batch` on batches of one)."""
    step = max(step, 2)
    out = [(lo, min(n, lo + step)) for lo in range(0, n, step)]
    if len(out) > 1 and out[-1][1] - out[-1][0] == 1:
        out[-2:] = [(out[-2][0], n)]
    return out


def same_shape_support(ped: Pedigree, marker: Marker, typed: Sequence[int], alleles: NDArray[np.intp], *,
                       target: int, max_floats: int = 24_000_000) -> NDArray[np.bool_]:
    """Genotypes of ``target`` possible without mutation, shape (B, n(n+1)/2): where
    ``same_shape_batch(..., target=target, mutation=False) > 0``, from the same lumped
    elimination (:func:`_lumped_batch`) without sharing the probabilities out."""
    if alleles.shape[0] == 1:
        return same_shape_support(ped, marker, typed, np.concatenate([alleles, alleles]), target=target,
                                  max_floats=max_floats)[:1]
    return _lumped_batch(ped, marker, typed, alleles, target, max_floats, support=True)[0]


def _lumped_batch(ped: Pedigree, marker: Marker, typed: Sequence[int], alleles: NDArray[np.intp],
                  target: int, max_floats: int, support: bool = False) -> tuple[Any, NDArray[np.float64]]:
    """:func:`same_shape_conditionals` without mutation, on each family's own alleles.

    Without mutation the alleles nobody in a family carries are exchangeable, so
    they are lumped into one allele of frequency ``1 - sum(observed)`` (pedprobr's
    rule) and the elimination runs on at most 2T + 1 alleles instead of all of the
    marker's. A lumped genotype's probability is shared out again in proportion to
    the frequencies of the alleles it stands for, which is exact. ``support``: the
    first result is only where that is > 0 (bool), which needs no sharing out.
    """
    B, T = alleles.shape[0], alleles.shape[1]
    k = marker.n_alleles
    f = marker.freqs
    flat = alleles.reshape(B, 2 * T)
    order = np.argsort(flat, axis=1, kind="stable")
    srt = np.take_along_axis(flat, order, axis=1)
    new = np.ones(srt.shape, dtype=bool)
    new[:, 1:] = srt[:, 1:] != srt[:, :-1]
    rank = np.cumsum(new, axis=1) - 1                        # local index, in sorted order
    local = np.empty_like(rank)
    np.put_along_axis(local, order, rank, axis=1)
    lump = 2 * T                                             # the lump's local index
    n = 2 * T + 1
    q = np.zeros((B, n))
    np.put_along_axis(q, rank, f[srt], axis=1)
    seen = np.zeros((B, k), dtype=bool)
    np.put_along_axis(seen, flat, True, axis=1)
    q[:, lump] = np.maximum(1.0 - (f[None, :] * seen).sum(axis=1), 0.0)
    st = _structure(ped)
    plan = el.compile_plan(st.father, st.mother, frozenset(typed), frozenset(), frozenset(), target, n)
    eye = np.broadcast_to(np.eye(n), (1, n, n))
    A = _allele_matrix(len(ped), typed, local.reshape(B, T, 2))
    i, j = np.triu_indices(k)
    out: Any = None
    if target >= 0:
        out = np.empty((B, len(i)), dtype=bool if support else np.float64)
    out_ll = np.empty(B)
    step = max(1, min(max_floats // (2 * _plan_width(plan)), max_floats // (3 * k * k + 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo, hi in _spans(B, step):
            b = hi - lo
            lg, res = run(plan, Tables(q[lo:hi], eye, eye), A[lo:hi])
            if target < 0:
                out_ll[lo:hi] = lg
                continue
            assert res is not None
            tot = res.reshape(b, -1).sum(axis=1)
            ok = np.isfinite(lg) & (tot > 0)
            out_ll[lo:hi] = np.where(ok, lg + np.log(tot), -np.inf)
            # local -> marker alleles: L[b, a] local index of allele a, w its share of the lump
            L = np.full((b, k), lump)
            np.put_along_axis(L, srt[lo:hi], rank[lo:hi], axis=1)
            w = np.where(lump == L, f[None, :] / q[lo:hi, lump:lump + 1], 1.0)
            w = np.nan_to_num(w, nan=0.0, posinf=0.0)
            bb = np.arange(b)[:, None]
            li, lj = L[:, i], L[:, j]
            if support:
                pos = res > 0
                pos |= pos.transpose(0, 2, 1)
                wp = w > 0
                out[lo:hi] = pos[bb, li, lj] & wp[:, i] & wp[:, j] & np.isfinite(lg)[:, None]
                continue
            ww = w[:, i] * w[:, j]
            g = res[bb, li, lj] * ww + np.where(i == j, 0.0, res[bb, lj, li] * ww)
            g[~np.isfinite(lg)] = 0.0
            tot = g.sum(axis=1, keepdims=True)
            out[lo:hi] = np.divide(g, tot, out=np.zeros_like(g), where=tot > 0)
    return out, out_ll
