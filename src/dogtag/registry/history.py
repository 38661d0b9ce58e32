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


def check_statuses(conn: Connection) -> StatusReport:
    """Compare every stored status with the audit log and the history tables."""
    report = StatusReport()
    audited_p, audited_i = audited_statuses(conn)
    mp, sc = table_of(MissingPerson), table_of(StatusChange)
    changes: dict[int, list[tuple[Any, Any]]] = {}
    for pid, frm, to in conn.execute(select(sc.c.missing_person_id, sc.c.from_status, sc.c.to_status)
                                     .order_by(sc.c.at, sc.c.id)):
        changes.setdefault(pid, []).append((frm, to))
    seen = set()
    for pid, sn, status in conn.execute(select(mp.c.id, mp.c.service_number, mp.c.status)):
        report.persons += 1
        what, stored = f"missing person {sn}", _value(status) or ""
        seen.add(sn)
        if sn not in audited_p.last:
            report.add(f"{what} is not in the audit log: written outside the registry")
        elif audited_p.last[sn] != stored:
            report.add(f"{what} has status {stored}, but the audit log records {audited_p.last[sn]}: "
                       "changed outside the registry")
        _chain(changes.get(pid, []), stored, audited_p.first.get(sn), what, report)
    for sn, st in audited_p.last.items():
        if st is not None and sn not in seen:
            report.add(f"missing person {sn} is in the audit log but not in the registry: deleted outside it")
    it, ev = table_of(Identification), table_of(IdentificationEvent)
    events: dict[int, list[tuple[Any, Any]]] = {}
    for iid, frm, to in conn.execute(select(ev.c.identification_id, ev.c.from_status, ev.c.to_status)
                                     .order_by(ev.c.at, ev.c.id)):
        events.setdefault(iid, []).append((frm, to))
    seen_i = set()
    for iid, status in conn.execute(select(it.c.id, it.c.status)):
        report.identifications += 1
        what, stored = f"identification {iid}", _value(status) or ""
        seen_i.add(iid)
        if iid not in audited_i.last:
            report.add(f"{what} is not in the audit log: written outside the registry")
        elif audited_i.last[iid] != stored:
            report.add(f"{what} has status {stored}, but the audit log records {audited_i.last[iid]}: "
                       "changed outside the registry")
        _chain(events.get(iid, []), stored, audited_i.first.get(iid), what, report)
    for iid, st in audited_i.last.items():
        if st is not None and iid not in seen_i:
            report.add(f"identification {iid} is in the audit log but not in the registry: deleted outside it")
    return report
