"""Who is asking and what they may see: sessions, roles, CSRF tokens and login throttling.

Sessions are Starlette's signed cookies (itsdangerous, HMAC-SHA1 with the settings' secret key);
the cookie holds only the user name, a CSRF token and the login time. The user is looked up on
every request, so a deactivated account is locked out at once.

Visibility rules (the issue's role model):

- anonymous visitors: aggregate statistics only (dashboard, accounting report);
- genetic profiles (genotypes, haplotypes): analysts and reviewers only;
- family liaison: case status and family contacts, never genotypes nor per-marker evidence.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select

from dogtag.registry.users import Role, User

ADMIN, ANALYST, REVIEWER, LIAISON = Role.ADMIN, Role.ANALYST, Role.REVIEWER, Role.FAMILY_LIAISON
STAFF = frozenset(Role)
SCIENCE = frozenset({ADMIN, ANALYST, REVIEWER})  # cases, remains, matches, reports
GENETIC = frozenset({ANALYST, REVIEWER})  # genotypes and haplotypes
FAMILY = frozenset({ADMIN, LIAISON})  # family contacts and notification tasks (also SCIENCE reads cases)
IMPORTERS = frozenset({ADMIN, ANALYST})


class NotLoggedIn(Exception):
    """The page needs a login."""


class Forbidden(Exception):
    """The user's role may not see or do this."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadCsrf(Exception):
    """A form came without the session's CSRF token."""


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Viewer:
    """The person behind a request (``user`` None = anonymous)."""

    username: str | None
    role: Role | None

    @property
    def anonymous(self) -> bool:
        return self.username is None

    def can(self, roles: frozenset[Role]) -> bool:
        return self.role is not None and self.role in roles

    @property
    def sees_genotypes(self) -> bool:
        return self.can(GENETIC)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request without the session's token (form field or header)."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise BadCsrf()


def viewer(request: Request) -> Viewer:
    """The logged-in user (checked against the database on every request), or anonymous."""
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    name = request.session.get("user")
    v = Viewer(None, None)
    if name:
        factory = request.app.state.sessions
        with factory() as s:
            row = s.execute(select(User.role, User.active).where(User.username == name)).first()
        if row is not None and row.active:
            v = Viewer(str(name), row.role)
        else:
            request.session.pop("user", None)
    request.state.viewer = v
    return v


ViewerDep = Annotated[Viewer, Depends(viewer)]


def require(roles: frozenset[Role]) -> Any:
    """A dependency that lets only ``roles`` through (anonymous: :class:`NotLoggedIn`)."""

    def dep(v: ViewerDep) -> Viewer:
        if v.anonymous:
            raise NotLoggedIn()
        if not v.can(roles):
            raise Forbidden(f"this page is not available to the role {v.role.value if v.role else ''}")
        return v

    dep.roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


class LoginThrottle:
    """Counts failed logins per user name and per client address in a sliding window.

    After ``max_failures`` failures within ``window_s`` seconds, logins for that name (or from that
    address) are refused until the oldest failure leaves the window. In memory, per process.
    """

    def __init__(self, max_failures: int, window_s: float):
        self.max_failures, self.window_s = max_failures, window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                if len(q) >= self.max_failures:
                    raise Throttled(int(self.window_s - (now - q[0])) + 1)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._fails.pop(username_key, None)
