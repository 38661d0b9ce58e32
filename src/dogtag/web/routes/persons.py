"""Missing persons: the list and each person's file (incident, family references, pedigree,
coverage, candidate matches)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from dogtag.errors import DogtagError
from dogtag.registry import contacts, stats
from dogtag.registry.families import Family, FamilyMember
from dogtag.registry.identification import Identification, IdentificationEvent, Notification
from dogtag.registry.people import LossIncident, MissingPerson, Status, StatusChange
from dogtag.registry.profiles import Profile
from dogtag.registry.recovery import Accession, Element, FieldOperation, Individual, Sample
from dogtag.report.pedigree import Person, pedigree_svg
from dogtag.web.deps import DbDep
from dogtag.web.pages import Id, NotFound, choice, done, page, pager
from dogtag.web.security import FAMILY, SCIENCE, STAFF, ViewerDep, check_csrf, require

router = APIRouter(tags=["missing persons"])

MAX_MATCHES = 5000  # search results counted and paged at most

_DECEASED = {Status.KIA_BNR, Status.PRESUMED_DEAD, Status.NON_RECOVERABLE, Status.BURIED_UNKNOWN,
             Status.IDENTIFIED}


def person_summary(p: MissingPerson) -> dict[str, Any]:
    return {"id": p.id, "service_number": p.service_number, "name": p.name, "rank": p.rank,
            "branch": p.branch, "status": p.status.value, "accounted_for": p.status.accounted_for,
            "loss_date": p.loss_date, "home_state": p.home_state}


def person_filters(*, status: str | None, unit: str | None, incident: str | None, branch: str | None,
                   coverage: str | None) -> list[Any]:
    """WHERE conditions on missing persons: status; unit (case-insensitive substring of the person's
    unit or of their loss incident's unit); loss incident (key prefix); branch (exact); DNA reference
    coverage (:data:`dogtag.registry.stats.COVERAGE_FILTERS`). Empty values filter nothing."""
    cond: list[Any] = []
    if status:
        cond.append(MissingPerson.status == choice(Status, status, "status"))
    if unit and unit.strip():
        pat = f"%{unit.strip().lower()}%"
        cond.append(or_(func.lower(MissingPerson.unit).like(pat), MissingPerson.incident_id.in_(
            select(LossIncident.id).where(func.lower(LossIncident.unit).like(pat)))))
    if incident and incident.strip():
        cond.append(MissingPerson.incident_id.in_(
            select(LossIncident.id).where(LossIncident.key.startswith(incident.strip(), autoescape=True))))
    if branch and branch.strip():
        cond.append(MissingPerson.branch == branch.strip())
    if coverage:
        try:
            cond.append(stats.coverage_condition(coverage))
        except ValueError as exc:
            raise DogtagError(str(exc)) from None
    return cond


@page(router, "/persons", "persons.html", roles=STAFF)
def persons(request: Request, s: DbDep, q: str | None = None, status: str | None = None,
            unit: str | None = None, incident: str | None = None, branch: str | None = None,
            coverage: str | None = None,
            page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """The missing persons, by service number (search by service number or last name; filter by
    status, unit, loss incident, branch and DNA reference coverage)"""
    size = request.app.state.settings.page_size
    cond = person_filters(status=status, unit=unit, incident=incident, branch=branch, coverage=coverage)
    if q and q.strip():
        term = q.strip()
        # service-number prefix: a range on the unique index; else last-name prefix: one table scan
        # (no ORDER BY in SQL, which would walk the index and fetch every row), sorted here
        sn = MissingPerson.service_number
        sqlite = s.get_bind().dialect.name == "sqlite"
        if sqlite:  # binary collation: a prefix is a key range
            by_number = [sn >= term, sn < term + "\U0010ffff"]
        else:  # collations may not order by code point: LIKE
            by_number = [sn.startswith(term, autoescape=True)]
        if s.scalar(select(MissingPerson.id).where(*by_number, *cond).limit(1)) is not None:
            found = s.execute(select(MissingPerson.id, sn).where(*by_number, *cond)
                              .order_by(sn).limit(MAX_MATCHES + 1)).all()
        else:
            # SQLite's LIKE ignores ASCII case already (no lower() per row); elsewhere ILIKE-like
            like = (MissingPerson.last_name.startswith(term, autoescape=True) if sqlite
                    else MissingPerson.last_name.istartswith(term, autoescape=True))
            found = sorted(s.execute(select(MissingPerson.id, sn).where(like, *cond)).all(),
                           key=lambda r: r[1])
        ids = [r[0] for r in found]
        pg = pager(min(len(ids), MAX_MATCHES), page_no, size)
        pg["capped"] = len(ids) > MAX_MATCHES
        chosen = ids[pg["offset"]: pg["offset"] + size]
        rows: Any = s.scalars(select(MissingPerson).where(MissingPerson.id.in_(chosen))
                         .order_by(MissingPerson.service_number)) if chosen else []
    else:
        total = s.scalar(select(func.count()).select_from(MissingPerson).where(*cond)) or 0
        pg = pager(total, page_no, size)
        pg["capped"] = False
        rows = s.scalars(select(MissingPerson).where(*cond).order_by(MissingPerson.service_number)
                         .offset(pg["offset"]).limit(size))
    branches = [b for b in s.scalars(select(MissingPerson.branch).distinct().order_by(MissingPerson.branch)) if b]
    return {"title": "Missing persons", "q": q or "", "status": status or "", "unit": unit or "",
            "incident": incident or "", "branch": branch or "", "coverage": coverage or "",
            "statuses": [x.value for x in Status], "branches": branches,
            "coverages": stats.COVERAGE_FILTERS, "pager": pg,
            "persons": [person_summary(p) for p in rows]}


def _person(s: DbDep, pid: int) -> MissingPerson:
    p = s.get(MissingPerson, pid)
    if p is None:
        raise NotFound(f"missing person {pid}")
    return p


def _families(s: DbDep, pid: int) -> list[tuple[Family, list[FamilyMember]]]:
    fam_ids = s.scalars(select(FamilyMember.family_id).where(FamilyMember.missing_person_id == pid)
                        .distinct()).all()
    out = []
    for fid in fam_ids:
        fam = s.get(Family, fid)
        assert fam is not None
        members = list(s.scalars(select(FamilyMember).where(FamilyMember.family_id == fid)
                                 .order_by(FamilyMember.id)))
        out.append((fam, members))
    return out


@page(router, "/persons/{pid}", "person.html", roles=STAFF)
def person(request: Request, s: DbDep, v: ViewerDep, pid: Id) -> dict[str, Any]:
    """One missing person's file"""
    p = _person(s, pid)
    inc = s.get(LossIncident, p.incident_id) if p.incident_id else None
    incident = None if inc is None else {
        "key": inc.key, "date": inc.date, "place": inc.place, "latitude": inc.latitude,
        "longitude": inc.longitude, "unit": inc.unit, "circumstances": inc.circumstances,
        "sources": inc.sources}
    history = [{"from": c.from_status.value if c.from_status else None, "to": c.to_status.value,
                "actor": c.actor, "at": c.at, "reason": c.reason}
               for c in s.scalars(select(StatusChange).where(StatusChange.missing_person_id == pid)
                                  .order_by(StatusChange.at))]
    families = []
    fam_list = _families(s, pid)
    shown = contacts.contacts(s, [m.id for _, ms in fam_list for m in ms]) if v.can(FAMILY) else {}
    for fam, members in fam_list:
        ids = [m.id for m in members]
        profs = s.execute(select(Profile.family_member_id, Profile.kind, Profile.data)
                          .where(Profile.family_member_id.in_(ids))).all() if ids else []
        kinds: dict[int, list[str]] = {}
        genos: dict[int, dict[str, Any]] = {}
        for mid, kind, data in profs:
            kinds.setdefault(mid, []).append(kind.value)
            genos.setdefault(mid, {})[kind.value] = data
        rows = []
        for m in members:
            row: dict[str, Any] = {
                "member": m.member, "father": m.father, "mother": m.mother, "sex": m.sex,
                "missing": m.missing, "relationship": m.relationship_to_missing,
                "consent": m.consent.value if m.consent else None, "consent_date": m.consent_date,
                "reference_sample": m.reference_sample, "profiles": sorted(kinds.get(m.id, []))}
            if v.sees_genotypes:
                row["genotypes"] = genos.get(m.id, {})
            if v.can(FAMILY):  # names and contact details: the liaison and the admin only
                c = shown.get(m.id)
                row["member_id"] = m.id
                row["contact"] = None if c is None else {
                    **{f: getattr(c, f) for f in contacts.FIELDS}, "updated_at": c.updated_at,
                    "updated_by": c.updated_by}
            rows.append(row)
        families.append({"id": fam.id, "name": fam.name, "members": rows})
    coverage = None
    if not p.status.accounted_for:
        cov = stats.coverage(s.connection(), missing_person_ids=[pid])
        coverage = cov[0] if cov else None
    matches = []
    for ident in s.scalars(select(Identification).where(Identification.missing_person_id == pid)
                           .order_by(Identification.proposed_at)):
        row = {"id": ident.id, "status": ident.status.value, "proposed_at": ident.proposed_at,
               "approved_at": ident.approved_at, "notified_at": ident.notified_at}
        if v.can(SCIENCE):
            remains = (s.get(Sample, ident.sample_id).key if ident.sample_id else  # type: ignore[union-attr]
                       s.get(Individual, ident.individual_id).key)  # type: ignore[union-attr]
            row.update({"remains": remains, "lr": ident.lr, "posterior": ident.posterior,
                        "proposed_by": ident.proposed_by})
        matches.append(row)
    notes = [{"identification": n.identification_id, "recipient": n.recipient,
              "relationship": n.relationship, "method": n.method, "at": n.at, "by": n.actor}
             for n in s.scalars(select(Notification).join(Identification)
                                .where(Identification.missing_person_id == pid))]
    attrs = {"unit": p.unit, "enrollment": p.enrollment, "pay_grade": p.pay_grade,
             "birth_year": p.birth_year, "home_city": p.home_city, "home_county": p.home_county,
             "sex": p.sex, "ethnicity": p.ethnicity, "stature_cm": p.stature_cm,
             "dental_records": p.dental_records, "chest_radiograph": p.chest_radiograph}
    if shown:  # every read of contact details is in the audit log
        contacts.log_read(s, shown.values(), where=f"/persons/{pid}")
        s.commit()
    return {"title": f"{p.name or p.service_number} ({p.service_number})",
            "person": {**person_summary(p), **attrs}, "incident": incident,
            "timeline": timeline(s, p, inc, science=v.can(SCIENCE)),
            "status_history": history, "families": families, "coverage": coverage,
            "candidate_matches": matches, "notifications": notes}


def _moment(t: Any) -> dt.datetime:
    """A date or time as an aware UTC datetime, for ordering (a date sorts at its start)."""
    if isinstance(t, dt.datetime):
        return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
    return dt.datetime(t.year, t.month, t.day, tzinfo=dt.UTC)


def timeline(s: DbDep, p: MissingPerson, inc: LossIncident | None, *, science: bool) -> list[dict[str, Any]]:
    """The person's file in time order: loss, status changes, family references, recovery of the
    remains proposed for them (science roles only), identification steps and notifications."""
    ev: list[dict[str, Any]] = []
    loss = p.loss_date or (inc.date if inc else None)
    if loss:
        ev.append({"at": loss, "kind": "loss", "text": f"lost{f' at {inc.place}' if inc and inc.place else ''}"
                   + (f" ({inc.key})" if inc else "")})
    for c in s.scalars(select(StatusChange).where(StatusChange.missing_person_id == p.id)):
        ev.append({"at": c.at, "kind": "status", "text": f"status {c.to_status.value.replace('_', ' ')} "
                   f"(by {c.actor}: {c.reason})"})
    for m in s.scalars(select(FamilyMember).where(FamilyMember.family_id.in_(
            select(FamilyMember.family_id).where(FamilyMember.missing_person_id == p.id)),
            FamilyMember.consent_date.is_not(None))):
        ev.append({"at": m.consent_date, "kind": "reference",
                   "text": f"family reference {m.member} ({m.relationship_to_missing or 'relative'}) consented"})
    idents = list(s.scalars(select(Identification).where(Identification.missing_person_id == p.id)))
    for ident in idents:
        if science and ident.sample_id is not None:
            x = s.get(Sample, ident.sample_id)
            if x is not None:
                el = s.get(Element, x.element_id) if x.element_id else None
                acc = s.get(Accession, x.accession_id or (el.accession_id if el else None) or -1)
                op = s.get(FieldOperation, acc.operation_id) if acc and acc.operation_id else None
                if op and op.start_date:
                    ev.append({"at": op.start_date, "kind": "recovery",
                               "text": f"{op.kind.value} {op.key}{f' at {op.site}' if op.site else ''}"})
                if acc and acc.received_date:
                    ev.append({"at": acc.received_date, "kind": "accession", "text": f"accession {acc.key} received"})
                if x.taken_date:
                    ev.append({"at": x.taken_date, "kind": "sample", "text": f"sample {x.key} taken"
                               + (f" ({x.lab})" if x.lab else "")})
        for e in s.scalars(select(IdentificationEvent).where(IdentificationEvent.identification_id == ident.id)):
            ev.append({"at": e.at, "kind": "identification",
                       "text": f"identification {ident.id}: {e.to_status.value.replace('_', ' ')} by {e.actor}"})
    for n in s.scalars(select(Notification).where(Notification.identification_id.in_([i.id for i in idents]))):
        ev.append({"at": n.at, "kind": "notification", "text": f"family notified ({n.method}) by {n.actor}"})
    return sorted(ev, key=lambda e: _moment(e["at"]))


def family_people(members: list[FamilyMember], statuses: dict[int, Status],
                  references: dict[int, list[str]]) -> list[Person]:
    """The registry's pedigree rows as drawing input: ``references`` maps a member's row id to
    the kinds of profile it holds (typed = any); deceased: a missing person presumed dead,
    killed, non-recoverable, buried unknown or identified."""
    return [Person(id=m.member, father=m.father, mother=m.mother, sex=m.sex, typed=bool(references.get(m.id)),
                   missing=m.missing, relation=m.relationship_to_missing,
                   references=tuple(sorted(set(references.get(m.id, [])), key=_KIND_ORDER.index)),
                   deceased=m.missing_person_id is not None
                   and statuses.get(m.missing_person_id) in _DECEASED)
            for m in members]


_KIND_ORDER = ["autosomal", "mtdna", "ystr"]


def family_svg(s: DbDep, fam: Family, members: list[FamilyMember]) -> str:
    """The SVG drawing of one reference family."""
    mp_ids = [m.missing_person_id for m in members if m.missing_person_id is not None]
    statuses = {i: st for i, st in s.execute(select(MissingPerson.id, MissingPerson.status)
                                             .where(MissingPerson.id.in_(mp_ids)))}
    references: dict[int, list[str]] = {}
    for mid, kind in s.execute(select(Profile.family_member_id, Profile.kind)
                               .where(Profile.family_member_id.in_([m.id for m in members]))):
        if mid is not None and kind.value in _KIND_ORDER:
            references.setdefault(mid, []).append(kind.value)
    return pedigree_svg(family_people(members, statuses, references), title=f"Family {fam.name}")


@router.get("/persons/{pid}/families/{fid}/pedigree.svg", dependencies=[require(STAFF)],
            summary="The pedigree drawing of one reference family (SVG)")
def pedigree(s: DbDep, pid: Id, fid: Id) -> Response:
    fams = {f.id: (f, m) for f, m in _families(s, pid)}
    if fid not in fams:
        raise NotFound(f"family {fid} of missing person {pid}")
    return Response(family_svg(s, *fams[fid]), media_type="image/svg+xml")


Text200 = Annotated[str | None, Form(max_length=200)]


@router.post("/persons/{pid}/families/{fid}/members/{mid}/contact",
             dependencies=[require(FAMILY), Depends(check_csrf)],
             summary="Set a relative's name and contact details (form: full_name, phone, email, address, "
                     "notes; blank clears); audited")
def edit_contact(request: Request, s: DbDep, pid: Id, fid: Id, mid: Id, full_name: Text200 = None,
                 phone: Annotated[str | None, Form(max_length=64)] = None, email: Text200 = None,
                 address: Annotated[str | None, Form(max_length=1000)] = None,
                 notes: Annotated[str | None, Form(max_length=2000)] = None) -> Response:
    with s.begin():
        member = s.get(FamilyMember, mid)
        if member is None or member.family_id != fid or fid not in {f.id for f, _ in _families(s, pid)}:
            raise NotFound(f"member {mid} of family {fid} of missing person {pid}")
        if member.missing:
            raise DogtagError(f"{member.member} is a missing person of the family, not a relative to contact")
        contacts.set_contact(s, mid, full_name=full_name, phone=phone, email=email, address=address, notes=notes)
        who = member.member
    return done(request, f"/persons/{pid}#family-{fid}", f"contact details of {who} saved")
