"""Pedigree drawings as SVG, with the standard symbols and a key, laid out by generation.

Symbols follow the recommendations of Bennett et al. (2008), "Standardized human pedigree
nomenclature", J Genet Counsel 17:424-433: square = male, circle = female, diamond = sex unknown;
a filled symbol is a typed member (has a DNA profile); a diagonal line through the symbol marks a
deceased member; the missing person carries an arrow and the label "MP". Every drawing carries
its key, and the kinds of reference profile of each member (A autosomal STR, mt mtDNA, Y Y-STR).

The layout is Sugiyama's layered scheme (Sugiyama, Tagawa & Toda 1981, "Methods for visual
understanding of hierarchical system structures", IEEE SMC 11:109-125):

1. layers: each member's generation (founders who marry in take their partner's row);
2. order within a row: by the barycentre of the parents (a married-in partner beside its mate),
   couples kept adjacent;
3. coordinates: each member has a box wide enough for its symbol, marks and wrapped label (text
   widths from the DejaVu Sans advance widths); neighbours keep their boxes apart. Within that
   constraint the x coordinates are the least-squares fit to the wanted positions (children under
   their parents, parents over their children), solved exactly per row as an isotonic regression
   by pool-adjacent-violators, in sweeps down, up and down the rows;
4. rows are as tall as their labels and the sibship lines between them need, so no label, symbol
   or line of descent overlaps another.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

NODE = 36  # symbol size, px
GAP = 16  # least space between the boxes of neighbours in a row, px
MARGIN = 24
FONT = 11  # label font size, px
LINE = 13  # label line height, px
WRAP = 18  # characters per label line
MAX_LINES = 3  # label lines before the label is keyed in a note
_COLOURS = ("#000", "#1f5fa8", "#a8541f", "#2e7d32", "#6a1b9a")  # lines of neighbouring sibships
REFERENCE_KINDS = {"autosomal": "A", "mtdna": "mt", "ystr": "Y"}

# advance widths of DejaVu Sans (the drawing's font), em units, for code points 32..126
_W = (318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
      636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
      575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
      611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
      278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
_BOLD = 1.22  # the bold face is at most 22 % wider (P: 733 vs 603 thousandths of an em)


def text_width(text: str, size: float = FONT, *, bold: bool = False) -> float:
    """Width in px of ``text`` in DejaVu Sans at ``size`` px (1 em for characters outside ASCII)."""
    em = sum(_W[ord(c) - 32] / 1000 if 32 <= ord(c) < 127 else 1.0 for c in text)
    return em * size * (_BOLD if bold else 1.0)


@dataclass(frozen=True)
class Person:
    """One pedigree member. ``sex``: 1 male, 2 female, 0 unknown (pedtools).

    ``label`` (default the id) is the first label line; ``relation`` (e.g. "brother's wife") is
    wrapped below it; ``references`` are the kinds of reference profile held ("autosomal",
    "mtdna", "ystr").
    """

    id: str
    father: str | None = None
    mother: str | None = None
    sex: int = 0
    typed: bool = False
    missing: bool = False
    deceased: bool = False
    label: str | None = None
    relation: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """Positions (centre x, y in px) of every member, its label lines and box, and the size."""

    x: dict[str, float]
    y: dict[str, float]
    generation: dict[str, int]
    width: float
    height: float
    lines: dict[str, list[str]]
    left: dict[str, float]  # extent of the member's box left of its centre, px
    right: dict[str, float]
    notes: list[str]  # labels too long to draw, keyed by number


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
    children = _children(people)
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


def _children(people: Sequence[Person]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in people:
        for q in (p.father, p.mother):
            if q:
                out.setdefault(q, []).append(p.id)
    return out


def _sibships(people: Sequence[Person]) -> dict[tuple[str | None, str | None], list[str]]:
    """Children by their (father, mother), in the order given."""
    out: dict[tuple[str | None, str | None], list[str]] = {}
    for p in people:
        if p.father or p.mother:
            out.setdefault((p.father, p.mother), []).append(p.id)
    return out


def _partners(people: Sequence[Person]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in people:
        if p.father and p.mother:
            for a, b in ((p.father, p.mother), (p.mother, p.father)):
                if b not in out.setdefault(a, []):
                    out[a].append(b)
    return out


def label_lines(p: Person, notes: list[str]) -> list[str]:
    """The label: id, then the relation wrapped at word boundaries; a relation longer than
    ``MAX_LINES`` lines is keyed ("see note n") and ``notes`` gets its full text."""
    lines = [p.label or p.id]
    if p.relation:
        wrapped = textwrap.wrap(p.relation, WRAP, break_long_words=True, break_on_hyphens=True)
        if len(wrapped) + 1 > MAX_LINES:
            notes.append(f"{p.label or p.id}: {p.relation}")
            wrapped = [f"see note {len(notes)}"]
        lines += wrapped
    if p.references:
        lines.append(" ".join(REFERENCE_KINDS.get(k, k) for k in p.references))
    return lines


def _pava(target: list[float], weight: list[float]) -> list[float]:
    """Least-squares non-decreasing fit (pool adjacent violators), exact."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for t, w in zip(target, weight, strict=True):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for v, _, n in blocks:
        out += [v] * int(n)
    return out


def _fit_row(row: list[str], x: dict[str, float], sep: list[float], want: dict[str, float]) -> None:
    """Place ``row`` (in order, neighbours ``sep`` apart at least) as near ``want`` as possible;
    members without a wish keep their place with a small weight."""
    offsets = [0.0]
    for s in sep:
        offsets.append(offsets[-1] + s)
    target = [(want[v] if v in want else x[v]) - o for v, o in zip(row, offsets, strict=True)]
    weight = [1.0 if v in want else 0.05 for v in row]
    for v, y, o in zip(row, _pava(target, weight), offsets, strict=True):
        x[v] = y + o


def layout(people: Sequence[Person]) -> Layout:
    """Layered layout: rows by generation, order by the parents' barycentre, least-squares x."""
    by_id = _check(people)
    gen = generations(people)
    kids = _children(people)
    mates = _partners(people)
    notes: list[str] = []
    lines = {p.id: label_lines(p, notes) for p in people}
    h = NODE / 2
    left: dict[str, float] = {}
    right: dict[str, float] = {}
    for p in people:
        half = max(text_width(s, bold=i == 0) for i, s in enumerate(lines[p.id])) / 2
        left[p.id] = max(h + 7, half, h + 24 + text_width("MP", bold=True) if p.missing else 0)
        right[p.id] = max(h + 7, half)
    rows: dict[int, list[str]] = {}
    for p in people:
        rows.setdefault(gen[p.id], []).append(p.id)
    order = sorted(rows)
    x: dict[str, float] = {}
    seps: dict[int, list[float]] = {}
    for g in order:
        ids = rows[g]

        def bary(pid: str, ids: list[str] = ids) -> float:
            p = by_id[pid]
            xs = [x[q] for q in (p.father, p.mother) if q and q in x]
            if xs:
                return sum(xs) / len(xs)
            for m in mates.get(pid, []):  # a married-in founder: beside its placed partner
                mp = by_id[m]
                mxs = [x[q] for q in (mp.father, mp.mother) if q and q in x]
                if mxs and m in ids:
                    return sum(mxs) / len(mxs) + 0.01
            return float("inf")

        ranked = sorted(ids, key=lambda pid: (bary(pid), ids.index(pid)))
        placed: list[str] = []
        for pid in ranked:  # couples adjacent: each partner right after its first-placed mate
            if pid in placed:
                continue
            placed.append(pid)
            placed += [m for m in mates.get(pid, []) if gen[m] == g and m not in placed]
        rows[g] = placed
        sep = []
        for a, b in itertools.pairwise(placed):
            if b in mates.get(a, []):  # the line of descent leaves between the partners' labels
                sep.append(2 * max(right[a], left[b]) + GAP)
            else:
                sep.append(right[a] + left[b] + GAP)
        seps[g] = sep
        pos = 0.0
        for i, pid in enumerate(placed):
            x[pid] = pos
            pos += sep[i] if i < len(sep) else 0
    # coordinates: least squares, down (children under parents), up (parents over children), down

    def down() -> None:
        for g in order[1:]:
            want: dict[str, float] = {}
            for pid in rows[g]:
                p = by_id[pid]
                xs = [x[q] for q in (p.father, p.mother) if q]
                if xs:
                    want[pid] = sum(xs) / len(xs)
            for pid in rows[g]:  # married-in partners follow their mate
                for m in mates.get(pid, []):
                    if pid not in want and m in want and gen[m] == g:
                        want[pid] = want[m] + (x[pid] - x[m])
            _fit_row(rows[g], x, seps[g], want)

    def up() -> None:
        for g in reversed(order[:-1]):
            want: dict[str, float] = {}
            for pid in rows[g]:
                if kids.get(pid):
                    centre = sum(x[c] for c in kids[pid]) / len(kids[pid])
                    ms = [m for m in mates.get(pid, []) if gen[m] == g]
                    # a couple's midpoint over its children: each partner half the gap aside
                    want[pid] = centre + (x[pid] - x[ms[0]]) / 2 if ms else centre
            _fit_row(rows[g], x, seps[g], want)

    for sweep in (down, up, down):
        sweep()
    shift = MARGIN - min(x[v] - left[v] for v in x)
    for v in x:
        x[v] += shift
    # rows: symbol, label block, then the sibship bars of the next row
    sibships: dict[int, int] = {}
    for sibs in _sibships(people).values():
        g = min(gen[c] for c in sibs)
        sibships[g] = sibships.get(g, 0) + 1
    y: dict[str, float] = {}
    top = float(MARGIN)
    for g in order:
        bars = sibships.get(g, 0)
        top += (12 + 8 * bars) if bars else 0
        for pid in rows[g]:
            y[pid] = top + h
        block = max(len(lines[p]) for p in rows[g]) * LINE + 10
        top += NODE + block + 14
    width = max(x[v] + right[v] for v in x) + MARGIN
    return Layout(x=x, y=y, generation=gen, width=width, height=top - 14 + MARGIN, lines=lines,
                  left=left, right=right, notes=notes)


def _symbol(p: Person, cx: float, cy: float, lines: list[str]) -> str:
    h = NODE / 2
    fill = "#333" if p.typed else "#fff"
    stroke = "#b00" if p.missing else "#000"
    width = 3 if p.missing else 1.5
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    parts = [_shape(p.sex, cx, cy, h, common)]
    if p.deceased:
        parts.append(f'<line class="deceased" x1="{cx - h - 5:.1f}" y1="{cy + h + 5:.1f}" '
                     f'x2="{cx + h + 5:.1f}" y2="{cy - h - 5:.1f}" stroke="#000" stroke-width="2"/>')
    if p.missing:
        parts.append(f'<path class="missing-arrow" d="M{cx - h - 20:.1f},{cy + 12:.1f} '
                     f'L{cx - h - 5:.1f},{cy + 3:.1f}" stroke="#b00" stroke-width="2" fill="none" '
                     'marker-end="url(#arrow)"/>')
        parts.append(f'<text class="mp" x="{cx - h - 22:.1f}" y="{cy + 4:.1f}" text-anchor="end" '
                     f'fill="#b00" font-size="{FONT}" font-weight="bold">MP</text>')
    for i, line in enumerate(lines):
        last_refs = p.references and i == len(lines) - 1
        style = ('class="label" font-weight="bold"' if i == 0 else
                 'class="label refs" fill="#1f5fa8"' if last_refs else 'class="label" fill="#333"')
        parts.append(f'<text {style} x="{cx:.1f}" y="{cy + h + 17 + i * LINE:.1f}" '
                     f'text-anchor="middle" font-size="{FONT}">{escape(line)}</text>')
    return f'<g class="member" data-id="{escape(p.id)}">{"".join(parts)}</g>'


def _shape(sex: int, cx: float, cy: float, h: float, common: str) -> str:
    if sex == 1:
        return f'<rect class="male" x="{cx - h:.1f}" y="{cy - h:.1f}" width="{2 * h:g}" height="{2 * h:g}" {common}/>'
    if sex == 2:
        return f'<circle class="female" cx="{cx:.1f}" cy="{cy:.1f}" r="{h:g}" {common}/>'
    pts = f"{cx:.1f},{cy - h:.1f} {cx + h:.1f},{cy:.1f} {cx:.1f},{cy + h:.1f} {cx - h:.1f},{cy:.1f}"
    return f'<polygon class="unknown-sex" points="{pts}" {common}/>'


def _key(top: float, width: float, notes: list[str]) -> tuple[str, float, float]:
    """The key below the drawing: symbols, marks and reference kinds, flowed into lines."""
    s, size = 7.0, 10
    items: list[tuple[str, str]] = [
        (_shape(1, 0, 0, s, 'fill="#fff" stroke="#000" stroke-width="1.2"'), "male"),
        (_shape(2, 0, 0, s, 'fill="#fff" stroke="#000" stroke-width="1.2"'), "female"),
        (_shape(0, 0, 0, s, 'fill="#fff" stroke="#000" stroke-width="1.2"'), "sex unknown"),
        (_shape(1, 0, 0, s, 'fill="#333" stroke="#000" stroke-width="1.2"'), "typed (has a DNA profile)"),
        (_shape(1, 0, 0, s, 'fill="#fff" stroke="#b00" stroke-width="2.5"'), "MP: the missing person"),
        (_shape(1, 0, 0, s, 'fill="#fff" stroke="#000" stroke-width="1.2"')
         + f'<line x1="{-s - 3}" y1="{s + 3}" x2="{s + 3}" y2="{-s - 3}" stroke="#000" stroke-width="1.5"/>',
         "deceased"),
        (f'<text x="0" y="4" text-anchor="middle" font-size="{size}" fill="#1f5fa8">A mt Y</text>',
         "reference profiles: autosomal STR, mtDNA, Y-STR"),
    ]
    parts, x, y = [], 0.0, top + 12
    used = 0.0
    for sym, text in items:
        sym_w = text_width("A mt Y", size) if "A mt Y" in sym else 2 * s + 6
        w = sym_w + 6 + text_width(text, size) + 18
        if x > 0 and x + w > width:
            x, y = 0.0, y + 20
        parts.append(f'<g class="key-item" transform="translate({x + sym_w / 2:.1f},{y:.1f})">{sym}'
                     f'<text x="{sym_w / 2 + 6:.1f}" y="4" font-size="{size}">{escape(text)}</text></g>')
        x += w
        used = max(used, x)
    for i, note in enumerate(notes, 1):
        y += 16
        parts.append(f'<text class="note" x="0" y="{y + 4:.1f}" font-size="{size}">note {i}: {escape(note)}</text>')
        used = max(used, text_width(f"note {i}: {note}", size))
    return (f'<g class="key" transform="translate({MARGIN},0)"><line x1="0" y1="{top:.1f}" '
            f'x2="{width:.1f}" y2="{top:.1f}" stroke="#ccc"/>{"".join(parts)}</g>', y + 14, used)


def pedigree_svg(people: Sequence[Person], *, title: str | None = None) -> str:
    """The pedigree as a standalone SVG document (UTF-8 text), with its key."""
    if not people:
        raise ValueError("`people` is empty")
    lay = layout(people)
    by_id = {p.id: p for p in people}
    h = NODE / 2
    lines: list[str] = []
    couples = _sibships(people)
    # sibships whose bars share a row get their own bar height and colour, so they never merge
    level: dict[float, int] = {}
    for (fa, mo), kids in sorted(couples.items(), key=lambda kv: min(lay.x[k] for k in kv[1])):
        ky = min(lay.y[k] for k in kids)
        k_index = level.get(ky, 0)
        level[ky] = k_index + 1
        colour = _COLOURS[k_index % len(_COLOURS)]
        parents = [q for q in (fa, mo) if q]
        px = [lay.x[q] for q in parents]
        py = max(lay.y[q] for q in parents)
        if len(parents) == 2:
            lines.append(f'<line class="mating" x1="{min(px) + h:.1f}" y1="{py:.1f}" '
                         f'x2="{max(px) - h:.1f}" y2="{py:.1f}" stroke="#000"/>')
            top = py
        else:  # one parent: the line leaves below its label
            top = py + h + 8 + len(lay.lines[parents[0]]) * LINE
        mid = sum(px) / len(px)
        bar = ky - h - 12 - 8 * k_index
        kxs = [lay.x[k] for k in kids]
        lines.append(f'<line class="descent" x1="{mid:.1f}" y1="{top:.1f}" x2="{mid:.1f}" '
                     f'y2="{bar:.1f}" stroke="{colour}"/>')
        lines.append(f'<line class="sibship" x1="{min([*kxs, mid]):.1f}" y1="{bar:.1f}" '
                     f'x2="{max([*kxs, mid]):.1f}" y2="{bar:.1f}" stroke="{colour}"/>')
        for k in kids:
            lines.append(f'<line class="child" x1="{lay.x[k]:.1f}" y1="{bar:.1f}" x2="{lay.x[k]:.1f}" '
                         f'y2="{lay.y[k] - h:.1f}" stroke="{colour}"/>')
    symbols = [_symbol(by_id[p.id], lay.x[p.id], lay.y[p.id], lay.lines[p.id]) for p in people]
    key, bottom, key_w = _key(lay.height - MARGIN + 8, max(lay.width - 2 * MARGIN, 420), lay.notes)
    width = max(lay.width, key_w + 2 * MARGIN)
    height = bottom + MARGIN / 2
    head = f'<title>{escape(title)}</title>' if title else ""
    defs = ('<defs><marker id="arrow" markerWidth="6" markerHeight="6" refX="6" refY="4" viewBox="0 0 8 8" '
            'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#b00"/></marker></defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="pedigree" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'font-family="DejaVu Sans, sans-serif">{head}{defs}{"".join(lines)}{"".join(symbols)}{key}</svg>')
