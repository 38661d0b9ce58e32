"""The calibration report of a scenario run: a reliability plot and a Markdown summary.

matplotlib is imported on use (Agg backend), as the package's other figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["reliability_plot", "write_report"]


def reliability_plot(calibration: Any, path: str | Path) -> Path:
    """Draw the reliability diagram (posterior bins vs fraction of true identifications).

    ``calibration`` is a :class:`dogtag.scenario.calibration.Calibration`; the format follows the
    suffix of ``path`` (``.png`` or ``.svg``). Points are sized by the number of individuals.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    xs = [b["mean_posterior"] for b in calibration.reliability if b["n"]]
    ys = [b["fraction_true"] for b in calibration.reliability if b["n"]]
    ns = [b["n"] for b in calibration.reliability if b["n"]]
    fig, ax = plt.subplots(figsize=(5.2, 5.0), dpi=120)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect calibration")
    ax.scatter(xs, ys, s=[20 + 4 * n ** 0.8 for n in ns], color="#4a6fa5", alpha=0.8, zorder=3,
               label="individuals per bin (size)")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(6, -10), fontsize=8)
    ax.axvline(calibration.threshold, color="#b03a2e", linewidth=1,
               label=f"threshold {calibration.threshold:g}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("posterior of the best pairing (bin mean)")
    ax.set_ylabel("fraction that is the right missing person")
    ax.set_title("Reliability of the identification posteriors")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def write_report(calibration: Any, folder: str | Path) -> dict[str, str]:
    """Write ``calibration.md``, ``calibration.json``, ``reliability.png`` and ``reliability.svg``."""
    import json

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    files = {"png": str(reliability_plot(calibration, root / "reliability.png")),
             "svg": str(reliability_plot(calibration, root / "reliability.svg"))}
    (root / "calibration.json").write_text(json.dumps(calibration.to_dict(), indent=2) + "\n", encoding="utf-8")
    lines = ["# Calibration of the scenario run", "",
             f"Proposed (posterior >= {calibration.threshold:g}, the minimum LR and no conflict): "
             f"{calibration.true_at_threshold} true, {calibration.false_at_threshold} false identifications.", "",
             "Individuals whose best pairing reaches each posterior threshold (whatever its LR):", "",
             "| threshold | reached | true | false |", "|---|---|---|---|"]
    lines += [f"| {r['threshold']:g} | {r['proposed']} | {r['true']} | {r['false']} |" for r in calibration.thresholds]
    lines += ["", "## Reliability", "", "| posterior bin | individuals | mean posterior | fraction true |",
              "|---|---|---|---|"]
    for b in calibration.reliability:
        if b["n"]:
            lines.append(f"| {b['bin'][0]:g}-{b['bin'][1]:g} | {b['n']} | {b['mean_posterior']:.3f} | "
                         f"{b['fraction_true']:.3f} |")
    lines += ["", "![reliability](reliability.png)", "", "## Remains individuals (truth), by outcome", "",
              "| outcome | individuals |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(calibration.unidentified.items(), key=lambda kv: -kv[1])]
    lines += ["", f"Samples {calibration.remains['samples']}, true individuals {calibration.remains['individuals']}, "
              f"individuals formed by the run {calibration.remains['run_individuals']} "
              f"(of which {calibration.mixed_individuals} mix two true individuals).", ""]
    (root / "calibration.md").write_text("\n".join(lines), encoding="utf-8")
    files["markdown"] = str(root / "calibration.md")
    files["json"] = str(root / "calibration.json")
    return files
