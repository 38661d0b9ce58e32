"""Commingled remains in the registry: inventory import, sorting with DNA, review, apply."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from dogtag.errors import DataFormatError, DogtagError
from dogtag.genetics.freqdb import load_database
from dogtag.osteology.inventory import default_reference
from dogtag.osteology.validation import hold_out
from dogtag.registry.commingling import (
    Sorting,
    SortingStatus,
    load_inventory,
    propose_sorting,
    review_sorting,
)
from dogtag.registry.engine import session_scope
from dogtag.registry.imports import import_file
from dogtag.registry.ledger import AuditEntry
from dogtag.registry.models import Accession, Element, Individual, Profile, ProfileKind, Sample

KINDS = {("humerus", "left"), ("humerus", "right"), ("femur", "left"), ("femur", "right")}


def _inventory(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Four held-out DPAA individuals with both humeri and femora, over two boxes."""
    ref = default_reference()
    have: dict[str, set[tuple[str, str]]] = {}
    for i, e, s in zip(ref.ids, ref.elements, ref.sides, strict=True):
        have.setdefault(i, set()).add((e, s))
    people = sorted(i for i, k in have.items() if k >= KINDS)[:40:10]
    inv, _ = hold_out(ref, set(people))
    rows = [i for i, (e, s) in enumerate(zip(inv.elements, inv.sides, strict=True)) if (e, s) in KINDS]
    codes = [c for c in inv.codes if c[:3] in ("Hum", "Fem")]
    path = tmp_path / "inventory.csv"
    truth = {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "Side", "Element", "Accession", "Portion", *codes])
        for n, i in enumerate(rows):
            person = inv.ids[i].split(":")[0]
            key = f"E{n:02d}"
            truth[key] = person
            vals = inv.measures(np.array([i]), codes)[0]
            w.writerow([key, inv.sides[i], inv.elements[i], "BOX-1" if n % 2 else "BOX-2", "",
                        *["" if np.isnan(v) else v for v in vals]])
    return path, truth


def _profiles(engine: Engine, truth: dict[str, str], *, swap: tuple[str, str] | None = None) -> None:
    """One sample per element; its STR profile drawn once per person (15 NIST loci)."""
    db = load_database("nist1036-Cauc")
    markers = db.markers(list(db.loci)[:15])
    rng = np.random.default_rng(5)
    by_person: dict[str, dict[str, list[str]]] = {}
    for person in sorted(set(truth.values())):
        by_person[person] = {m.name: sorted(rng.choice(m.alleles, 2, p=m.freqs).tolist())
                             for m in markers}
    owner = dict(truth)
    if swap:  # the sample of swap[1] carries the profile of swap[0]'s person (a mix-up)
        owner[swap[1]] = truth[swap[0]]
    with session_scope(engine, "lab") as s:
        for el in s.scalars(select(Element)):
            sample = Sample(key=f"S-{el.key}", element_id=el.id, accession_id=el.accession_id)
            s.add(sample)
            s.flush()
            s.add(Profile(kind=ProfileKind.AUTOSOMAL, sample_id=sample.id,
                          data=by_person[owner[el.key]]))


@pytest.fixture
def boxes(engine: Engine, tmp_path: Path) -> dict[str, str]:
    acc = tmp_path / "accessions.csv"
    acc.write_text("key,description\nBOX-1,K55-like box\nBOX-2,K55-like box\n")
    import_file(engine, "accessions", acc, actor="ann")
    path, truth = _inventory(tmp_path)
    res = import_file(engine, "inventory", path, actor="ann")
    assert res.inserted == len(truth) == 16
    return truth


def test_inventory_import_round_trips(engine: Engine, boxes: dict[str, str], tmp_path: Path) -> None:
    with session_scope(engine, "t") as s:
        inv = load_inventory(s)
        assert set(inv.ids) == set(boxes) and set(inv.accessions) == {"BOX-1", "BOX-2"}
        assert {(e, sd) for e, sd in zip(inv.elements, inv.sides, strict=True)} == KINDS
    path, _ = _inventory(tmp_path)
    assert import_file(engine, "inventory", path, actor="ann").unchanged == 16
    bad = tmp_path / "bad.csv"
    bad.write_text("id,Side,Element,Accession,Hum_01\nX1,left,humerus,NOPE,300\n")
    with pytest.raises(DataFormatError, match="line 2: Accession 'NOPE'"):
        import_file(engine, "inventory", bad, actor="ann")


def test_dna_joins_elements_and_review_applies(engine: Engine, boxes: dict[str, str]) -> None:
    _profiles(engine, boxes)
    with session_scope(engine, "ann") as s:
        sid = propose_sorting(s, "ann").id
    with session_scope(engine, "ann") as s:
        sorting = s.get(Sorting, sid)
        assert sorting is not None and sorting.status is SortingStatus.PROPOSED
        assert sorting.result["mni"] == 4 and sorting.result["mni_by_accession"]["BOX-1"] >= 2
        groups = [g["elements"] for g in sorting.result["groups"]]
        # every proposed group is one person: DNA agrees with the held-out truth
        assert all(len({boxes[e] for e in g}) == 1 for g in groups)
        # a person split over groups is explained by a conflict reported for review (a true pair
        # that osteometry excludes, as it does for about alpha of true pairs): never merged
        conflicted = {e for c in sorting.result["conflicts"] for e in (c["a"], c["b"])}
        for person in set(boxes.values()):
            parts = [g for g in groups if boxes[g[0]] == person]
            assert len(parts) == 1 or any(set(g) & conflicted for g in parts)
        assert all("test p" in c["reason"] for c in sorting.result["conflicts"])
        assert sum(len(g) == 4 for g in groups) >= 3
        assert s.scalar(select(func.count()).select_from(Individual)) == 0  # nothing applied yet
        with pytest.raises(DogtagError, match="second person"):
            review_sorting(s, sid, "ann", apply=True)
    before = _audits(engine)
    with session_scope(engine, "rita") as s:
        review_sorting(s, sid, "rita", apply=True, note="checked")
    with session_scope(engine, "t") as s:
        inds = {e.key: e.individual_id for e in s.scalars(select(Element))}
        for a in boxes:
            for b in boxes:
                if inds[a] is not None and inds[a] == inds[b]:
                    assert boxes[a] == boxes[b]
        assert s.scalar(select(func.count()).select_from(Individual)) == sum(
            len(g) > 1 for g in groups)
    assert _audits(engine) > before  # the new individuals and labels are audit-logged
    with session_scope(engine, "rob") as s, pytest.raises(DogtagError, match="applied"):
        review_sorting(s, sid, "rob", apply=False)


def _audits(engine: Engine) -> int:
    with session_scope(engine, "t") as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_dna_against_osteometric_exclusion_is_a_conflict(engine: Engine, boxes: dict[str, str]) -> None:
    # a left humerus whose sample carries the profile of another person's right humerus: DNA says
    # "one person", osteometry excludes the pair or a group would hold two of one kind
    lefts = sorted(k for k in boxes if k in _keys(engine, "humerus", "L"))
    rights = sorted(k for k in boxes if k in _keys(engine, "humerus", "R"))
    a = lefts[0]
    b = next(r for r in rights if boxes[r] != boxes[a])
    _profiles(engine, boxes, swap=(b, a))
    with session_scope(engine, "ann") as s:
        sorting = propose_sorting(s, "ann")
        conflicts = sorting.result["conflicts"]
        assert any(c["kind"] == "dna" and a in (c["a"], c["b"]) for c in conflicts)
        for g in sorting.result["groups"]:  # never silently merged: no group holds two of a kind
            kinds = [(e, sd) for e, sd in (_kind(engine, k) for k in g["elements"])]
            assert len(kinds) == len(set(kinds))


def _keys(engine: Engine, element: str, side: str) -> set[str]:
    with session_scope(engine, "t") as s:
        return {e.key for e in s.scalars(select(Element)) if e.element == element
                and e.side.value == side}


def _kind(engine: Engine, key: str) -> tuple[str, str]:
    with session_scope(engine, "t") as s:
        e = s.scalars(select(Element).where(Element.key == key)).one()
        return e.element, e.side.value


def test_changed_inputs_refuse_the_apply(engine: Engine, boxes: dict[str, str]) -> None:
    with session_scope(engine, "ann") as s:
        sid = propose_sorting(s, "ann", accessions=["BOX-1"]).id
    with session_scope(engine, "ann") as s:
        e = s.scalars(select(Element).join(Element.accession).where(Accession.key == "BOX-1")).first()
        assert e is not None
        e.measurements = {**(e.measurements or {}), "Hum_01": 999.0}
    with session_scope(engine, "rita") as s, pytest.raises(DogtagError, match="changed"):
        review_sorting(s, sid, "rita", apply=True)


def test_remains_under_identification_are_not_regrouped(engine: Engine, boxes: dict[str, str]) -> None:
    from dogtag.registry.identification import Identification
    from dogtag.registry.people import MissingPerson

    _profiles(engine, boxes)
    with session_scope(engine, "ann") as s:
        sid = propose_sorting(s, "ann").id
        person = MissingPerson(service_number="SN-1")
        s.add(person)
        s.flush()
        sample = s.scalars(select(Sample).order_by(Sample.key)).first()
        assert sample is not None
        s.add(Identification(missing_person_id=person.id, sample_id=sample.id, proposed_by="ann"))
    with session_scope(engine, "rita") as s, pytest.raises(DogtagError, match="active identification"):
        review_sorting(s, sid, "rita", apply=True)
