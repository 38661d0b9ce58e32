"""Pedigrees: ids, father/mother index arrays and sex (pedtools' plain representation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import PedigreeError

MALE, FEMALE, UNKNOWN = 1, 2, 0
_SEX_WORDS = {
    "1": MALE, "m": MALE, "male": MALE,
    "2": FEMALE, "f": FEMALE, "female": FEMALE,
    "0": UNKNOWN, "": UNKNOWN, "u": UNKNOWN, "unknown": UNKNOWN, "na": UNKNOWN, "none": UNKNOWN,
}


def parse_sex(value: object) -> int:
    """1 (male), 2 (female) or 0 (unknown) from 1/2/0, 'male'/'female'/'unknown', 'M'/'F'."""
    if value is None:
        return UNKNOWN
    key = str(value).strip().lower()
    if key not in _SEX_WORDS:
        raise ValueError(f"`sex` must be male/female/unknown or 1/2/0, got {value!r}")
    return _SEX_WORDS[key]


@dataclass(frozen=True, eq=False)
class Pedigree:
    """A pedigree.

    Attributes
    ----------
    ids : tuple of str, shape (n,); unique member ids.
    father, mother : ndarray, int64, shape (n,); parent index or -1 for founders.
    sex : ndarray, int8, shape (n,); 1 male, 2 female, 0 unknown.

    Use :meth:`from_table` (validating); the constructor trusts its input.
    """

    ids: tuple[str, ...]
    father: NDArray[np.int64]
    mother: NDArray[np.int64]
    sex: NDArray[np.int8]

    @classmethod
    def from_table(
        cls,
        ids: Sequence[str],
        fathers: Sequence[str | None],
        mothers: Sequence[str | None],
        sexes: Sequence[object],
    ) -> Pedigree:
        """Build and validate a pedigree from parallel columns (id, father, mother, sex).

        Parents are given by id; ``None``, ``""`` and ``"0"`` mean no parent.
        Errors name the people concerned.
        """
        ids = [str(i) for i in ids]
        n = len(ids)
        if not (len(fathers) == len(mothers) == len(sexes) == n):
            raise ValueError("`ids`, `fathers`, `mothers` and `sexes` must have the same length")
        seen: dict[str, int] = {}
        dups = []
        for k, i in enumerate(ids):
            if i in ("", "0"):
                raise PedigreeError(f"invalid id {i!r} (row {k + 1})")
            if i in seen:
                dups.append(i)
            seen[i] = k
        if dups:
            raise PedigreeError(f"duplicated ids: {', '.join(sorted(set(dups)))}")
        sex = np.array([parse_sex(s) for s in sexes], dtype=np.int8)

        def parent(v: str | None) -> str | None:
            return None if v is None or str(v).strip() in ("", "0", "NA") else str(v).strip()

        fa = np.full(n, -1, dtype=np.int64)
        mo = np.full(n, -1, dtype=np.int64)
        unknown, one_parent, wrong_sex, self_parent = [], [], [], []
        for k in range(n):
            f, m = parent(fathers[k]), parent(mothers[k])
            if (f is None) != (m is None):
                one_parent.append(ids[k])
                continue
            if f is None or m is None:
                continue
            for p in (f, m):
                if p not in seen:
                    unknown.append(f"{p} (parent of {ids[k]})")
            if f not in seen or m not in seen:
                continue
            if f == ids[k] or m == ids[k]:
                self_parent.append(ids[k])
            fa[k], mo[k] = seen[f], seen[m]
            if sex[fa[k]] == FEMALE:
                wrong_sex.append(f"{f} is female but father of {ids[k]}")
            if sex[mo[k]] == MALE:
                wrong_sex.append(f"{m} is male but mother of {ids[k]}")
        if unknown:
            raise PedigreeError("parents do not appear in `ids`: " + ", ".join(unknown))
        if one_parent:
            raise PedigreeError(
                "members with only one parent: " + ", ".join(one_parent)
                + " (give both parents or none; add an untyped founder for the other)"
            )
        if self_parent:
            raise PedigreeError("members who are their own parent: " + ", ".join(self_parent),
                                members=tuple(self_parent))
        if wrong_sex:
            raise PedigreeError("parent of the wrong sex: " + "; ".join(wrong_sex),
                                members=tuple(w.split()[0] for w in wrong_sex))
        ped = cls(tuple(ids), fa, mo, sex)
        cyc = ped._cycle_members()
        if cyc:
            raise PedigreeError("pedigree has a cycle (someone is their own ancestor): "
                                + " -> ".join(cyc) + " (each is a parent of the one before)",
                                members=tuple(cyc))
        return ped

    # --- basic queries -------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def index(self, member: str) -> int:
        try:
            return self.ids.index(member)
        except ValueError:
            raise KeyError(f"{member!r} is not in the pedigree") from None

    def __contains__(self, member: object) -> bool:
        return member in self.ids

    @property
    def founders(self) -> list[int]:
        return [k for k in range(len(self)) if self.father[k] < 0]

    def children(self, k: int) -> list[int]:
        return [c for c in range(len(self)) if self.father[c] == k or self.mother[c] == k]

    def topological_order(self) -> list[int]:
        """Member indices with parents before children."""
        order: list[int] = []
        state = [0] * len(self)
        for start in range(len(self)):
            stack = [(start, False)]
            while stack:
                k, done = stack.pop()
                if done:
                    if state[k] != 2:
                        state[k] = 2
                        order.append(k)
                    continue
                if state[k]:
                    continue
                state[k] = 1
                stack.append((k, True))
                for p in (self.father[k], self.mother[k]):
                    if p >= 0 and not state[p]:
                        stack.append((int(p), False))
        return order

    def _cycle_members(self) -> list[str]:
        """Ids of one cycle in parent order (``[a, b, a]``: b is a parent of a and a of b), or []."""
        return [self.ids[k] for k in find_cycle(self.father, self.mother)]

    def with_sex(self, member: str, sex: int) -> Pedigree:
        s = self.sex.copy()
        s[self.index(member)] = sex
        return Pedigree(self.ids, self.father, self.mother, s)

    def as_rows(self) -> list[tuple[str, str | None, str | None, int]]:
        """(id, father, mother, sex) rows."""
        return [
            (
                self.ids[k],
                self.ids[self.father[k]] if self.father[k] >= 0 else None,
                self.ids[self.mother[k]] if self.mother[k] >= 0 else None,
                int(self.sex[k]),
            )
            for k in range(len(self))
        ]

    def add_members(self, rows: Sequence[tuple[str, str | None, str | None, object]]) -> Pedigree:
        """A new pedigree with extra (id, father, mother, sex) rows (validated)."""
        allrows = self.as_rows() + [(str(i), f, m, parse_sex(s)) for i, f, m, s in rows]
        return Pedigree.from_table(*zip(*allrows, strict=True))

    def relabel(self, mapping: dict[str, str]) -> Pedigree:
        return Pedigree(tuple(mapping.get(i, i) for i in self.ids), self.father, self.mother, self.sex)


Parents = Sequence[int] | NDArray[np.int64]


def find_cycle(father: Parents, mother: Parents) -> list[int]:
    """One cycle of the parent graph as member indices ``[a, p, ..., a]`` (each the next one's
    child), or [] when there is none. Iterative depth-first search: O(n), no recursion limit."""
    n = len(father)
    state = [0] * n  # 0 new, 1 on the current path, 2 done
    for start in range(n):
        if state[start]:
            continue
        path: list[int] = []
        stack = [(start, 0)]
        while stack:
            k, i = stack.pop()
            if i == 0:
                state[k] = 1
                path.append(k)
            parents = (int(father[k]), int(mother[k]))
            if i < 2:
                stack.append((k, i + 1))
                p = parents[i]
                if p >= 0:
                    if state[p] == 1:
                        return [*path[path.index(p):], p]
                    if state[p] == 0:
                        stack.append((p, 0))
                continue
            state[k] = 2
            path.pop()
    return []


def singletons(ids: Sequence[str], sexes: Sequence[object]) -> Pedigree:
    """Unrelated individuals (the usual 'unrelated' hypothesis)."""
    return Pedigree.from_table(ids, [None] * len(ids), [None] * len(ids), sexes)


def union(*peds: Pedigree) -> Pedigree:
    """Disjoint union of pedigrees (ids must not overlap)."""
    rows = [r for p in peds for r in p.as_rows()]
    return Pedigree.from_table(*zip(*rows, strict=True))


# --- builders for the usual references -----------------------------------
# Each returns a pedigree in which ``a`` and ``b`` stand in the named relation,
# with untyped connecting founders named "f1", "m1", ... (pedtools style).

def nuclear(n_children: int = 1, *, father: str = "FA", mother: str = "MO",
            children: Sequence[str] | None = None, sexes: Sequence[int] | None = None) -> Pedigree:
    kids = list(children) if children is not None else [f"CH{k + 1}" for k in range(n_children)]
    ks = list(sexes) if sexes is not None else [MALE] * len(kids)
    return Pedigree.from_table(
        [father, mother, *kids], [None, None] + [father] * len(kids),
        [None, None] + [mother] * len(kids), [MALE, FEMALE, *ks],
    )


def parent_child(parent: str, child: str, *, parent_sex: int = MALE, child_sex: int = MALE) -> Pedigree:
    other = "m1" if parent_sex == MALE else "f1"
    fa, mo = (parent, other) if parent_sex == MALE else (other, parent)
    return Pedigree.from_table(
        [fa, mo, child], [None, None, fa], [None, None, mo],
        [MALE, FEMALE, child_sex],
    )


def full_siblings(a: str, b: str, *, sex_a: int = MALE, sex_b: int = MALE) -> Pedigree:
    return nuclear(children=[a, b], sexes=[sex_a, sex_b], father="f1", mother="m1")


def half_siblings(a: str, b: str, *, sex_a: int = MALE, sex_b: int = MALE,
                  paternal: bool = True) -> Pedigree:
    if paternal:
        ids = ["f1", "m1", "m2", a, b]
        fa = [None, None, None, "f1", "f1"]
        mo = [None, None, None, "m1", "m2"]
        sx = [MALE, FEMALE, FEMALE, sex_a, sex_b]
    else:
        ids = ["f1", "f2", "m1", a, b]
        fa = [None, None, None, "f1", "f2"]
        mo = [None, None, None, "m1", "m1"]
        sx = [MALE, MALE, FEMALE, sex_a, sex_b]
    return Pedigree.from_table(ids, fa, mo, sx)


def grandparent(grandparent: str, grandchild: str, *, grandparent_sex: int = MALE,
                grandchild_sex: int = MALE) -> Pedigree:
    """Paternal grandparent: grandparent -> f1 (son) -> grandchild."""
    other = "m1" if grandparent_sex == MALE else "f1x"
    gf, gm = (grandparent, other) if grandparent_sex == MALE else (other, grandparent)
    return Pedigree.from_table(
        [gf, gm, "f2", "m2", grandchild],
        [None, None, gf, None, "f2"],
        [None, None, gm, None, "m2"],
        [MALE, FEMALE, MALE, FEMALE, grandchild_sex],
    )


def avuncular(uncle: str, nephew: str, *, uncle_sex: int = MALE, nephew_sex: int = MALE) -> Pedigree:
    """Uncle/aunt and nephew/niece: the uncle is a full sibling of the nephew's father."""
    return Pedigree.from_table(
        ["f1", "m1", uncle, "f2", "m2", nephew],
        [None, None, "f1", "f1", None, "f2"],
        [None, None, "m1", "m1", None, "m2"],
        [MALE, FEMALE, uncle_sex, MALE, FEMALE, nephew_sex],
    )


def first_cousins(a: str, b: str, *, sex_a: int = MALE, sex_b: int = MALE) -> Pedigree:
    return Pedigree.from_table(
        ["f1", "m1", "f2", "m2", "f3", "m3", a, b],
        [None, None, "f1", None, "f1", None, "f2", "f3"],
        [None, None, "m1", None, "m1", None, "m2", "m3"],
        [MALE, FEMALE, MALE, FEMALE, MALE, FEMALE, sex_a, sex_b],
    )


def missing_person_hypotheses(reference: Pedigree, missing: str, poi: str, *,
                              poi_sex: int | None = None) -> tuple[Pedigree, Pedigree]:
    """The standard pair: H1 the POI is the missing person; H2 the POI is unrelated.

    H1 relabels ``missing`` as ``poi`` in ``reference``; H2 keeps the reference
    pedigree (with ``missing`` untyped) and adds ``poi`` as an unrelated singleton.
    """
    k = reference.index(missing)
    if poi in reference and poi != missing:
        raise PedigreeError(f"POI {poi!r} is already a member of the reference pedigree")
    h1 = reference.relabel({missing: poi})
    sex = int(reference.sex[k]) if poi_sex is None else poi_sex
    if poi_sex is not None:
        h1 = h1.with_sex(poi, poi_sex)
    h2 = reference.add_members([(poi, None, None, sex)])
    return h1, h2
