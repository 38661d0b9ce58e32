"""Accessions and remains: elements, samples, profiles and the custody trail."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from dogtag.errors import DogtagError
from dogtag.registry import custody
from dogtag.registry.identification import Identification
from dogtag.registry.ledger import CustodyEntry
from dogtag.registry.people import LossIncident
from dogtag.registry.profiles import Profile
from dogtag.registry.recovery import (
    Accession,
    Element,
    FieldOperation,
    Individual,
    OperationKind,
    Sample,
    operation_incident,
)
from dogtag.web.deps import DbDep
from dogtag.web.pages import Id, NotFound, choice, done, page, pager, sort_order
from dogtag.web.security import IMPORTERS, SCIENCE, Viewer, ViewerDep, check_csrf, require

router = APIRouter(tags=["accessions and remains"])

MAX_ROWS = 500  # samples or custody entries shown on one accession page
CUSTODIANS = IMPORTERS  # who records custody transfers (the lab's staff)


def _custody(s: DbDep, items: list[tuple[str, str]], limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    if not items:
        return []
    wanted = set(items)
    keys = sorted({key for _, key in items})
    rows = s.scalars(select(CustodyEntry).where(CustodyEntry.item_key.in_(keys)).order_by(CustodyEntry.seq))
    out = []
    for c in rows:  # keys are unique per kind, rarely across kinds: filter the kind here
        if (c.item_kind, c.item_key) in wanted:
            out.append({"seq": c.seq, "item": f"{c.item_kind} {c.item_key}", "from": c.from_party,
                        "to": c.to_party, "place": c.place, "at": c.at, "purpose": c.purpose,
                        "recorded_by": c.actor})
            if len(out) >= limit:
                break
    return out


def _profiles(s: DbDep, v: Viewer, sample_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not sample_ids:
        return out
    for p in s.scalars(select(Profile).where(Profile.sample_id.in_(sample_ids))):
        row: dict[str, Any] = {"kind": p.kind.value, "lab": p.lab, "kit": p.kit, "quality": p.quality,
                               "loci": len(p.data)}
        if v.sees_genotypes:
            row["data"] = p.data
        out.setdefault(p.sample_id or 0, []).append(row)
    return out


DNA_FILTERS = {"profiled": "some sample typed", "unprofiled": "no sample typed"}


def accession_filters(*, q: str | None, incident: str | None, unit: str | None, source: str | None,
                      dna: str | None) -> list[Any]:
    """WHERE conditions on accessions: key prefix; loss incident (key prefix) or unit (case-insensitive
    substring of the incident's unit) of the operation that recovered it; source (operation kind);
    DNA (:data:`DNA_FILTERS`: whether any of its samples, direct or through an element, has a
    profile). Empty values filter nothing."""
    cond: list[Any] = []
    if q and q.strip():
        cond.append(Accession.key.startswith(q.strip(), autoescape=True))
    inc_cond = []
    if incident and incident.strip():
        inc_cond.append(LossIncident.key.startswith(incident.strip(), autoescape=True))
    if unit and unit.strip():
        inc_cond.append(func.lower(LossIncident.unit).like(f"%{unit.strip().lower()}%"))
    if inc_cond:
        cond.append(Accession.operation_id.in_(
            select(operation_incident.c.operation_id).join(
                LossIncident, LossIncident.id == operation_incident.c.incident_id).where(*inc_cond)))
    if source:
        cond.append(Accession.operation_id.in_(
            select(FieldOperation.id).where(FieldOperation.kind == choice(OperationKind, source, "source"))))
    if dna:
        if dna not in DNA_FILTERS:
            raise DogtagError(f"`dna` must be one of {', '.join(DNA_FILTERS)}; got {dna[:80]!r}")
        typed = select(Profile.sample_id).where(Profile.sample_id.is_not(None))
        direct = select(Sample.accession_id).where(Sample.id.in_(typed), Sample.accession_id.is_not(None))
        via = (select(Element.accession_id).join(Sample, Sample.element_id == Element.id)
               .where(Sample.id.in_(typed)))
        has = or_(Accession.id.in_(direct), Accession.id.in_(via))
        cond.append(has if dna == "profiled" else ~has)
    return cond


@page(router, "/accessions", "accessions.html", roles=SCIENCE)
def accessions(request: Request, s: DbDep, q: str | None = None, incident: str | None = None,
               unit: str | None = None, source: str | None = None, dna: str | None = None,
               page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """Accessions (boxes, caskets, X-numbers) by key; filter by loss incident, unit, source and DNA"""
    size = request.app.state.settings.page_size
    cond = accession_filters(q=q, incident=incident, unit=unit, source=source, dna=dna)
    total = s.scalar(select(func.count()).select_from(Accession).where(*cond)) or 0
    pg = pager(total, page_no, size)
    rows = s.execute(select(Accession, FieldOperation.key, FieldOperation.kind)
                     .outerjoin(FieldOperation, FieldOperation.id == Accession.operation_id)
                     .where(*cond).order_by(Accession.key).offset(pg["offset"]).limit(size)).all()
    return {"title": "Accessions", "q": q or "", "incident": incident or "", "unit": unit or "",
            "source": source or "", "dna": dna or "", "sources": [k.value for k in OperationKind],
            "dna_filters": DNA_FILTERS, "pager": pg,
            "accessions": [{"id": a.id, "key": a.key, "operation": op, "source": k.value if k else None,
                            "received_date": a.received_date, "description": a.description}
                           for a, op, k in rows]}


@page(router, "/accessions/{aid}", "accession.html", roles=SCIENCE)
def accession(request: Request, s: DbDep, v: ViewerDep, aid: Id) -> dict[str, Any]:
    """One accession: its elements, samples, profiles and custody trail"""
    a = s.get(Accession, aid)
    if a is None:
        raise NotFound(f"accession {aid}")
    op = s.get(FieldOperation, a.operation_id) if a.operation_id else None
    elements = s.execute(select(Element, Individual.key).outerjoin(Individual)
                         .where(Element.accession_id == aid).order_by(Element.key).limit(MAX_ROWS)).all()
    el_ids = [e.id for e, _ in elements]
    # two indexed lookups (an OR of both would make SQLite scan every sample)
    sample_ids = set(s.scalars(select(Sample.id).where(Sample.accession_id == aid)))
    if el_ids:
        sample_ids |= set(s.scalars(select(Sample.id).where(Sample.element_id.in_(el_ids))))
    n_samples = len(sample_ids)
    samples = list(s.scalars(select(Sample).where(Sample.id.in_(sorted(sample_ids)))
                             .order_by(Sample.key).limit(MAX_ROWS))) if sample_ids else []
    el_keys = {e.id: e.key for e, _ in elements}
    profs = _profiles(s, v, [x.id for x in samples])
    items = [("accession", a.key), *(("element", e.key) for e, _ in elements)]
    items += [("sample", x.key) for x in samples]
    return {
        "title": f"Accession {a.key}",
        "accession": {"id": a.id, "key": a.key, "description": a.description,
                      "received_date": a.received_date,
                      "operation": None if op is None else {"key": op.key, "kind": op.kind.value,
                                                            "name": op.name, "site": op.site,
                                                            "latitude": op.latitude,
                                                            "longitude": op.longitude}},
        "elements": [{"id": e.id, "key": e.key, "element": e.element, "side": e.side.value,
                      "individual": ind, "measurements": e.measurements, "notes": e.notes}
                     for e, ind in elements],
        "samples": [{"id": x.id, "key": x.key, "element": el_keys.get(x.element_id or -1),
                     "material": x.material, "sex": x.sex, "lab": x.lab, "taken_date": x.taken_date,
                     "profiles": profs.get(x.id, [])} for x in samples],
        "samples_total": n_samples, "shown_max": MAX_ROWS,
        "custody": _custody(s, items),
        "custody_items": [f"{kind} {key}" for kind, key in items] if v.can(CUSTODIANS) else [],
    }


_ITEM_MODELS: dict[str, Any] = {"accession": Accession, "element": Element, "sample": Sample}


@router.post("/accessions/{aid}/custody", dependencies=[require(CUSTODIANS), Depends(check_csrf)],
             summary="Record a custody transfer of the accession or one of its elements or samples "
                     "(form: item as 'kind key', to, purpose, place, from, at)")
def record_custody(request: Request, s: DbDep, aid: Id, item: Annotated[str, Form(max_length=100)],
                   to: Annotated[str, Form(max_length=200)], purpose: Annotated[str, Form(max_length=2000)],
                   place: Annotated[str | None, Form(max_length=200)] = None,
                   from_: Annotated[str | None, Form(alias="from", max_length=200)] = None,
                   at: Annotated[str | None, Form(max_length=40)] = None) -> Response:
    kind, _, key = item.strip().partition(" ")
    if kind not in _ITEM_MODELS or not key:
        raise DogtagError(f"item must be 'accession KEY', 'element KEY' or 'sample KEY', got {item!r}")
    when = dt.datetime.now(dt.UTC)
    if at and at.strip():
        try:
            when = dt.datetime.fromisoformat(at.strip())
        except ValueError:
            raise DogtagError(f"'at' is not a date and time (ISO 8601), got {at!r}") from None
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    with s.begin():
        acc = s.get(Accession, aid)
        if acc is None:
            raise NotFound(f"accession {aid}")
        model = _ITEM_MODELS[kind]
        obj = s.scalar(select(model).where(model.key == key))
        if obj is None:
            raise NotFound(f"{kind} {key}")
        el = s.get(Element, obj.element_id) if kind == "sample" and obj.element_id else None
        home = {"accession": obj.id, "element": getattr(obj, "accession_id", None),
                "sample": getattr(obj, "accession_id", None) or (el.accession_id if el else None)}[kind]
        if home != aid:
            raise DogtagError(f"{kind} {key} is not part of accession {acc.key}")
        entry = custody.record_transfer(s, obj, to=to, purpose=purpose, at=when, from_=from_ or None,
                                        place=place or None)
    return done(request, f"/accessions/{aid}", f"custody of {kind} {key}: {entry['from_party'] or 'first entry'}"
                f" -> {entry['to_party']} (entry {entry['seq']})", {"seq": entry["seq"]})


SAMPLE_SORTS = {"accession": Accession.key, "lab": Sample.lab, "taken": Sample.taken_date,
                "material": Sample.material, "key": Sample.key}


@page(router, "/samples", "samples.html", roles=SCIENCE)
def samples(request: Request, s: DbDep, q: str | None = None, lab: str | None = None,
            accession: str | None = None, sort: str | None = None,
            page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> dict[str, Any]:
    """Samples: filter by key, lab and accession; sort by any column"""
    size = request.app.state.settings.page_size
    acc_id = func.coalesce(Sample.accession_id, Element.accession_id)
    cond = []
    if q and q.strip():
        cond.append(Sample.key.startswith(q.strip(), autoescape=True))
    if lab and lab.strip():
        cond.append(Sample.lab == lab.strip())
    if accession and accession.strip():
        cond.append(Accession.key.startswith(accession.strip(), autoescape=True))
    base = (select(Sample, Element.key, Element.element, Accession.id, Accession.key)
            .outerjoin(Element, Element.id == Sample.element_id).outerjoin(Accession, Accession.id == acc_id)
            .where(*cond))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    pg = pager(total, page_no, size)
    sort, order = sort_order(sort, SAMPLE_SORTS, "key")
    rows = s.execute(base.order_by(*order).offset(pg["offset"]).limit(size)).all()
    kinds: dict[int, list[str]] = {}
    ids = [x.id for x, *_ in rows]
    for sid, kind in (s.execute(select(Profile.sample_id, Profile.kind).where(Profile.sample_id.in_(ids)))
                      if ids else []):
        kinds.setdefault(sid or 0, []).append(kind.value)
    labs = [x for x in s.scalars(select(Sample.lab).distinct().order_by(Sample.lab)) if x]
    return {"title": "Samples", "q": q or "", "lab": lab or "", "accession": accession or "", "sort": sort,
            "labs": labs, "pager": pg,
            "samples": [{"id": x.id, "key": x.key, "element_key": ek, "element": el, "accession_id": aid,
                         "accession": akey, "material": x.material, "lab": x.lab, "taken_date": x.taken_date,
                         "profiles": sorted(kinds.get(x.id, []))} for x, ek, el, aid, akey in rows]}


@page(router, "/samples/{sid}", "sample.html", roles=SCIENCE)
def sample(request: Request, s: DbDep, v: ViewerDep, sid: Id) -> dict[str, Any]:
    """One sample: its element, profiles, custody and identifications"""
    x = s.get(Sample, sid)
    if x is None:
        raise NotFound(f"sample {sid}")
    el = s.get(Element, x.element_id) if x.element_id else None
    acc_id = x.accession_id or (el.accession_id if el else None)
    acc = s.get(Accession, acc_id) if acc_id else None
    idents = [{"id": i.id, "status": i.status.value, "missing_person_id": i.missing_person_id,
               "lr": i.lr, "posterior": i.posterior}
              for i in s.scalars(select(Identification).where(Identification.sample_id == sid))]
    items = [("sample", x.key)] + ([("element", el.key)] if el else [])
    return {"title": f"Sample {x.key}",
            "sample": {"id": x.id, "key": x.key, "material": x.material, "sex": x.sex, "lab": x.lab,
                       "taken_date": x.taken_date,
                       "element": None if el is None else {"key": el.key, "element": el.element,
                                                           "side": el.side.value},
                       "accession": None if acc is None else {"id": acc.id, "key": acc.key}},
            "profiles": _profiles(s, v, [sid]).get(sid, []), "custody": _custody(s, items),
            "identifications": idents}
