"""The audit log: every change made through a registry session is written, hash-chained, in the
same transaction (who = ``session.info["actor"]``, when, before, after).

Bulk imports write through SQLAlchemy Core, not the ORM, and log their changes themselves
(:mod:`dogtag.registry.imports`). Log tables refuse ORM updates and deletes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from dogtag.errors import DogtagError
from dogtag.registry import ledger


class RegistrySession(Session):
    """A session that records every flushed change in the audit log."""


_LOG_CLASSES = (ledger.AuditEntry, ledger.CustodyEntry, ledger.ChainHead)


def actor_of(session: Session) -> str:
    return str(session.info.get("actor") or "system")


def _key(obj: Any) -> str:
    ident = inspect(obj).identity
    return "/".join(str(v) for v in ident) if ident else ""


def _columns(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {a.key: getattr(obj, a.key) for a in mapper.column_attrs}


def _before(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.deleted:
            out[attr.key] = hist.deleted[0]
        elif hist.unchanged:
            out[attr.key] = hist.unchanged[0]
        else:
            out[attr.key] = getattr(obj, attr.key) if not hist.added else None
    return out


#: columns whose values the audit log records only as a fingerprint (a hash of a password hash must
#: not be readable by whoever may read or export the log)
_SECRET = {"app_user": "password_hash"}
REDACTED = "[redacted sha256:"


def redact(table: str, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """``row`` with its secret column (a password hash) replaced by a fingerprint."""
    col = _SECRET.get(table)
    if row is None or col is None or row.get(col) is None or str(row[col]).startswith(REDACTED):
        return row
    digest = hashlib.sha256(str(row[col]).encode("utf-8")).hexdigest()[:12]
    return {**row, col: f"{REDACTED}{digest}]"}


@event.listens_for(RegistrySession, "before_flush")
def _refuse_log_edits(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if (isinstance(obj, _LOG_CLASSES) and session.is_modified(obj)) or (
                isinstance(obj, _LOG_CLASSES) and obj in session.deleted):
            raise DogtagError(f"{type(obj).__name__} entries are append-only")


@event.listens_for(RegistrySession, "after_flush")
def _write_audit(session: Session, _ctx: UOWTransaction) -> None:
    changes: list[tuple[str, str, str | None, Any, Any]] = []
    for obj in session.new:
        if not isinstance(obj, _LOG_CLASSES):
            changes.append(("insert", obj.__tablename__, _key(obj), None, _columns(obj)))
    for obj in session.dirty:
        if not isinstance(obj, _LOG_CLASSES) and session.is_modified(obj, include_collections=False):
            changes.append(("update", obj.__tablename__, _key(obj), _before(obj), _columns(obj)))
    for obj in session.deleted:
        if not isinstance(obj, _LOG_CLASSES):
            changes.append(("delete", obj.__tablename__, _key(obj), _before(obj), None))
    if not changes:
        return
    actor = actor_of(session)
    entries = []
    for action, table, key, before, after in changes:
        entries += ledger.audit_entries(actor, action, table, [(key, redact(table, before), redact(table, after))])
    ledger.append(session.connection(), "audit", entries)
