"""Relatives' names and contact details, for the family liaison: who to call, write to or visit.

Kept apart from the pedigree (``family_member``), so that nothing that reads a pedigree (imports,
the analysis, the drawings, the analyst's pages) can carry them by accident. Changes go through
the ORM, so every change is in the audit log (who, when, before, after); every read by the
workbench is logged too (:func:`log_read`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dogtag.registry import ledger
from dogtag.registry.audit import actor_of
from dogtag.registry.base import Base, IdMixin, utcnow

#: the editable fields and their largest sizes (characters)
FIELDS = {"full_name": 200, "phone": 64, "email": 200, "address": 1000, "notes": 2000}


class RelativeContact(IdMixin, Base):
    """The name and contact details of one relative in a reference family (one row per member)."""

    __tablename__ = "relative_contact"

    family_member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id", ondelete="CASCADE"), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


def contacts(s: Session, member_ids: Iterable[int]) -> dict[int, RelativeContact]:
    """The contact rows of these family members, by member id (members without one: absent)."""
    ids = list(member_ids)
    if not ids:
        return {}
    return {c.family_member_id: c for c in s.scalars(
        select(RelativeContact).where(RelativeContact.family_member_id.in_(ids)))}


def set_contact(s: Session, member_id: int, **values: str | None) -> RelativeContact:
    """Create or change a member's contact row (``values``: :data:`FIELDS`, blank = none); the
    session's actor is recorded, and the audit log keeps the change. ``ValueError`` names an
    unknown or too long field."""
    for name, value in values.items():
        if name not in FIELDS:
            raise ValueError(f"unknown contact field {name!r}; one of {', '.join(FIELDS)}")
        if value is not None and len(value) > FIELDS[name]:
            raise ValueError(f"{name} is longer than {FIELDS[name]} characters")
    row = contacts(s, [member_id]).get(member_id)
    if row is None:
        row = RelativeContact(family_member_id=member_id, updated_by=actor_of(s))
        s.add(row)
    for name, value in values.items():
        setattr(row, name, (value or "").strip() or None)
    row.updated_at = utcnow()
    row.updated_by = actor_of(s)
    s.flush()
    return row


def log_read(s: Session, rows: Iterable[RelativeContact], *, where: str) -> None:
    """Write one audit entry ``read`` per contact row shown (who saw whose details, and where)."""
    keys = [str(r.id) for r in rows]
    if keys:
        ledger.append(s.connection(), "audit", ledger.audit_entries(
            actor_of(s), "read", RelativeContact.__tablename__, [(k, None, {"shown_on": where}) for k in keys]))
