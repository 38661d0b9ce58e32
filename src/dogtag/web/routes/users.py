"""User administration (admins): the users and their open sessions, deactivation, reactivation and
password reset. Every change goes through the registry session, so the audit log records it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from dogtag.errors import DogtagError
from dogtag.registry.logins import user_overview
from dogtag.registry.passwords import MAX_LENGTH, MIN_LENGTH
from dogtag.registry.users import reset_password, set_active
from dogtag.web.deps import DbDep
from dogtag.web.pages import done, page
from dogtag.web.security import ADMIN, ViewerDep, check_csrf, require

router = APIRouter(tags=["users"])

ADMINS = frozenset({ADMIN})
Username = Annotated[str, Path(max_length=64)]


@page(router, "/users", "users.html", roles=ADMINS)
def users(request: Request, s: DbDep) -> dict[str, Any]:
    """The users: role, active or not, open sessions"""
    return {"title": "Users", "users": user_overview(s), "min_length": MIN_LENGTH}


def _not_me(v: ViewerDep, username: str) -> None:
    if v.username == username:
        raise DogtagError("you cannot deactivate yourself; ask another admin")


@router.post("/users/{username}/deactivate", dependencies=[require(ADMINS), Depends(check_csrf)],
             summary="Deactivate a user; their sessions end at once")
def deactivate(request: Request, s: DbDep, v: ViewerDep, username: Username) -> Response:
    _not_me(v, username)
    with s.begin():
        set_active(s, username, False)
    return done(request, "/users", f"user {username} deactivated; their sessions have ended")


@router.post("/users/{username}/activate", dependencies=[require(ADMINS), Depends(check_csrf)],
             summary="Reactivate a user")
def activate(request: Request, s: DbDep, username: Username) -> Response:
    with s.begin():
        set_active(s, username, True)
    return done(request, "/users", f"user {username} activated")


@router.post("/users/{username}/password", dependencies=[require(ADMINS), Depends(check_csrf)],
             summary="Reset a user's password (form: password); their sessions end at once")
def password(request: Request, s: DbDep, username: Username,
             password: Annotated[str, Form(max_length=MAX_LENGTH + 1)]) -> Response:
    try:
        with s.begin():
            reset_password(s, username, password)
    except ValueError as exc:
        raise DogtagError(str(exc).replace("`password`: ", "")) from None
    return done(request, "/users", f"password of {username} reset; their sessions have ended")
