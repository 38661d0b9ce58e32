"""The application factory. Nothing here runs at import time: ``create_app(settings)`` makes the
engine, the session factory and the routers.

>>> app = create_app(Settings(database_url="sqlite:///registry.sqlite"))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import secrets
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from dogtag import __version__
from dogtag.errors import DogtagError
from dogtag.registry.engine import make_engine, sessions
from dogtag.registry.workflow import ConflictError, PermissionDenied
from dogtag.web.deps import DbDep, db
from dogtag.web.pages import NotFound, flash, make_templates, render, safe_back, wants_json
from dogtag.web.pdfs import Busy, PdfRenderer
from dogtag.web.routes import ROUTERS
from dogtag.web.security import (
    ACCOUNT_FACTOR,
    BadCsrf,
    Forbidden,
    NotLoggedIn,
    SharedLoginThrottle,
    Throttled,
    parse_networks,
)
from dogtag.web.settings import Settings

__all__ = ["DbDep", "create_app", "db"]  # DbDep and db live in dogtag.web.deps

log = logging.getLogger("dogtag.web")


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    """The web application for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = FastAPI(title="dogtag workbench", version=__version__, docs_url=None, redoc_url=None,
                  description="Registry of the missing, remains, identification review and public "
                              "accounting. Every page has a JSON twin: add `.json` to its path.")
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.state.sessions = sessions(app.state.engine)
    app.state.templates = make_templates()
    backoff = (settings.login_backoff_s, settings.login_backoff_max_s, settings.login_window_s)
    failures = settings.login_max_failures  # counted in the registry: the same for every worker
    app.state.throttle = SharedLoginThrottle(app.state.sessions, "t", failures, *backoff)
    app.state.account_throttle = SharedLoginThrottle(app.state.sessions, "a", ACCOUNT_FACTOR * failures, *backoff)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.stats_cache = {}
    app.state.pdfs = PdfRenderer(settings.pdf_workers)
    app.add_middleware(CatchAll)  # inside the session middleware: the error page has the session
    app.add_middleware(SessionMiddleware, secret_key=settings.key(), session_cookie="dogtag_session",
                       max_age=settings.session_max_age_s, same_site="lax",
                       https_only=settings.https_only)
    app.mount("/static", StaticFiles(directory=str(resources.files("dogtag.web") / "static")),
              name="static")
    for router in ROUTERS:
        app.include_router(router)
    _handlers(app)

    app.add_middleware(SecurityHeaders)
    app.add_middleware(GuardRequests)
    return app


MAX_URL_BYTES = 8192


class HttpMiddleware:
    """Plain ASGI middleware for HTTP requests (anything else passes through): override ``http``."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class GuardRequests(HttpMiddleware):
    """Plain ASGI middleware, outermost: refuse a URL longer than :data:`MAX_URL_BYTES` (414) or
    one with a NUL byte (400) before any route or database sees it."""

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
        query = scope.get("query_string", b"")
        problem = None
        if len(raw_path) + len(query) > MAX_URL_BYTES:
            problem = (414, f"the address is too long (at most {MAX_URL_BYTES} bytes)")
        elif "\0" in scope.get("path", "") or b"%00" in query.lower() or b"\0" in query:
            problem = (400, "the address contains a NUL byte")
        if problem is not None:
            response = JSONResponse({"ok": False, "error": problem[1]}, status_code=problem[0])
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CatchAll(HttpMiddleware):
    """Plain ASGI middleware: an unexpected error becomes a logged 500 page without a traceback.

    Unlike an ``exception_handler(Exception)`` (Starlette's ServerErrorMiddleware answers, then
    re-raises, and the server closes the connection), the error stops here, so a keep-alive
    connection survives it.
    """

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def track(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, track)
        except Exception as exc:
            if started:  # half a response is out: nothing better than closing the connection
                raise
            request = Request(scope, receive)
            await _crash(request, exc)(scope, receive, send)


def _crash(request: Request, exc: Exception) -> Response:
    ref = secrets.token_hex(4)
    log.error("unhandled error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    message = f"something went wrong on our side (reference {ref}); the error was logged"
    if wants_json(request) or "session" not in request.scope:
        return JSONResponse({"ok": False, "error": message}, status_code=500)
    try:
        return _error(request, 500, message, title="Server error")
    except Exception:  # the error page itself failed: plain text, still no traceback
        return Response(message, status_code=500, media_type="text/plain")


_HEADERS = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"),
]


class SecurityHeaders(HttpMiddleware):
    """Security headers on every response, ``no-store`` outside /static."""

    async def http(self, scope: Any, receive: Any, send: Any) -> None:
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [*_HEADERS, *([] if static else [(b"cache-control", b"no-store")])]
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(request: Request, status: int, message: str, *, title: str = "Error") -> Response:
    if wants_json(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return render(request, "error.html", {"title": title, "message": message, "status": status},
                  status_code=status)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if wants_json(request) or request.method != "GET":
            return JSONResponse({"ok": False, "error": "log in first"}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, exc.message, title="Not allowed")

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, exc.message, title="Not found")

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return _error(request, 403, "the form has expired or did not come from this site; reload the "
                                    "page and try again", title="Form expired")

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> Response:
        resp = _error(request, 429, str(exc), title="Too many attempts")
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        resp = _error(request, 503, str(exc), title="Busy")
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.exception_handler(DogtagError)
    async def refused(request: Request, exc: DogtagError) -> Response:
        # rules of the registry (workflow, permissions, conflicts, bad files): a message, not a trace
        status = 403 if isinstance(exc, PermissionDenied) else 409 if isinstance(exc, ConflictError) else 400
        if request.method == "POST" and not wants_json(request):
            flash(request, str(exc), "error")
            return RedirectResponse(safe_back(request, "/"), status_code=303)
        return _error(request, status, str(exc), title="Refused")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}"
                             for e in exc.errors())
        return _error(request, 422, f"invalid request: {problems}", title="Invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), title="Error")

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> Response:
        # the database refused a value (a number out of range, a NUL byte, ...): the request's fault
        log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
        return _error(request, 400, "a value in the request is out of range or not allowed",
                      title="Invalid request")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        # reached only for errors outside CatchAll (the session middleware itself)
        return _crash(request, exc)
