"""Maps drawn offline as SVG: the missing by home state (a choropleth of the US states) and loss
incidents and recovery sites (points over country outlines).

The outlines ship with the package (``dogtag/data/maps``, see its PROVENANCE.md): US states from
the Census Bureau's cartographic boundaries (public domain, via us-atlas, already projected with
the Albers USA projection) and countries from Natural Earth 1:110m (public domain, via
world-atlas). Nothing is fetched from the network: no tiles, no scripts.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Any

from dogtag.report.numbers import fmt_count

#: postal codes of the states on the map (home states are given either way)
POSTAL = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming"}

#: sequential fill colours (light to dark) and the fill of a state with none
SHADES = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
EMPTY = "#f4f4f4"
FONT = "font-family=\"DejaVu Sans, sans-serif\""


@functools.cache
def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((resources.files("dogtag.data.maps") / name).read_text(encoding="utf-8"))
    return data


def state_name(value: str | None) -> str | None:
    """The map's name of a home state given as a name in any case (``OHIO``) or a postal code
    (``OH``); None for anything not on the map (territories, foreign, blank)."""
    if not value or not value.strip():
        return None
    v = value.strip()
    if v.upper() in POSTAL:
        return POSTAL[v.upper()]
    by_upper = {n.upper(): n for n in _load("us_states.json")["states"]}
    return by_upper.get(" ".join(v.upper().split()))


def _bins(values: Sequence[int]) -> list[int]:
    """Upper bounds of up to five classes of the positive counts (quantiles, distinct, rising)."""
    pos = sorted(v for v in values if v > 0)
    if not pos:
        return []
    bounds = sorted({pos[min(len(pos) - 1, math.ceil(q * len(pos)) - 1)] for q in (0.2, 0.4, 0.6, 0.8, 1.0)})
    return bounds


def us_states_svg(counts: Mapping[str | None, int], *, title: str, what: str = "unaccounted-for") -> str:
    """A choropleth of ``counts`` (home state as given -> count) over the US states (Albers USA,
    Alaska and Hawaii inset). Counts whose state is not on the map are summed in a note below.

    Each state carries ``data-state`` and ``data-count`` and a ``<title>`` tooltip. Coordinates
    are whole pixels (no decimals that could be mistaken for data).
    """
    geo = _load("us_states.json")
    x0, y0, x1, y1 = geo["bbox"]
    w, h = x1 - x0, y1 - y0
    per_state: dict[str, int] = {}
    off_map: dict[str, int] = {}
    for raw, n in counts.items():
        name = state_name(raw)
        if name is None:
            key = (raw or "not recorded").strip() or "not recorded"
            off_map[key] = off_map.get(key, 0) + int(n)
        else:
            per_state[name] = per_state.get(name, 0) + int(n)
    bounds = _bins(list(per_state.values()))

    def shade(n: int) -> str:
        if n <= 0:
            return EMPTY
        return SHADES[next(i for i, b in enumerate(bounds) if n <= b) + len(SHADES) - len(bounds)]

    top, legend_h = 34, 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map us-states" viewBox="0 0 {w} {h + top + legend_h}" '
           f'role="img" aria-label="{escape(title)}" {FONT}>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="18">{escape(title)}</text>',
           f'<g transform="translate({-x0},{top - y0})" stroke="#fff" stroke-width="0.8">']
    for name, d in geo["states"].items():
        n = per_state.get(name, 0)
        out.append(f'<path d="{d}" fill="{shade(n)}" data-state="{escape(name)}" data-count="{n}">'
                   f'<title>{escape(name)}: {fmt_count(n)} {escape(what)}</title></path>')
    out.append("</g>")
    y = top + h + 8
    x = 20.0
    lo = 1
    out.append(f'<g class="legend" font-size="13"><rect x="{x}" y="{y}" width="18" height="14" fill="{EMPTY}" '
               f'stroke="#999"/><text x="{x + 24}" y="{y + 12}">none</text>')
    x += 80
    for i, b in enumerate(bounds):
        label = f"{fmt_count(lo)}" if lo == b else f"{fmt_count(lo)}–{fmt_count(b)}"
        out.append(f'<rect x="{x}" y="{y}" width="18" height="14" fill="{SHADES[i + len(SHADES) - len(bounds)]}" '
                   f'stroke="#999"/><text x="{x + 24}" y="{y + 12}">{label}</text>')
        x += 34 + 8 * len(label)
        lo = b + 1
    if off_map:
        note = ", ".join(f"{escape(k)} {fmt_count(v)}" for k, v in sorted(off_map.items()))
        total = fmt_count(sum(off_map.values()))
        out.append(f'<text x="{w - 10}" y="{y + 12}" text-anchor="end" class="off-map">'
                   f'not on the map: {total}<title>{note}</title></text>')
    out.append("</g></svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class Site:
    """A point on the sites map: ``kind`` is ``incident`` (a loss) or ``recovery`` (a field operation)."""

    label: str
    latitude: float
    longitude: float
    kind: str
    link: str | None = None


_MARK = {"incident": ("#c0392b", "loss incident"), "recovery": ("#1f5fa6", "recovery site")}


def _frame(sites: Sequence[Site], min_span: float) -> tuple[float, float, float, float]:
    """(west, south, east, north) around the sites, padded, at least ``min_span`` degrees wide."""
    lons = [s.longitude for s in sites]
    lats = [s.latitude for s in sites]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    cx, cy = (west + east) / 2, (south + north) / 2
    span_x = max(east - west, min_span) * 1.2
    span_y = max(north - south, min_span * 0.6) * 1.2
    return (max(-180.0, cx - span_x / 2), max(-85.0, cy - span_y / 2),
            min(180.0, cx + span_x / 2), min(85.0, cy + span_y / 2))


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = next(s for s in (0.5, 1, 2, 5, 10, 20, 30, 60, 90) if span / s <= 6)
    return [k * step for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def sites_svg(sites: Iterable[Site], *, title: str, width: int = 900, min_span: float = 8.0) -> str:
    """Loss incidents and recovery sites over country outlines (equirectangular, scaled by the
    cosine of the middle latitude so shapes keep their proportions), with a graticule labelled in
    degrees. Each point carries ``data-kind`` and a ``<title>``; an empty list draws a note."""
    pts = [s for s in sites if math.isfinite(s.latitude) and math.isfinite(s.longitude)]
    if not pts:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="map sites" viewBox="0 0 {width} 60" {FONT}>'
                f'<text x="{width / 2}" y="35" text-anchor="middle" font-size="15">{escape(title)}: '
                'no coordinates recorded</text></svg>')
    west, south, east, north = _frame(pts, min_span)
    k = math.cos(math.radians((south + north) / 2))
    left, top, pad = 48, 34, 24
    scale = (width - left - pad) / ((east - west) * k)
    height = int((north - south) * scale)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon - west) * k * scale, top + (north - lat) * scale

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map sites" viewBox="0 0 {width} {top + height + 56}" '
           f'role="img" aria-label="{escape(title)}" {FONT}>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="18">{escape(title)}</text>',
           f'<clipPath id="map-frame"><rect x="{left}" y="{top}" width="{width - left - pad}" height="{height}"/></clipPath>',
           f'<rect x="{left}" y="{top}" width="{width - left - pad}" height="{height}" fill="#eaf2fa" stroke="#888"/>',
           '<g clip-path="url(#map-frame)" fill="#fbfaf5" stroke="#9a9a9a" stroke-width="0.7" class="land">']
    for name, rings in _load("world_countries.json")["countries"].items():
        parts = []
        for r in rings:
            rx = [p[0] for p in r]
            ry = [p[1] for p in r]
            if max(rx) < west or min(rx) > east or max(ry) < south or min(ry) > north:
                continue
            parts.append("M" + "L".join("{:.0f},{:.0f}".format(*xy(lon, lat)) for lon, lat in r) + "Z")
        if parts:
            out.append(f'<path d="{"".join(parts)}" data-country="{escape(name)}"><title>{escape(name)}</title></path>')
    out.append("</g>")
    out.append('<g class="graticule" stroke="#c8d3de" stroke-width="0.5" font-size="11" fill="#555">')
    for lon in _ticks(west, east):
        x, _ = xy(lon, north)
        out.append(f'<line x1="{x:.0f}" y1="{top}" x2="{x:.0f}" y2="{top + height}"/>'
                   f'<text x="{x:.0f}" y="{top + height + 14}" text-anchor="middle" stroke="none">'
                   f'{abs(lon):g}°{"E" if lon > 0 else "W" if lon < 0 else ""}</text>')
    for lat in _ticks(south, north):
        _, y = xy(west, lat)
        out.append(f'<line x1="{left}" y1="{y:.0f}" x2="{width - pad}" y2="{y:.0f}"/>'
                   f'<text x="{left - 4}" y="{y + 4:.0f}" text-anchor="end" stroke="none">'
                   f'{abs(lat):g}°{"N" if lat > 0 else "S" if lat < 0 else ""}</text>')
    out.append("</g><g class=\"sites\" stroke=\"#fff\" stroke-width=\"1\">")
    for s in sorted(pts, key=lambda s: s.kind != "incident"):
        x, y = xy(s.longitude, s.latitude)
        colour, what = _MARK.get(s.kind, ("#555", s.kind))
        tip = f"<title>{escape(s.label)} ({what}, {s.latitude:.4f}, {s.longitude:.4f})</title>"
        shape = (f'<circle cx="{x:.0f}" cy="{y:.0f}" r="5" fill="{colour}">{tip}</circle>' if s.kind == "incident"
                 else f'<rect x="{x - 4.5:.0f}" y="{y - 4.5:.0f}" width="9" height="9" fill="{colour}">{tip}</rect>')
        mark = f'<g data-kind="{escape(s.kind)}" data-label="{escape(s.label)}">{shape}</g>'
        out.append(f'<a href="{escape(s.link)}">{mark}</a>' if s.link else mark)
    ly = top + height + 34
    out.append(f'</g><g class="legend" font-size="13"><circle cx="{left + 6}" cy="{ly}" r="5" fill="{_MARK["incident"][0]}"/>'
               f'<text x="{left + 16}" y="{ly + 4}">loss incident</text>'
               f'<rect x="{left + 130}" y="{ly - 4.5}" width="9" height="9" fill="{_MARK["recovery"][0]}"/>'
               f'<text x="{left + 145}" y="{ly + 4}">recovery site</text>'
               f'<text x="{width - pad}" y="{ly + 4}" text-anchor="end" fill="#555">outlines: Natural Earth 1:110m</text>'
               "</g></svg>")
    return "\n".join(out)
