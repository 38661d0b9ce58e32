"""The map of loss incidents and recovery sites (SVG drawn here, outlines shipped with the package)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from dogtag.registry.people import LossIncident, MissingPerson
from dogtag.registry.recovery import FieldOperation
from dogtag.web.deps import DbDep
from dogtag.web.pages import page
from dogtag.web.security import SCIENCE, STAFF, ViewerDep

router = APIRouter(tags=["maps"])

MAX_SITES = 5000  # points drawn on one map (of each kind)


@page(router, "/map", "map.html", roles=STAFF)
def sites_map(request: Request, s: DbDep, v: ViewerDep) -> dict[str, Any]:
    """Loss incidents (with the number of missing persons lost in each) and, for the science roles,
    recovery sites, wherever coordinates are recorded"""
    n_missing = (select(MissingPerson.incident_id, func.count().label("n"))
                 .group_by(MissingPerson.incident_id).subquery())
    has_xy = (LossIncident.latitude.is_not(None), LossIncident.longitude.is_not(None))
    incidents = [{"kind": "incident", "key": key, "place": place, "date": date, "latitude": lat,
                  "longitude": lon, "missing": int(n or 0)}
                 for key, place, date, lat, lon, n in s.execute(
                     select(LossIncident.key, LossIncident.place, LossIncident.date, LossIncident.latitude,
                            LossIncident.longitude, n_missing.c.n)
                     .outerjoin(n_missing, n_missing.c.incident_id == LossIncident.id)
                     .where(*has_xy).order_by(LossIncident.key).limit(MAX_SITES + 1))]
    without = s.scalar(select(func.count()).select_from(LossIncident).where(
        (LossIncident.latitude.is_(None)) | (LossIncident.longitude.is_(None)))) or 0
    operations: list[dict[str, Any]] = []
    if v.can(SCIENCE):
        operations = [{"kind": "recovery", "key": key, "place": site, "date": start, "latitude": lat,
                       "longitude": lon, "operation": kind.value}
                      for key, site, start, lat, lon, kind in s.execute(
                          select(FieldOperation.key, FieldOperation.site, FieldOperation.start_date,
                                 FieldOperation.latitude, FieldOperation.longitude, FieldOperation.kind)
                          .where(FieldOperation.latitude.is_not(None), FieldOperation.longitude.is_not(None))
                          .order_by(FieldOperation.key).limit(MAX_SITES + 1))]
    capped = len(incidents) > MAX_SITES or len(operations) > MAX_SITES
    return {"title": "Loss incidents and recovery sites" if v.can(SCIENCE) else "Loss incidents",
            "incidents": incidents[:MAX_SITES], "recovery_sites": operations[:MAX_SITES],
            "incidents_without_coordinates": int(without), "capped": capped, "shown_max": MAX_SITES}
