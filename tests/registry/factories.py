"""Small registries built through the ORM, for the registry tests."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from dogtag.registry.engine import session_scope
from dogtag.registry.models import (
    Accession,
    Conflict,
    Element,
    FieldOperation,
    LossIncident,
    MissingPerson,
    OperationKind,
    Sample,
    Side,
)


def small_registry(engine: Engine) -> dict[str, int]:
    """Two missing persons (one incident), a turnover with one box, one element and two samples."""
    with session_scope(engine, "setup") as s:
        war = Conflict(name="Korean War")
        inc = LossIncident(key="KORWALD-1", conflict=war, date=dt.date(1950, 11, 28), place="Chosin")
        p1 = MissingPerson(service_number="RA1", conflict=war, incident=inc, last_name="DOE",
                           branch="ARMY", home_state="OHIO", loss_date=dt.date(1950, 11, 28), sex=1)
        p2 = MissingPerson(service_number="RA2", conflict=war, incident=inc, last_name="ROE",
                           branch="ARMY", home_state="TEXAS", loss_date=dt.date(1950, 12, 1), sex=1)
        op = FieldOperation(key="K55", kind=OperationKind.TURNOVER)
        acc = Accession(key="K55-01", operation=op)
        el = Element(key="E1", accession=acc, element="femur", side=Side.LEFT)
        s1 = Sample(key="S1", element=el, sex=1)
        s2 = Sample(key="S2", element=el, sex=1)
        s.add_all([war, inc, p1, p2, op, acc, el, s1, s2])
        s.flush()
        return {"p1": p1.id, "p2": p2.id, "s1": s1.id, "s2": s2.id, "acc": acc.id, "el": el.id}


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table the database has (at an older revision, fewer), in primary-key order
    (to show a database is untouched), but the import history, where a rejected file is recorded on
    purpose (test_imports checks that)."""
    from sqlalchemy import inspect

    from dogtag.registry.base import Base

    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for name, t in Base.metadata.tables.items() if name != "import_log" and name in present}


def kill_after_write(engine: Engine, child_source: str, workdir: Path, *args: str) -> None:
    """Run ``child_source`` as a script (argv: database URL, *args); SIGKILL it as soon as it
    prints WRITTEN (rows written, transaction still open); then check the database is exactly
    as before and its hash chains verify."""
    from dogtag.registry import ledger

    before = snapshot(engine)
    script = workdir / "child.py"
    script.write_text(child_source)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen([sys.executable, str(script), engine.url.render_as_string(False), *args],
                            stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"WRITTEN"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert all(r.ok for r in ledger.verify_all(conn))


def drop_append_only_triggers(engine: Engine) -> None:
    """What someone with full write (DDL) access to the database can do first: drop the triggers."""
    from sqlalchemy import text

    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            names = [n for (n,) in conn.execute(text("select name from sqlite_master where type = 'trigger'"))]
            for n in names:
                conn.execute(text(f"drop trigger {n}"))
        else:
            conn.execute(text("drop function dogtag_append_only() cascade"))
            conn.execute(text("drop function dogtag_head_forward() cascade"))
