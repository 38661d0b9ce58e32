"""DNA profiles (autosomal STR, mtDNA, Y-STR) of samples and of family reference donors."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dogtag.registry.base import Base, IdMixin, str_enum


class ProfileKind(enum.Enum):
    AUTOSOMAL = "autosomal"
    MTDNA = "mtdna"
    YSTR = "ystr"


class Profile(IdMixin, Base):
    """One profile of one kind for a sample or a donor.

    ``data`` holds the typing as read: autosomal ``{marker: [allele1, allele2]}`` (the case-folder
    ``genotypes.csv``); mtDNA ``{"range": "16024-16569;1-576", "variants": "16093C 263G ..."}``
    (EMPOP notation, ``mito.csv``); Y-STR ``{marker: "11,14"}`` (``ystr.csv``).
    """

    __tablename__ = "profile"

    kind: Mapped[ProfileKind] = mapped_column(str_enum(ProfileKind, "kind"))
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("sample.id"), index=True)
    family_member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"), index=True)
    lab: Mapped[str | None] = mapped_column(String(64))
    kit: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[float | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("sample_id", "kind"),
        UniqueConstraint("family_member_id", "kind"),
        CheckConstraint("(sample_id IS NULL) <> (family_member_id IS NULL)", name="one_owner"),
    )
