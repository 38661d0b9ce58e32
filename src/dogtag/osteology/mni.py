"""Minimum and most likely number of individuals.

**MNI** is the count of the most repeated element and side (White 1953; for fragmentary
elements, of the most repeated zone of an element and side, Knüsel & Outram 2004): no fewer
people can have left these bones. A complete element counts in every zone of its kind; a
fragment only in the zones it preserves.

**Lincoln index and MLNI** (Adams & Konigsberg 2004, *Am J Phys Anthropol* 125:138-151): with
L left and R right elements of one kind of which P pairs are recognised, the Lincoln index is
L R / P and the most likely number of individuals MLNI = (L + 1)(R + 1) / (P + 1) - 1. Under
their model the number of pairs is hypergeometric,

    Pr(P | N, L, R) = C(L, P) C(N - L, R - P) / C(N, R),   N >= L + R - P,

and the confidence interval is the profile-likelihood interval: every N whose log-likelihood
lies within chi2_1(level) / 2 of the maximum. With P = 0 the likelihood rises without bound
in N: the upper limit is reported as None (not estimable), never as a number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dogtag.osteology.inventory import Osteometrics


@dataclass(frozen=True)
class MNI:
    """The minimum number of individuals and the element, side and zone that set it."""

    mni: int
    element: str
    side: str
    zone: str
    counts: dict[tuple[str, str, str], int]

    def to_dict(self) -> dict[str, object]:
        return {"mni": self.mni, "element": self.element, "side": self.side, "zone": self.zone}


def mni(inv: Osteometrics, rows: list[int] | None = None) -> MNI:
    """MNI of the elements ``rows`` of ``inv`` (all when None): the most repeated element/side/zone.

    Elements whose side is unknown count on their own (``side`` ``""``); they can raise MNI only
    for unpaired bones, since a sided bone of unknown side may be either.
    """
    idx = range(len(inv)) if rows is None else rows
    zones: dict[str, set[str]] = {}
    for i in idx:
        zones.setdefault(inv.elements[i], set()).update(inv.portions[i])
    counts: Counter[tuple[str, str, str]] = Counter()
    for i in idx:
        e = inv.elements[i]
        for z in inv.portions[i] or (sorted(zones[e]) or ["complete"]):
            counts[(e, inv.sides[i], z)] += 1
    if not counts:
        return MNI(0, "", "", "", {})
    (e, s, z), n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return MNI(n, e, s, z, dict(counts))


def lincoln_index(left: int, right: int, pairs: int) -> float | None:
    """L R / P (None when no pair is recognised: not estimable)."""
    _check(left, right, pairs)
    return left * right / pairs if pairs else None


def _check(left: int, right: int, pairs: int) -> None:
    if min(left, right, pairs) < 0 or pairs > min(left, right):
        raise ValueError(f"left, right, pairs: {left}, {right}, {pairs}; expected "
                         "0 <= pairs <= min(left, right)")


def log_likelihood(n: int, left: int, right: int, pairs: int) -> float:
    """log Pr(P = pairs | N = n, L, R), hypergeometric (Adams & Konigsberg 2004)."""
    if n < left + right - pairs:
        return -np.inf
    return float(stats.hypergeom.logpmf(pairs, n, left, right))


@dataclass(frozen=True)
class MLNI:
    """Most likely number of individuals of one element with its profile-likelihood interval."""

    element: str
    left: int
    right: int
    pairs: int
    mlni: float
    lincoln: float | None
    lower: int
    upper: int | None
    level: float

    def to_dict(self) -> dict[str, object]:
        return {"element": self.element, "left": self.left, "right": self.right,
                "pairs": self.pairs, "mlni": round(self.mlni, 3), "lincoln_index":
                None if self.lincoln is None else round(self.lincoln, 3),
                "ci": [self.lower, self.upper], "level": self.level}


def mlni(left: int, right: int, pairs: int, *, element: str = "", level: float = 0.95) -> MLNI:
    """MLNI = (L+1)(R+1)/(P+1) - 1 with its profile-likelihood interval (module doc)."""
    _check(left, right, pairs)
    if not 0 < level < 1:
        raise ValueError(f"level: {level!r}, expected a number between 0 and 1")
    est = (left + 1) * (right + 1) / (pairs + 1) - 1
    lo_n = left + right - pairs
    cut = stats.chi2.ppf(level, 1) / 2
    if pairs == 0:
        # the likelihood rises with N towards its supremum 1 (log 0): no upper limit
        lower = _walk(left, right, 0, lo_n, -cut, up=True, within=False)
        return MLNI(element, left, right, 0, est, None, lower, None, level)
    # the maximum-likelihood N is floor(L R / P) (Chapman 1951); the likelihood is unimodal
    best_n = max(lo_n, (left * right) // pairs)
    floor = log_likelihood(best_n, left, right, pairs) - cut
    lower = _walk(left, right, pairs, best_n, floor, up=False, within=True)
    upper = _walk(left, right, pairs, best_n, floor, up=True, within=True)
    return MLNI(element, left, right, pairs, est, left * right / pairs, lower, upper, level)


def _walk(left: int, right: int, pairs: int, start: int, floor: float, *, up: bool,
          within: bool) -> int:
    """From ``start``, the last N still within ``floor`` (``within``) or the first N reaching it."""
    lo_n = left + right - pairs
    step, n = 256, start
    while True:
        ns = np.arange(n, n + step) if up else np.arange(n, max(lo_n - 1, n - step), -1)
        if not len(ns):
            return lo_n
        ll = stats.hypergeom.logpmf(pairs, ns, left, right)
        ok = ll >= floor
        if within:
            if not ok.all():
                return int(ns[np.argmin(ok)] - (1 if up else -1))
        elif ok.any():
            return int(ns[np.argmax(ok)])
        if not up and ns[-1] == lo_n:
            return lo_n
        n = int(ns[-1]) + (1 if up else -1)
        step *= 2
