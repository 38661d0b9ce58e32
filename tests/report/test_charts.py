"""Bar charts: inline SVG (pages) and PNG (PDF reports)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

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


def test_ticks_by_hand() -> None:
    from dogtag.report.charts import nice_ticks

    assert nice_ticks(400) == [0, 100, 200, 300, 400]
    assert nice_ticks(36) == [0, 10, 20, 30, 40]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0) == [0.0, 1.0]


def test_charts_have_axes_with_values_and_a_label() -> None:
    root = ET.fromstring(bar_svg(["ARMY", "NAVY"], [310, 62], title="T", xlabel="missing persons"))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "100", "200", "300", "400"]
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "xlabel"] == ["missing persons"]
    assert len([ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "axis"]) == 2
    # the bar of 310 ends at 310/400 of the axis
    axis = next(ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "axis")
    length = float(axis.get("x2")) - float(axis.get("x1"))  # type: ignore[arg-type]
    bar = float(next(root.iter(f"{SVG}rect")).get("width"))  # type: ignore[arg-type]
    assert bar == pytest.approx(length * 310 / 400, abs=0.06)
