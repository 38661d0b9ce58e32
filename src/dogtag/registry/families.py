"""Reference families: pedigrees whose members are missing persons, donors and untyped connectors."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dogtag.registry.base import Base, IdMixin, str_enum


class Consent(enum.Enum):
    """A family reference donor's consent to the use of their DNA."""

    GIVEN = "given"
    LIMITED = "limited"  # identification of this missing person only
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class Family(IdMixin, Base):
    """A reference family (one pedigree, which may hold several missing persons)."""

    __tablename__ = "family"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    members: Mapped[list[FamilyMember]] = relationship(back_populates="family")


class FamilyMember(IdMixin, Base):
    """One pedigree row (the CSV case-folder layout), with donor and consent details.

    ``father``/``mother`` are member ids within the family. ``maternal_root``/``paternal_root`` are
    the founders reached by following mothers (resp. fathers) upwards: two members share the
    maternal line (mtDNA) iff their maternal roots agree, and two males share the paternal line
    (Y chromosome) iff their paternal roots agree. They are computed at import.
    """

    __tablename__ = "family_member"

    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    member: Mapped[str] = mapped_column(String(64))
    father: Mapped[str | None] = mapped_column(String(64))
    mother: Mapped[str | None] = mapped_column(String(64))
    sex: Mapped[int] = mapped_column(default=0)
    missing: Mapped[bool] = mapped_column(default=False)
    missing_person_id: Mapped[int | None] = mapped_column(ForeignKey("missing_person.id"), index=True)
    maternal_root: Mapped[str] = mapped_column(String(64))
    paternal_root: Mapped[str] = mapped_column(String(64))
    relationship_to_missing: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[Consent | None] = mapped_column(str_enum(Consent, "consent"))
    consent_date: Mapped[dt.date | None]
    reference_sample: Mapped[str | None] = mapped_column(String(64))

    family: Mapped[Family] = relationship(back_populates="members")

    __table_args__ = (
        UniqueConstraint("family_id", "member"),
        CheckConstraint("sex IN (0, 1, 2)", name="sex"),
    )
