"""The validation study's reliability plot (``dogtag validate --plot FILE``).

matplotlib is imported on use (Agg backend), as the package's other figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["reliability_plot"]

_STYLE = (("#4a6fa5", "o"), ("#b03a2e", "s"), ("#2e8b57", "^"), ("#8e44ad", "D"))


def reliability_plot(series: Mapping[str, list[dict[str, Any]]], path: str | Path, *,
                     thresholds: Mapping[str, float] | None = None, title: str | None = None) -> Path:
    """Draw binned posteriors against the share right, each with its 95% band.

    ``series`` maps a label to reliability bins (:func:`dogtag.validation.stats.reliability`:
    ``mean_posterior``, ``fraction_true``, ``n``, ``band_95``); empty bins are left out. Each
    point is a bin (x: the mean posterior of its individuals, y: the share of them that is the
    right missing person) with its Clopper-Pearson 95% interval as an error bar and ``n`` beside
    it. ``thresholds`` (label -> posterior) are drawn as vertical lines. The left panel shows the
    whole range, the right one the posteriors from 0.9. The format follows the suffix of ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.8), dpi=110)
    for ax, lo in zip(axes, (0.0, 0.9), strict=True):
        ax.plot([lo, 1], [lo, 1], color="#999999", linestyle="--", linewidth=1, label="calibrated")
        for i, (label, bins) in enumerate(series.items()):
            color, marker = _STYLE[i % len(_STYLE)]
            shown = [b for b in bins if b["n"] and b["mean_posterior"] >= lo - 1e-12]
            if not shown:
                continue
            xs = [b["mean_posterior"] + (i - (len(series) - 1) / 2) * (1 - lo) * 0.006 for b in shown]
            ys = [b["fraction_true"] for b in shown]
            err = [[y - b["band_95"][0] for y, b in zip(ys, shown, strict=True)],
                   [b["band_95"][1] - y for y, b in zip(ys, shown, strict=True)]]
            ax.errorbar(xs, ys, yerr=err, fmt=marker, color=color, ecolor=color, elinewidth=1, capsize=2,
                        markersize=5, label=f"{label} ({sum(b['n'] for b in shown)})")
            for x, y, b in zip(xs, ys, shown, strict=True):
                ax.annotate(str(b["n"]), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7,
                            color=color)
        for j, (name, t) in enumerate((thresholds or {}).items()):
            if t >= lo:
                ax.axvline(t, color="#333333", linewidth=1, linestyle=(":", "-.")[j % 2], label=f"{name} {t:g}")
        ax.set_xlim(lo - 0.02 * (1 - lo), 1 + 0.02 * (1 - lo))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("posterior of the best pairing (bin mean)")
        ax.set_ylabel("share that is the right missing person (95% band)")
    axes[0].set_title("all posteriors")
    axes[1].set_title("posteriors from 0.9")
    axes[0].legend(loc="upper left", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
