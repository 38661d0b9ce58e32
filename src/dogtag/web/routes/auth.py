"""Log in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from dogtag.registry.users import AuthenticationError, authenticate
from dogtag.web.pages import flash, render, wants_json
from dogtag.web.security import ViewerDep, check_csrf

router = APIRouter(tags=["auth"])


def _next(url: str | None) -> str:
    # only paths on this site (no //host, no scheme)
    return url if url and url.startswith("/") and not url.startswith("//") else "/dashboard"


@router.get("/login", summary="The login form (HTML)")
def login_form(request: Request, v: ViewerDep, next: str | None = None) -> Response:
    return render(request, "login.html", {"title": "Log in", "next": _next(next)})


@router.post("/login", summary="Log in (form: username, password, csrf_token)",
             dependencies=[Depends(check_csrf)])
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str | None, Form()] = None) -> Response:
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"addr:{client}")
    throttle.check(*keys)
    with request.app.state.sessions() as s, s.begin():
        s.info["actor"] = username
        try:
            user = authenticate(s, username, password)
        except AuthenticationError as exc:
            throttle.failed(*keys)
            if wants_json(request):
                from fastapi.responses import JSONResponse

                return JSONResponse({"ok": False, "error": str(exc)}, status_code=401)
            resp = render(request, "login.html", {"title": "Log in", "next": _next(next),
                                                  "error": str(exc)}, status_code=401)
            return resp
        name, role = user.username, user.role.value
    throttle.succeeded(keys[0])
    csrf = request.session.get("csrf")
    request.session.clear()  # a fresh session on login (no fixation)
    request.session.update({"user": name, "csrf": csrf})
    request.state.viewer = None
    if wants_json(request):
        from fastapi.responses import JSONResponse

        return JSONResponse({"ok": True, "user": name, "role": role})
    flash(request, f"logged in as {name} ({role.replace('_', ' ')})", "ok")
    return RedirectResponse(_next(next), status_code=303)


@router.post("/logout", summary="Log out", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/dashboard", status_code=303)
