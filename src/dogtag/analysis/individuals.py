"""Samples grouped into individuals before any identification.

Two samples are one individual (union-find) when they were cut from one element, when their
elements were assigned to one registry individual (the anthropologist's grouping), or when their
autosomal profiles match: identity LR >= ``same_source_lr`` (10^4) on at least ``min_markers`` (6)
loci (:func:`dogtag.identify.samesource.group_same_source`, drop-out allowed). Each individual is
weighed once, so that two samples of one person never compete for that person in the joint
identification: on every autosomal typing of its samples together (replicates, independent given
the person's genotype) and on its most complete mtDNA and Y profiles.

**Conflicts** (reported, and the individual is never proposed until someone resolves them):

- DNA joins samples of two registry individuals: the individuals are one person, or a sample is
  mislabelled; merging them is a recorded action (:func:`dogtag.registry.workflow.merge_individuals`);
- the anthropologist's individual holds samples whose autosomal profiles exclude each other
  (identity log10 LR below ``-exclusion_log10`` on ``min_markers`` loci or more): two people;
- an individual holds samples whose mtDNA haplotypes exclude each other (two or more differences
  over the range both cover: SWGDAM's mtDNA interpretation guidelines, 2019): two maternal lines,
  so two people (or a contaminated typing), whatever their autosomal profiles say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from dogtag.genetics.markers import Marker
from dogtag.genetics.mtdna import MtHaplotype
from dogtag.genetics.mtdna_compare import compare
from dogtag.identify.case import Sample
from dogtag.identify.samesource import group_same_source, identity_lr_matrix

__all__ = ["Grouping", "SampleInfo", "Unit", "group_individuals"]


@dataclass(frozen=True)
class SampleInfo:
    """What the grouping needs of one sample (``auto``: its autosomal profile, ``mtdna``: its
    mtDNA haplotype; None when not typed)."""

    key: str
    element: int | None
    individual: int | None
    auto: Sample | None = None
    mtdna: MtHaplotype | None = None


@dataclass
class Unit:
    """One individual: its samples (registry order) and the conflicts found in it."""

    samples: list[int]                                  # indices into the input samples
    individuals: list[int] = field(default_factory=list)  # registry individuals among them
    conflicts: list[str] = field(default_factory=list)
    dna_links: list[tuple[str, str, float]] = field(default_factory=list)  # same-source pairs (log10 LR)


@dataclass
class Grouping:
    units: list[Unit]
    notes: list[str]


class _UF:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_individuals(samples: Sequence[SampleInfo], markers: Sequence[Marker], *, same_source_lr: float = 1e4,
                      min_markers: int = 6, exclusion_log10: float = 2.0) -> Grouping:
    """Group samples into individuals (see the module docstring)."""
    n = len(samples)
    uf = _UF(n)
    first: dict[tuple[str, int], int] = {}
    for i, s in enumerate(samples):
        for key in (("el", s.element), ("ind", s.individual)):
            if key[1] is None:
                continue
            k = (key[0], int(key[1]))
            if k in first:
                uf.union(i, first[k])
            else:
                first[k] = i
    registry_root = {i: uf.find(i) for i in range(n)}
    auto = [(i, s.auto) for i, s in enumerate(samples) if s.auto is not None and s.auto.genotypes]
    pos = {s.id: i for i, s in auto}
    links: list[tuple[int, int, float]] = []
    if markers and len(auto) > 1:
        for grp in group_same_source([s for _, s in auto], list(markers), threshold=same_source_lr,
                                     min_markers=min_markers):
            a0 = pos[grp.samples[0]]
            for other in grp.samples[1:]:
                uf.union(a0, pos[other])
            links += [(pos[a], pos[b], x) for a, b, x in grp.pairs if x >= math.log10(same_source_lr)]
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(uf.find(i), []).append(i)
    units: list[Unit] = []
    unit_of: dict[int, Unit] = {}
    for root in sorted(members):
        idx = members[root]
        inds = sorted({ind for i in idx if (ind := samples[i].individual) is not None})
        u = Unit(idx, inds)
        units.append(u)
        unit_of[root] = u
        groups = {registry_root[i] for i in idx}
        if len(groups) > 1 and len(inds) > 1:
            u.conflicts.append(f"DNA matches samples of {len(inds)} registry individuals: one person "
                               "(merge the individuals) or a mislabelled sample")
    for a, b, x in links:
        unit_of[uf.find(a)].dna_links.append((samples[a].key, samples[b].key, x))
    notes: list[str] = []
    # the anthropologist's individuals: do their samples' profiles exclude each other?
    by_root: dict[int, list[int]] = {}
    for i, s in enumerate(samples):
        if s.auto is not None and s.auto.genotypes and s.individual is not None:
            by_root.setdefault(registry_root[i], []).append(i)
    for root, idx in by_root.items():
        if len(idx) < 2:
            continue
        llr = identity_lr_matrix([samples[i].auto for i in idx], list(markers))  # type: ignore[misc]
        typed = [set(samples[i].auto.genotypes) for i in idx]  # type: ignore[union-attr]
        bad = [(samples[idx[a]].key, samples[idx[b]].key) for a in range(len(idx)) for b in range(a + 1, len(idx))
               if len(typed[a] & typed[b]) >= min_markers and llr[a, b] < -exclusion_log10]
        if bad:
            u = unit_of[uf.find(root)]
            u.conflicts.append("samples of one registry individual have profiles of different people: "
                               + ", ".join(f"{a} / {b}" for a, b in bad[:5]))
    # every individual: do its samples' mtDNA haplotypes exclude each other?
    for u in units:
        mts = [(samples[i].key, h) for i in u.samples if (h := samples[i].mtdna) is not None]
        bad = [(a, b) for j, (a, ha) in enumerate(mts) for b, hb in mts[j + 1:]
               if compare(ha, hb).verdict == "exclusion"]
        if bad:
            u.conflicts.append("samples of one individual have mtDNA haplotypes of different maternal lines: "
                               + ", ".join(f"{a} / {b}" for a, b in bad[:5]))
    n_conf = sum(bool(u.conflicts) for u in units)
    if n_conf:
        notes.append(f"{n_conf} individuals have grouping conflicts and are not proposed until resolved")
    return Grouping(units, notes)

