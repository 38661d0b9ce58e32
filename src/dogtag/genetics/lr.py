"""Likelihood ratios of competing pedigree hypotheses over the same typed people."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics.cases import KinshipCase
from dogtag.genetics.likelihood import loglik

__all__ = ["HypothesisResult", "KinshipResult", "kinship_lr"]


@dataclass(frozen=True)
class HypothesisResult:
    """One hypothesis against the reference.

    Attributes
    ----------
    name : the hypothesis.
    loglik_per_marker : ndarray, float64, shape (n_markers,); natural log, ``-inf`` = impossible.
    lr_per_marker : ndarray, float64, shape (n_markers,); LR against the reference
        (0 = exclusion; ``nan`` where the reference itself is impossible).
    """

    name: str
    loglik_per_marker: NDArray[np.float64]
    lr_per_marker: NDArray[np.float64]

    @property
    def loglik(self) -> float:
        return float(self.loglik_per_marker.sum())

    @property
    def log10_lr(self) -> float:
        with np.errstate(divide="ignore"):
            return float(np.log10(self.lr_per_marker).sum())

    @property
    def lr(self) -> float:
        """Total LR, the product over markers (0 if any marker excludes)."""
        if np.any(np.isnan(self.lr_per_marker)):
            return math.nan
        if np.any(self.lr_per_marker == 0):
            return 0.0
        return float(np.exp(np.log(self.lr_per_marker).sum()))


@dataclass(frozen=True)
class KinshipResult:
    """Per-marker LRs of every hypothesis against ``reference``, computed with ``theta``."""

    markers: list[str]
    reference: str
    hypotheses: list[HypothesisResult]
    theta: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The ``dogtag lr --json`` object: natural-log logliks, ``None`` for log(0) and undefined LRs."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "reference": self.reference,
            "theta": self.theta,
            "hypotheses": [
                {
                    "name": h.name,
                    "loglik": num(h.loglik),
                    "loglik_per_marker": {m: num(v) for m, v in zip(self.markers, h.loglik_per_marker, strict=True)},
                    "lr": num(h.lr),
                    "lr_per_marker": {m: num(v) for m, v in zip(self.markers, h.lr_per_marker, strict=True)},
                }
                for h in self.hypotheses
            ],
        }


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(den)
    with np.errstate(invalid="ignore", over="ignore"):
        out[ok] = np.exp(num[ok] - den[ok])
    return out


def kinship_lr(case: KinshipCase, *, reference: str | None = None) -> KinshipResult:
    """Per-marker and total LRs of every hypothesis against the reference hypothesis.

    Parameters
    ----------
    case : the kinship case.
    reference : name of the denominator (default: the case's reference, else the last hypothesis).
    """
    ref = reference if reference is not None else case.reference_name
    case.hypothesis(ref)  # raises ValueError naming the hypotheses
    ll = {
        h.name: loglik(h.pedigree, case.markers, case.genotypes, theta=case.theta)
        for h in case.hypotheses
    }
    den = ll[ref]
    results = [HypothesisResult(h.name, ll[h.name], _ratio(ll[h.name], den)) for h in case.hypotheses]
    return KinshipResult([m.name for m in case.markers], ref, results, case.theta)
