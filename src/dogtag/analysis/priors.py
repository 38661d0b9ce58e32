"""Open-world priors for a registry-wide identification (docs/priors.md states and justifies them).

Remains may be nobody on the list of missing persons (foreign remains, other conflicts, people
never reported). For remains ``u`` and each missing person ``m`` still unaccounted for, the prior
probability (before the one-remains-per-person constraint of the joint identification) is

    P(u = m)         = (1 - p_off) * [ p_context * ctx(m) / n_ctx + (1 - p_context) * ok(m) / n_ok ]
    P(u = nobody)    = p_off

- ``p_off`` by the kind of operation the remains came from (:attr:`PriorSettings.p_off`);
- ``ok(m)`` = 1 unless ``m`` was lost *after* the remains were in custody (the accession's
  received date, else the operation's start): such a person cannot be these remains
  (:attr:`PriorSettings.dates`); ``n_ok`` = how many are ok;
- ``ctx(m)`` = 1 when ``m``'s loss incident is linked to the operation (the turnover, disinterment
  or recovery the remains came from), or, for an operation with a site but no linked incident,
  when the loss place lies within :attr:`PriorSettings.radius_km` of the site; ``n_ctx`` = how
  many (among the ok ones). Without context the prior is ``(1 - p_off) / n_ok``: of order
  1/(number of candidates), as ICMP's prior from the number of missing (Parsons et al. 2019).

The missing persons' unit is not used: it enters through the loss incident. Every factor is a
field of :class:`PriorSettings`, recorded with each result (:meth:`PriorSettings.as_dict`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_P_OFF", "Origin", "PersonContext", "PriorSettings", "PriorTable"]

#: P(remains are nobody on the list), by the kind of operation they came from. Turnover: of the
#: individuals of the K55 boxes about half were not Americans (DPAA 2024: 93 Americans
#: identified, 88 South Koreans repatriated). Disinterment of graves of US unknowns: the remains
#: were buried as US service members after an examination, few are others. Field recovery and
#: investigation: a US loss site, where local remains are possible. Unknown origin: an open guess.
DEFAULT_P_OFF: dict[str, float] = {"turnover": 0.5, "disinterment": 0.05, "recovery": 0.1,
                                   "investigation": 0.1, "unknown": 0.2}


def _p_off_default() -> dict[str, float]:
    return dict(DEFAULT_P_OFF)


@dataclass(frozen=True)
class PriorSettings:
    """The factors of the open-world prior (see the module docstring); all overridable."""

    p_off: Mapping[str, float] = field(default_factory=_p_off_default)
    p_context: float = 0.8
    dates: bool = True
    radius_km: float = 10.0
    name: str = "open world with context"

    def __post_init__(self) -> None:
        for k, v in self.p_off.items():
            if not 0.0 <= v < 1.0:
                raise ValueError(f"`p_off[{k!r}]` must be in [0, 1), got {v}")
        if "unknown" not in self.p_off:
            raise ValueError("`p_off` needs an 'unknown' entry (remains of no known operation)")
        if not 0.0 <= self.p_context < 1.0:
            raise ValueError(f"`p_context` must be in [0, 1), got {self.p_context}")
        if self.radius_km < 0:
            raise ValueError(f"`radius_km` must be >= 0, got {self.radius_km}")

    def without_context(self) -> PriorSettings:
        """The same open world with no context: every ok person equally likely (ICMP-like)."""
        return dataclasses.replace(self, p_context=0.0, radius_km=0.0, name="open world without context")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "p_off": dict(self.p_off), "p_context": self.p_context, "dates": self.dates,
                "radius_km": self.radius_km}


@dataclass(frozen=True)
class Origin:
    """Where remains came from: the operation's kind, linked incidents, site, custody date."""

    kind: str | None = None
    incidents: tuple[int, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    custody_date: dt.date | None = None


@dataclass(frozen=True)
class PersonContext:
    """Per missing person (arrays of shape (N,)): loss incident id (-1 none), loss date
    (days since 1970, nan unknown), loss place (nan unknown)."""

    incident: NDArray[np.int64]
    loss_day: NDArray[np.float64]
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]

    @classmethod
    def build(cls, incident: Sequence[int | None], loss_date: Sequence[dt.date | None],
              place: Sequence[tuple[float | None, float | None]]) -> PersonContext:
        epoch = dt.date(1970, 1, 1)
        return cls(np.array([-1 if i is None else i for i in incident], dtype=np.int64),
                   np.array([np.nan if d is None else (d - epoch).days for d in loss_date], dtype=np.float64),
                   np.array([np.nan if a is None else a for a, _ in place], dtype=np.float64),
                   np.array([np.nan if b is None else b for _, b in place], dtype=np.float64))

    def __len__(self) -> int:
        return len(self.incident)


def _km(lat1: float, lon1: float, lat2: NDArray[np.float64], lon2: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle distance (km, haversine, Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - math.radians(lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class PriorTable:
    """The prior of every origin over the N missing persons (vectors cached per origin)."""

    def __init__(self, settings: PriorSettings, persons: PersonContext):
        self.settings = settings
        self.persons = persons
        self._cache: dict[Origin, tuple[NDArray[np.float64], dict[str, Any]]] = {}

    def p_off(self, origin: Origin) -> float:
        """P(nobody on the list) for remains of this origin."""
        po = self.settings.p_off
        return float(po.get(origin.kind or "unknown", po["unknown"]))

    def _build(self, origin: Origin) -> tuple[NDArray[np.float64], dict[str, Any]]:
        s, pc = self.settings, self.persons
        n = len(pc)
        ok = np.ones(n, dtype=bool)
        if s.dates and origin.custody_date is not None:
            day = (origin.custody_date - dt.date(1970, 1, 1)).days
            ok &= ~(pc.loss_day > day)           # nan (unknown loss date) stays ok
        ctx = np.zeros(n, dtype=bool)
        how = "none"
        if origin.incidents:
            ctx = np.isin(pc.incident, np.array(origin.incidents, dtype=np.int64))
            how = "linked incidents"
        elif s.radius_km > 0 and origin.latitude is not None and origin.longitude is not None:
            with np.errstate(invalid="ignore"):
                ctx = _km(origin.latitude, origin.longitude, pc.latitude, pc.longitude) <= s.radius_km
            how = f"loss place within {s.radius_km:g} km of the site"
        ctx &= ok
        on = 1.0 - self.p_off(origin)
        n_ok, n_ctx = int(ok.sum()), int(ctx.sum())
        w = np.zeros(n)
        if n_ok:
            if n_ctx and s.p_context > 0:
                w = on * (s.p_context * ctx / n_ctx + (1.0 - s.p_context) * ok / n_ok)
            else:
                w = on * ok / n_ok
        info = {"p_off": 1.0 - on, "context": how if n_ctx and s.p_context > 0 else "none",
                "n_context": n_ctx, "n_possible": n_ok, "excluded_by_date": n - n_ok}
        return w, info

    def vector(self, origin: Origin) -> NDArray[np.float64]:
        """Prior probability of each missing person, shape (N,); sums to 1 - p_off (or 0)."""
        if origin not in self._cache:
            self._cache[origin] = self._build(origin)
        return self._cache[origin][0]

    def describe(self, origin: Origin) -> dict[str, Any]:
        """The factors that shaped this origin's prior (for the record of a result)."""
        self.vector(origin)
        return dict(self._cache[origin][1])
