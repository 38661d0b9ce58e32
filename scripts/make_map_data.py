"""Build the map outlines shipped in ``src/dogtag/data/maps`` from the npm packages us-atlas 3.0.1
(U.S. Census Bureau cartographic state boundaries 2017, projected with d3.geoAlbersUsa to a
975 x 610 frame) and world-atlas 2.0.2 (Natural Earth 1:110m Admin 0 countries, lon/lat).

Usage: ``python scripts/make_map_data.py US_STATES_ALBERS_TOPOJSON WORLD_COUNTRIES_TOPOJSON``
(``states-albers-10m.json`` and ``countries-110m.json`` from the unpacked packages, e.g. after
``npm pack us-atlas@3.0.1 world-atlas@2.0.2``). Writes ``us_states.json`` (state name -> SVG path
in d3.geoAlbersUsa's 975 x 610 frame, with ``bbox``; whole pixels, repeated points dropped) and ``world_countries.json``
(country name -> rings of [lon, lat], 0.01 degree). See the PROVENANCE.md beside them.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "src" / "dogtag" / "data" / "maps"


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The topology's arcs as absolute coordinates (delta decoding and the quantisation transform)."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def ring(arcs: list[list[tuple[float, float]]], indices: list[int]) -> list[tuple[float, float]]:
    """One closed ring from arc indices (``~i`` = arc i reversed); shared end points once."""
    pts: list[tuple[float, float]] = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(arc if not pts else arc[1:])
    return pts


def polygons(arcs: list[list[tuple[float, float]]], geom: dict[str, Any]) -> list[list[list[tuple[float, float]]]]:
    if geom["type"] == "Polygon":
        return [[ring(arcs, r) for r in geom["arcs"]]]
    if geom["type"] == "MultiPolygon":
        return [[ring(arcs, r) for r in poly] for poly in geom["arcs"]]
    return []



def us_states(path: Path) -> dict[str, Any]:
    topo = json.loads(path.read_text())
    arcs = decode_arcs(topo)
    states = {}
    xs: list[float] = []
    ys: list[float] = []
    for g in topo["objects"]["states"]["geometries"]:
        d = []
        for poly in polygons(arcs, g):
            for r in poly:
                pts = [(round(x), round(y)) for x, y in r]
                pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
                if len(pts) < 4:
                    continue
                xs += [x for x, _ in pts]
                ys += [y for _, y in pts]
                d.append("M" + "L".join(f"{x},{y}" for x, y in pts) + "Z")
        states[g["properties"]["name"]] = "".join(d)
    bbox = [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))]
    return {"bbox": bbox, "projection": "d3.geoAlbersUsa, fitted to 975 x 610 by us-atlas (the Aleutians reach past it)",
            "states": dict(sorted(states.items()))}


def world(path: Path) -> dict[str, Any]:
    topo = json.loads(path.read_text())
    arcs = decode_arcs(topo)
    countries: dict[str, list[list[list[float]]]] = {}
    for g in topo["objects"]["countries"]["geometries"]:
        rings = countries.setdefault(g["properties"]["name"], [])
        for poly in polygons(arcs, g):
            for r in poly:
                rings.append([[round(x, 2), round(y, 2)] for x, y in r])
    return {"crs": "lon/lat degrees (WGS 84)", "countries": dict(sorted(countries.items()))}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "us_states.json").write_text(json.dumps(us_states(Path(sys.argv[1])), separators=(",", ":")))
    (OUT / "world_countries.json").write_text(json.dumps(world(Path(sys.argv[2])), separators=(",", ":")))


if __name__ == "__main__":
    main()
