"""The import machinery: read a CSV file, check every row, then write it all in one transaction.

A file is checked completely before anything is written; any bad row rejects the whole file with
a report of every bad row (line, column, reason). Rows are matched to the registry by natural key
and written as insert (new key), update (changed values) or nothing (same values), so importing
the same file twice changes nothing. Every insert and update is audit-logged, per row, in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.sql.expression import bindparam

from dogtag.errors import DataFormatError
from dogtag.registry import ledger
from dogtag.registry.bulk import bulk_insert
from dogtag.textfile import check_header, csv_records, scan


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


class ImportRejected(DataFormatError):
    """A file was rejected; ``errors`` lists every bad row. Nothing was written."""

    def __init__(self, path: str | Path, errors: Sequence[RowError]):
        self.errors = list(errors)
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more bad rows)" if len(self.errors) > 1 else ""
        super().__init__(f"column {first.column}: {first.reason}{more}; nothing was imported",
                         path=path, line=first.line)


@dataclass
class ImportResult:
    kind: str
    path: str
    sha256: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    details: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.path, "sha256": self.sha256, "rows": self.rows,
                "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                **self.details}


class CsvFile:
    """A CSV file read whole: header (lower-cased) and rows with their 1-based line numbers."""

    def __init__(self, path: str | Path, *, required: Sequence[str] = ()):
        self.path = Path(path)
        self.sha256 = scan(self.path)  # UTF-8 text without NUL bytes, or a DataFormatError
        self.width_errors: list[RowError] = []
        self._rows: list[tuple[int, list[str]]] | None = None
        with self._open() as fh:
            header = next((rec for _, rec in csv_records(fh, path)), None)
        if header is None:
            raise DataFormatError("empty file: expected a header row", path=path, line=1)
        check_header(header, path)
        self.columns = [h.strip().lower() for h in header]
        self.names = {h.strip().lower(): h.strip() for h in header}
        absent = [c for c in required if c not in self.columns]
        if absent:
            raise DataFormatError(f"missing column(s) {', '.join(absent)}; the header has: "
                                  f"{', '.join(self.columns)}", path=path, line=1)

    def _open(self) -> io.TextIOWrapper:
        return open(self.path, encoding="utf-8-sig", newline="")

    def iter_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, fields) of every non-blank record, streamed; wrong widths go to ``width_errors``.

        Bad bytes or a field over the csv module's limit raise :class:`DataFormatError` (file, line).
        """
        width = len(self.columns)
        with self._open() as fh:
            records = csv_records(fh, self.path)
            next(records, None)
            for line, rec in records:
                if len(rec) != width:
                    if rec and "".join(rec).strip():
                        self.width_errors.append(RowError(line, "*", f"{len(rec)} fields, the header has {width}"))
                    continue
                if not "".join(rec).strip():
                    continue
                yield line, rec

    @property
    def rows(self) -> list[tuple[int, list[str]]]:
        if self._rows is None:
            self._rows = list(self.iter_rows())
        return self._rows

    def index(self, column: str) -> int | None:
        try:
            return self.columns.index(column)
        except ValueError:
            return None


class Rows:
    """Helper to parse rows while collecting every error."""

    def __init__(self, csvfile: CsvFile):
        self.file = csvfile
        self.errors: list[RowError] = []
        self._idx = {c: i for i, c in enumerate(csvfile.columns)}

    def __iter__(self) -> Iterator[tuple[int, Callable[..., Any]]]:
        for line, rec in self.file.rows:
            def get(column: str, parse: Callable[[str], Any] = str, *, required: bool = False,
                    _rec: list[str] = rec, _line: int = line) -> Any:
                i = self._idx.get(column)
                value = "" if i is None else _rec[i].strip()
                if value == "":
                    if required:
                        self.errors.append(RowError(_line, self.file.names.get(column, column),
                                                    "required value is empty"))
                    return None
                try:
                    return parse(value)
                except ValueError as exc:
                    self.errors.append(RowError(_line, self.file.names.get(column, column), str(exc)))
                    return None
            yield line, get

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors.append(RowError(line, column, reason))

    def check(self) -> None:
        self.errors += self.file.width_errors
        self.file.width_errors = []
        if self.errors:
            self.errors.sort(key=lambda e: (e.line, e.column))
            raise ImportRejected(self.file.path, self.errors)


# --- value parsers (raise ValueError with a reason) --------------------------

def text(max_len: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"longer than {max_len} characters")
        return value
    return parse


def date(value: str) -> dt.date:
    """YYYY-MM-DD or YYYYMMDD (the DCAS files)."""
    try:
        if len(value) == 8 and value.isdigit():
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)") from None


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an integer") from None
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise ValueError(f"{n} is outside {lo}..{hi}")
        return n
    return parse


def number(lo: float | None = None, hi: float | None = None) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
            raise ValueError(f"{value} is outside {lo}..{hi}")
        return x
    return parse


_TRUE = {"y", "yes", "true", "t", "1"}
_FALSE = {"n", "no", "false", "f", "0"}


def boolean(value: str) -> bool:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (Y/N, true/false, 1/0)")


def choice(cls: type[enum.Enum]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        v = value.strip().lower().replace(" ", "_").replace("-", "_")
        for m in cls:
            if v in (str(m.value).lower(), m.name.lower()):
                return m
        raise ValueError(f"{value!r} is not one of {', '.join(str(m.value) for m in cls)}")
    return parse


# --- writing -------------------------------------------------------------------

def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def upsert(conn: Connection, table: Table, key: Sequence[str], rows: Sequence[dict[str, Any]], *,
           actor: str, result: ImportResult, keep: Sequence[str] = ()) -> dict[tuple[Any, ...], int]:
    """Insert new keys, update changed rows, leave the rest; audit every change.

    ``keep`` names columns that are set on insert but never changed by an import. Returns the ids
    of every row of the file, by key.
    """
    cols = list(rows[0]) if rows else []
    existing: dict[tuple[Any, ...], Any] = {}
    for r in conn.execute(select(table.c.id, *[table.c[c] for c in cols])):
        m = r._mapping
        existing[tuple(m[k] for k in key)] = m
    new, changed = [], []
    audits: list[tuple[str, tuple[Any, ...], Any, Any]] = []
    ids: dict[tuple[Any, ...], int] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        old = existing.get(k)
        if old is None:
            new.append(row)
            continue
        ids[k] = old["id"]
        diff = {c: row[c] for c in cols if c not in keep and not _same(old[c], row[c])}
        if diff:
            changed.append({"_id": old["id"], **diff})
            before = {c: old[c] for c in cols}
            audits.append(("update", k, before, {**before, **diff}))
    if new:
        # plain executemany (RETURNING with ordered parameters goes row by row on SQLite), then
        # read the new ids back by key
        bulk_insert(conn, table, new)
        fresh = {k for k in (tuple(r[c] for c in key) for r in new)}
        for r in conn.execute(select(table.c.id, *[table.c[c] for c in key])):
            k = tuple(r[1:])
            if k in fresh:
                ids[k] = r[0]
        for row in new:
            audits.append(("insert", tuple(row[c] for c in key), None, row))
    for group in _by_columns(changed):
        stmt = (update(table).where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in group[0] if c != "_id"}))
        conn.execute(stmt, group)
    write_audit(conn, actor, table.name, audits)
    result.inserted += len(new)
    result.updated += len(changed)
    result.unchanged += len(rows) - len(new) - len(changed)
    return ids


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    return list(groups.values())


def write_audit(conn: Connection, actor: str, table: str,
                audits: Sequence[tuple[str, tuple[Any, ...], Any, Any]]) -> None:
    for action in ("insert", "update"):
        triples = [("/".join(str(x) for x in k), b, a) for act, k, b, a in audits if act == action]
        if triples:
            ledger.append(conn, "audit", ledger.audit_entries(actor, action, table, triples))
