"""What waits for whom: the reviewer's queue and each role's work on the dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dogtag.registry.identification import Identification, IdStatus
from dogtag.registry.users import Role
from dogtag.web.security import Viewer

OPEN = [IdStatus.PROPOSED, IdStatus.TECHNICAL_REVIEW, IdStatus.ADMINISTRATIVE_REVIEW]


def waiting_for(v: Viewer) -> Any:
    """The condition 'waits for this viewer': a reviewer signs what someone else proposed (and, at
    the administrative stage, what a third person reviewed); an analyst submits her own
    proposals; an administrator sees everything open."""
    me = v.username or ""
    if v.role == Role.REVIEWER:
        return or_(and_(Identification.status == IdStatus.TECHNICAL_REVIEW, Identification.proposed_by != me),
                   and_(Identification.status == IdStatus.ADMINISTRATIVE_REVIEW,
                        Identification.proposed_by != me,
                        func.coalesce(Identification.technical_reviewer, "") != me))
    if v.role == Role.ANALYST:
        return and_(Identification.status == IdStatus.PROPOSED, Identification.proposed_by == me)
    return Identification.status.in_(OPEN)


def _count(s: Session, *cond: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(Identification).where(*cond)) or 0)


def your_work(s: Session, v: Viewer) -> list[dict[str, Any]]:
    """The viewer's open work, as (label, count, link) rows; empty for anonymous visitors."""
    if v.anonymous or v.role is None:
        return []
    rows: list[dict[str, Any]] = []
    if v.role in (Role.REVIEWER, Role.ANALYST, Role.ADMIN):
        label = {Role.REVIEWER: "identifications waiting for your review",
                 Role.ANALYST: "your proposals to submit for review",
                 Role.ADMIN: "identifications open in review"}[v.role]
        rows.append({"label": label, "count": _count(s, Identification.status.in_(OPEN), waiting_for(v)),
                     "link": "/identifications?mine=1"})
    if v.role == Role.ANALYST:
        mine = Identification.proposed_by == v.username
        rows.append({"label": "your proposals in review",
                     "count": _count(s, mine, Identification.status.in_(OPEN[1:])), "link": "/identifications"})
        rows.append({"label": "your proposals rejected", "count": _count(s, mine, Identification.status
                                                                         == IdStatus.REJECTED),
                     "link": "/identifications?status=rejected"})
    if v.role in (Role.FAMILY_LIAISON, Role.ADMIN):
        rows.append({"label": "families to notify of an approved identification",
                     "count": _count(s, Identification.status == IdStatus.APPROVED), "link": "/notifications"})
    return rows
