"""Users and roles; passwords hashed with Argon2id (argon2-cffi's defaults, RFC 9106).

Logins cost one Argon2id verification whether or not the user exists (an unknown, inactive or
system account is checked against a dummy hash), so the time of a refusal does not tell which
names are registered. New passwords follow :mod:`dogtag.registry.passwords`. Deactivating a user
or resetting a password ends that user's login sessions (:mod:`dogtag.registry.logins`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dogtag.errors import DogtagError
from dogtag.registry.base import Base, IdMixin, str_enum, utcnow
from dogtag.registry.passwords import check_password


class Role(enum.Enum):
    ADMIN = "admin"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    FAMILY_LIAISON = "family_liaison"


class User(IdMixin, Base):
    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuthenticationError(DogtagError):
    """Unknown user, wrong password or inactive account (deliberately not saying which)."""


_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash with ``hasher``'s parameters that no password matches (for unknown users)."""
    return hasher.hash(secrets.token_urlsafe(32))


def add_user(session: Session, username: str, password: str, role: Role | str, *,
             full_name: str | None = None) -> User:
    """Create a user (flushed, not committed); the password must pass the policy."""
    if not _USERNAME.match(username):
        raise ValueError(f"`username` must be 1-64 letters, digits, '.', '_' or '-', got {username!r}")
    check_password(password, username=username)
    role = Role(role) if isinstance(role, str) else role
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DogtagError(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user ``username`` if ``password`` is theirs, else :class:`AuthenticationError`.

    Every refusal costs one hash verification, as a success does (no user enumeration by timing).
    """
    user = (session.scalar(select(User).where(User.username == username))
            if _USERNAME.match(username) else None)
    stored = user.password_hash if user is not None and user.active else None
    try:
        _hasher.verify(stored or _dummy_hash(_hasher), password)
    except InvalidHashError:  # a system account ("!..."): spend the time of a real check
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(_hasher), password)
        stored = None
    except VerificationError:
        stored = None
    if user is None or stored is None:
        raise AuthenticationError("unknown user or wrong password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DogtagError(f"no user named {username!r}")
    if not user.active:
        raise DogtagError(f"user {username!r} is inactive")
    return user


def acting_user(session: Session, username: str, roles: frozenset[Role] | set[Role], action: str) -> User:
    """The active user ``username`` when their role may do ``action``, else :class:`DogtagError`."""
    user = get_user(session, username)
    if user.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise DogtagError(f"user {username!r} is {user.role.value}; {action} needs the role {allowed}")
    return user


def _existing(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DogtagError(f"no user named {username!r}")
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Deactivate (``active=False``) or reactivate a user; deactivation ends their sessions at once.

    The change goes through the session, so the audit log records who did it and when.
    """
    from dogtag.registry.logins import end_user_sessions

    user = _existing(session, username)
    if user.password_hash.startswith("!"):
        raise DogtagError(f"{username!r} is a system account")
    user.active = active
    session.flush()
    if not active:
        end_user_sessions(session, user.id)
    return user


def reset_password(session: Session, username: str, password: str) -> User:
    """Set a new password (admin reset; the policy applies) and end the user's sessions."""
    from dogtag.registry.logins import end_user_sessions

    user = _existing(session, username)
    if user.password_hash.startswith("!"):
        raise DogtagError(f"{username!r} is a system account")
    check_password(password, username=username)
    user.password_hash = hash_password(password)
    session.flush()
    end_user_sessions(session, user.id)
    return user
