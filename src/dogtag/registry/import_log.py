"""Import history: every file imported or rejected, by whom, when, with its counts or its errors.

Written by :func:`dogtag.registry.imports.import_file`: an accepted file in the import's own
transaction, a rejected one in a transaction of its own after the rollback (the data stay
untouched; the attempt is on record). Rows are written with Core statements, outside the audit
log (the history is itself a log).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Connection, String, insert
from sqlalchemy.orm import Mapped, mapped_column

from dogtag.registry.base import Base, IdMixin, table_of, utcnow

MAX_ERRORS = 100  # errors kept per rejected file (the count is kept whole)


class ImportRecord(IdMixin, Base):
    __tablename__ = "import_log"

    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[bool]
    rows: Mapped[int | None]
    inserted: Mapped[int | None]
    updated: Mapped[int | None]
    unchanged: Mapped[int | None]
    n_errors: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


def record(conn: Connection, *, actor: str, kind: str, file_name: str, sha256: str | None = None,
           counts: dict[str, int] | None = None, errors: list[dict[str, Any]] | None = None) -> None:
    """Add one history row: ``counts`` (rows, inserted, updated, unchanged) for an accepted file,
    ``errors`` (line, column, reason) for a rejected one."""
    c = counts or {}
    conn.execute(insert(table_of(ImportRecord)).values(
        at=utcnow(), actor=actor[:64], kind=kind, file_name=file_name[-255:], sha256=sha256,
        accepted=errors is None, rows=c.get("rows"), inserted=c.get("inserted"), updated=c.get("updated"),
        unchanged=c.get("unchanged"), n_errors=len(errors or []),
        errors=(errors or [])[:MAX_ERRORS] if errors is not None else None))
