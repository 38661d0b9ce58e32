"""Proposed individuals: elements joined by unique osteometric matches and by DNA.

Two elements are *linked* by a test family (left-right pairs of one element, one articulation,
one regression pairing) when each is the other's only candidate that the tests did not exclude:
exclusion, not similarity, carries the evidence in osteometric sorting (Byrd & Adams 2003), so a
pair is proposed only when every alternative is excluded. Such a link assumes the true partner
is in the inventory; when it may not be (a few bones of each person spread over many boxes),
turn osteometric links off and let only DNA join elements. DNA links (samples of the two elements
share a profile: the same-source LR reaches the threshold) are applied first, then osteometric
links by decreasing p-value. A link is refused, and reported as a conflict for review, when the
joined group would hold two elements of one kind and side, or a pair that a test excluded (an
osteometric exclusion against a DNA match), or a pair that DNA excludes. Nothing is merged
silently: every element ends in exactly one group, with the links that put it there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dogtag.osteology.inventory import Osteometrics
from dogtag.osteology.sorting import Comparison


@dataclass(frozen=True)
class DnaLink:
    """Two elements whose samples were compared by DNA: log10 of the same-source LR."""

    a: str
    b: str
    log10_lr: float
    samples: tuple[str, str] = ("", "")


@dataclass
class Group:
    """A proposed individual: its elements and the links that joined them."""

    id: str
    elements: list[str]
    links: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "elements": self.elements, "links": self.links}


@dataclass(frozen=True)
class Conflict:
    """A link that was not applied because it contradicts another line of evidence."""

    a: str
    b: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b, "kind": self.kind, "reason": self.reason}


def unique_links(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """Tested pairs in which each element is the other's only non-excluded candidate."""
    fam: dict[tuple[str, str, str, str, str], list[Comparison]] = {}
    for c in comparisons:
        key = (c.test, c.element_a, c.side_a, c.element_b, c.side_b)
        fam.setdefault(key, []).append(c)
    out = []
    for cs in fam.values():
        open_a: dict[str, list[Comparison]] = {}
        open_b: dict[str, list[Comparison]] = {}
        for c in cs:
            if not c.excluded:  # untested pairs stay open: they were not excluded
                open_a.setdefault(c.a, []).append(c)
                open_b.setdefault(c.b, []).append(c)
        for cands in open_a.values():
            if len(cands) == 1 and len(open_b[cands[0].b]) == 1 and cands[0].p_value is not None:
                out.append(cands[0])
    return out


def propose_groups(
    inv: Osteometrics, comparisons: Sequence[Comparison], *, dna: Iterable[DnaLink] = (),
    dna_threshold: float = 4.0, osteometric_links: bool = True,
) -> tuple[list[Group], list[Conflict], list[Comparison]]:
    """Group the inventory's elements into proposed individuals (module doc).

    ``dna_threshold`` is the log10 same-source LR that joins two elements; a log10 LR of
    -inf (or below ``-dna_threshold``) says they come from different people. With
    ``osteometric_links`` False only DNA joins elements (osteometry then only excludes): a
    unique osteometric match is evidence only if the true partner is in the inventory at all.
    Returns the groups (largest first), the conflicts, and the osteometric links applied.
    """
    pos = {e: i for i, e in enumerate(inv.ids)}
    parent = list(range(len(inv)))
    members: dict[int, set[int]] = {i: {i} for i in range(len(inv))}
    links: dict[int, list[dict[str, object]]] = {i: [] for i in range(len(inv))}
    excluded: dict[frozenset[int], str] = {}
    for c in comparisons:
        if c.excluded:
            excluded.setdefault(frozenset((pos[c.a], pos[c.b])),
                                f"{c.test} test p = {c.p_value:.3g}")
    dna = list(dna)
    for d in dna:
        if d.log10_lr < -dna_threshold:
            excluded.setdefault(frozenset((pos[d.a], pos[d.b])),
                                "DNA excludes (log10 LR "
                                f"{'-inf' if d.log10_lr == float('-inf') else f'{d.log10_lr:.1f}'})")

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def clash(ra: int, rb: int) -> str:
        kinds = {(inv.elements[i], inv.sides[i]) for i in members[ra] if inv.sides[i]}
        for j in members[rb]:
            if inv.sides[j] and (inv.elements[j], inv.sides[j]) in kinds:
                return f"the group would hold two {inv.sides[j]} {inv.elements[j]}"
        for i in members[ra]:
            for j in members[rb]:
                why = excluded.get(frozenset((i, j)))
                if why:
                    return f"{inv.ids[i]} and {inv.ids[j]}: {why}"
        return ""

    conflicts: list[Conflict] = []
    applied: list[Comparison] = []

    def join(a: str, b: str, kind: str, link: dict[str, object]) -> bool:
        ra, rb = find(pos[a]), find(pos[b])
        if ra == rb:
            links[ra].append(link)
            return True
        why = clash(ra, rb)
        if why:
            conflicts.append(Conflict(a, b, kind, why))
            return False
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        links[ra] += [*links.pop(rb), link]
        return True

    for d in sorted(dna, key=lambda d: -d.log10_lr):
        if d.log10_lr >= dna_threshold:
            join(d.a, d.b, "dna", {"a": d.a, "b": d.b, "test": "dna", "log10_lr": d.log10_lr,
                                   "samples": list(d.samples)})
    for c in sorted(unique_links(comparisons) if osteometric_links else [],
                    key=lambda c: -(c.p_value or 0.0)):
        if join(c.a, c.b, c.test, {"a": c.a, "b": c.b, "test": c.test, "p_value": c.p_value}):
            applied.append(c)
    roots = sorted(members, key=lambda r: (-len(members[r]), min(members[r])))
    groups = [Group(f"G{k}", [inv.ids[i] for i in sorted(members[r])], links[r])
              for k, r in enumerate(roots, start=1)]
    return groups, conflicts, applied
