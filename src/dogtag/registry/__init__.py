"""The registry: the system of record for the missing, the families, the remains and their custody.

SQLAlchemy 2 models (:mod:`.models`), engines and Alembic migrations (:mod:`.engine`), the
hash-chained audit and custody logs (:mod:`.ledger`, :mod:`.audit`, :mod:`.custody`), lifecycle
rules (:mod:`.workflow`), CSV imports (:mod:`.imports`) and statistics (:mod:`.stats`).
Nothing connects to a database at import time.
"""

from dogtag.registry.engine import (
    data_dir,
    database_url,
    is_initialised,
    make_engine,
    session_scope,
    sessions,
    upgrade,
)

__all__ = ["data_dir", "database_url", "is_initialised", "make_engine", "session_scope", "sessions",
           "upgrade"]
