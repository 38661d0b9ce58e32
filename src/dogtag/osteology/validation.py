"""Held-out validation: inventories built from reference individuals left out of the reference.

The individuals of a reference sample are dealt into ``folds`` by the order of their ids (no
randomness: the figures are reproducible). Each fold in turn becomes an inventory whose
elements are named ``<individual>:<side>:<element>``, sorted against the other folds; true
left-right pairs are those of one individual.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dogtag.osteology.inventory import Osteometrics
from dogtag.osteology.sorting import SortOptions, pair_match


def individual_of(element_id: str) -> str:
    """The reference individual of a held-out element id ``<individual>:<side>:<element>``."""
    return element_id.rsplit(":", 2)[0]


def hold_out(ref: Osteometrics, held: set[str]) -> tuple[Osteometrics, Osteometrics]:
    """(inventory of the individuals ``held``, reference of the others)."""
    inside = [i for i, x in enumerate(ref.ids) if x in held]
    outside = [i for i, x in enumerate(ref.ids) if x not in held]
    inv = ref.subset(inside)
    ids = tuple(f"{x}:{s or 'u'}:{e}" for x, s, e in zip(inv.ids, inv.sides, inv.elements,
                                                          strict=True))
    inv = Osteometrics(ids, inv.elements, inv.sides, inv.codes, inv.values, source="held-out")
    return inv, ref.subset(outside)


def folds(ref: Osteometrics, k: int) -> Iterator[tuple[Osteometrics, Osteometrics]]:
    """The k (inventory, reference) splits of :func:`hold_out`, individuals dealt in id order."""
    if k < 2:
        raise ValueError(f"k: {k!r}, expected at least 2")
    people = sorted(set(ref.ids))
    for f in range(k):
        yield hold_out(ref, set(people[f::k]))


@dataclass(frozen=True)
class PairRates:
    """How pair matching treats true and false left-right pairs of one element."""

    element: str
    true_pairs: int
    true_kept: int
    false_pairs: int
    false_excluded: int
    untested: int

    @property
    def kept_rate(self) -> float:
        return self.true_kept / self.true_pairs if self.true_pairs else float("nan")

    @property
    def excluded_rate(self) -> float:
        return self.false_excluded / self.false_pairs if self.false_pairs else float("nan")

    def kept_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the true-pair kept rate."""
        ci = stats.binomtest(self.true_kept, self.true_pairs).proportion_ci(level)
        return float(ci.low), float(ci.high)

    def excluded_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the false-pair exclusion rate (false pairs sharing a
        left or right element are not independent: read it as a lower bound on the width)."""
        ci = stats.binomtest(self.false_excluded, self.false_pairs).proportion_ci(level)
        return float(ci.low), float(ci.high)

    def __add__(self, other: PairRates) -> PairRates:
        """Counts pooled over two elements (``element`` joined by ``+``)."""
        return PairRates(f"{self.element}+{other.element}", self.true_pairs + other.true_pairs,
                         self.true_kept + other.true_kept, self.false_pairs + other.false_pairs,
                         self.false_excluded + other.false_excluded,
                         self.untested + other.untested)

    def to_dict(self) -> dict[str, object]:
        lo, hi = self.kept_interval()
        elo, ehi = self.excluded_interval()
        return {"element": self.element, "true_pairs": self.true_pairs,
                "true_kept": self.true_kept, "kept_rate": round(self.kept_rate, 4),
                "kept_ci95": [round(lo, 4), round(hi, 4)], "false_pairs": self.false_pairs,
                "false_excluded": self.false_excluded,
                "excluded_rate": round(self.excluded_rate, 4),
                "excluded_ci95": [round(elo, 4), round(ehi, 4)], "untested": self.untested}


def pair_rates(ref: Osteometrics, element: str, *, k: int = 5,
               options: SortOptions | None = None) -> PairRates:
    """True pairs kept and false pairs excluded for ``element`` over k held-out folds."""
    tp = tk = fp = fe = un = 0
    for inv, rest in folds(ref, k):
        for c in pair_match(inv, rest, element, options):
            if c.p_value is None:
                un += 1
            elif individual_of(c.a) == individual_of(c.b):
                tp += 1
                tk += not c.excluded
            else:
                fp += 1
                fe += c.excluded
    return PairRates(element, tp, tk, fp, fe, un)


def paired_elements(ref: Osteometrics) -> list[str]:
    """The elements of which some reference individual has a measured left and right."""
    have: dict[tuple[str, str], set[str]] = {}
    for r in np.flatnonzero(~np.isnan(ref.values).all(axis=1)):
        if ref.sides[r] in ("left", "right"):
            have.setdefault((ref.elements[r], ref.sides[r]), set()).add(ref.ids[r])
    return sorted(e for (e, s), ids in have.items()
                  if s == "left" and ids & have.get((e, "right"), set()))
