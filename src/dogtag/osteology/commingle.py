"""Sort a commingled inventory: MNI, pair matching, articulation, regression, proposed groups.

:func:`sort_inventory` runs every test OsteoSort offers over the whole inventory (elements of
one person may lie in different accessions) and returns one :class:`CommingleResult`, whose
:meth:`~CommingleResult.to_dict` is what ``dogtag commingle --json`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from dogtag import __version__
from dogtag.osteology.groups import Conflict, DnaLink, Group, propose_groups
from dogtag.osteology.inventory import Osteometrics, articulation_config
from dogtag.osteology.mni import MLNI, mlni, mni
from dogtag.osteology.sorting import Comparison, SortOptions, articulate, associate, pair_match

#: Element pairs associated by regression (same side), after Byrd & Adams 2003's examples.
ASSOCIATIONS: tuple[tuple[str, str], ...] = (
    ("humerus", "radius"), ("humerus", "ulna"), ("radius", "ulna"), ("femur", "tibia"),
    ("tibia", "fibula"), ("humerus", "femur"))


@dataclass
class CommingleResult:
    """Everything :func:`sort_inventory` found; ``to_dict`` is its JSON form.

    ``mni`` is the count of the most repeated element and side (a true minimum). ``mlni`` uses,
    as Adams & Konigsberg's P, the pairs joined in the proposed groups (by DNA or by a unique
    osteometric match): pairs the tests leave ambiguous are not recognised, so it is an
    over-estimate while sorting is incomplete. ``pairs_possible`` is, per element, the most
    pairs the exclusions allow, and ``mni_by_exclusion`` = max over elements of
    L + R - pairs_possible: the fewest people consistent with the exclusions (which are wrong
    for a fraction alpha of true pairs, so it is not a guaranteed minimum).
    """

    mni: int
    mni_element: dict[str, object]
    mni_by_accession: dict[str, int]
    mlni: list[MLNI]
    pair_matches: list[Comparison]
    articulations: list[Comparison]
    associations: list[Comparison]
    groups: list[Group]
    conflicts: list[Conflict]
    options: SortOptions
    reference: str
    n_elements: int
    pairs_possible: dict[str, int]
    mni_by_exclusion: int

    def to_dict(self) -> dict[str, object]:
        return {
            "mni": self.mni, "mni_element": self.mni_element,
            "mni_by_accession": self.mni_by_accession,
            "mni_by_exclusion": self.mni_by_exclusion, "pairs_possible": self.pairs_possible,
            "mlni": [m.to_dict() for m in self.mlni],
            "pair_matches": [c.to_dict() for c in self.pair_matches],
            "articulations": [c.to_dict() for c in self.articulations],
            "associations": [c.to_dict() for c in self.associations],
            "groups": [g.to_dict() for g in self.groups],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "n_elements": self.n_elements,
            "provenance": {"software": f"dogtag {__version__}", "reference": self.reference,
                           "options": asdict(self.options),
                           "models": ["Byrd & Adams 2003 (pair matching, regression)",
                                      "Lynch, Byrd & LeGarde 2018 (OsteoSort)",
                                      "Adams & Konigsberg 2004 (MLNI)"]},
        }


def sort_inventory(
    inv: Osteometrics, ref: Osteometrics, *, options: SortOptions | None = None,
    articulations: Sequence[tuple[str, str]] | None = None,
    associations: Sequence[tuple[str, str]] = ASSOCIATIONS,
    dna: Iterable[DnaLink] = (), dna_threshold: float = 4.0, level: float = 0.95,
    osteometric_links: bool = True,
) -> CommingleResult:
    """Sort ``inv`` against reference individuals ``ref`` (see the module and submodules)."""
    options = options or SortOptions()
    arts = articulation_config() if articulations is None else list(articulations)
    paired = sorted({e for e, s in zip(inv.elements, inv.sides, strict=True) if s})
    pairs = [c for e in paired for c in pair_match(inv, ref, e, options)]
    art = [c for a, b in arts for c in articulate(inv, ref, a, b, options)]
    reg = [c for a, b in associations
           for c in associate(inv, ref, a, b, alpha=options.alpha)]
    groups, conflicts, _ = propose_groups(inv, pairs + art + reg, dna=dna,
                                          dna_threshold=dna_threshold,
                                          osteometric_links=osteometric_links)
    joined = _joined_pairs(inv, groups)
    estimates = [mlni(len(inv.rows(e, "left")), len(inv.rows(e, "right")), joined.get(e, 0),
                      element=e, level=level) for e in paired]
    possible = {e: max_pairs([c for c in pairs if c.element_a == e]) for e in paired}
    by_exclusion = max((len(inv.rows(e, "left")) + len(inv.rows(e, "right")) - possible[e]
                        for e in paired), default=0)
    by_acc: dict[str, list[int]] = {}
    for i, a in enumerate(inv.accessions):
        by_acc.setdefault(a, []).append(i)
    whole = mni(inv)
    return CommingleResult(
        whole.mni, whole.to_dict(), {a: mni(inv, rows).mni for a, rows in sorted(by_acc.items())},
        estimates, pairs, art, reg, groups, conflicts, options, ref.source, len(inv),
        possible, by_exclusion)


def max_pairs(comparisons: Sequence[Comparison]) -> int:
    """The most left-right pairs the exclusions allow: a maximum bipartite matching of the
    candidates not excluded (untested candidates stay possible)."""
    open_ = [c for c in comparisons if not c.excluded]
    if not open_:
        return 0
    lefts = {a: i for i, a in enumerate(sorted({c.a for c in open_}))}
    rights = {b: j for j, b in enumerate(sorted({c.b for c in open_}))}
    graph = csr_matrix((np.ones(len(open_)), ([lefts[c.a] for c in open_],
                                               [rights[c.b] for c in open_])),
                       shape=(len(lefts), len(rights)))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def _joined_pairs(inv: Osteometrics, groups: Sequence[Group]) -> dict[str, int]:
    """Per element, the proposed groups holding both its left and its right."""
    pos = {e: i for i, e in enumerate(inv.ids)}
    out: dict[str, int] = {}
    for g in groups:
        kinds = {(inv.elements[pos[e]], inv.sides[pos[e]]) for e in g.elements}
        for el, side in kinds:
            if side == "left" and (el, "right") in kinds:
                out[el] = out.get(el, 0) + 1
    return out
