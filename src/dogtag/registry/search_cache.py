"""What the last registry search saw and found, so that the next one recomputes only what changed.

``search_state`` holds a content digest per searched sample and per reference family (and one for
the search parameters), ``search_pair`` the stored pairwise results (the top candidates of each
sample and every pair at or above the threshold). Both are derived data, rewritten by each
``dogtag search`` in its one write transaction; see :mod:`dogtag.analysis.search`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dogtag.registry.base import Base, IdMixin


class SearchState(IdMixin, Base):
    """The digest of one searched input: ``kind`` is "sample", "family" or "parameters"."""

    __tablename__ = "search_state"

    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_run.id"), index=True)

    __table_args__ = (UniqueConstraint("kind", "key"),)


class SearchPair(IdMixin, Base):
    """One stored (sample, missing person) result: log10 LR (None = LR 0), exclusions, evidence."""

    __tablename__ = "search_pair"

    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), index=True)
    missing_person_id: Mapped[int] = mapped_column(ForeignKey("missing_person.id"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    log10_lr: Mapped[float | None]
    exclusions: Mapped[int] = mapped_column(default=0)
    markers_used: Mapped[int] = mapped_column(default=0)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_run.id"), index=True)

    __table_args__ = (UniqueConstraint("sample_id", "missing_person_id"),)
