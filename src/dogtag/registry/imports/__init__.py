"""CSV imports into the registry: one file, one transaction, all or nothing, idempotent.

>>> import_file(engine, "missing", "dcas.csv", actor="alice")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dogtag.errors import DataFormatError, DogtagError
from dogtag.registry import import_log
from dogtag.registry.imports.core import ImportRejected, ImportResult, RowError
from dogtag.registry.imports.families import (
    import_genotypes,
    import_mito,
    import_pedigrees,
    import_ystr,
)
from dogtag.registry.imports.people import MISSING_COLUMNS, import_incidents, import_missing
from dogtag.registry.imports.recovery import (
    import_accessions,
    import_elements,
    import_inventory,
    import_operations,
    import_samples,
)

#: kind -> importer(conn, path, actor, **options); the order is the order of dependencies.
KINDS: dict[str, Callable[..., ImportResult]] = {
    "incidents": import_incidents,
    "missing": import_missing,
    "operations": import_operations,
    "accessions": import_accessions,
    "elements": import_elements,
    "inventory": import_inventory,
    "samples": import_samples,
    "pedigrees": import_pedigrees,
    "profiles": import_genotypes,
    "mito": import_mito,
    "ystr": import_ystr,
}


def template(kind: str) -> str:
    """The CSV template of ``kind``: its header and a worked example row (package data
    ``dogtag/data/templates``; the templates of all kinds import, in the order of :data:`KINDS`,
    into an empty registry)."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(KINDS)}, got {kind!r}")
    return (resources.files("dogtag.data.templates") / f"{kind}.csv").read_text(encoding="utf-8")


def import_file(engine: Engine, kind: str, path: str | Path, *, actor: str, **options: Any) -> ImportResult:
    """Import one file of ``kind`` (see :data:`KINDS`) in a single transaction.

    Raises :class:`ImportRejected` (listing every bad row) and writes nothing if any row is bad.
    Either way the attempt goes into the import history (:mod:`dogtag.registry.import_log`).
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(KINDS)}, got {kind!r}")
    name = Path(path).name
    try:
        with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
            result = run(conn, kind, path, actor=actor, **options)
            import_log.record(conn, actor=actor, kind=kind, file_name=name, sha256=result.sha256,
                              counts={k: v for k, v in result.as_dict().items() if isinstance(v, int)})
            return result
    except ImportRejected as exc:
        _record_rejection(engine, actor, kind, name, [e.as_dict() for e in exc.errors])
        raise
    except DataFormatError as exc:
        _record_rejection(engine, actor, kind, name, [{"line": exc.line, "column": "", "reason": exc.message}])
        raise
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc).lower():
            raise DogtagError(f"{path}: the registry is busy (another import?); nothing was "
                              "imported, try again") from None
        raise


def _record_rejection(engine: Engine, actor: str, kind: str, name: str, errors: list[dict[str, Any]]) -> None:
    """Put a rejected file in the import history (its own transaction; the data were rolled back).
    A failure here (the registry busy or gone) must not hide the rejection itself: it is dropped."""
    try:
        with engine.begin() as conn:
            import_log.record(conn, actor=actor, kind=kind, file_name=name, errors=errors)
    except SQLAlchemyError:
        pass


def run(conn: Connection, kind: str, path: str | Path, *, actor: str, **options: Any) -> ImportResult:
    return KINDS[kind](conn, str(path), actor, **options)


__all__ = ["KINDS", "MISSING_COLUMNS", "ImportRejected", "ImportResult", "RowError", "import_file", "template"]
