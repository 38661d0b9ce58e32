"""The review queue, the match page and the identification workflow (propose, technical review,
administrative review, approve, notify). The rules live in :mod:`dogtag.registry.workflow`; here
their refusals become messages."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select

from dogtag import __version__
from dogtag.errors import DogtagError
from dogtag.registry import workflow
from dogtag.registry.base import utcnow
from dogtag.registry.identification import (
    AnalysisRun,
    Identification,
    IdentificationEvent,
    IdStatus,
    Notification,
)
from dogtag.registry.people import MissingPerson
from dogtag.registry.recovery import Accession, Element, Individual, Sample
from dogtag.registry.users import Role, User
from dogtag.report.identification import is_draft, prior_of, review_state
from dogtag.web.deps import DbDep
from dogtag.web.pages import NotFound, done, page, pager, sort_order
from dogtag.web.routes.dashboard import invalidate
from dogtag.web.routes.persons import _families, family_svg, person_summary
from dogtag.web.security import (
    FAMILY,
    IMPORTERS,
    SCIENCE,
    STAFF,
    Forbidden,
    Viewer,
    ViewerDep,
    check_csrf,
    require,
)
from dogtag.web.work import OPEN, waiting_for

router = APIRouter(tags=["identifications"])

REPORT_READERS = STAFF  # the liaison: approved reports only (see _report)


def _since() -> Any:
    return (select(IdentificationEvent.identification_id, func.max(IdentificationEvent.at).label("since"))
            .group_by(IdentificationEvent.identification_id).subquery())


@page(router, "/identifications", "identifications.html", roles=SCIENCE)
def queue(request: Request, s: DbDep, v: ViewerDep, status: str | None = None, mine: bool = False,
          sort: str | None = None, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """The review queue: identifications by status (default: those still in review), or those
    waiting for the viewer (``mine=1``), longest waiting first"""
    size = request.app.state.settings.page_size
    try:
        wanted = [IdStatus(status)] if status else OPEN
    except ValueError:
        raise DogtagError(f"unknown status {status!r}; one of {', '.join(x.value for x in IdStatus)}") from None
    cond = [Identification.status.in_(wanted)]
    if mine:
        cond.append(waiting_for(v))
    since = _since()
    remains = func.coalesce(Sample.key, Individual.key)
    sorts = {"waiting": since.c.since, "person": MissingPerson.service_number, "remains": remains,
             "lr": Identification.log10_lr, "posterior": Identification.posterior,
             "status": Identification.status, "id": Identification.id}
    sort, order = sort_order(sort, sorts, "waiting")
    base = (select(Identification, MissingPerson.service_number, MissingPerson.last_name,
                   MissingPerson.first_name, remains, since.c.since)
            .join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
            .outerjoin(Sample, Sample.id == Identification.sample_id)
            .outerjoin(Individual, Individual.id == Identification.individual_id)
            .outerjoin(since, since.c.identification_id == Identification.id).where(*cond))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    pg = pager(total, page_no, size)
    rows = s.execute(base.order_by(*order).offset(pg["offset"]).limit(size)).all()
    waiting_ids = set(s.scalars(select(Identification.id).where(
        Identification.id.in_([i.id for i, *_ in rows]), waiting_for(v)))) if rows else set()
    now = utcnow()
    return {"title": "Waiting for me" if mine else "Review queue", "status": status or "", "mine": mine,
            "sort": sort, "statuses": [x.value for x in IdStatus], "pager": pg,
            "waiting_for_me": s.scalar(select(func.count()).select_from(Identification)
                                       .where(Identification.status.in_(OPEN), waiting_for(v))) or 0,
            "identifications": [{"id": i.id, "status": i.status.value, "service_number": sn,
                                 "name": ", ".join(x for x in (ln, fn) if x), "remains": rk,
                                 "lr": i.lr, "log10_lr": i.log10_lr, "posterior": i.posterior,
                                 "proposed_by": i.proposed_by, "proposed_at": i.proposed_at,
                                 "technical_reviewer": i.technical_reviewer, "waiting_since": since_at,
                                 "days_waiting": _days(now, since_at), "for_me": i.id in waiting_ids}
                                for i, sn, ln, fn, rk, since_at in rows]}


def _days(now: Any, since: Any) -> int | None:
    if since is None:
        return None
    if since.tzinfo is None and now.tzinfo is not None:
        since = since.replace(tzinfo=now.tzinfo)
    return max(0, (now - since).days)


PICKS = 20  # candidates listed by each picker of the proposal form


@page(router, "/identifications/new", "propose.html", roles=SCIENCE)
def new_identification(request: Request, s: DbDep, person_q: str | None = None,
                       remains_q: str | None = None) -> dict[str, Any]:
    """The proposal form: pick the missing person and the remains by searching (no JSON to type)"""
    persons: list[dict[str, Any]] = []
    if person_q and person_q.strip():
        t = person_q.strip()
        found = s.scalars(select(MissingPerson).where(or_(
            MissingPerson.service_number.startswith(t, autoescape=True),
            MissingPerson.last_name.istartswith(t, autoescape=True))).order_by(MissingPerson.service_number)
            .limit(PICKS))
        persons = [person_summary(p) for p in found]
    remains: list[dict[str, Any]] = []
    if remains_q and remains_q.strip():
        t = remains_q.strip()
        remains = [{"kind": "sample", "key": k, "material": m, "lab": lab} for k, m, lab in s.execute(
            select(Sample.key, Sample.material, Sample.lab).where(Sample.key.startswith(t, autoescape=True))
            .order_by(Sample.key).limit(PICKS))]
        remains += [{"kind": "individual", "key": k, "material": None, "lab": None} for k in s.scalars(
            select(Individual.key).where(Individual.key.startswith(t, autoescape=True))
            .order_by(Individual.key).limit(PICKS))]
    return {"title": "Propose an identification", "person_q": person_q or "", "remains_q": remains_q or "",
            "persons": persons, "remains": remains, "picks": PICKS}


def marker_table(evidence: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], float | None]:
    """Per-marker LRs of the autosomal evidence line and their product (None if there are none).

    Accepts ``{"kind": "autosomal", "markers": {"D8S1179": 2.5, ...}}`` or a list of
    ``{"marker": ..., "lr": ...}``.
    """
    rows: list[dict[str, Any]] = []
    for line in evidence or []:
        markers = line.get("markers")
        if not markers:
            continue
        items = markers.items() if isinstance(markers, dict) else ((m["marker"], m["lr"]) for m in markers)
        for name, lr in items:
            lr = float(lr)
            rows.append({"marker": str(name), "lr": lr,
                         "log10_lr": math.log10(lr) if lr > 0 else None})
    if not rows:
        return rows, None
    total = math.prod(r["lr"] for r in rows)
    return rows, total


def _remains(s: DbDep, ident: Identification) -> dict[str, Any]:
    if ident.sample_id is not None:
        x = s.get(Sample, ident.sample_id)
        assert x is not None
        el = s.get(Element, x.element_id) if x.element_id else None
        acc = x.accession_id or (el.accession_id if el else None)
        out = {"kind": "sample", "key": x.key, "sample_id": x.id, "accession_id": acc,
               "element": el.element if el else None}
    else:
        ind = s.get(Individual, ident.individual_id)
        assert ind is not None
        acc = s.scalar(select(Element.accession_id).where(Element.individual_id == ind.id).limit(1))
        out = {"kind": "individual", "key": ind.key, "accession_id": acc, "element": None}
    out["accession_key"] = s.scalar(select(Accession.key).where(Accession.id == acc)) if acc else None
    return out


def actions(v: Viewer, ident: Identification) -> list[dict[str, str]]:
    """The transitions the viewer's role may try (the registry still checks who is who)."""
    st, role = ident.status, v.role
    out = []
    if st == IdStatus.PROPOSED and role in (Role.ANALYST, Role.ADMIN):
        out.append({"to": IdStatus.TECHNICAL_REVIEW.value, "label": "Submit for technical review"})
    if st == IdStatus.TECHNICAL_REVIEW and role in (Role.REVIEWER, Role.ADMIN):
        out += [{"to": IdStatus.ADMINISTRATIVE_REVIEW.value, "label": "Technical review: accept"},
                {"to": IdStatus.REJECTED.value, "label": "Technical review: reject"}]
    if st == IdStatus.ADMINISTRATIVE_REVIEW and role in (Role.REVIEWER, Role.ADMIN):
        out += [{"to": IdStatus.APPROVED.value, "label": "Administrative review: approve"},
                {"to": IdStatus.REJECTED.value, "label": "Administrative review: reject"}]
    if st in OPEN and (v.username == ident.proposed_by or role == Role.ADMIN):
        out.append({"to": IdStatus.WITHDRAWN.value, "label": "Withdraw"})
    return out


def identification_data(s: DbDep, v: Viewer, iid: int) -> dict[str, Any]:
    ident = s.get(Identification, iid)
    if ident is None:
        raise NotFound(f"identification {iid}")
    person = s.get(MissingPerson, ident.missing_person_id)
    assert person is not None
    run = s.get(AnalysisRun, ident.analysis_run_id) if ident.analysis_run_id else None
    markers, product = marker_table(ident.evidence)
    reviewers = {u for u in (ident.proposed_by, ident.technical_reviewer, ident.administrative_reviewer) if u}
    names = {u: n for u, n in s.execute(select(User.username, User.full_name).where(User.username.in_(reviewers)))
             if n} if reviewers else {}
    events = [{"from": e.from_status.value if e.from_status else None, "to": e.to_status.value,
               "actor": e.actor, "at": e.at, "reason": e.reason}
              for e in s.scalars(select(IdentificationEvent)
                                 .where(IdentificationEvent.identification_id == iid)
                                 .order_by(IdentificationEvent.id))]
    notes = [{"recipient": n.recipient, "relationship": n.relationship, "method": n.method, "at": n.at,
              "by": n.actor, "notes": n.notes}
             for n in s.scalars(select(Notification).where(Notification.identification_id == iid))]
    data: dict[str, Any] = {
        "title": f"Identification {iid}: {person.name or person.service_number}",
        "identification": {
            "id": ident.id, "status": ident.status.value, "version": ident.version, "lr": ident.lr,
            "log10_lr": ident.log10_lr if ident.log10_lr is not None else
            (math.log10(ident.lr) if ident.lr else None),
            "posterior": ident.posterior, "proposed_by": ident.proposed_by,
            "proposed_at": ident.proposed_at, "technical_reviewer": ident.technical_reviewer,
            "technical_reviewed_at": ident.technical_reviewed_at,
            "administrative_reviewer": ident.administrative_reviewer, "approved_at": ident.approved_at,
            "notified_at": ident.notified_at},
        "person": person_summary(person), "remains": _remains(s, ident),
        "evidence": [{k: val for k, val in line.items() if k != "markers"} for line in ident.evidence or []],
        "markers": markers, "markers_product": product,
        "markers_log10": None if product is None else sum(
            m["log10_lr"] if m["log10_lr"] is not None else -math.inf for m in markers),
        "reviewer_names": names,
        "provenance": None if run is None else {
            "software": run.software, "software_version": run.software_version, "command": run.command,
            "parameters": run.parameters, "frequency_database": run.frequency_database,
            "inputs_digest": run.inputs_digest, "started_at": run.started_at,
            "finished_at": run.finished_at, "actor": run.actor},
        "events": events, "notifications": notes, "actions": actions(v, ident),
        "report_software": f"dogtag {__version__}",
    }
    data["review"] = review_state(data)
    data["prior"] = prior_of(data)
    return data


@page(router, "/identifications/{iid}", "identification.html", roles=SCIENCE)
def identification(request: Request, s: DbDep, v: ViewerDep, iid: int) -> dict[str, Any]:
    """The match page: per-marker LR table, posterior, lines of evidence, review trail"""
    return identification_data(s, v, iid)


def _user(s: DbDep, v: Viewer) -> User:
    user = s.scalar(select(User).where(User.username == v.username))
    if user is None:
        raise DogtagError("your account no longer exists")
    return user


def _float(value: str | None, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise DogtagError(f"{name} must be a number, got {value!r}") from None


def evidence_from_fields(fields: dict[str, str | None]) -> list[dict[str, Any]]:
    """Lines of evidence from the proposal form's fields (autosomal LR and per-marker table as
    'MARKER LR' lines, mtDNA and Y-STR result and LR, anthropology)."""
    lines: list[dict[str, Any]] = []
    auto = _float(fields.get("auto_lr"), "autosomal LR")
    markers: dict[str, float] = {}
    for n, raw in enumerate((fields.get("markers") or "").splitlines(), 1):
        if not raw.strip():
            continue
        parts = raw.replace("\t", " ").replace(",", " ").split()
        if len(parts) != 2:
            raise DogtagError(f"per-marker table, line {n}: expected a marker and its LR, got {raw.strip()!r}")
        value = _float(parts[1], f"the LR of {parts[0]} (line {n})")
        if value is None or value < 0:
            raise DogtagError(f"per-marker table, line {n}: the LR must be a number >= 0, got {parts[1]!r}")
        markers[parts[0]] = value
    if auto is not None or markers:
        line: dict[str, Any] = {"kind": "autosomal"}
        if auto is not None:
            line["lr"] = auto
        if markers:
            line["markers"] = markers
        lines.append(line)
    for kind, label in (("mtdna", "mtDNA"), ("ystr", "Y-STR")):
        result, value = fields.get(f"{kind}_result") or "", _float(fields.get(f"{kind}_lr"), f"{label} LR")
        if result or value is not None:
            lines.append({"kind": kind, **({"result": result} if result else {}),
                          **({"lr": value} if value is not None else {})})
    if (fields.get("anthropology") or "").strip():
        lines.append({"kind": "anthropology", "result": (fields.get("anthropology") or "").strip()})
    return lines


@router.post("/identifications/search", dependencies=[require(IMPORTERS), Depends(check_csrf)],
             summary="Run the identification pipeline (dogtag search) on the registry's open work; its proposals "
                     "are made by the signed-in analyst")
def search(request: Request, s: DbDep, v: ViewerDep) -> Response:
    from dogtag.analysis.search import search_registry

    engine = s.get_bind()
    s.close()
    report = search_registry(engine, actor=v.username, command="workbench: run the search")  # type: ignore[arg-type]
    invalidate(request)
    why = ", ".join(f"{n} {k}" for k, n in sorted(report.not_proposed.items(), key=lambda kv: -kv[1]))
    return done(request, "/identifications",
                f"search run {report.run_id}: {len(report.proposals)} proposed"
                + (f"; not proposed: {why}" if why else ""),
                {"run": report.run_id, "proposals": report.proposals, "not_proposed": report.not_proposed,
                 "notes": report.notes})


@router.post("/identifications", dependencies=[require(SCIENCE), Depends(check_csrf)],
             summary="Propose an identification (form: service_number, remains, reason, lr, posterior; "
                     "evidence as JSON, or the fields auto_lr, markers, mtdna_result, mtdna_lr, "
                     "ystr_result, ystr_lr, anthropology)")
def propose(request: Request, s: DbDep, v: ViewerDep, service_number: Annotated[str, Form()],
            remains: Annotated[str, Form()], reason: Annotated[str, Form()],
            lr: Annotated[str | None, Form()] = None, posterior: Annotated[str | None, Form()] = None,
            evidence: Annotated[str | None, Form()] = None, auto_lr: Annotated[str | None, Form()] = None,
            markers: Annotated[str | None, Form()] = None, mtdna_result: Annotated[str | None, Form()] = None,
            mtdna_lr: Annotated[str | None, Form()] = None, ystr_result: Annotated[str | None, Form()] = None,
            ystr_lr: Annotated[str | None, Form()] = None,
            anthropology: Annotated[str | None, Form()] = None) -> Response:
    if not (evidence and evidence.strip()):
        fields = {"auto_lr": auto_lr, "markers": markers, "mtdna_result": mtdna_result, "mtdna_lr": mtdna_lr,
                  "ystr_result": ystr_result, "ystr_lr": ystr_lr, "anthropology": anthropology}
        picked = evidence_from_fields(fields)
        evidence = json.dumps(picked) if picked else None
    with s.begin():
        person = s.scalar(select(MissingPerson).where(MissingPerson.service_number == service_number.strip()))
        if person is None:
            raise DogtagError(f"no missing person with service number {service_number!r}")
        sample = s.scalar(select(Sample).where(Sample.key == remains.strip()))
        individual = None if sample else s.scalar(select(Individual).where(Individual.key == remains.strip()))
        if sample is None and individual is None:
            raise DogtagError(f"no sample or individual with key {remains!r}")
        lines = None
        if evidence and evidence.strip():
            try:
                lines = json.loads(evidence)
            except json.JSONDecodeError as exc:
                raise DogtagError(f"evidence is not valid JSON: {exc.msg} (line {exc.lineno})") from None
            if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
                raise DogtagError("evidence must be a JSON list of objects, one per line of evidence")
            try:
                marker_table(lines)
            except (KeyError, TypeError, ValueError) as exc:
                raise DogtagError(f"evidence has a bad per-marker table: {exc}") from None
        lr_v, post_v = _float(lr, "lr"), _float(posterior, "posterior")
        if post_v is not None and not 0 <= post_v <= 1:
            raise DogtagError(f"posterior must lie in [0, 1], got {post_v}")
        if lr_v is not None and lr_v < 0:
            raise DogtagError(f"lr must not be negative, got {lr_v}")
        ident = workflow.propose(s, _user(s, v), person, reason=reason, sample=sample,
                                 individual=individual, lr=lr_v, posterior=post_v, evidence=lines,
                                 log10_lr=math.log10(lr_v) if lr_v else None)
        iid = ident.id
    invalidate(request)
    return done(request, f"/identifications/{iid}", f"identification {iid} proposed", {"id": iid})


@router.post("/identifications/{iid}/transition", dependencies=[require(SCIENCE), Depends(check_csrf)],
             summary="Move an identification on (form: to, reason, version)")
def transition(request: Request, s: DbDep, v: ViewerDep, iid: int, to: Annotated[str, Form()],
               reason: Annotated[str, Form()], version: Annotated[int | None, Form()] = None) -> Response:
    try:
        target = IdStatus(to)
    except ValueError:
        raise DogtagError(f"unknown status {to!r}") from None
    with s.begin():
        ident = s.get(Identification, iid)
        if ident is None:
            raise NotFound(f"identification {iid}")
        workflow.transition(s, ident, target, _user(s, v), reason, expected_version=version)
    invalidate(request)
    return done(request, f"/identifications/{iid}", f"identification {iid}: {target.value.replace('_', ' ')}",
                {"id": iid, "status": target.value})


@router.post("/identifications/{iid}/notify", dependencies=[require(FAMILY), Depends(check_csrf)],
             summary="Record the family notification (form: recipient, relationship, method, reason)")
def notify(request: Request, s: DbDep, v: ViewerDep, iid: int, recipient: Annotated[str, Form()],
           method: Annotated[str, Form()], reason: Annotated[str, Form()],
           relationship: Annotated[str | None, Form()] = None,
           notes: Annotated[str | None, Form()] = None) -> Response:
    with s.begin():
        ident = s.get(Identification, iid)
        if ident is None:
            raise NotFound(f"identification {iid}")
        workflow.notify_family(s, ident, _user(s, v), recipient=recipient, method=method, reason=reason,
                               relationship=relationship or None, notes=notes or None)
    invalidate(request)
    return done(request, "/notifications", f"family notification recorded for identification {iid}",
                {"id": iid, "status": IdStatus.FAMILY_NOTIFIED.value})


def _pedigrees(s: DbDep, person_id: int) -> list[str]:
    return [family_svg(s, fam, members) for fam, members in _families(s, person_id)]


#: roles that may read a draft report (proposed, in review, rejected or withdrawn); the family
#: liaison reads only the approved report, without the laboratory's per-marker table
DRAFT_READERS = SCIENCE


def _report(s: DbDep, v: Viewer, iid: int) -> tuple[dict[str, Any], list[str]]:
    data = identification_data(s, v, iid)
    del data["actions"]
    if not v.can(DRAFT_READERS):
        if is_draft(data["identification"]["status"]):
            raise Forbidden(f"identification {iid} is {data['identification']['status'].replace('_', ' ')}: "
                            "its report is a draft, which only analysts, reviewers and administrators "
                            "may read")
        data.update(markers=[], markers_product=None, markers_log10=None, markers_withheld=True)
    return data, _pedigrees(s, data["person"]["id"])


@router.get("/identifications/{iid}/report.html", dependencies=[require(REPORT_READERS)],
            response_class=HTMLResponse, summary="The identification report (HTML; drafts: analysts, "
                                                 "reviewers and administrators only)")
def report_html(s: DbDep, v: ViewerDep, iid: int) -> Response:
    from dogtag.report.identification import report_html as build

    data, peds = _report(s, v, iid)
    return HTMLResponse(build(data, peds))


@router.get("/identifications/{iid}/report.pdf", dependencies=[require(REPORT_READERS)],
            summary="The identification report (PDF; drafts: analysts, reviewers and administrators only)")
def report_pdf(s: DbDep, v: ViewerDep, iid: int) -> Response:
    from dogtag.report.identification import report_html as build
    from dogtag.report.pdf import html_to_pdf

    data, peds = _report(s, v, iid)
    pdf = html_to_pdf(build(data, peds))
    kind = "DRAFT-" if data["review"]["draft"] else ""
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{kind}identification-{iid}.pdf"'})
