"""Small bar charts: as inline SVG text (web pages, no plotting library) and as matplotlib
figures (the PDF reports)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from html import escape


def bar_svg(labels: Sequence[object], values: Sequence[float], *, title: str = "",
            width: int = 460, bar_height: int = 16, max_bars: int = 25) -> str:
    """Horizontal bar chart as an SVG element (the ``max_bars`` largest, the rest summed as 'other')."""
    pairs = [(("(none)" if lab is None else str(lab)), float(v)) for lab, v in zip(labels, values, strict=True)]
    if len(pairs) > max_bars:
        pairs.sort(key=lambda p: -p[1])
        rest = sum(v for _, v in pairs[max_bars - 1:])
        pairs = [*pairs[: max_bars - 1], ("other", rest)]
    label_w, top = 150, 24 if title else 6
    height = top + max(len(pairs), 1) * (bar_height + 4) + 6
    vmax = max((v for _, v in pairs), default=0) or 1
    scale = (width - label_w - 70) / vmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" '
             f'font-size="11">']
    if title:
        parts.append(f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>')
    if not pairs:
        parts.append(f'<text x="0" y="{top + bar_height - 4}" fill="#666">no data yet</text>')
    for i, (lab, v) in enumerate(pairs):
        y = top + i * (bar_height + 4)
        short = lab if len(lab) <= 24 else lab[:23] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_height - 4}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(v * scale, 0.5):.1f}" height="{bar_height}" '
                     f'fill="#4a6fa5"><title>{escape(lab)}: {v:g}</title></rect>')
        parts.append(f'<text x="{label_w + v * scale + 4:.1f}" y="{y + bar_height - 4}">{v:g}</text>')
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
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
