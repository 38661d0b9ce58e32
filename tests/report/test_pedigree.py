"""Pedigree drawings: generations, a layout without overlaps, and the standard symbols."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from dogtag.report.pedigree import GAP, Person, generations, layout, pedigree_svg, text_width

SVG = "{http://www.w3.org/2000/svg}"


def big_family() -> list[Person]:
    """Four generations, 34 people: 2 founders, 4 children with 4 married-in spouses, 12 grand-
    children with 4 married-in spouses, 8 great-grandchildren."""
    people = [Person("GF", sex=1, deceased=True), Person("GM", sex=2, deceased=True)]
    grand: list[str] = []
    for i in range(4):
        child, spouse = f"C{i}", f"S{i}"
        people += [Person(child, "GF", "GM", sex=1 if i % 2 == 0 else 2, typed=i == 1),
                   Person(spouse, sex=2 if i % 2 == 0 else 1)]
        fa, mo = (child, spouse) if i % 2 == 0 else (spouse, child)
        for j in range(3):
            g = f"G{i}{j}"
            grand.append(g)
            people.append(Person(g, fa, mo, sex=1 + (j % 2), typed=j == 0, missing=(i, j) == (2, 1)))
    for k, g in enumerate(grand[:4]):
        sp = f"T{k}"
        sex_g = next(p.sex for p in people if p.id == g)
        people.append(Person(sp, sex=2 if sex_g == 1 else 1))
        fa, mo = (g, sp) if sex_g == 1 else (sp, g)
        people += [Person(f"H{k}a", fa, mo, sex=1, typed=True), Person(f"H{k}b", fa, mo, sex=2)]
    return people


def brute_generation(people: list[Person]) -> dict[str, int]:
    """Obvious version: longest chain of ancestors, then founders one above their first child."""
    by = {p.id: p for p in people}

    def depth(i: str) -> int:
        p = by[i]
        ps = [q for q in (p.father, p.mother) if q]
        return 0 if not ps else 1 + max(depth(q) for q in ps)

    gen = {p.id: depth(p.id) for p in people}
    for p in people:
        kids = [c.id for c in people if p.id in (c.father, c.mother)]
        if not p.father and not p.mother and kids:
            gen[p.id] = max(gen[p.id], min(gen[c] for c in kids) - 1)
    return gen


def test_generations_trio_and_married_in() -> None:
    people = [Person("F", sex=1), Person("M", sex=2), Person("C", "F", "M", sex=1),
              Person("W", sex=2), Person("K", "C", "W", sex=2)]
    assert generations(people) == {"F": 0, "M": 0, "C": 1, "W": 1, "K": 2}


def test_big_family_layout_is_readable() -> None:
    people = big_family()
    assert len(people) >= 30
    lay = layout(people)
    assert lay.generation == brute_generation(people)
    # every child is drawn one or more rows below both parents
    for p in people:
        for q in (p.father, p.mother):
            if q:
                assert lay.y[p.id] > lay.y[q]
    # neighbours' boxes (symbol, marks and label) never overlap; partners are neighbours
    rows: dict[float, list[str]] = {}
    for p in people:
        rows.setdefault(lay.y[p.id], []).append(p.id)
    for ids in rows.values():
        ids.sort(key=lambda i: lay.x[i])
        for a, b in itertools.pairwise(ids):
            assert lay.x[b] - lay.left[b] >= lay.x[a] + lay.right[a] + GAP - 1e-6, (a, b)
    for p in people:
        if p.father and p.mother and lay.generation[p.father] == lay.generation[p.mother]:
            row = rows[lay.y[p.father]]
            assert abs(row.index(p.father) - row.index(p.mother)) == 1, p.id
    assert min(lay.x[i] - lay.left[i] for i in lay.x) >= 0 and max(
        lay.x[i] + lay.right[i] for i in lay.x) <= lay.width
    # each child under its parents' span, give or take the width of the sibship
    for p in people:
        if p.father and p.mother:
            assert min(lay.x[p.father], lay.x[p.mother]) - 700 < lay.x[p.id] < max(
                lay.x[p.father], lay.x[p.mother]) + 700


def real_width(text: str, size: float, bold: bool) -> float:
    """The advance width of ``text`` in DejaVu Sans, measured by FreeType (independent of the
    layout's own table)."""
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    font = FT2Font(findfont(FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")))
    font.set_size(size, 72)
    return sum(font.load_char(ord(c)).linearHoriAdvance / 65536 for c in text)


@pytest.mark.parametrize("text", ["MP", "BRW", "brother's wife", "nephew (brother's", "WWWWW", "il1",
                                  "see note 12", "A mt Y"])
def test_text_widths_cover_the_real_font(text: str) -> None:
    for bold in (False, True):
        est = text_width(text, 11, bold=bold)
        real = real_width(text, 11, bold)
        assert real <= est + 0.05 and est <= real * 1.3 + 0.05, (text, bold, est, real)


def test_long_relations_are_wrapped_or_keyed() -> None:
    people = [Person("F", sex=1), Person("M", sex=2, relation="mother"),
              Person("BRW", "F", "M", sex=2, relation="brother's wife, who married in"),
              Person("X", "F", "M", sex=1, relation="a cousin once removed on the paternal side of the family")]
    lay = layout(people)
    assert lay.lines["BRW"] == ["BRW", "brother's wife,", "who married in"]
    assert lay.lines["X"] == ["X", "see note 1"]
    assert lay.notes == ["X: a cousin once removed on the paternal side of the family"]
    svg = pedigree_svg([*people, Person("R", "F", "M", sex=1, references=("autosomal", "ystr"))])
    assert "note 1: X: a cousin once removed" in svg
    root = ET.fromstring(svg)  # well-formed, with the reference kinds as the last label line
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label refs"] == ["A Y"]


def test_rows_fit_by_least_squares_pava_equals_brute_force() -> None:
    """Pool-adjacent-violators against the obvious minimisation over a fine grid of the
    monotone cone (three points)."""
    import random

    from dogtag.report.pedigree import _pava

    rng = random.Random(7)
    grid = [i / 4 for i in range(-40, 41)]
    for _ in range(25):
        t = [rng.uniform(-8, 8) for _ in range(3)]
        w = [rng.choice([1.0, 0.05, 2.0]) for _ in range(3)]
        best = min(((a, b, c) for a in grid for b in grid if b >= a for c in grid if c >= b),
                   key=lambda y: sum(wi * (yi - ti) ** 2 for wi, yi, ti in zip(w, y, t, strict=True)))
        got = _pava(t, w)
        assert all(b >= a - 1e-12 for a, b in itertools.pairwise(got))
        assert got == pytest.approx(list(best), abs=0.13)


def test_every_drawing_has_its_key() -> None:
    for people in ([Person("A", sex=1)], big_family()):
        root = ET.fromstring(pedigree_svg(people))
        key = root.find(f"{SVG}g[@class='key']")
        assert key is not None
        text = " ".join(t.text or "" for t in key.iter(f"{SVG}text"))
        for word in ("male", "female", "sex unknown", "typed", "MP: the missing person", "deceased",
                     "autosomal STR, mtDNA, Y-STR"):
            assert word in text, word


def test_svg_symbols() -> None:
    people = big_family()
    svg = pedigree_svg(people, title="Family X")
    root = ET.fromstring(svg)
    members = root.findall(f"{SVG}g[@class='member']")
    assert len(members) == len(people)
    by_id = {g.get("data-id"): g for g in members}
    for p in people:
        g = by_id[p.id]
        shape = g.find(f"{SVG}rect") if p.sex == 1 else g.find(f"{SVG}circle")
        assert shape is not None, p.id
        assert shape.get("fill") == ("#333" if p.typed else "#fff"), p.id
        assert (g.find(f"{SVG}line[@class='deceased']") is not None) == p.deceased, p.id
        assert (g.find(f"{SVG}path[@class='missing-arrow']") is not None) == p.missing, p.id
    assert len(root.findall(f"{SVG}line[@class='mating']")) == 4 + 4 + 1  # couples with children
    assert root.find(f"{SVG}title").text == "Family X"  # type: ignore[union-attr]


def test_unknown_sex_is_a_diamond_and_labels_are_escaped() -> None:
    svg = pedigree_svg([Person("<x>", sex=0)])
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}g/{SVG}polygon") is not None
    assert "&lt;x&gt;" in svg


@pytest.mark.parametrize("people, message", [
    ([Person("A", "B", None)], "parents that are not in `people`: A->B"),
    ([Person("A"), Person("A")], "duplicate id: A"),
    ([Person("A", "B", None, sex=1), Person("B", "A", None, sex=1)], "cycle"),
    ([], "`people` is empty"),
])
def test_bad_pedigrees(people: list[Person], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        pedigree_svg(people)
