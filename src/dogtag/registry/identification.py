"""Identifications (remains to missing person), their review trail, analysis runs and notifications."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dogtag.registry.base import Base, IdMixin, str_enum, utcnow
from dogtag.registry.people import MissingPerson


class IdStatus(enum.Enum):
    """proposed -> technical_review -> administrative_review -> approved -> family_notified.

    ``technical_review`` and ``administrative_review`` are the stages a proposal is *in*: the
    technical reviewer signs to move it on to administrative review, the administrative reviewer
    signs to approve it. ``rejected`` and ``withdrawn`` end a proposal.
    """

    PROPOSED = "proposed"
    TECHNICAL_REVIEW = "technical_review"
    ADMINISTRATIVE_REVIEW = "administrative_review"
    APPROVED = "approved"
    FAMILY_NOTIFIED = "family_notified"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


#: SQL condition of an identification that holds its remains and its person
ACTIVE_SQL = "status IN ('proposed', 'technical_review', 'administrative_review', 'approved', 'family_notified')"


class AnalysisRun(IdMixin, Base):
    """Provenance of computed results: software, version, parameters, frequency database, time."""

    __tablename__ = "analysis_run"

    software: Mapped[str] = mapped_column(String(64), default="dogtag")
    software_version: Mapped[str] = mapped_column(String(32))
    command: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frequency_database: Mapped[str | None] = mapped_column(String(200))
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    actor: Mapped[str] = mapped_column(String(64))


class Identification(IdMixin, Base):
    """A proposed (or reviewed, approved) identification of remains as a missing person.

    The remains are an individual (grouped elements) or a single sample. ``evidence`` lists the
    lines of evidence, e.g. ``[{"kind": "autosomal", "lr": 3.1e9}, {"kind": "mtdna", ...}]``.
    """

    __tablename__ = "identification"

    missing_person_id: Mapped[int] = mapped_column(ForeignKey("missing_person.id"), index=True)
    individual_id: Mapped[int | None] = mapped_column(ForeignKey("individual.id"), index=True)
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("sample.id"), index=True)
    analysis_run_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_run.id"), index=True)
    lr: Mapped[float | None]
    log10_lr: Mapped[float | None]
    posterior: Mapped[float | None]
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    status: Mapped[IdStatus] = mapped_column(str_enum(IdStatus, "status"), default=IdStatus.PROPOSED,
                                             index=True)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    technical_reviewer: Mapped[str | None] = mapped_column(String(64))
    technical_reviewed_at: Mapped[dt.datetime | None]
    administrative_reviewer: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None]
    notified_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    missing_person: Mapped[MissingPerson] = relationship()
    run: Mapped[AnalysisRun | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("individual_id IS NOT NULL OR sample_id IS NOT NULL", name="remains"),
        CheckConstraint("posterior IS NULL OR (posterior >= 0 AND posterior <= 1)", name="posterior"),
        # one active identification per sample, per individual, per missing person (workflow.py has the
        # whole rule, across a sample and its individual; these back it up in the database)
        *(Index(f"uq_identification_active_{col}", col, unique=True, sqlite_where=text(ACTIVE_SQL),
                postgresql_where=text(ACTIVE_SQL)) for col in ("sample_id", "individual_id", "missing_person_id")),
    )


class IdentificationEvent(IdMixin, Base):
    """One transition of an identification: who, when, why."""

    __tablename__ = "identification_event"

    identification_id: Mapped[int] = mapped_column(ForeignKey("identification.id"), index=True)
    from_status: Mapped[IdStatus | None] = mapped_column(str_enum(IdStatus, "from_status"))
    to_status: Mapped[IdStatus] = mapped_column(str_enum(IdStatus, "to_status"))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class Notification(IdMixin, Base):
    """The family was told: to whom, how, when, and by which family liaison."""

    __tablename__ = "notification"

    identification_id: Mapped[int] = mapped_column(ForeignKey("identification.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
