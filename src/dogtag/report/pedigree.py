"""Pedigree drawings as SVG, with the standard symbols, laid out by generation.

Symbols follow the recommendations of Bennett et al. (2008), "Standardized human pedigree
nomenclature", J Genet Counsel 17:424-433: square = male, circle = female, diamond = sex unknown;
a filled symbol is a typed member (has a DNA profile); a diagonal line through the symbol marks a
deceased member; the missing person carries an arrow and the label "MP".

The layout is layered (Sugiyama-style): each member gets a generation (founders who marry into the
pedigree take their spouse's generation), members of a generation are ordered by the mean position
of their parents (barycentre), couples are kept side by side, and every layer is spread with a
fixed gap, so pedigrees of 30 or more people stay readable (the drawing just gets wider).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

NODE = 36  # symbol size, px
GAP_X = 70  # distance between neighbouring symbol centres, px
GAP_Y = 110  # distance between generations, px
MARGIN = 50
_COLOURS = ("#000", "#1f5fa8", "#a8541f", "#2e7d32", "#6a1b9a")  # lines of neighbouring sibships


@dataclass(frozen=True)
class Person:
    """One pedigree member. ``sex``: 1 male, 2 female, 0 unknown (pedtools)."""

    id: str
    father: str | None = None
    mother: str | None = None
    sex: int = 0
    typed: bool = False
    missing: bool = False
    deceased: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Layout:
    """Positions (centre x, y in px) of every member, and the drawing's size."""

    x: dict[str, float]
    y: dict[str, float]
    generation: dict[str, int]
    width: float
    height: float


def _check(people: Sequence[Person]) -> dict[str, Person]:
    by_id: dict[str, Person] = {}
    for p in people:
        if p.id in by_id:
            raise ValueError(f"`people` has a duplicate id: {p.id}")
        by_id[p.id] = p
    bad = [f"{p.id}->{q}" for p in people for q in (p.father, p.mother) if q and q not in by_id]
    if bad:
        raise ValueError(f"parents that are not in `people`: {', '.join(bad)}")
    return by_id


def generations(people: Sequence[Person]) -> dict[str, int]:
    """Generation of each member (0 = top): children one below their lower parent; founders
    who only married in are moved down to one above their first child."""
    by_id = _check(people)
    gen: dict[str, int] = {}

    def depth(pid: str, seen: frozenset[str] = frozenset()) -> int:
        if pid in gen:
            return gen[pid]
        if pid in seen:
            raise ValueError(f"`people` has a cycle through {pid}")
        p = by_id[pid]
        parents = [q for q in (p.father, p.mother) if q]
        g = 0 if not parents else 1 + max(depth(q, seen | {pid}) for q in parents)
        gen[pid] = g
        return g

    for p in people:
        depth(p.id)
    children: dict[str, list[str]] = {}
    for p in people:
        for q in (p.father, p.mother):
            if q:
                children.setdefault(q, []).append(p.id)
    # founders sit just above their highest child (a married-in spouse joins their partner's row)
    for _ in range(len(people)):
        changed = False
        for p in people:
            if not p.father and not p.mother and p.id in children:
                want = min(gen[c] for c in children[p.id]) - 1
                if want > gen[p.id]:
                    gen[p.id], changed = want, True
        if not changed:
            break
    return gen


def layout(people: Sequence[Person]) -> Layout:
    """Layered layout: rows by generation, order in a row by the parents' barycentre."""
    by_id = _check(people)
    gen = generations(people)
    rows: dict[int, list[str]] = {}
    for p in people:
        rows.setdefault(gen[p.id], []).append(p.id)
    x: dict[str, float] = {}
    for g in sorted(rows):
        ids = rows[g]

        def parent_pos(pid: str, g: int = g) -> float:
            p = by_id[pid]
            xs = [x[q] for q in (p.father, p.mother) if q and q in x]
            if xs:
                return sum(xs) / len(xs)
            # a married-in founder: next to a partner placed by its own parents
            partners = [c for c in people if pid in (c.father, c.mother)]
            for c in partners:
                other = c.mother if c.father == pid else c.father
                if other and other in by_id and gen[other] == g and other != pid:
                    op = by_id[other]
                    oxs = [x[q] for q in (op.father, op.mother) if q and q in x]
                    if oxs:
                        return sum(oxs) / len(oxs) + 0.01
            return float("inf")

        order = sorted(ids, key=lambda pid: (parent_pos(pid), ids.index(pid)))
        # keep couples adjacent: move each partner right after its first-placed mate
        placed: list[str] = []
        for pid in order:
            if pid in placed:
                continue
            placed.append(pid)
            mates = []
            for c in people:
                if pid in (c.father, c.mother):
                    other = c.mother if c.father == pid else c.father
                    if other and gen.get(other) == g and other not in placed and other not in mates:
                        mates.append(other)
            placed += mates
        for i, pid in enumerate(placed):
            x[pid] = MARGIN + NODE / 2 + i * GAP_X
        # centre a row under its parents where possible, never overlapping (shift right only)
        if g > min(rows):
            want = [parent_pos(pid) for pid in placed]
            finite = [w for w in want if w != float("inf")]
            if finite:
                shift = sum(finite) / len(finite) - sum(x[p] for p in placed) / len(placed)
                if shift > 0:
                    for pid in placed:
                        x[pid] += shift
    y = {p.id: MARGIN + NODE / 2 + gen[p.id] * GAP_Y for p in people}
    width = max(x.values(), default=0) + NODE / 2 + MARGIN
    height = max(y.values(), default=0) + NODE / 2 + MARGIN
    return Layout(x=x, y=y, generation=gen, width=width, height=height)


def _symbol(p: Person, cx: float, cy: float) -> str:
    h = NODE / 2
    fill = "#333" if p.typed else "#fff"
    stroke = "#b00" if p.missing else "#000"
    width = 3 if p.missing else 1.5
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if p.sex == 1:
        shape = f'<rect class="male" x="{cx - h:.1f}" y="{cy - h:.1f}" width="{NODE}" height="{NODE}" {common}/>'
    elif p.sex == 2:
        shape = f'<circle class="female" cx="{cx:.1f}" cy="{cy:.1f}" r="{h}" {common}/>'
    else:
        pts = f"{cx:.1f},{cy - h:.1f} {cx + h:.1f},{cy:.1f} {cx:.1f},{cy + h:.1f} {cx - h:.1f},{cy:.1f}"
        shape = f'<polygon class="unknown-sex" points="{pts}" {common}/>'
    parts = [shape]
    if p.deceased:
        parts.append(f'<line class="deceased" x1="{cx - h - 6:.1f}" y1="{cy + h + 6:.1f}" '
                     f'x2="{cx + h + 6:.1f}" y2="{cy - h - 6:.1f}" stroke="#000" stroke-width="2"/>')
    if p.missing:
        parts.append(f'<path class="missing-arrow" d="M{cx - h - 22:.1f},{cy + h + 14:.1f} '
                     f'L{cx - h - 3:.1f},{cy + h - 2:.1f}" stroke="#b00" stroke-width="2" '
                     'marker-end="url(#arrow)"/>')
        parts.append(f'<text x="{cx - h - 24:.1f}" y="{cy + h + 26:.1f}" fill="#b00" '
                     'font-size="11" font-weight="bold">MP</text>')
    label = escape(p.label or p.id)
    parts.append(f'<text x="{cx:.1f}" y="{cy + h + 14:.1f}" text-anchor="middle" font-size="11">{label}</text>')
    return f'<g class="member" data-id="{escape(p.id)}">{"".join(parts)}</g>'


def pedigree_svg(people: Sequence[Person], *, title: str | None = None) -> str:
    """The pedigree as a standalone SVG document (UTF-8 text)."""
    if not people:
        raise ValueError("`people` is empty")
    lay = layout(people)
    by_id = {p.id: p for p in people}
    h = NODE / 2
    lines: list[str] = []
    # one mating line per couple, one sibship line per couple's children
    couples: dict[tuple[str | None, str | None], list[str]] = {}
    for p in people:
        if p.father or p.mother:
            couples.setdefault((p.father, p.mother), []).append(p.id)
    # sibships whose lines share a row get their own bar height and colour, so they never merge
    level: dict[float, int] = {}
    for (fa, mo), kids in couples.items():
        ky0 = min(lay.y[k] for k in kids)
        k_index = level.get(ky0, 0)
        level[ky0] = k_index + 1
        colour = _COLOURS[k_index % len(_COLOURS)]
        parents = [q for q in (fa, mo) if q]
        px = [lay.x[q] for q in parents]
        py = max(lay.y[q] for q in parents)
        if len(parents) == 2:
            lines.append(f'<line class="mating" x1="{min(px) + h:.1f}" y1="{py:.1f}" '
                         f'x2="{max(px) - h:.1f}" y2="{py:.1f}" stroke="#000"/>')
        mid = sum(px) / len(px)
        ky = min(lay.y[k] for k in kids)
        bar = ky - h - 12 - 9 * (k_index % 5)
        kxs = [lay.x[k] for k in kids]
        top = py if len(parents) == 2 else py + h
        lines.append(f'<line class="descent" x1="{mid:.1f}" y1="{top:.1f}" x2="{mid:.1f}" '
                     f'y2="{bar:.1f}" stroke="{colour}"/>')
        lines.append(f'<line class="sibship" x1="{min([*kxs, mid]):.1f}" y1="{bar:.1f}" '
                     f'x2="{max([*kxs, mid]):.1f}" y2="{bar:.1f}" stroke="{colour}"/>')
        for k in kids:
            lines.append(f'<line class="child" x1="{lay.x[k]:.1f}" y1="{bar:.1f}" x2="{lay.x[k]:.1f}" '
                         f'y2="{lay.y[k] - h:.1f}" stroke="{colour}"/>')
    symbols = [_symbol(by_id[p.id], lay.x[p.id], lay.y[p.id]) for p in people]
    head = f'<title>{escape(title)}</title>' if title else ""
    defs = ('<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="4" '
            'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#b00"/></marker></defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="pedigree" width="{lay.width:.0f}" '
            f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" '
            f'font-family="DejaVu Sans, sans-serif">{head}{defs}{"".join(lines)}{"".join(symbols)}</svg>')
