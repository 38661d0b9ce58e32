"""Engines, sessions and migrations. Nothing here runs at import time.

The database is ``DOGTAG_DATABASE_URL`` when set, else a SQLite file ``registry.sqlite`` in the
user's data directory (``$XDG_DATA_HOME/dogtag``, default ``~/.local/share/dogtag``; the platform's
equivalent on macOS and Windows). SQLite connections run in WAL mode with foreign keys on and a
busy timeout; PostgreSQL URLs use psycopg 3.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_URL = "DOGTAG_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def data_dir() -> Path:
    """The user's data directory for dogtag (XDG on Linux)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "dogtag"


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``$DOGTAG_DATABASE_URL``, else the default SQLite file."""
    url = url or os.environ.get(ENV_URL)
    if not url:
        return f"sqlite:///{data_dir() / 'registry.sqlite'}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), with the SQLite pragmas set per connection."""
    full = database_url(url)
    parsed = make_url(full)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(full, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(full, pool_pre_ping=True, **kwargs)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, delimit transactions (pysqlite's legacy mode begins them lazily
    # at the first write, so reads would see no snapshot); see the SQLAlchemy SQLite dialect docs.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # execution_options(sqlite_begin="IMMEDIATE") takes the write lock up front (bulk writers),
    # so that a writer waits for another one instead of failing on a stale snapshot
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions write the audit log (see :mod:`dogtag.registry.audit`)."""
    from dogtag.registry.audit import RegistrySession

    return sessionmaker(bind=engine, class_=RegistrySession, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, actor: str) -> Iterator[Session]:
    """One transaction as ``actor``: commit on success, roll back on any error."""
    with sessions(engine)() as session:
        session.info["actor"] = actor
        with session.begin():
            yield session


# --- migrations -----------------------------------------------------------

def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("dogtag.registry") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (creates every table on an empty database)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_initialised(engine: Engine) -> bool:
    """Whether the migrations have run (a plain query: the CLI need not import Alembic for this)."""
    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").first() is not None
