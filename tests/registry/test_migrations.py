"""The Alembic migrations create exactly the models' schema, on SQLite and PostgreSQL, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import dogtag.registry.models  # noqa: F401
from dogtag.registry.base import Base
from dogtag.registry.engine import (
    current_revision,
    head_revision,
    is_initialised,
    make_engine,
    upgrade,
)


def test_upgrade_matches_the_models_and_downgrades(db_url: str) -> None:
    eng = make_engine(db_url)
    assert not is_initialised(eng)
    upgrade(eng)
    assert current_revision(eng) == head_revision(eng) == "0009_contacts_and_import_log"
    with eng.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        assert sorted(conn.execute(text("select name, seq from chain_head"))) == [("audit", 0), ("custody", 0)]
    names = set(inspect(eng).get_table_names())
    assert set(Base.metadata.tables) <= names
    fk = {c["name"] for c in inspect(eng).get_foreign_keys("identification")}
    assert "fk_identification_missing_person_id_missing_person" in fk
    upgrade(eng, "0009_contacts_and_import_log")  # nothing to do
    from alembic import command

    from dogtag.registry.engine import alembic_config

    cfg = alembic_config(eng)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    upgrade(eng)
    assert is_initialised(eng)
    eng.dispose()
