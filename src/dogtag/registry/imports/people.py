"""Imports of loss incidents and missing persons (a layout close to the DCAS casualty files)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from dogtag.genetics.pedigree import parse_sex
from dogtag.registry.base import table_of, utcnow
from dogtag.registry.bulk import bulk_insert
from dogtag.registry.imports.core import (
    CsvFile,
    ImportResult,
    Rows,
    boolean,
    choice,
    date,
    integer,
    number,
    text,
    upsert,
    write_audit,
)
from dogtag.registry.people import (
    ACCOUNTED_FOR,
    Conflict,
    LossIncident,
    MissingPerson,
    Status,
    StatusChange,
)

#: Missing-person columns (upper case as in the DCAS files; matched case-insensitively).
MISSING_COLUMNS: dict[str, str] = {
    "service_number": "SERVICE_NUMBER", "last_name": "LAST_NAME", "first_name": "FIRST_NAME",
    "middle_name": "MIDDLE_NAME", "rank": "RANK", "pay_grade": "PAY_GRADE", "branch": "BRANCH",
    "enrollment": "ENROLLMENT", "unit": "DIVISION", "birth_date": "BIRTH_DATE",
    "birth_year": "BIRTH_YEAR", "loss_date": "INCIDENT_DATE", "home_city": "HOME_CITY",
    "home_county": "HOME_COUNTY", "home_state": "HOME_STATE", "sex": "SEX",
    "ethnicity": "ETHNICITY", "stature_cm": "STATURE_CM", "dental_records": "DENTAL_RECORDS",
    "chest_radiograph": "CHEST_RADIOGRAPH", "status": "STATUS", "conflict": "CONFLICT",
    "incident": "LOSS_INCIDENT",
}


def conflict_ids(conn: Connection, names: Iterable[str], actor: str) -> dict[str, int]:
    """Ids of conflicts by name, creating (and auditing) the ones not yet registered."""
    t = table_of(Conflict)
    have = {n: i for i, n in conn.execute(select(t.c.id, t.c.name))}
    new = sorted(set(names) - set(have))
    if new:
        rows = [{"name": n} for n in new]
        res = conn.execute(insert(t).returning(t.c.id, sort_by_parameter_order=True), rows)
        for n, i in zip(new, res.scalars(), strict=True):
            have[n] = i
        write_audit(conn, actor, "conflict", [("insert", (n,), None, {"name": n}) for n in new])
    return have


def _sex(value: str) -> int:
    return parse_sex(value)


def import_incidents(conn: Connection, path: str, actor: str) -> ImportResult:
    """loss incidents: key, conflict, date, place, latitude, longitude, unit, circumstances, sources."""
    f = CsvFile(path, required=["key"])
    rows = Rows(f)
    out: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    conflicts: list[str | None] = []
    for line, get in rows:
        key = get("key", text(64), required=True)
        if key in lines:
            rows.error(line, "key", f"duplicate key {key!r} (also on line {lines[key]})")
        lines[key] = line
        conflicts.append(get("conflict", text(100)))
        out.append({"key": key, "date": get("date", date), "place": get("place", text(200)),
                    "latitude": get("latitude", number(-90, 90)),
                    "longitude": get("longitude", number(-180, 180)), "unit": get("unit", text(200)),
                    "circumstances": get("circumstances"), "sources": get("sources")})
    rows.check()
    cids = conflict_ids(conn, [c for c in conflicts if c], actor)
    for row, c in zip(out, conflicts, strict=True):
        row["conflict_id"] = cids[c] if c else None
    result = ImportResult("incidents", str(path), f.sha256, len(out))
    if out:
        upsert(conn, table_of(LossIncident), ["key"], out, actor=actor, result=result)
    return result


def import_missing(conn: Connection, path: str, actor: str, *, conflict: str | None = None) -> ImportResult:
    """Missing persons, one per row, keyed by SERVICE_NUMBER (see :data:`MISSING_COLUMNS`).

    Columns not in the table are kept, when non-empty, in ``attributes`` (e.g. the DCAS
    ``FATALITY``, ``HOSTILITY_CONDITIONS``, ``BURIAL_STATUS``). ``STATUS`` may only be a status of
    the unaccounted-for; it is set when a person is first imported and otherwise must agree with
    the registry (status changes go through the workflow). ``conflict`` is the default conflict.
    """
    f = CsvFile(path, required=[MISSING_COLUMNS["service_number"].lower()])
    C = {k: v.lower() for k, v in MISSING_COLUMNS.items()}
    known = set(C.values())
    extra = [(i, c) for i, c in enumerate(f.columns) if c not in known]
    rows = Rows(f)
    out: list[dict[str, Any]] = []
    refs: list[tuple[int, str | None, str | None]] = []
    lines: dict[str, int] = {}
    status_parse = choice(Status)
    for (line, get), (_, rec) in zip(rows, f.rows, strict=True):
        sn = get(C["service_number"], text(32), required=True)
        if sn in lines:
            rows.error(line, "SERVICE_NUMBER", f"duplicate service number {sn!r} (also line {lines[sn]})")
        lines[sn] = line
        status = get(C["status"], status_parse) or Status.MISSING
        if status in ACCOUNTED_FOR:
            rows.error(line, "STATUS", f"{status.value} is an accounted-for status: it is reached only "
                       "through the identification workflow or a recorded determination")
        attrs = {c: rec[i].strip() for i, c in extra if rec[i].strip()}
        out.append({
            "service_number": sn, "last_name": get(C["last_name"], text(100)),
            "first_name": get(C["first_name"], text(100)), "middle_name": get(C["middle_name"], text(100)),
            "rank": get(C["rank"], text(50)), "pay_grade": get(C["pay_grade"], text(10)),
            "branch": get(C["branch"], text(50)), "enrollment": get(C["enrollment"], text(50)),
            "unit": get(C["unit"], text(200)), "birth_date": get(C["birth_date"], date),
            "birth_year": get(C["birth_year"], integer(1800, 2100)), "loss_date": get(C["loss_date"], date),
            "home_city": get(C["home_city"], text(100)), "home_county": get(C["home_county"], text(100)),
            "home_state": get(C["home_state"], text(50)), "sex": get(C["sex"], _sex) or 0,
            "ethnicity": get(C["ethnicity"], text(50)), "stature_cm": get(C["stature_cm"], number(50, 250)),
            "dental_records": get(C["dental_records"], boolean),
            "chest_radiograph": get(C["chest_radiograph"], boolean), "status": status,
            "attributes": attrs or None,
        })
        refs.append((line, get(C["conflict"], text(100)) or conflict, get(C["incident"], text(64))))
    incidents = {k: i for i, k in conn.execute(select(LossIncident.id, LossIncident.key))}
    incident_conflict = dict(conn.execute(select(LossIncident.id, LossIncident.conflict_id)).all())
    for row, (line, _c, inc) in zip(out, refs, strict=True):
        if inc is not None and inc not in incidents:
            rows.error(line, "LOSS_INCIDENT", f"unknown loss incident {inc!r} (import incidents first)")
        row["incident_id"] = incidents.get(inc) if inc else None
    t = table_of(MissingPerson)
    current = {sn: st for sn, st in conn.execute(select(t.c.service_number, t.c.status))}
    for row, (line, _c, _i) in zip(out, refs, strict=True):
        old = current.get(row["service_number"])
        if old is not None and old != row["status"]:
            rows.error(line, "STATUS", f"the registry has {old.value}, the file {row['status'].value}: "
                       "status changes go through the workflow, not imports")
    rows.check()
    cids = conflict_ids(conn, {c for _, c, _ in refs if c}, actor)
    known_conflict = dict(conn.execute(select(t.c.service_number, t.c.conflict_id)).all())
    for row, (_, c, _) in zip(out, refs, strict=True):
        # the conflict named in the row (or by --conflict), else the loss incident's, else the one
        # already registered: an import never forgets a person's conflict
        row["conflict_id"] = (cids[c] if c else incident_conflict.get(row["incident_id"])
                              or known_conflict.get(row["service_number"]))
    result = ImportResult("missing", str(path), f.sha256, len(out))
    if not out:
        return result
    ids = upsert(conn, t, ["service_number"], out, actor=actor, result=result, keep=["status"])
    new = [r for r in out if r["service_number"] not in current]
    if new:
        now = utcnow()
        bulk_insert(conn, table_of(StatusChange), [
            {"missing_person_id": ids[(r["service_number"],)], "from_status": None,
             "to_status": r["status"], "actor": actor, "at": now,
             "reason": f"imported from {f.path.name} (sha256 {f.sha256[:12]})"} for r in new])
    return result
