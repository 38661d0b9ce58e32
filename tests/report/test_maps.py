"""The offline maps: shipped outlines decoded right, states matched, counts binned, points placed."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any

import pytest

from dogtag.report.maps import EMPTY, SHADES, Site, sites_svg, state_name, us_states_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _world() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((resources.files("dogtag.data.maps") / "world_countries.json").read_text())
    return data


def inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Even-odd rule, the obvious loop."""
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


@pytest.mark.parametrize("lon, lat, country", [
    (127.2211, 40.4836, "North Korea"),  # Chosin Reservoir
    (126.98, 37.57, "South Korea"),  # Seoul
    (-84.19, 39.76, "United States of America"),  # Dayton, Ohio
    (144.96, -37.81, "Australia"),  # Melbourne: the southern hemisphere
    (-58.38, -34.60, "Argentina"),  # Buenos Aires: west and south
    (2.35, 48.86, "France"),
])
def test_world_outlines_put_known_places_in_their_country(lon: float, lat: float, country: str) -> None:
    """The TopoJSON decoding (delta arcs, quantisation, reversed arcs) checked on real places."""
    countries = _world()["countries"]
    holders = [name for name, rings in countries.items() if sum(inside(lon, lat, r) for r in rings) % 2]
    assert holders == [country]


def test_state_names_and_postal_codes() -> None:
    assert state_name("OHIO") == state_name("oh") == state_name(" Ohio ") == "Ohio"
    assert state_name("new  york") == "New York" and state_name("DC") == "District of Columbia"
    assert state_name("GUAM") is None and state_name(None) is None and state_name("") is None


def _paths(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {p.get("data-state") or "": p for p in root.iter(f"{{{NS['s']}}}path") if p.get("data-state")}


def _box(d: str) -> tuple[float, float, float, float]:
    nums = [float(v) for v in d.replace("M", " ").replace("L", " ").replace("Z", " ").replace(",", " ").split()]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def test_states_choropleth_counts_bins_and_layout() -> None:
    """Bins worked by hand: positive counts 3, 12, 40 -> quantile bounds (3, 12, 40), the darkest
    three shades; a state absent from the counts is EMPTY; GUAM and a blank state are off the map."""
    svg = us_states_svg({"CALIFORNIA": 40, "OH": 12, "Texas": 3, None: 2, "GUAM": 1}, title="Unaccounted-for")
    paths = _paths(svg)
    assert len(paths) == 51  # 50 states and DC
    fill = {k: p.get("fill") for k, p in paths.items()}
    assert (fill["Texas"], fill["Ohio"], fill["California"]) == SHADES[2:]
    assert fill["Maine"] == EMPTY and paths["Ohio"].get("data-count") == "12"
    assert sum(int(p.get("data-count") or 0) for p in paths.values()) == 55
    assert "not on the map: 3" in svg and "1–3" in svg and "4–12" in svg and "13–40" in svg
    # the projection keeps the geography: Ohio between Indiana and Pennsylvania, Florida south of
    # Georgia, Alaska in the lower-left inset (its Aleutians reach left of us-atlas' 975 x 610 frame)
    box = {k: _box(p.get("d") or "") for k, p in paths.items()}
    mid = {k: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for k, b in box.items()}
    assert mid["Indiana"][0] < mid["Ohio"][0] < mid["Pennsylvania"][0]
    assert mid["Florida"][1] > mid["Georgia"][1] and mid["Maine"][0] > mid["Washington"][0] + 600
    assert mid["Alaska"][0] < 300 and mid["Alaska"][1] > 450
    frame = (min(b[0] for b in box.values()), min(b[1] for b in box.values()),
             max(b[2] for b in box.values()), max(b[3] for b in box.values()))
    assert frame == pytest.approx((-57.7, 13.0, 957.5, 606.6), abs=0.6)  # us-atlas' bbox, in whole pixels
    assert min(b[0] for k, b in box.items() if k != "Alaska") > 0


def test_empty_counts_draw_every_state_empty() -> None:
    paths = _paths(us_states_svg({}, title="none"))
    assert len(paths) == 51 and {p.get("fill") for p in paths.values()} == {EMPTY}


def test_sites_are_placed_by_their_coordinates() -> None:
    sites = [Site("CHOSIN", 40.4836, 127.2211, "incident", "/persons?incident=CHOSIN"),
             Site("WONSAN", 39.15, 127.44, "recovery"), Site("SEOUL", 37.57, 126.98, "incident"),
             Site("BUSAN", 35.18, 129.08, "incident")]
    svg = sites_svg(sites, title="Loss incidents")
    root = ET.fromstring(svg)
    marks = {g.get("data-label"): g for g in root.iter(f"{{{NS['s']}}}g") if g.get("data-label")}
    assert set(marks) == {"CHOSIN", "WONSAN", "SEOUL", "BUSAN"}
    circle = {k: g.find("s:circle", NS) for k, g in marks.items()}
    cx = {k: float(c.get("cx") or 0) for k, c in circle.items() if c is not None}
    cy = {k: float(c.get("cy") or 0) for k, c in circle.items() if c is not None}
    assert cx["SEOUL"] < cx["CHOSIN"] and cy["SEOUL"] > cy["CHOSIN"]  # south-west of Chosin
    # equirectangular with cos(middle latitude of the frame, padded symmetrically): the x:y ratio
    # of Seoul's and Busan's offsets (whole pixels: 1 % at these distances)
    k = math.cos(math.radians((35.18 + 40.4836) / 2))
    ratio = (cx["BUSAN"] - cx["SEOUL"]) / (cy["BUSAN"] - cy["SEOUL"])
    assert ratio == pytest.approx((129.08 - 126.98) * k / (37.57 - 35.18), rel=0.01)
    assert marks["WONSAN"].find("s:rect", NS) is not None  # recovery sites are squares
    assert 'href="/persons?incident=CHOSIN"' in svg
    assert 'data-country="North Korea"' in svg and 'data-country="Japan"' in svg
    assert 'data-country="France"' not in svg  # only outlines in the frame are drawn
    assert "128°E" in svg and "40°N" in svg


def test_maps_fetch_nothing() -> None:
    """No tiles, scripts, images or fonts from anywhere: the only URL is the SVG namespace."""
    for svg in (us_states_svg({"OH": 1}, title="t"), sites_svg([Site("A", 1.0, 2.0, "incident")], title="t")):
        assert "<script" not in svg and "<image" not in svg and "@import" not in svg
        assert [u for u in svg.split('"') if "://" in u] == ["http://www.w3.org/2000/svg"]


def test_no_coordinates_is_said() -> None:
    assert "no coordinates recorded" in sites_svg([], title="Loss incidents")
