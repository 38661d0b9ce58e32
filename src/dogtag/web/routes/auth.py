"""Log in and out: sessions are rows of the registry, ended on logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dogtag.registry.logins import end_session, start_session
from dogtag.registry.passwords import MAX_LENGTH
from dogtag.registry.users import AuthenticationError, authenticate
from dogtag.web.pages import flash, render, wants_json
from dogtag.web.security import (
    ViewerDep,
    check_csrf,
    client_address,
    set_device_cookie,
    throttle_keys,
)

router = APIRouter(tags=["auth"])


def _next(url: str | None) -> str:
    # only paths on this site (no //host, no scheme)
    return url if url and url.startswith("/") and not url.startswith("//") else "/dashboard"


@router.get("/login", summary="The login form (HTML)")
def login_form(request: Request, v: ViewerDep, next: str | None = None) -> Response:
    return render(request, "login.html", {"title": "Log in", "next": _next(next)})


@router.post("/login", summary="Log in (form: username, password, csrf_token)",
             dependencies=[Depends(check_csrf)])
def login(request: Request, username: Annotated[str, Form(max_length=256)],
          password: Annotated[str, Form(max_length=MAX_LENGTH)],
          next: Annotated[str | None, Form(max_length=2048)] = None) -> Response:
    throttle, account_throttle = request.app.state.throttle, request.app.state.account_throttle
    keys, account_keys = throttle_keys(request, username)
    throttle.check(*keys)
    account_throttle.check(*account_keys)
    with request.app.state.sessions() as s, s.begin():
        s.info["actor"] = username
        try:
            user = authenticate(s, username, password)
        except AuthenticationError as exc:
            throttle.failed(*keys)
            account_throttle.failed(*account_keys)
            if wants_json(request):
                return JSONResponse({"ok": False, "error": str(exc)}, status_code=401)
            return render(request, "login.html", {"title": "Log in", "next": _next(next),
                                                  "error": str(exc)}, status_code=401)
        name, role = user.username, user.role.value
        token = start_session(s, user.id, lifetime_s=request.app.state.settings.session_max_age_s,
                              address=client_address(request))
    throttle.succeeded(*keys[:1])  # the browser's or the name's; the address keeps its count
    account_throttle.succeeded(*account_keys)
    csrf = request.session.get("csrf")
    request.session.clear()  # a fresh session on login (no fixation)
    request.session.update({"sid": token, "csrf": csrf})
    request.state.viewer = None
    response: Response
    if wants_json(request):
        response = JSONResponse({"ok": True, "user": name, "role": role})
    else:
        flash(request, f"logged in as {name} ({role.replace('_', ' ')})", "ok")
        response = RedirectResponse(_next(next), status_code=303)
    set_device_cookie(request, response, name)
    return response


@router.post("/logout", summary="Log out (ends the session on the server)", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    token = request.session.get("sid")
    if isinstance(token, str) and token:
        with request.app.state.sessions() as s, s.begin():
            end_session(s, token)
    request.session.clear()
    request.state.viewer = None
    if wants_json(request):
        return JSONResponse({"ok": True})
    return RedirectResponse("/dashboard", status_code=303)
