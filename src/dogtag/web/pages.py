"""Pages and their JSON twins: one function builds the data, two routes serve it.

``@page(router, "/persons/{pid}", "person.html", roles=SCIENCE)`` registers ``/persons/{pid}.json``
(the data as JSON) and ``/persons/{pid}`` (the same data through a Jinja2 template). The page
function returns plain, JSON-ready data, already filtered for the viewer's role, so that the HTML
can never show more than the JSON.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dogtag.errors import DogtagError
from dogtag.registry.users import Role
from dogtag.report.charts import bar_svg
from dogtag.report.identification import evidence_rows, provenance_rows
from dogtag.report.maps import Site, sites_svg, us_states_svg
from dogtag.report.render import add_filters
from dogtag.web.security import csrf_token, require, viewer

#: A registry id in a URL: a positive 64-bit integer (larger ones are refused with 422, not sent
#: to the database, which cannot hold them).
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
E = TypeVar("E", bound=enum.Enum)


def choice(cls: type[E], value: str, name: str) -> E:
    """``cls(value)``, or a :class:`DogtagError` (400) naming the parameter and the choices."""
    try:
        return cls(value)
    except ValueError:
        options = ", ".join(str(m.value) for m in cls)
        raise DogtagError(f"`{name}` must be one of {options}; got {value[:80]!r}") from None


class NotFound(Exception):
    def __init__(self, what: str):
        super().__init__(what)
        self.message = f"{what} not found"


def make_templates() -> Environment:
    env = Environment(loader=PackageLoader("dogtag.web", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    add_filters(env)
    env.globals.update(evidence_rows=evidence_rows, provenance_rows=provenance_rows)
    env.globals["bar_chart"] = lambda labels, values, **kw: Markup(bar_svg(labels, values, **kw))
    env.globals["states_map"] = lambda rows, **kw: Markup(us_states_svg(
        {r["home_state"]: r["unaccounted"] for r in rows}, **kw))
    env.globals["sites_map"] = lambda rows, **kw: Markup(sites_svg(
        [Site(r["key"], r["latitude"], r["longitude"], r["kind"], r.get("link")) for r in rows], **kw))
    return env


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render(request: Request, template: str, data: dict[str, Any], status_code: int = 200, *,
           json_url: str = "") -> HTMLResponse:
    """``template`` with ``data``; ``json_url`` links the page's JSON twin (pages made by :func:`page`)."""
    env: Environment = request.app.state.templates
    flashes = request.session.pop("flash", []) if "session" in request.scope else []
    v = viewer(request) if "session" in request.scope else None
    html = env.get_template(template).render(
        request=request, viewer=v, csrf=csrf_token(request) if "session" in request.scope else "",
        flashes=flashes, data=data, json_url=json_url, **data)
    return HTMLResponse(html, status_code=status_code)


def _json_url(request: Request) -> str:
    q = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}.json{q}"


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], {"kind": kind, "text": message}]


def safe_back(request: Request, default: str) -> str:
    """The referring page's path on this site (never another site), else ``default``."""
    ref = request.headers.get("referer")
    if ref:
        parts = urlsplit(ref)
        if parts.netloc in ("", request.url.netloc) and parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return default


def done(request: Request, url: str, message: str, data: dict[str, Any] | None = None) -> Response:
    """After a successful action: JSON, or a flash message and a redirect (POST-redirect-GET)."""
    if wants_json(request):
        return JSONResponse(jsonable_encoder({"ok": True, "message": message, **(data or {})}))
    flash(request, message, "ok")
    return RedirectResponse(url, status_code=303)


def page(router: APIRouter, path: str, template: str, *, roles: frozenset[Role] | None = None,
         summary: str | None = None) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register ``path`` (HTML through ``template``) and ``path + '.json'`` for a data function."""

    def deco(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        deps = [require(roles)] if roles is not None else []
        doc = summary or (fn.__doc__ or "").strip().splitlines()[0]

        @functools.wraps(fn)
        def as_json(*args: Any, **kwargs: Any) -> Response:
            return JSONResponse(jsonable_encoder(fn(*args, **kwargs)))

        @functools.wraps(fn)
        def as_html(*args: Any, **kwargs: Any) -> Response:
            request = kwargs["request"]
            return render(request, template, fn(*args, **kwargs), json_url=_json_url(request))

        # the .json route first: "/x/{id}" would otherwise also match "/x/7.json"
        router.add_api_route(path + ".json", as_json, methods=["GET"], dependencies=deps,
                             response_model=None, name=f"{fn.__name__}_json",
                             summary=f"{doc} (JSON)", response_class=JSONResponse)
        router.add_api_route(path, as_html, methods=["GET"], dependencies=deps, response_model=None,
                             name=fn.__name__, summary=f"{doc} (HTML)", response_class=HTMLResponse)
        return fn

    return deco


def pager(total: int, page_no: int, size: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / size))
    page_no = min(max(1, page_no), pages)
    return {"total": total, "page": page_no, "pages": pages, "size": size,
            "offset": (page_no - 1) * size}


def sort_order(sort: str | None, columns: dict[str, Any], default: str) -> tuple[str, list[Any]]:
    """The ORDER BY of a list for ``sort`` (a column name, ``-name`` for descending) among
    ``columns`` (name -> SQL expression); unknown names fall back to ``default``. The last column
    of ``columns`` breaks ties, so pages never overlap."""
    name = (sort or default).strip()
    desc = name.startswith("-")
    key = name.lstrip("-")
    if key not in columns:
        name, desc, key = default, default.startswith("-"), default.lstrip("-")
    col = columns[key]
    tie = list(columns.values())[-1]
    order = [col.desc() if desc else col.asc()]
    if col is not tie:
        order.append(tie.asc())
    return name, order
