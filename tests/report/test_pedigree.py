"""Pedigree drawings: generations, a layout without overlaps, and the standard symbols."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from dogtag.report.pedigree import GAP_X, NODE, Person, generations, layout, pedigree_svg

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
    # no two symbols of a row overlap (centres at least GAP_X apart, GAP_X > NODE)
    rows: dict[float, list[float]] = {}
    for p in people:
        rows.setdefault(lay.y[p.id], []).append(lay.x[p.id])
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= GAP_X - 1e-9 for a, b in itertools.pairwise(xs))
    assert GAP_X > NODE
    # couples sit side by side
    for p in people:
        if p.father and p.mother and lay.generation[p.father] == lay.generation[p.mother]:
            assert abs(lay.x[p.father] - lay.x[p.mother]) == pytest.approx(GAP_X)


def test_svg_symbols() -> None:
    people = big_family()
    svg = pedigree_svg(people, title="Family X")
    root = ET.fromstring(svg)
    members = root.findall(f"{SVG}g")
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
