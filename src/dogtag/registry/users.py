"""Users and roles; passwords hashed with Argon2id (argon2-cffi's defaults, RFC 9106)."""

from __future__ import annotations

import datetime as dt
import enum
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dogtag.errors import DogtagError
from dogtag.registry.base import Base, IdMixin, str_enum, utcnow


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


def add_user(session: Session, username: str, password: str, role: Role | str, *,
             full_name: str | None = None) -> User:
    """Create a user (flushed, not committed). Passwords of fewer than 8 characters are refused."""
    if not _USERNAME.match(username):
        raise ValueError(f"`username` must be 1-64 letters, digits, '.', '_' or '-', got {username!r}")
    if len(password) < 8:
        raise ValueError("`password` must have at least 8 characters")
    role = Role(role) if isinstance(role, str) else role
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DogtagError(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise AuthenticationError("unknown user or wrong password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationError("unknown user or wrong password") from None
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
