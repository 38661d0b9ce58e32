"""Held-out validation: inventories built from reference individuals left out of the reference.

The individuals of a reference sample are dealt into ``folds`` by the order of their ids (no
randomness: the figures are reproducible). Each fold in turn becomes an inventory whose
elements are named ``<individual>:<side>:<element>``, sorted against the other folds; true
left-right pairs are those of one individual. :func:`leave_one_out` holds out one individual
at a time instead (the largest reference each true pair can have; no false pairs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from dogtag.osteology.inventory import Osteometrics
from dogtag.osteology.sorting import (
    SortOptions,
    difference_test,
    element_codes,
    pair_match,
    reference_pairs,
)


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
        """Clopper-Pearson interval of the true-pair kept rate (NaN without true pairs)."""
        return _clopper_pearson(self.true_kept, self.true_pairs, level)

    def excluded_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the false-pair exclusion rate (false pairs sharing a
        left or right element are not independent: read it as a lower bound on the width)."""
        return _clopper_pearson(self.false_excluded, self.false_pairs, level)

    def __add__(self, other: PairRates) -> PairRates:
        """Counts pooled over two elements (``element`` joined by ``+``)."""
        return PairRates(f"{self.element}+{other.element}", self.true_pairs + other.true_pairs,
                         self.true_kept + other.true_kept, self.false_pairs + other.false_pairs,
                         self.false_excluded + other.false_excluded,
                         self.untested + other.untested)

    def to_dict(self) -> dict[str, object]:
        """The counts, rates and 95 % intervals; a rate of no pairs is None."""
        def rate(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 4)

        def ci(lo: float, hi: float) -> list[float] | None:
            return None if math.isnan(lo) else [round(lo, 4), round(hi, 4)]

        return {"element": self.element, "true_pairs": self.true_pairs,
                "true_kept": self.true_kept, "kept_rate": rate(self.kept_rate),
                "kept_ci95": ci(*self.kept_interval()), "false_pairs": self.false_pairs,
                "false_excluded": self.false_excluded,
                "excluded_rate": rate(self.excluded_rate),
                "excluded_ci95": ci(*self.excluded_interval()), "untested": self.untested}


def _clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    if not n:
        return math.nan, math.nan
    ci = stats.binomtest(k, n).proportion_ci(level)
    return float(ci.low), float(ci.high)


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


def leave_one_out_p(
    ref: Osteometrics, element: str, *, options: SortOptions | None = None,
) -> tuple[list[str], NDArray[np.float64], NDArray[np.int64]]:
    """The p-value of each individual's own left-right pair, the individual held out alone.

    Every reference individual with a left and a right ``element`` is tested, one at a time, as
    the pair (its left, its right) against the reference of all the *other* individuals: the
    test :func:`pair_match` makes of that individual's two elements against ``ref`` without him
    (a test checks the two agree), with the largest reference a held-out pair can have.

    Returns the individuals' ids, their p-values (NaN where the pair could not be tested) and
    the number of measurements each pair was compared on.
    """
    options = options or SortOptions()
    codes = element_codes(ref, ref, element)
    rights = {ref.ids[j] for j in ref.rows(element, "right")}
    ids = [ref.ids[i] for i in ref.rows(element, "left") if ref.ids[i] in rights]  # as x, y
    x, y = reference_pairs(ref, element, "left", element, "right", codes, codes)
    # measurements of the element in the whole reference; one only the held-out individual
    # has is not among pair_match's codes against the others
    measured = (~np.isnan(ref.measures(ref.rows(element), codes))).sum(axis=0)
    p = np.full(len(x), np.nan)
    used = np.zeros(len(x), dtype=np.int64)
    everyone = np.arange(len(x))
    for i in everyone:
        others = everyone != i
        own = (~np.isnan(x[i])).astype(int) + (~np.isnan(y[i])).astype(int)
        usable = measured - own > 0
        xi, yi = np.where(usable, x[i], np.nan)[None, :], np.where(usable, y[i], np.nan)[None, :]
        pi, _, _, shared = difference_test(xi, yi, x[others], y[others], options)
        p[i], used[i] = pi[0, 0], shared.sum()
    return ids, p, used


def leave_one_out(ref: Osteometrics, element: str, *,
                  options: SortOptions | None = None) -> PairRates:
    """True left-right pairs of ``element`` kept, each individual held out alone
    (:func:`leave_one_out_p`). There are no false pairs (``false_pairs`` 0): :func:`pair_rates`
    counts those."""
    options = options or SortOptions()
    _, p, _ = leave_one_out_p(ref, element, options=options)
    tested = p[~np.isnan(p)]
    return PairRates(element, len(tested), int((tested > options.alpha).sum()), 0, 0,
                     int(np.isnan(p).sum()))


def paired_elements(ref: Osteometrics) -> list[str]:
    """The elements of which some reference individual has a measured left and right."""
    have: dict[tuple[str, str], set[str]] = {}
    for r in np.flatnonzero(~np.isnan(ref.values).all(axis=1)):
        if ref.sides[r] in ("left", "right"):
            have.setdefault((ref.elements[r], ref.sides[r]), set()).add(ref.ids[r])
    return sorted(e for (e, s), ids in have.items()
                  if s == "left" and ids & have.get((e, "right"), set()))
