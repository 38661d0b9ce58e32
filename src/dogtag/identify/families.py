"""The reference families' side of the blind search: per missing person and marker, the
conditional genotype distribution ``P(G_MP = g | family)``, the genotypes possible without
mutation, and the null log-likelihood of each family.

The families' genotype tables are read once into one allele array per pedigree structure,
shape (families, members, markers, 2). Per marker, the (missing person, family) items of
one shape (structure, fully typed members, target) are one
:func:`~dogtag.genetics.likelihood.same_shape_conditionals` call, on the distinct allele
rows only (each row is computed on its own, so every family gets the same value, bit for
bit, whatever else is in its batch; at 23 STRs about half the items repeat another's data).
The grouping, the deduplication and the scatter into the columns are array operations;
Python loops run over shapes, not families.

The null log-likelihood of a family (its reference data alone) at a marker is the log of the
normaliser of its first missing person's distribution, from the same run, where that equals
it (the missing person untyped there and adding no founder alleles:
:func:`~dogtag.genetics.likelihood.target_adds_founder_alleles`); otherwise, and for families with
no missing person, it is computed on its own. The support without mutation is the lumped
elimination of :func:`~dogtag.genetics.likelihood.same_shape_support`. Members with a
half-typed call at a marker go through the general engine
(:func:`~dogtag.genetics.likelihood.loglik_batch`) for that marker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.likelihood import (
    MarkerData,
    child_and_unrelated,
    encode,
    loglik_batch,
    same_shape_conditionals,
    same_shape_support,
    target_adds_founder_alleles,
)
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import Family

__all__ = ["UNRELATED", "Conditionals", "Encoded", "conditionals", "encode_families", "with_unrelated"]

#: floats of the largest elimination intermediate allowed per engine call
BATCH_FLOATS = 2_000_000

#: allele code of a half-typed call's unknown allele (-1: the member is untyped at the marker)
_HALF = -2

#: the id of the unrelated person added to a family's pedigree for the theta denominator
UNRELATED = "<unrelated>"

Progress = Callable[[int, int, str], None]


def with_unrelated(ped: Pedigree) -> Pedigree:
    """``ped`` and one more founder, :data:`UNRELATED`, of unknown sex (last member)."""
    return ped.add_members([(UNRELATED, None, None, 0)])


@dataclass
class _Group:
    """The families of one pedigree structure."""

    ped: Pedigree                      # the first family's pedigree (the structure)
    fam: NDArray[np.intp]              # (F_s,) family index in the batch
    A: NDArray[np.intp]                # (F_s, size, J, 2) allele codes: -1 untyped, -2 unknown allele
    row: NDArray[np.intp]              # (I,) per missing person: its family's row in ``fam``
    target: NDArray[np.intp]           # (I,) its member index
    col: NDArray[np.intp]              # (I,) its column in the batch
    first: NDArray[np.bool_]           # (I,) its family's first missing person


@dataclass
class Encoded:
    """A batch of families read into arrays (:func:`encode_families`)."""

    families: Sequence[Family]
    markers: list[Marker]
    groups: list[_Group]
    n_missing: int
    typed: NDArray[np.int64]           # (J, m): 1 where the column's family has data at marker j
    sex: NDArray[np.int8]              # (m,)


def _codes(m: Marker, g: object, fam: Family, member: str) -> tuple[int, int]:
    try:
        a, b = cast(tuple, g)
        return (_HALF if a is None else m._index[a], _HALF if b is None else m._index[b])
    except (KeyError, TypeError, ValueError):
        raise InconsistentCaseError(f"family {fam.name}: {member}'s genotype {g!r} at {m.name} is not "
                                    "two alleles of its frequency database") from None


def encode_families(families: Sequence[Family], markers: list[Marker]) -> Encoded:
    """The families' genotypes as allele arrays, grouped by pedigree structure.

    A genotype with one allele ``None`` (half-typed) is coded -2 there; (None, None) too,
    and such a (family, marker) goes to the general engine.
    """
    pos = {m.name: j for j, m in enumerate(markers)}
    J = len(markers)
    cache: list[dict[object, tuple[int, int]]] = [{} for _ in markers]
    by: dict[tuple[bytes, bytes], tuple[Pedigree, list[int], list[int], list[list[int]]]] = {}
    col = 0
    sex: list[int] = []
    for fi, fam in enumerate(families):
        ped = fam.pedigree
        size = len(ped)
        ids = {x: k for k, x in enumerate(ped.ids)}
        vals = [-1] * (size * J * 2)
        for member, row in fam.genotypes.items():
            k = ids.get(member)
            if k is None:
                raise InconsistentCaseError(f"family {fam.name}: typed member {member!r} is not in its pedigree")
            base = 2 * J * k
            for name, g in row.items():
                j = pos.get(name)
                if j is None:
                    raise InconsistentCaseError(f"family {fam.name}: {member} is typed at {name}, "
                                                "a marker with no frequencies")
                code = cache[j].get(g)
                if code is None:
                    code = cache[j][g] = _codes(markers[j], g, fam, member)
                vals[base + 2 * j] = code[0]
                vals[base + 2 * j + 1] = code[1]
        key = (ped.father.tobytes(), ped.mother.tobytes())
        hit = by.get(key)
        if hit is None:
            hit = by[key] = (ped, [], [], [])
        hit[1].append(fi)
        hit[2].extend(vals)
        targets = []
        for mp in fam.missing:
            if mp not in ids:
                raise InconsistentCaseError(f"family {fam.name}: missing person {mp!r} is not in its pedigree")
            targets.append(ids[mp])
            sex.append(int(ped.sex[ids[mp]]))
        hit[3].append([col, *targets])
        col += len(fam.missing)
    groups = []
    typed = np.zeros((J, col), dtype=np.int64)
    for ped, fis, vals, tgts in by.values():
        A = np.array(vals, dtype=np.intp).reshape(len(fis), len(ped), J, 2)
        owner = np.array([r for r, t in enumerate(tgts) for _ in t[1:]], dtype=np.intp)
        target = np.array([x for t in tgts for x in t[1:]], dtype=np.intp)
        cols = np.array([t[0] + i for t in tgts for i in range(len(t) - 1)], dtype=np.intp)
        first = np.array([i == 0 for t in tgts for i in range(len(t) - 1)], dtype=bool)
        groups.append(_Group(ped, np.array(fis, dtype=np.intp), A, owner, target, cols, first))
        typed[:, cols] = (A != -1).any(axis=(1, 3))[owner].T
    return Encoded(families, markers, groups, col, typed, np.array(sex, dtype=np.int8))


def _by_key(mask: NDArray[np.bool_], extra: NDArray[np.intp]) -> list[NDArray[np.intp]]:
    """Rows of ``mask`` (items, size) grouped by (mask row, ``extra``), each group in row order."""
    n_items, size = mask.shape
    if n_items == 0:
        return []
    if size <= 40:
        key = (mask.astype(np.int64) @ (np.int64(1) << np.arange(size, dtype=np.int64))) * (size + 1) + extra + 1
        _, inv = np.unique(key, return_inverse=True)
    else:
        _, inv = np.unique(np.column_stack([mask, extra]), axis=0, return_inverse=True)
    inv = inv.reshape(n_items)
    order = np.argsort(inv, kind="stable")
    cuts = np.flatnonzero(np.diff(inv[order])) + 1
    return np.split(order, cuts)


def _twins(ped: Pedigree, typed: Sequence[int]) -> list[list[int]]:
    """Positions in ``typed`` of members that are interchangeable: typed children of the same
    parents with no children of their own. Only a parent's sex enters the likelihood (the
    mutation matrix of its meioses), so exchanging such members' genotypes changes nothing."""
    parents = {int(x) for x in ped.father} | {int(x) for x in ped.mother}
    by: dict[tuple[int, int], list[int]] = {}
    for i, k in enumerate(typed):
        if ped.father[k] >= 0 and k not in parents:
            by.setdefault((int(ped.father[k]), int(ped.mother[k])), []).append(i)
    return [g for g in by.values() if len(g) > 1]


def _distinct(alleles: NDArray[np.intp], k: int, twins: Sequence[Sequence[int]] = ()
              ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct rows of ``alleles`` (B, T, 2), in lexicographic order, and each row's index among them.

    Rows are first made canonical, which is exact: each member's two alleles in increasing
    order (a genotype is unordered: the engine sums over both phases), and the genotypes of
    interchangeable members (``twins``, positions in T: :func:`_twins`) in increasing order.
    """
    B, T = alleles.shape[0], alleles.shape[1]
    if T == 0:
        return alleles[:1], np.zeros(B, dtype=np.intp)
    alleles = np.sort(alleles, axis=2)
    for g in twins:
        sub = alleles[:, g]
        order = np.argsort(sub[:, :, 0] * k + sub[:, :, 1], axis=1, kind="stable")
        alleles[:, g] = np.take_along_axis(sub, order[:, :, None], axis=1)
    flat = alleles.reshape(B, 2 * T)
    if k ** (2 * T) < 2 ** 62:
        key = flat @ (np.int64(k) ** np.arange(2 * T - 1, -1, -1, dtype=np.int64))
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        return alleles[first], inv.reshape(B)
    uniq, inv = np.unique(flat, axis=0, return_inverse=True)
    return uniq.reshape(-1, T, 2), inv.reshape(B)


@dataclass
class Conditionals:
    """What :func:`conditionals` computes for a batch of families (see ``FamilyBatch`` in
    :mod:`dogtag.identify.search` for the arrays' meaning), per marker of ``markers``."""

    cond: list[NDArray[np.float64]]            # (G_j, m)
    support: list[NDArray[np.bool_]]           # (G_j + 1, m)
    unrelated: list[NDArray[np.float64]] | None
    null: NDArray[np.float64]                  # (F, J): each family's null log-likelihood per marker


def conditionals(enc: Encoded, js: Sequence[int], *, theta: float = 0.0,
                 progress: Progress | None = None, into: Conditionals | None = None, col: int = 0) -> Conditionals:
    """The missing persons' distributions, supports and the families' null log-likelihoods at markers ``js``.

    ``into``: the distributions and supports (per marker of ``js``) are written into columns
    ``col:col + enc.n_missing`` of its arrays (a batch of which ``enc`` is a part), and those
    columns are returned (views), not arrays of their own; its ``null`` is not used."""
    m_all = enc.markers
    F, n_m = len(enc.families), enc.n_missing
    cond: list[NDArray[np.float64]] = []
    supp: list[NDArray[np.bool_]] = []
    unrel: list[NDArray[np.float64]] | None = [] if theta > 0 else None
    null = np.zeros((F, len(js)))
    total = len(js) * n_m
    done = 0
    for jj, j in enumerate(js):
        m = m_all[j]
        G = m.n_alleles * (m.n_alleles + 1) // 2
        c = np.zeros((n_m, G))
        s = np.zeros((n_m, G + 1), dtype=bool)
        s[:, -1] = True                      # untyped samples: never an exclusion
        u = np.zeros((n_m, G)) if unrel is not None else None
        need = np.ones(F, dtype=bool)        # families whose null is still to compute
        for g in enc.groups:
            Aj = g.A[:, :, j, :]
            odd = np.asarray((Aj == _HALF).any(axis=(1, 2)))
            full = np.asarray((Aj >= 0).all(axis=2))
            items = np.flatnonzero(~odd[g.row])
            mask = full[g.row[items]]
            mask[np.arange(items.size), g.target[items]] = False
            tgt_typed = full[g.row[items], g.target[items]]
            for sel in _by_key(mask, g.target[items]):
                it = items[sel]
                typed = np.flatnonzero(mask[sel[0]]).tolist()
                target = int(g.target[it[0]])
                arr, inv = _distinct(Aj[g.row[it]][:, typed, :], m.n_alleles, _twins(g.ped, typed))
                # with theta, a child of untyped parents (full siblings' references) and the unrelated
                # person from one network where that applies, else each on its own
                aug = None if u is None else with_unrelated(g.ped)
                both = None if aug is None else child_and_unrelated(
                    aug, m, typed, arr, child=target, unrelated=len(g.ped), theta=theta, max_floats=BATCH_FLOATS)
                du: NDArray[np.float64] | None = None
                if both is None:
                    dist, ll = same_shape_conditionals(g.ped, m, typed, arr, target=target, theta=theta,
                                                       max_floats=BATCH_FLOATS)
                    if aug is not None:
                        du, _ = same_shape_conditionals(aug, m, typed, arr, target=len(g.ped), theta=theta,
                                                        max_floats=BATCH_FLOATS)
                else:
                    dist, ll, du = both
                assert dist is not None
                cols = g.col[it]
                c[cols] = dist[inv]
                if u is not None:
                    assert du is not None
                    u[cols] = du[inv]
                if m.has_mutation or theta > 0:
                    s[cols, :-1] = same_shape_support(g.ped, m, typed, arr, target=target,
                                                      max_floats=BATCH_FLOATS)[inv]
                else:
                    s[cols, :-1] = dist[inv] > 0
                if not target_adds_founder_alleles(g.ped, typed, target):
                    use = g.first[it] & ~tgt_typed[sel]
                    rows = g.fam[g.row[it[use]]]
                    null[rows, jj] = ll[inv[use]]
                    need[rows] = False
                done += it.size
                if progress:
                    progress(done, total, "families")
            # the rest of the null log-likelihoods: families by (typed members), no target
            todo = np.flatnonzero(need[g.fam] & ~odd)
            for sel in _by_key(full[todo], np.zeros(todo.size, dtype=np.intp)):
                r = todo[sel]
                typed = np.flatnonzero(full[r[0]]).tolist()
                arr, inv = _distinct(Aj[r][:, typed, :], m.n_alleles, _twins(g.ped, typed))
                _, ll = same_shape_conditionals(g.ped, m, typed, arr, theta=theta, max_floats=BATCH_FLOATS)
                null[g.fam[r], jj] = ll[inv]
            need[g.fam[todo]] = False
            # half-typed members: the general engine
            for fr in np.flatnonzero(odd).tolist():
                fam = enc.families[int(g.fam[fr])]
                d = encode(fam.pedigree, m, fam.genotypes)
                ll0 = loglik_batch([fam.pedigree], [d], theta=theta)
                assert isinstance(ll0, np.ndarray)
                null[g.fam[fr], jj] = float(ll0[0])
                for i in np.flatnonzero(g.row == fr).tolist():
                    target, col = int(g.target[i]), int(g.col[i])
                    typed_d = {p: x for p, x in d.typed.items() if p != target}
                    for mut, th in ((True, theta), (False, 0.0)):
                        dist_l = loglik_batch([fam.pedigree], [MarkerData(m, typed_d)], target=[target],
                                              mutation=mut, theta=th)
                        assert isinstance(dist_l, list)
                        if mut:
                            c[col] = dist_l[0]
                        else:
                            s[col, :-1] = dist_l[0] > 0
                    if u is not None:
                        aug = with_unrelated(fam.pedigree)
                        dist_l = loglik_batch([aug], [MarkerData(m, typed_d)], target=[len(fam.pedigree)],
                                              theta=theta)
                        assert isinstance(dist_l, list)
                        u[col] = dist_l[0]
                    done += 1
        if into is None:
            cond.append(np.ascontiguousarray(c.T))
            supp.append(np.ascontiguousarray(s.T))
        else:
            cond.append(into.cond[jj][:, col:col + n_m])
            cond[-1][...] = c.T
            supp.append(into.support[jj][:, col:col + n_m])
            supp[-1][...] = s.T
        if unrel is not None:
            assert u is not None
            if into is None:
                unrel.append(np.ascontiguousarray(u.T))
            else:
                assert into.unrelated is not None
                unrel.append(into.unrelated[jj][:, col:col + n_m])
                unrel[-1][...] = u.T
    return Conditionals(cond, supp, unrel, null)


def family_totals(null: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each family's null log-likelihood over markers, (F, J) -> (F,), added in marker order
    (so that markers computed apart give the same sum, bit for bit)."""
    total = np.zeros(null.shape[0])
    for j in range(null.shape[1]):
        total += null[:, j]
    return total
