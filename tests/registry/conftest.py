"""Registry fixtures: every test runs on SQLite (a temp file) and on PostgreSQL.

PostgreSQL comes from ``DOGTAG_TEST_POSTGRES_URL`` (``scripts/postgres-start`` prints it); each
pytest-xdist worker gets its own database, emptied before each test. Without the variable the
PostgreSQL variant is skipped. Both run the real Alembic migrations.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dogtag.registry.engine import make_engine, session_scope, upgrade
from dogtag.registry.users import Role, add_user

PG_ENV = "DOGTAG_TEST_POSTGRES_URL"


def _pg_url(worker: str) -> str:
    base = os.environ[PG_ENV]
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1)
                   if base.startswith("postgresql://") else base)
    name = f"{url.database}_{worker}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}) is None:
            conn.execute(text(f'create database "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A URL of an empty database (not yet migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set (scripts/postgres-start starts a server)")
    url = _pg_url(worker_id)
    eng = make_engine(url)
    with eng.begin() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    eng.dispose()
    yield url


@pytest.fixture
def worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated registry."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


USERS = {
    "ada": Role.ADMIN, "ann": Role.ANALYST, "abe": Role.ANALYST, "rita": Role.REVIEWER,
    "rob": Role.REVIEWER, "liam": Role.FAMILY_LIAISON,
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with small costs, so that making users does not dominate the test time."""
    from argon2 import PasswordHasher

    import dogtag.registry.users as users_module

    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def users(engine: Engine) -> None:
    with session_scope(engine, "setup") as s:
        for name, role in USERS.items():
            add_user(s, name, f"{name}-amber-lantern", role)
