"""Every status checked against its history.

The status of a missing person and of an identification is derived twice from what the registry
recorded, and both must agree with the stored value:

1. the authenticated audit log (:mod:`dogtag.registry.ledger`): replaying its ``after`` images of
   ``missing_person`` and ``identification`` rows gives each row's last status written through the
   registry; an edit made directly in the database has no entry (or a forged one, which the MACs
   catch);
2. the status history tables: ``status_change`` and ``identification_event`` rows must chain
   (each ``from_status`` is the previous ``to_status``) and end at the stored status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from dogtag.registry import ledger
from dogtag.registry.base import table_of
from dogtag.registry.identification import Identification, IdentificationEvent
from dogtag.registry.people import MissingPerson, StatusChange

MAX_LISTED = 20


@dataclass
class StatusReport:
    persons: int = 0
    identifications: int = 0
    problems: list[str] = field(default_factory=list)
    total_problems: int = 0

    @property
    def ok(self) -> bool:
        return self.total_problems == 0

    def add(self, problem: str) -> None:
        self.total_problems += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "missing_persons": self.persons, "identifications": self.identifications,
                "problems": self.problems, "total_problems": self.total_problems}


def _value(v: Any) -> str | None:
    return None if v is None else str(getattr(v, "value", v))


@dataclass
class Audited:
    """Statuses by the audit log: ``last`` (None: deleted) and ``first`` (at creation) of each row."""

    last: dict[Any, str | None] = field(default_factory=dict)
    first: dict[Any, str | None] = field(default_factory=dict)

    def set(self, key: Any, status: str | None) -> None:
        self.last[key] = status
        self.first.setdefault(key, status)


def audited_statuses(conn: Connection) -> tuple[Audited, Audited]:
    """The audited statuses of every missing person (by service number) and identification (by id)."""
    log = table_of(ledger.AuditEntry)
    persons, idents = Audited(), Audited()
    q = (select(log.c.table_name, log.c.before, log.c.after)
         .where(log.c.table_name.in_(("missing_person", "identification"))).order_by(log.c.seq))
    for table, before_text, after_text in conn.execute(q):
        before = json.loads(before_text) if before_text else None
        after = json.loads(after_text) if after_text else None
        if table == "missing_person":
            if before and after and before.get("service_number") != after.get("service_number"):
                persons.set(str(before["service_number"]), None)
            row = after or before or {}
            if "service_number" in row:
                persons.set(str(row["service_number"]),
                            None if after is None else str(after.get("status") or "missing"))
        else:
            row = after or before or {}
            if "id" in row:
                idents.set(int(row["id"]), None if after is None else _value(after.get("status")))
    return persons, idents


def _chain(events: Iterable[tuple[Any, Any]], stored: str, created: str | None, what: str,
           report: StatusReport) -> None:
    """History rows chain from the creation (``from_status`` None, or the status the row was created
    with) to the stored status."""
    prev: str | None = None
    for k, (frm, to) in enumerate(events):
        if _value(frm) != prev and not (k == 0 and _value(frm) == created):
            report.add(f"{what}: its history goes from {prev} to a change from {_value(frm)}")
            return
        prev = _value(to)
    if prev is not None and prev != stored:
        report.add(f"{what} has status {stored}, but its history ends at {prev}: changed outside the "
                   "registry")


def _events(conn: Connection, owner: Any, frm: Any, to: Any, order: tuple[Any, ...]) -> dict[Any, list[tuple[Any, Any]]]:
    out: dict[Any, list[tuple[Any, Any]]] = {}
    for key, a, b in conn.execute(select(owner, frm, to).order_by(*order)):
        out.setdefault(key, []).append((a, b))
    return out


def _check(rows: Iterable[tuple[Any, Any, Any]], audited: Audited, events: dict[Any, list[tuple[Any, Any]]],
           label: str, report: StatusReport) -> int:
    """Check (row id, audit key, stored status) rows; returns how many were checked."""
    seen = set()
    for rid, key, status in rows:
        what, stored = f"{label} {key}", _value(status) or ""
        seen.add(key)
        if key not in audited.last:
            report.add(f"{what} is not in the audit log: written outside the registry")
        elif audited.last[key] != stored:
            report.add(f"{what} has status {stored}, but the audit log records {audited.last[key]}: "
                       "changed outside the registry")
        _chain(events.get(rid, []), stored, audited.first.get(key), what, report)
    for key, st in audited.last.items():
        if st is not None and key not in seen:
            report.add(f"{label} {key} is in the audit log but not in the registry: deleted outside it")
    return len(seen)


def check_statuses(conn: Connection) -> StatusReport:
    """Compare every stored status with the audit log and the history tables."""
    report = StatusReport()
    audited_p, audited_i = audited_statuses(conn)
    mp, sc = table_of(MissingPerson), table_of(StatusChange)
    it, ev = table_of(Identification), table_of(IdentificationEvent)
    report.persons = _check(
        conn.execute(select(mp.c.id, mp.c.service_number, mp.c.status)), audited_p,
        _events(conn, sc.c.missing_person_id, sc.c.from_status, sc.c.to_status, (sc.c.at, sc.c.id)),
        "missing person", report)
    report.identifications = _check(
        conn.execute(select(it.c.id, it.c.id, it.c.status)), audited_i,
        _events(conn, ev.c.identification_id, ev.c.from_status, ev.c.to_status, (ev.c.at, ev.c.id)),
        "identification", report)
    return report
