"""Imports of field operations, accessions, skeletal elements and samples."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from dogtag.errors import DataFormatError
from dogtag.genetics.pedigree import parse_sex
from dogtag.registry.base import table_of
from dogtag.registry.imports.core import (
    CsvFile,
    ImportResult,
    Rows,
    choice,
    date,
    number,
    text,
    upsert,
    write_audit,
)
from dogtag.registry.people import LossIncident
from dogtag.registry.recovery import (
    Accession,
    Element,
    FieldOperation,
    Individual,
    OperationKind,
    Sample,
    Side,
    operation_incident,
)


def _keys(conn: Connection, model: Any) -> dict[str, int]:
    return {k: i for i, k in conn.execute(select(model.id, model.key))}


def _unique(rows: Rows, line: int, column: str, key: Any, seen: dict[Any, int]) -> None:
    if key is not None and key in seen:
        rows.error(line, column, f"duplicate {column} {key!r} (also on line {seen[key]})")
    seen[key] = line


def import_operations(conn: Connection, path: str, actor: str) -> ImportResult:
    """key, kind, name, site, latitude, longitude, start_date, end_date, incidents (';'-separated keys)."""
    f = CsvFile(path, required=["key", "kind"])
    rows, out, links, seen = Rows(f), [], [], dict[Any, int]()
    incidents = _keys(conn, LossIncident)
    for line, get in rows:
        key = get("key", text(64), required=True)
        _unique(rows, line, "key", key, seen)
        out.append({"key": key, "kind": get("kind", choice(OperationKind), required=True),
                    "name": get("name", text(200)), "site": get("site", text(200)),
                    "latitude": get("latitude", number(-90, 90)),
                    "longitude": get("longitude", number(-180, 180)),
                    "start_date": get("start_date", date), "end_date": get("end_date", date)})
        inc = [s.strip() for s in (get("incidents") or "").split(";") if s.strip()]
        for k in inc:
            if k not in incidents:
                rows.error(line, "incidents", f"unknown loss incident {k!r}")
        links.append(sorted({incidents[k] for k in inc if k in incidents}))
    rows.check()
    result = ImportResult("operations", str(path), f.sha256, len(out))
    if not out:
        return result
    ids = upsert(conn, table_of(FieldOperation), ["key"], out, actor=actor, result=result)
    t = operation_incident
    have: dict[int, list[int]] = {}
    for op, inc in conn.execute(select(t.c.operation_id, t.c.incident_id)):
        have.setdefault(op, []).append(inc)
    for row, want in zip(out, links, strict=True):
        op = ids[(row["key"],)]
        if sorted(have.get(op, [])) != want:
            conn.execute(delete(t).where(t.c.operation_id == op))
            if want:
                conn.execute(insert(t), [{"operation_id": op, "incident_id": i} for i in want])
            write_audit(conn, actor, "operation_incident",
                        [("update", (row["key"],), {"incidents": sorted(have.get(op, []))},
                          {"incidents": want})])
    return result


def import_accessions(conn: Connection, path: str, actor: str) -> ImportResult:
    """key, operation, description, received_date."""
    f = CsvFile(path, required=["key"])
    rows, out, seen = Rows(f), [], dict[Any, int]()
    ops = _keys(conn, FieldOperation)
    for line, get in rows:
        key = get("key", text(64), required=True)
        _unique(rows, line, "key", key, seen)
        op = get("operation", text(64))
        if op is not None and op not in ops:
            rows.error(line, "operation", f"unknown field operation {op!r}")
        out.append({"key": key, "operation_id": ops.get(op) if op else None,
                    "description": get("description"), "received_date": get("received_date", date)})
    rows.check()
    result = ImportResult("accessions", str(path), f.sha256, len(out))
    if out:
        upsert(conn, table_of(Accession), ["key"], out, actor=actor, result=result)
    return result


_ELEMENT_COLUMNS = {"key", "accession", "element", "side", "individual", "portion", "notes"}


def import_elements(conn: Connection, path: str, actor: str) -> ImportResult:
    """key, accession, element, side (L/R/M/U), individual, portion, notes, then measurements (mm).

    Every other column is an osteometric measurement (ARDS codes such as ``Fem_01``, as in
    OsteoSort's templates); empty cells are unmeasured. Individuals named in ``individual`` are
    created when new.
    """
    f = CsvFile(path, required=["key", "accession", "element"])
    measures = [(i, c) for i, c in enumerate(f.columns) if c not in _ELEMENT_COLUMNS]
    rows, out, seen = Rows(f), [], dict[Any, int]()
    accs = _keys(conn, Accession)
    individuals: list[str | None] = []
    side = choice(Side)
    for (line, get), (_, rec) in zip(rows, f.rows, strict=True):
        key = get("key", text(64), required=True)
        _unique(rows, line, "key", key, seen)
        acc = get("accession", text(64), required=True)
        if acc is not None and acc not in accs:
            rows.error(line, "accession", f"unknown accession {acc!r}")
        m: dict[str, float] = {}
        for i, c in measures:
            v = rec[i].strip()
            if v:
                try:
                    m[c] = number(0, 10_000)(v)
                except ValueError as exc:
                    rows.error(line, c, str(exc))
        individuals.append(get("individual", text(64)))
        out.append({"key": key, "accession_id": accs.get(acc), "element": get("element", text(64),
                    required=True), "side": get("side", side) or Side.UNKNOWN,
                    "measurements": m or None, "portion": get("portion", text(200)),
                    "notes": get("notes")})
    rows.check()
    result = ImportResult("elements", str(path), f.sha256, len(out))
    if not out:
        return result
    inds = _keys(conn, Individual)
    new = sorted({i for i in individuals if i and i not in inds})
    if new:
        res = upsert(conn, table_of(Individual), ["key"], [{"key": k} for k in new], actor=actor,
                     result=ImportResult("individuals", str(path), f.sha256, len(new)))
        inds.update({k[0]: v for k, v in res.items()})
        result.details["individuals_created"] = len(new)
    for row, ind in zip(out, individuals, strict=True):
        row["individual_id"] = inds[ind] if ind else None
    upsert(conn, table_of(Element), ["key"], out, actor=actor, result=result)
    return result


def import_inventory(conn: Connection, path: str, actor: str) -> ImportResult:
    """An element inventory in OsteoSort's layout: id, Side, Element, Accession, Portion, codes.

    Read by :func:`dogtag.osteology.inventory.read_inventory` (its errors name the file and the
    line); ``id`` becomes the element key, and every row needs a known ``Accession``. Individual
    labels are not part of an inventory: sorting sets them (:mod:`dogtag.registry.commingling`).
    """
    from dogtag.osteology.inventory import read_inventory

    inv = read_inventory(path)
    f = CsvFile(path)
    accs = _keys(conn, Accession)
    for line, (key, acc) in enumerate(zip(inv.ids, inv.accessions, strict=True), start=2):
        if len(key) > 64 or len(acc) > 64:
            raise DataFormatError("id and Accession have at most 64 characters", path=path,
                                  line=line)
        if acc not in accs:
            raise DataFormatError(f"Accession {acc!r}: expected a registered accession"
                                  if acc else "no Accession: each element needs its accession",
                                  path=path, line=line)
    side = {"left": Side.LEFT, "right": Side.RIGHT, "": Side.UNKNOWN}
    out = [{"key": k, "accession_id": accs[a], "element": e, "side": side[sd],
            "measurements": {c: float(v) for c, v in zip(inv.codes, row, strict=True)
                             if v == v} or None,
            "portion": ";".join(p) or None}
           for k, a, e, sd, p, row in zip(inv.ids, inv.accessions, inv.elements, inv.sides,
                                          inv.portions, inv.values, strict=True)]
    result = ImportResult("inventory", str(path), f.sha256, len(out))
    if out:
        upsert(conn, table_of(Element), ["key"], out, actor=actor, result=result)
    return result


def import_samples(conn: Connection, path: str, actor: str) -> ImportResult:
    """key, element, accession, taken_date, material, sex, lab (element or accession may be empty)."""
    f = CsvFile(path, required=["key"])
    rows, out, seen = Rows(f), [], dict[Any, int]()
    elements = {k: (i, a) for i, k, a in conn.execute(select(Element.id, Element.key, Element.accession_id))}
    accs = _keys(conn, Accession)
    for line, get in rows:
        key = get("key", text(64), required=True)
        _unique(rows, line, "key", key, seen)
        el, acc = get("element", text(64)), get("accession", text(64))
        if el is not None and el not in elements:
            rows.error(line, "element", f"unknown element {el!r}")
        if acc is not None and acc not in accs:
            rows.error(line, "accession", f"unknown accession {acc!r}")
        el_id, el_acc = elements.get(el, (None, None)) if el else (None, None)
        acc_id = accs.get(acc) if acc else el_acc
        if el_acc is not None and acc is not None and accs.get(acc) != el_acc:
            rows.error(line, "accession", f"element {el!r} belongs to another accession")
        out.append({"key": key, "element_id": el_id, "accession_id": acc_id,
                    "taken_date": get("taken_date", date), "material": get("material", text(64)),
                    "sex": get("sex", parse_sex) or 0, "lab": get("lab", text(64))})
    rows.check()
    result = ImportResult("samples", str(path), f.sha256, len(out))
    if out:
        upsert(conn, table_of(Sample), ["key"], out, actor=actor, result=result)
    return result
