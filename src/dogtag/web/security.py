"""Who is asking and what they may see: sessions, roles, CSRF tokens, client addresses and login
throttling.

Sessions live in the registry (:mod:`dogtag.registry.logins`); the browser's signed cookie
(Starlette's, itsdangerous with the settings' secret key) holds only the session's random token and
a CSRF token. The session and its user are looked up on every request, so logging out, a
deactivation or a password reset ends a session at once, even for a copy of the cookie.

Visibility rules (the issue's role model):

- anonymous visitors: aggregate statistics only (dashboard, accounting report);
- genetic profiles (genotypes, haplotypes): analysts and reviewers only;
- family liaison: case status and family contacts, never genotypes nor per-marker evidence.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, TimestampSigner

from dogtag.registry.logins import failure_wait, forget_failures, record_failure, session_user
from dogtag.registry.users import Role

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
    """The logged-in user (their session and account checked in the registry on every request), or
    anonymous."""
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    token = request.session.get("sid")
    v = Viewer(None, None)
    if isinstance(token, str) and token:
        with request.app.state.sessions() as s:
            found = session_user(s, token)
        if found is not None:
            v = Viewer(found.username, found.role)
        else:
            request.session.pop("sid", None)
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


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a comma-separated list of addresses or CIDR networks (``trusted_proxies``)."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"`trusted_proxies`: {part!r} is not an address or network") from None
    return tuple(out)


def _trusted(addr: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_address(request: Request) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not a trusted proxy (read from the right; never the header's
    left-most claim). With no trusted proxies (the default) the header is ignored."""
    peer = request.client.host if request.client else "unknown"
    networks = request.app.state.trusted_proxies
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    addr = peer
    while hops and _trusted(addr, networks):
        hop = hops.pop()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed entry: the last proxy's peer is all we know
        addr = hop
    return addr


# --- login throttling ------------------------------------------------------

DEVICE_COOKIE = "dogtag_device"
DEVICE_MAX_AGE_S = 90 * 86400


def _device_signer(request: Request) -> TimestampSigner:
    return TimestampSigner(request.app.state.settings.key(), salt="dogtag-device")


def set_device_cookie(request: Request, response: Response, username: str) -> None:
    """Mark this browser as one where ``username`` logged in (a signed, random device id).

    Failed logins from a known browser are counted for that browser alone, so a stranger's wrong
    passwords never slow the owner down on a browser they have used before (OWASP's device
    cookies)."""
    value = _device_signer(request).sign(f"{username}:{secrets.token_urlsafe(16)}").decode()
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_MAX_AGE_S, httponly=True, samesite="lax",
                        secure=request.app.state.settings.https_only)


def device_of(request: Request, username: str) -> str | None:
    """The id of this browser if it carries a valid device cookie for ``username``, else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = _device_signer(request).unsign(raw, max_age=DEVICE_MAX_AGE_S).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    name, _, device = value.rpartition(":")
    return device if name == username and device else None


#: the count of one user name over all addresses allows this many times ``login_max_failures``
ACCOUNT_FACTOR = 4


def throttle_keys(request: Request, username: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The counters a login for ``username`` from this request feeds: (keys of ``app.state.throttle``,
    keys of ``app.state.account_throttle``).

    A known browser (device cookie of this user) is counted alone. An unknown one is counted per
    user name and address, per address, and per user name over all addresses, the last with
    :data:`ACCOUNT_FACTOR` times the allowance: a stranger at one address slows only themselves,
    and only a guessing campaign from many addresses slows the owner, on a browser they never
    used, and never locks them out.
    """
    device = device_of(request, username)
    if device is not None:
        return (f"device:{device}",), ()
    name, addr = username.lower()[:64], client_address(request)
    return (f"user:{name}@{addr}", f"addr:{addr}"), (f"user:{name}",)


class LoginThrottle:
    """Exponential backoff of failed logins per key (user name, client address, known browser).

    The first ``free`` failures of a key cost nothing; after the n-th failure (n >= ``free``) the
    key waits ``base_s * 2**(n - free)`` seconds, at most ``cap_s``, before the next attempt. Refused
    attempts are not failures (they never reach the password check), so waiting out the delay
    always gets one more try: nobody is locked out for good. A key with no failure for
    ``forget_s`` seconds starts afresh. In memory, per process, at most ``max_keys`` keys (the
    oldest forgotten first); the workbench uses :class:`SharedLoginThrottle`, in the registry.
    """

    def __init__(self, free: int, base_s: float, cap_s: float, forget_s: float, *,
                 max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.free, self.base_s, self.cap_s, self.forget_s = free, base_s, cap_s, forget_s
        self.max_keys, self.clock = max_keys, clock
        self._state: dict[str, tuple[int, float, float]] = {}  # key -> (failures, last, blocked until)
        self._lock = threading.Lock()

    def _get(self, key: str, now: float) -> tuple[int, float, float]:
        st = self._state.get(key)
        if st is None or now - st[1] > self.forget_s:
            return (0, now, now)
        return st

    def check(self, *keys: str) -> None:
        """Raise :class:`Throttled` while any of ``keys`` must still wait."""
        now = self.clock()
        with self._lock:
            wait = max((self._get(k, now)[2] - now for k in keys), default=0.0)
        if wait > 0:
            raise Throttled(max(1, int(wait + 0.999)))

    def delay(self, n: int) -> float:
        """Seconds to wait after the n-th failure of a key."""
        return 0.0 if n < self.free else min(self.cap_s, self.base_s * 2.0 ** min(n - self.free, 60))

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                n = self._get(key, now)[0] + 1
                self._state.pop(key, None)
                self._state[key] = (n, now, now + self.delay(n))
            while len(self._state) > self.max_keys:
                del self._state[next(iter(self._state))]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._state.pop(key, None)


class SharedLoginThrottle(LoginThrottle):
    """:class:`LoginThrottle` with its counts in the registry (:mod:`dogtag.registry.logins`), so
    that they hold across the worker processes of one workbench (and its restarts). ``scope`` keeps
    the keys of two throttles apart; ``clock`` is wall-clock time, which the workers share."""

    def __init__(self, sessions: Callable[[], Any], scope: str, free: int, base_s: float, cap_s: float,
                 forget_s: float, *, clock: Callable[[], float] = time.time):
        super().__init__(free, base_s, cap_s, forget_s, max_keys=0, clock=clock)
        self.sessions, self.scope = sessions, scope

    def _keys(self, keys: tuple[str, ...]) -> list[str]:
        return [f"{self.scope}|{k}"[:200] for k in keys]

    def check(self, *keys: str) -> None:
        with self.sessions() as s:
            wait = failure_wait(s, self._keys(keys), now=self.clock(), forget_s=self.forget_s)
        if wait > 0:
            raise Throttled(max(1, int(wait + 0.999)))

    def failed(self, *keys: str) -> None:
        with self.sessions() as s, s.begin():
            record_failure(s, self._keys(keys), now=self.clock(), forget_s=self.forget_s, delay=self.delay)

    def succeeded(self, *keys: str) -> None:
        with self.sessions() as s, s.begin():
            forget_failures(s, self._keys(keys))
