"""Recovery: field operations, accessions, skeletal elements, samples, and individuals."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dogtag.registry.base import Base, IdMixin, str_enum
from dogtag.registry.people import LossIncident


class OperationKind(enum.Enum):
    """How remains came into custody (DPAA's sources of remains)."""

    INVESTIGATION = "investigation"
    RECOVERY = "recovery"
    DISINTERMENT = "disinterment"
    TURNOVER = "turnover"


class Side(enum.Enum):
    LEFT = "L"
    RIGHT = "R"
    MIDLINE = "M"
    UNKNOWN = "U"


operation_incident = Table(
    "operation_incident",
    Base.metadata,
    Column("operation_id", ForeignKey("field_operation.id"), primary_key=True),
    Column("incident_id", ForeignKey("loss_incident.id"), primary_key=True),
)


class FieldOperation(IdMixin, Base):
    __tablename__ = "field_operation"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[OperationKind] = mapped_column(str_enum(OperationKind, "kind"))
    name: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]
    incidents: Mapped[list[LossIncident]] = relationship(secondary=operation_incident)


class Accession(IdMixin, Base):
    """A box, a casket, an X-number: one container of remains received from an operation."""

    __tablename__ = "accession"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("field_operation.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    received_date: Mapped[dt.date | None]

    operation: Mapped[FieldOperation | None] = relationship()


class Individual(IdMixin, Base):
    """Elements grouped as one person (by articulation, osteometric pairing or DNA)."""

    __tablename__ = "individual"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)


class Element(IdMixin, Base):
    """A skeletal element with its side and osteometric measurements (mm, ARDS codes).

    ``portion`` lists the zones of a fragmentary element that are present (``proximal;shaft``);
    None means complete.
    """

    __tablename__ = "element"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    accession_id: Mapped[int] = mapped_column(ForeignKey("accession.id"), index=True)
    individual_id: Mapped[int | None] = mapped_column(ForeignKey("individual.id"), index=True)
    element: Mapped[str] = mapped_column(String(64))
    side: Mapped[Side] = mapped_column(str_enum(Side, "side"), default=Side.UNKNOWN)
    measurements: Mapped[dict[str, float] | None] = mapped_column(JSON)
    portion: Mapped[str | None] = mapped_column(String(200))  # zones present, ';'-separated
    notes: Mapped[str | None] = mapped_column(Text)

    accession: Mapped[Accession] = relationship()
    individual: Mapped[Individual | None] = relationship()


class Sample(IdMixin, Base):
    """A DNA sample cut from an element (or received as is, when the element is unknown)."""

    __tablename__ = "sample"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    element_id: Mapped[int | None] = mapped_column(ForeignKey("element.id"), index=True)
    accession_id: Mapped[int | None] = mapped_column(ForeignKey("accession.id"), index=True)
    taken_date: Mapped[dt.date | None]
    material: Mapped[str | None] = mapped_column(String(64))
    sex: Mapped[int] = mapped_column(default=0)
    lab: Mapped[str | None] = mapped_column(String(64))

    element: Mapped[Element | None] = relationship()

    __table_args__ = (CheckConstraint("sex IN (0, 1, 2)", name="sex"),)
