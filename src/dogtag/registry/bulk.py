"""Bulk INSERT through the driver's executemany, with SQLAlchemy's own per-type bind processors.

For hundreds of thousands of rows, building parameters through SQLAlchemy's statement execution
costs more than the database work itself. Here the INSERT is compiled once for the connection's
dialect, each value goes through its column type's ``bind_processor`` (the conversion SQLAlchemy
itself applies: enums to their values, JSON to text, dates and timestamps as the dialect stores
them), and the driver's ``executemany`` does the rest, inside the caller's transaction. This
path is used for SQLite; other databases take SQLAlchemy's own batched executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``; scalar column defaults fill gaps."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":  # psycopg's executemany with SQLAlchemy's batching is fast already
        conn.execute(insert(table), list(rows))
        return
    cols = list(rows[0])
    defaults: dict[str, Any] = {}
    for col in table.columns:
        if col.name in cols or (col.primary_key and col.autoincrement in (True, "auto")):
            continue
        if col.default is not None:
            if not col.default.is_scalar:
                raise ValueError(f"{table.name}.{col.name}: give a value (its default is not a constant)")
            defaults[col.name] = col.default.arg  # type: ignore[attr-defined]
    names = cols + list(defaults)
    stmt = insert(table).values({c: bindparam(c, type_=table.c[c].type) for c in names})
    compiled = stmt.compile(dialect=conn.dialect)
    procs = {c: table.c[c].type.bind_processor(conn.dialect) for c in names}
    order = list(compiled.positiontup) if compiled.positional and compiled.positiontup else names

    def convert(row: dict[str, Any]) -> list[Any]:
        out = []
        for c in order:
            v = row[c] if c in row else defaults[c]
            p = procs[c]
            out.append(p(v) if p is not None and v is not None else v)
        return out

    if compiled.positional:
        params: list[Any] = [tuple(convert(r)) for r in rows]
    else:
        params = [dict(zip(order, convert(r), strict=True)) for r in rows]
    conn.exec_driver_sql(str(compiled), params)
