"""Small bar charts: as inline SVG text (web pages, no plotting library) and as matplotlib
figures (the PDF reports)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from html import escape


def nice_ticks(vmax: float, *, most: int = 5) -> list[float]:
    """Axis ticks 0, step, 2 step, ... covering ``vmax``, the step 1, 2 or 5 times a power of ten."""
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(vmax / step - 1e-9) + 1)]


def bar_svg(labels: Sequence[object], values: Sequence[float], *, title: str = "", xlabel: str = "",
            width: int = 460, bar_height: int = 16, max_bars: int = 25) -> str:
    """Horizontal bar chart as an SVG element, with a value axis (ticks and ``xlabel``) and the
    category axis; the ``max_bars`` largest bars, the rest summed as 'other'."""
    pairs = [(("(none)" if lab is None else str(lab)), float(v)) for lab, v in zip(labels, values, strict=True)]
    if len(pairs) > max_bars:
        pairs.sort(key=lambda p: -p[1])
        rest = sum(v for _, v in pairs[max_bars - 1:])
        pairs = [*pairs[: max_bars - 1], ("other", rest)]
    label_w, top = 150, 24 if title else 6
    bottom = top + max(len(pairs), 1) * (bar_height + 4)
    height = bottom + (36 if xlabel else 22)
    ticks = nice_ticks(max((v for _, v in pairs), default=0))
    scale = (width - label_w - 40) / ticks[-1]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" '
             f'font-size="11">']
    if title:
        parts.append(f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>')
    if not pairs:
        parts.append(f'<text x="{label_w + 6}" y="{top + bar_height - 4}" fill="#666">no data yet</text>')
    for t in ticks:  # value axis: grid lines, ticks and their values
        x = label_w + t * scale
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{bottom}" stroke="#ddd"/>'
                     f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#333"/>'
                     f'<text class="tick" x="{x:.1f}" y="{bottom + 15}" text-anchor="middle" font-size="10">{t:,g}</text>')
    parts.append(f'<line class="axis" x1="{label_w}" y1="{bottom}" x2="{label_w + ticks[-1] * scale:.1f}" '
                 f'y2="{bottom}" stroke="#333"/><line class="axis" x1="{label_w}" y1="{top - 2}" '
                 f'x2="{label_w}" y2="{bottom}" stroke="#333"/>')
    if xlabel:
        parts.append(f'<text class="xlabel" x="{label_w + ticks[-1] * scale / 2:.1f}" y="{bottom + 30}" '
                     f'text-anchor="middle" font-size="10">{escape(xlabel)}</text>')
    for i, (lab, v) in enumerate(pairs):
        y = top + i * (bar_height + 4)
        short = lab if len(lab) <= 24 else lab[:23] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height - 4}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(v * scale, 0.5):.1f}" height="{bar_height}" '
                     f'fill="#4a6fa5"><title>{escape(lab)}: {v:,g}</title></rect>')
        parts.append(f'<text x="{label_w + v * scale + 4:.1f}" y="{y + bar_height - 4}">{v:,g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_png(labels: Sequence[object], values: Sequence[float], *, title: str, xlabel: str = "") -> bytes:
    """A horizontal bar chart as PNG bytes (matplotlib, Agg backend, 150 dpi)."""
    from matplotlib.figure import Figure

    labs = ["(none)" if lab is None else str(lab) for lab in labels]
    fig = Figure(figsize=(6.5, max(1.6, 0.28 * len(labs) + 0.9)), dpi=150)
    ax = fig.add_subplot()
    ax.barh(range(len(labs)), list(values), color="#4a6fa5")
    ax.set_yticks(range(len(labs)), labs, fontsize=7)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
