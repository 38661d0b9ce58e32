"""The dashboard: aggregate accounting statistics, open to everyone (no names, no genetics)."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, Engine, func, select

from dogtag.registry import stats
from dogtag.registry.base import table_of
from dogtag.registry.identification import Identification, IdStatus
from dogtag.registry.people import ACCOUNTED_FOR, Conflict, MissingPerson
from dogtag.registry.recovery import Accession, Sample
from dogtag.web.deps import DbDep
from dogtag.web.pages import page
from dogtag.web.security import ViewerDep
from dogtag.web.work import your_work

router = APIRouter(tags=["dashboard"])


def public_stats(request: Request) -> dict[str, Any]:
    """Accounting statistics (SQL aggregates), cached for ``stats_ttl_s`` seconds.

    An expired entry is still served while one background thread recomputes it (stale while
    revalidate), so no visitor waits for the aggregates once they were computed; a write through
    the workbench marks the entry expired.
    """
    app = request.app
    ttl = app.state.settings.stats_ttl_s
    cache = app.state.stats_cache
    hit = cache.get("public")
    if ttl > 0 and hit is not None:
        if time.monotonic() - hit[0] >= ttl and not cache.get("refreshing"):
            cache["refreshing"] = True

            def refresh() -> None:
                try:
                    cache["public"] = (time.monotonic(), compute_stats(app.state.engine))
                finally:
                    cache["refreshing"] = False

            threading.Thread(target=refresh, name="dogtag-stats", daemon=True).start()
        return dict(hit[1])
    data = compute_stats(app.state.engine)
    cache["public"] = (time.monotonic(), data)
    return data


def compute_stats(engine: Engine) -> dict[str, Any]:
    """The dashboard's numbers, straight from the database."""
    with engine.connect() as conn:
        acc = accounting_cube(conn)
        ids = stats.identifications(conn)
        open_ids = conn.scalar(select(func.count()).select_from(Identification).where(
            Identification.status.in_([IdStatus.PROPOSED.value, IdStatus.TECHNICAL_REVIEW.value,
                                       IdStatus.ADMINISTRATIVE_REVIEW.value])))
        accessions = conn.scalar(select(func.count()).select_from(Accession))
        samples = conn.scalar(select(func.count()).select_from(Sample))
    total = sum(r["total"] for r in acc["by_conflict"])
    accounted = sum(r["accounted"] for r in acc["by_conflict"])
    return {
        "totals": {"missing_persons": total, "accounted": accounted, "unaccounted": total - accounted,
                   "identifications_in_review": int(open_ids or 0), "accessions": int(accessions or 0),
                   "samples": int(samples or 0)},
        "by_conflict": acc["by_conflict"], "by_branch": acc["by_branch"],
        "by_home_state": acc["by_home_state"], "identifications_by_year": ids["by_year"],
        "identifications_by_source": ids["by_source"],
    }


def accounting_cube(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Unaccounted-for and accounted-for by conflict, branch and home state, in one table scan.

    The same numbers as :func:`dogtag.registry.stats.accounting` (a test compares them), which
    scans once per dimension: one GROUP BY over (conflict, branch, state, status), then sums here.
    """
    mp = table_of(MissingPerson)
    names = {i: n for i, n in conn.execute(select(table_of(Conflict).c.id, table_of(Conflict).c.name))}
    q = (select(mp.c.conflict_id, mp.c.branch, mp.c.home_state, mp.c.status, func.count())
         .group_by(mp.c.conflict_id, mp.c.branch, mp.c.home_state, mp.c.status))
    dims: dict[str, dict[Any, list[int]]] = {"conflict": {}, "branch": {}, "home_state": {}}
    accounted_values = {st.value for st in ACCOUNTED_FOR}
    for conflict_id, branch, state, status, n in conn.execute(q):
        acc = int(n) if (status.value if hasattr(status, "value") else status) in accounted_values else 0
        for dim, key in (("conflict", names.get(conflict_id)), ("branch", branch), ("home_state", state)):
            cell = dims[dim].setdefault(key, [0, 0])
            cell[0] += int(n)
            cell[1] += acc
    return {f"by_{dim}": [{dim: k, "unaccounted": t - a, "accounted": a, "total": t}
                          for k, (t, a) in sorted(cells.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))]
            for dim, cells in dims.items()}


def invalidate(request: Request) -> None:
    """Mark the cached statistics expired (the next visitor triggers a refresh)."""
    hit = request.app.state.stats_cache.get("public")
    if hit is not None:
        request.app.state.stats_cache["public"] = (float("-inf"), hit[1])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@page(router, "/dashboard", "dashboard.html")
def dashboard(request: Request, s: DbDep, v: ViewerDep) -> dict[str, Any]:
    """Counts and charts: unaccounted-for by conflict, state and branch; identifications per year;
    for a logged-in user, their open work"""
    return {"title": "Accounting for the missing", **public_stats(request), "your_work": your_work(s, v)}
