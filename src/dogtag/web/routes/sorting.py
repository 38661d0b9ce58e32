"""Commingled remains: one accession's element inventory, MNI and proposed individuals."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from dogtag.registry.commingling import Sorting, load_inventory
from dogtag.registry.recovery import Accession, Element, Individual
from dogtag.web.deps import DbDep
from dogtag.web.pages import NotFound, page
from dogtag.web.security import SCIENCE

router: APIRouter = APIRouter(tags=["commingled remains"])


@page(router, "/accessions/{aid}/sorting", "sorting.html", roles=SCIENCE)
def accession_sorting(request: Request, s: DbDep, aid: int) -> dict[str, Any]:
    """One accession's inventory, MNI and proposed individuals (osteometric sorting and DNA)"""
    from dogtag.osteology.mni import mni

    a = s.get(Accession, aid)
    if a is None:
        raise NotFound(f"accession {aid}")
    inv = load_inventory(s, [a.key])
    labels: dict[str, str] = {k: v for k, v in s.execute(
        select(Element.key, Individual.key).join(Individual).where(Element.accession_id == aid))}
    count = mni(inv)
    inventory = [{"key": k, "element": e, "side": sd, "portion": ";".join(p) or None,
                  "individual": labels.get(k),
                  "measurements": {c: float(v) for c, v in zip(inv.codes, row, strict=True)
                                   if not math.isnan(v)}}
                 for k, e, sd, p, row in zip(inv.ids, inv.elements, inv.sides, inv.portions,
                                             inv.values, strict=True)]
    mine = set(inv.ids)
    sortings = []
    for x in s.scalars(select(Sorting).order_by(Sorting.id.desc())):
        if a.key not in x.accessions:
            continue
        r = x.result
        groups = [g for g in r["groups"] if set(g["elements"]) & mine]
        sortings.append({
            "id": x.id, "status": x.status.value, "accessions": x.accessions,
            "proposed_by": x.proposed_by, "proposed_at": x.proposed_at,
            "reviewed_by": x.reviewed_by, "reviewed_at": x.reviewed_at, "note": x.review_note,
            "mni": r["mni"], "mni_here": r["mni_by_accession"].get(a.key),
            "mlni": r["mlni"], "excluded": r["excluded"], "tested": r["tested"],
            "groups": groups, "conflicts": [c for c in r["conflicts"]
                                            if c["a"] in mine or c["b"] in mine],
            "candidate_links": [c for c in r.get("candidate_links", [])
                                if c["a"] in mine or c["b"] in mine],
            "notes": r["notes"]})
    return {"title": f"Accession {a.key}: commingled remains",
            "accession": {"id": a.id, "key": a.key, "description": a.description},
            "mni": {"mni": count.mni, "element": count.element, "side": count.side,
                    "zone": count.zone},
            "inventory": inventory, "sortings": sortings}
