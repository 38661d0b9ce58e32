"""Bar charts: inline SVG (pages) and PNG (PDF reports)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dogtag.report.charts import bar_png, bar_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_lengths_are_proportional() -> None:
    root = ET.fromstring(bar_svg(["a", None, "c"], [2, 4, 1], title="T"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]  # type: ignore[arg-type]
    assert widths[1] == 2 * widths[0] == 4 * widths[2]
    assert "(none)" in [t.text for t in root.iter(f"{SVG}text")]


def test_many_bars_are_folded_into_other() -> None:
    labels = [f"s{i}" for i in range(30)]
    root = ET.fromstring(bar_svg(labels, list(range(30)), max_bars=5))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert len(list(root.iter(f"{SVG}rect"))) == 5
    assert "other" in texts and str(sum(range(26))) in texts  # 0..25 summed


def test_empty_chart_says_so() -> None:
    assert "no data yet" in bar_svg([], [], title="Identifications per year")


def test_png() -> None:
    assert bar_png(["a", "b"], [1, 2], title="T").startswith(b"\x89PNG")
