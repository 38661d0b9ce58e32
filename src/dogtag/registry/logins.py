"""Server-side login sessions (a random token per login, kept in the registry as its SHA-256), and
the counts of failed logins that slow down password guessing.

The browser holds the token (in the workbench's signed cookie); the registry holds only its hash,
the user and the expiry, so whoever reads the database cannot take over a session, and logging
out, deactivating the user or resetting their password deletes the row: a copy of the cookie made
before that no longer reads or writes. Failed logins are counted per key (user name, address,
browser) in ``login_failure``, so every worker process of the workbench sees the same counts. Rows
are written with Core statements, outside the audit log (a login is not a change of the
registry's records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from dogtag.registry.base import Base, table_of, utcnow
from dogtag.registry.users import Role, User


class LoginSession(Base):
    __tablename__ = "login_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """Failed logins of one throttle key since it was last quiet (times in seconds since the epoch)."""

    __tablename__ = "login_failure"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int]
    last_s: Mapped[float] = mapped_column(index=True)
    until_s: Mapped[float]


@dataclass(frozen=True)
class SessionUser:
    username: str
    role: Role


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(session: Session, user_id: int, *, lifetime_s: float, address: str | None = None) -> str:
    """A new session of ``user_id`` lasting ``lifetime_s`` seconds; returns its token (shown once).

    Expired sessions of every user are deleted on the way.
    """
    t = table_of(LoginSession)
    now = utcnow()
    session.execute(delete(t).where(t.c.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.execute(insert(t).values(token_hash=_digest(token), user_id=user_id, created_at=now,
                                     expires_at=now + dt.timedelta(seconds=lifetime_s),
                                     address=None if address is None else address[:64]))
    return token


def session_user(session: Session, token: str) -> SessionUser | None:
    """The active user of a live session ``token``, else None (unknown, ended or expired)."""
    if not token or len(token) > 128:
        return None
    t, u = table_of(LoginSession), table_of(User)
    row = session.execute(select(u.c.username, u.c.role).join(t, t.c.user_id == u.c.id)
                          .where(t.c.token_hash == _digest(token), t.c.expires_at > utcnow(),
                                 u.c.active.is_(True))).first()
    if row is None:
        return None
    role = row.role if isinstance(row.role, Role) else Role(row.role)
    return SessionUser(str(row.username), role)


def end_session(session: Session, token: str) -> None:
    """End the session ``token`` (logout); an unknown token is a no-op."""
    t = table_of(LoginSession)
    session.execute(delete(t).where(t.c.token_hash == _digest(token)))


def end_user_sessions(session: Session, user_id: int) -> int:
    """End every session of ``user_id``; returns how many there were."""
    t = table_of(LoginSession)
    n = session.execute(delete(t).where(t.c.user_id == user_id)).rowcount  # type: ignore[attr-defined]
    return int(n or 0)


def user_overview(session: Session) -> list[dict[str, object]]:
    """Every user but the system accounts: name, full name, role, active, created, open sessions."""
    t = table_of(LoginSession)
    now = utcnow()
    open_ = {uid: int(n) for uid, n in session.execute(
        select(t.c.user_id, func.count()).where(t.c.expires_at > now).group_by(t.c.user_id))}
    return [{"username": u.username, "full_name": u.full_name, "role": u.role.value, "active": u.active,
             "created_at": u.created_at, "sessions": open_.get(u.id, 0)}
            for u in session.scalars(select(User).where(~User.password_hash.startswith("!"))
                                     .order_by(User.username))]


def failure_wait(session: Session, keys: Sequence[str], *, now: float, forget_s: float) -> float:
    """Seconds until every one of ``keys`` may try again (0 when none must wait)."""
    t = table_of(LoginFailure)
    until = session.scalars(select(t.c.until_s).where(t.c.key.in_(list(keys)), t.c.last_s >= now - forget_s))
    return max((u - now for u in until), default=0.0)


def record_failure(session: Session, keys: Sequence[str], *, now: float, forget_s: float,
                   delay: Callable[[int], float]) -> None:
    """Count one more failure of each of ``keys`` (a key quiet for ``forget_s`` starts afresh); the
    n-th failure makes the key wait ``delay(n)`` seconds. Safe against concurrent workers: the count
    is incremented in the database, a key inserted twice is counted once more."""
    t = table_of(LoginFailure)
    session.execute(delete(t).where(t.c.last_s < now - forget_s))
    bump = update(t).values(failures=t.c.failures + 1, last_s=now).returning(t.c.failures)
    for key in keys:
        n = session.execute(bump.where(t.c.key == key)).scalar()
        if n is None:
            try:
                with session.begin_nested():
                    session.execute(insert(t).values(key=key, failures=1, last_s=now, until_s=now))
                n = 1
            except IntegrityError:  # another worker counted this key's first failure just now
                n = session.execute(bump.where(t.c.key == key)).scalar_one()
        session.execute(update(t).where(t.c.key == key).values(until_s=now + delay(int(n))))


def forget_failures(session: Session, keys: Sequence[str]) -> None:
    """Clear the counts of ``keys`` (after a successful login)."""
    t = table_of(LoginFailure)
    session.execute(delete(t).where(t.c.key.in_(list(keys))))
