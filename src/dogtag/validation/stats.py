"""Statistics of a validation study: exact binomial bounds and binned reliability.

- **Clopper-Pearson** (1934, Biometrika 26:404): the exact 95% interval of a binomial proportion
  x / n from the beta quantiles, lower = B(alpha/2; x, n - x + 1), upper = B(1 - alpha/2; x + 1,
  n - x). With no false identification among n the upper end is 1 - (alpha/2)^(1/n); with n = 0
  nothing is known (the interval is [0, 1]).
- **Reliability** (DeGroot & Fienberg 1983, The Statistician 32:12): posteriors in bins against
  the share of them that is right, each share with its Clopper-Pearson interval; a calibrated
  posterior's mean lies inside its bin's interval.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import beta

__all__ = ["BINS", "clopper_pearson", "reliability"]

#: Bin edges of the reliability table (posterior); finer near 1, where identifications are claimed.
BINS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0)


def clopper_pearson(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval of a proportion of ``x`` successes in ``n`` trials."""
    if not 0 <= x <= n:
        raise ValueError(f"need 0 <= x <= n, got x={x}, n={n}")
    a = 1.0 - level
    lo = 0.0 if x == 0 else float(beta.ppf(a / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(beta.ppf(1 - a / 2, x + 1, n - x))
    return lo, hi


def reliability(points: Sequence[tuple[float, bool]], bins: Sequence[float] = BINS) -> list[dict[str, Any]]:
    """Binned posteriors (posterior, right?) with the share right and its 95% interval per bin."""
    ps = np.array([p for p, _ in points], dtype=float)
    ok = np.array([r for _, r in points], dtype=bool)
    out = []
    for lo, hi in itertools.pairwise(bins):
        sel = (ps >= lo) & ((ps < hi) if hi < bins[-1] else (ps <= hi))
        n, k = int(sel.sum()), int(ok[sel].sum())
        band = clopper_pearson(k, n) if n else (0.0, 1.0)
        out.append({"bin": [lo, hi], "n": n, "mean_posterior": float(ps[sel].mean()) if n else None,
                    "fraction_true": k / n if n else None, "band_95": [round(band[0], 4), round(band[1], 4)]})
    return out
