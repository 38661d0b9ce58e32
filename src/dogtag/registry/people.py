"""The missing: conflicts, loss incidents, missing persons and their status under 10 USC 1513."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dogtag.registry.base import Base, IdMixin, str_enum, utcnow


class Status(enum.Enum):
    """Casualty status of a missing person.

    The first group is "missing status" as 10 USC 1513(1) defines it (missing, missing in action,
    interned, captured, beleaguered or besieged, detained); the DPAA working categories for the
    unaccounted-for follow (killed in action with body not recovered, presumed dead, non-recoverable,
    buried as unknown). The last three are "accounted for" (10 USC 1513(3)): returned alive, remains
    recovered and identified, or another determination on credible evidence.
    """

    MISSING = "missing"
    MISSING_IN_ACTION = "missing_in_action"
    INTERNED = "interned"
    CAPTURED = "captured"
    BELEAGUERED = "beleaguered"
    BESIEGED = "besieged"
    DETAINED = "detained"
    KIA_BNR = "kia_body_not_recovered"
    PRESUMED_DEAD = "presumed_dead"
    NON_RECOVERABLE = "non_recoverable"
    BURIED_UNKNOWN = "buried_unknown"
    RETURNED_ALIVE = "returned_alive"
    IDENTIFIED = "identified"
    OTHER_DETERMINATION = "other_determination"

    @property
    def accounted_for(self) -> bool:
        return self in ACCOUNTED_FOR


ACCOUNTED_FOR = frozenset({Status.RETURNED_ALIVE, Status.IDENTIFIED, Status.OTHER_DETERMINATION})


class Conflict(IdMixin, Base):
    __tablename__ = "conflict"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]


class LossIncident(IdMixin, Base):
    """A loss incident (aircraft loss, battle, ship sinking): where and how people went missing."""

    __tablename__ = "loss_incident"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflict.id"), index=True)
    date: Mapped[dt.date | None]
    place: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(200))
    circumstances: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(Text)

    conflict: Mapped[Conflict | None] = relationship()

    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude"),
    )


class MissingPerson(IdMixin, Base):
    """One person's file. ``status`` changes only through :mod:`dogtag.registry.workflow`."""

    __tablename__ = "missing_person"

    service_number: Mapped[str] = mapped_column(String(32), unique=True)
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflict.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("loss_incident.id"))
    last_name: Mapped[str | None] = mapped_column(String(100))
    first_name: Mapped[str | None] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    rank: Mapped[str | None] = mapped_column(String(50))
    pay_grade: Mapped[str | None] = mapped_column(String(10))
    branch: Mapped[str | None] = mapped_column(String(50))
    enrollment: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None]
    birth_year: Mapped[int | None]
    loss_date: Mapped[dt.date | None]
    home_city: Mapped[str | None] = mapped_column(String(100))
    home_county: Mapped[str | None] = mapped_column(String(100))
    home_state: Mapped[str | None] = mapped_column(String(50))
    sex: Mapped[int] = mapped_column(default=0)  # 1 male, 2 female, 0 unknown (pedtools)
    ethnicity: Mapped[str | None] = mapped_column(String(50))
    stature_cm: Mapped[float | None]
    attributes: Mapped[dict[str, object] | None] = mapped_column(JSON)
    dental_records: Mapped[bool | None]
    chest_radiograph: Mapped[bool | None]
    status: Mapped[Status] = mapped_column(str_enum(Status, "status"), default=Status.MISSING)
    version: Mapped[int] = mapped_column(default=1)

    conflict: Mapped[Conflict | None] = relationship()
    incident: Mapped[LossIncident | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    # (dimension, status) indexes cover the accounting statistics (GROUP BY without table lookups)
    __table_args__ = (
        CheckConstraint("sex IN (0, 1, 2)", name="sex"),
        Index("ix_missing_person_status", "status"),
        Index("ix_missing_person_conflict_status", "conflict_id", "status"),
        Index("ix_missing_person_incident_status", "incident_id", "status"),
        Index("ix_missing_person_branch_status", "branch", "status"),
        Index("ix_missing_person_home_state_status", "home_state", "status"),
        Index("ix_missing_person_loss_date_status", "loss_date", "status"),
    )

    @property
    def name(self) -> str:
        parts = [self.last_name or "", ", ".join(p for p in (self.first_name, self.middle_name) if p)]
        return ", ".join(p for p in parts if p)


class StatusChange(IdMixin, Base):
    """One change of a missing person's status: who, when, why, and on what basis."""

    __tablename__ = "status_change"

    missing_person_id: Mapped[int] = mapped_column(ForeignKey("missing_person.id"), index=True)
    from_status: Mapped[Status | None] = mapped_column(str_enum(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(str_enum(Status, "to_status"))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    identification_id: Mapped[int | None] = mapped_column(ForeignKey("identification.id"))
