"""The validation study's reliability plot (``dogtag validate --plot FILE``).

matplotlib is imported on use (Agg backend), as the package's other figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["reliability_plot"]

_FLOOR = 1e-6   # 1 - posterior below this is drawn at six nines
_STYLE = (("#4a6fa5", "o"), ("#b03a2e", "s"), ("#2e8b57", "^"), ("#8e44ad", "D"))


def reliability_plot(series: Mapping[str, list[dict[str, Any]]], path: str | Path, *,
                     thresholds: Mapping[str, float] | None = None, title: str | None = None) -> Path:
    """Draw binned posteriors against the share right, each with its 95% band.

    ``series`` maps a label to reliability bins (:func:`dogtag.validation.stats.reliability`:
    ``mean_posterior``, ``fraction_true``, ``n``, ``band_95``); empty bins are left out. Each
    point is a bin (x: the mean posterior of its individuals, y: the share of them that is the
    right missing person) with its Clopper-Pearson 95% interval as an error bar and ``n`` beside
    it. ``thresholds`` (label -> posterior) are drawn as vertical lines. The left panel shows the
    whole range, the right one the posteriors from 0.9 on a scale of nines (-log10(1 - posterior)),
    where identifications are claimed. The format follows the suffix of ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(path)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 5.2), dpi=110)
    for ax, zoom in zip(axes, (False, True), strict=True):
        # the right panel: posteriors from 0.9 on a scale of nines, x = -log10(1 - posterior)
        def x_of(p: float, zoom: bool = zoom) -> float:
            return -math.log10(max(1.0 - p, _FLOOR)) if zoom else p

        lo = 0.9 if zoom else 0.0
        if not zoom:
            ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="calibrated")
        else:
            grid = np.linspace(lo, 1 - _FLOOR, 400)
            ax.plot([x_of(float(g)) for g in grid], grid, color="#999999", linestyle="--", linewidth=1)
        for i, (label, bins) in enumerate(series.items()):
            color, marker = _STYLE[i % len(_STYLE)]
            shown = [b for b in bins if b["n"] and b["mean_posterior"] >= lo]
            if not shown:
                continue
            shift = (i - (len(series) - 1) / 2) * (0.04 if zoom else 0.006)
            xs = [x_of(b["mean_posterior"]) + shift for b in shown]
            ys = [b["fraction_true"] for b in shown]
            err = [[y - b["band_95"][0] for y, b in zip(ys, shown, strict=True)],
                   [b["band_95"][1] - y for y, b in zip(ys, shown, strict=True)]]
            ax.errorbar(xs, ys, yerr=err, fmt=marker, color=color, ecolor=color, elinewidth=1, capsize=2,
                        markersize=5, label=f"{label} ({sum(b['n'] for b in bins)} individuals)")
            for x, y, b in zip(xs, ys, shown, strict=True):
                ax.annotate(str(b["n"]), (x, y), textcoords="offset points", xytext=(3, -9), fontsize=6,
                            color=color)
        for j, (name, t) in enumerate((thresholds or {}).items()):
            if t >= lo:
                ax.axvline(x_of(t), color="#333333", linewidth=1, linestyle=(":", "-.")[j % 2],
                           label=f"{name} {t:g}")
        if zoom:
            ticks = [1, 2, 3, 4, 5, 6]
            ax.set_xticks(ticks, ["0.9", "0.99", "0.999", "0.9999", "0.99999", "≥0.999999"], fontsize=7)
            ax.set_xlim(0.9, 6.3)
        else:
            ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("posterior of the best pairing (bin mean)" + (", scale of nines" if zoom else ""))
        ax.set_ylabel("share that is the right missing person (95% band)")
    axes[0].set_title("all posteriors")
    axes[1].set_title("posteriors from 0.9")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out)
    plt.close(fig)
    return out
