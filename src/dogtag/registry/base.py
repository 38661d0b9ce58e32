"""Declarative base, naming convention and small column helpers shared by the registry models."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

from sqlalchemy import DateTime, Enum, MetaData, Table, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint names that Alembic can reproduce on every backend (batch mode on SQLite needs them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: values stored as short strings with a CHECK constraint."""
    return Enum(
        cls, name=name, native_enum=False, create_constraint=True, length=32,
        values_callable=lambda e: [m.value for m in e], validate_strings=True,
    )


class Base(DeclarativeBase):
    """Base of every registry table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime()}  # noqa: RUF012


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


def row_dict(obj: Any) -> dict[str, Any]:
    """Column values of a mapped object, by column key (used by the audit log)."""
    from sqlalchemy import inspect

    mapper = inspect(obj).mapper
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


def table_of(model: Any) -> Table:
    """The Core table of a mapped class (typed, for Core statements)."""
    return cast(Table, model.__table__)
