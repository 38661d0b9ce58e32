"""Family notification tasks: approved identifications whose family has not yet been told."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from dogtag.registry.families import FamilyMember
from dogtag.registry.identification import Identification, IdStatus, Notification
from dogtag.registry.people import MissingPerson
from dogtag.web.deps import DbDep
from dogtag.web.pages import page, pager
from dogtag.web.security import FAMILY

router = APIRouter(tags=["family notification"])


@page(router, "/notifications", "notifications.html", roles=FAMILY)
def notifications(request: Request, s: DbDep,
                  page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """Family notification tasks (approved, not yet notified) and the notifications made"""
    size = request.app.state.settings.page_size
    cond = Identification.status == IdStatus.APPROVED
    total = s.scalar(select(func.count()).select_from(Identification).where(cond)) or 0
    pg = pager(total, page_no, size)
    rows = s.execute(select(Identification, MissingPerson).join(MissingPerson).where(cond)
                     .order_by(Identification.approved_at).offset(pg["offset"]).limit(size)).all()
    person_ids = [p.id for _, p in rows]
    contacts: dict[int, list[dict[str, Any]]] = {}
    if person_ids:
        fams = select(FamilyMember.family_id, FamilyMember.missing_person_id).where(
            FamilyMember.missing_person_id.in_(person_ids)).subquery()
        for mp_id, m in s.execute(select(fams.c.missing_person_id, FamilyMember)
                                  .join(fams, fams.c.family_id == FamilyMember.family_id)
                                  .where(FamilyMember.missing.is_(False))):
            if m.relationship_to_missing or m.reference_sample:
                contacts.setdefault(mp_id, []).append(
                    {"member": m.member, "relationship": m.relationship_to_missing,
                     "consent": m.consent.value if m.consent else None})
    tasks = [{"identification": i.id, "approved_at": i.approved_at, "status": i.status.value,
              "person": {"id": p.id, "service_number": p.service_number, "name": p.name,
                         "status": p.status.value},
              "family_contacts": contacts.get(p.id, [])} for i, p in rows]
    recent = [{"identification": n.identification_id, "service_number": sn, "name": ln,
               "recipient": n.recipient, "relationship": n.relationship, "method": n.method,
               "at": n.at, "by": n.actor}
              for n, sn, ln in s.execute(select(Notification, MissingPerson.service_number,
                                                MissingPerson.last_name)
                                         .join(Identification, Identification.id == Notification.identification_id)
                                         .join(MissingPerson).order_by(Notification.at.desc()).limit(50))]
    return {"title": "Family notification", "pager": pg, "tasks": tasks, "done": recent}
