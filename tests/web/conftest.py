"""Web fixtures: a migrated, seeded SQLite registry and the application (in process or served)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url

import dogtag.registry.users as users_module
from dogtag.registry.engine import make_engine
from dogtag.web.settings import Settings

from .seed import seed


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Argon2id with small costs (logins are many here); the verification still runs argon2."""
    old = users_module._hasher
    users_module._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users_module._hasher = old


PG_ENV = "DOGTAG_TEST_POSTGRES_URL"


def _pg_url(worker: str) -> str:
    """An empty database of this pytest-xdist worker on the test server (``scripts/postgres-start``)."""
    base = os.environ[PG_ENV]
    if base.startswith("postgresql://"):
        base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    url = make_url(base)
    name = f"{url.database}_web_{worker}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name}) is None:
            conn.execute(text(f'create database "{name}"'))
    admin.dispose()
    full = url.set(database=name).render_as_string(hide_password=False)
    eng = make_engine(full)
    with eng.begin() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    eng.dispose()
    return full


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A migrated, seeded registry on SQLite and on PostgreSQL (skipped without the server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    else:
        if not os.environ.get(PG_ENV):
            pytest.skip(f"{PG_ENV} is not set (scripts/postgres-start starts a server)")
        worker = str(getattr(request.config, "workerinput", {}).get("workerid", "main"))
        url = _pg_url(worker)
    engine = make_engine(url)
    ids = seed(engine)
    engine.dispose()
    yield url, ids


@pytest.fixture
def app(registry: tuple[str, dict[str, Any]]) -> Any:
    from dogtag.web import create_app

    url, _ = registry
    return create_app(Settings(database_url=url, secret_key="test-secret", stats_ttl_s=0))


@pytest.fixture
def ids(registry: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return registry[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 and a free port, in a background thread."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
