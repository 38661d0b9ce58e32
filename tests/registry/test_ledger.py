"""Audit and custody logs: hash chains, append-only, tamper detection by `dogtag verify`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from dogtag.cli import cli
from dogtag.errors import DogtagError
from dogtag.registry import custody, ledger
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.models import AuditEntry, CustodyEntry, MissingPerson, Sample

from .factories import drop_append_only_triggers, small_registry

T0 = dt.datetime(2018, 7, 27, 9, 0, tzinfo=dt.UTC)


def _custody(engine: Engine) -> None:
    with session_scope(engine, "clerk") as s:
        smp = s.scalars(select(Sample).where(Sample.key == "S1")).one()
        custody.record_transfer(s, smp, to="DPAA lab Hawaii", place="Osan AB", at=T0, purpose="turnover")
        custody.record_transfer(s, smp, to="AFMES-AFDIL", place="Dover", at=T0 + dt.timedelta(days=30),
                                purpose="DNA testing")
        custody.record_transfer(s, smp, to="DPAA lab Hawaii", place="Dover", at=T0 + dt.timedelta(days=90),
                                purpose="return after testing")


def _verify(engine: Engine) -> tuple[int, dict]:
    res = CliRunner().invoke(cli, ["verify", "--json", "--database", engine.url.render_as_string(False)])
    return res.exit_code, json.loads(res.output)


def test_hash_is_sha256_of_canonical_json_plus_previous_hash() -> None:
    fields = {"b": 1, "a": "x", "at": dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC), "prev_hash": "0" * 64}
    body = '{"a":"x","at":"2020-01-01T12:00:00+00:00","b":1,"prev_hash":"' + "0" * 64 + '"}'
    assert ledger.canonical_json(fields) == body
    assert ledger.entry_hash({**fields, "hash": "ignored"}, "0" * 64) == hashlib.sha256(
        (body + "0" * 64).encode()).hexdigest()


def test_every_orm_change_is_audited_with_before_and_after(engine: Engine) -> None:
    ids = small_registry(engine)
    with session_scope(engine, "ann") as s:
        s.get(MissingPerson, ids["p1"]).home_state = "IOWA"
    with sessions(engine)() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (last.actor, last.action, last.table_name, last.row_key) == ("ann", "update", "missing_person",
                                                                           str(ids["p1"]))
        assert json.loads(last.before)["home_state"] == "OHIO"
        assert json.loads(last.after)["home_state"] == "IOWA"
        inserted = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "insert"))
        assert inserted == 9  # conflict, incident, 2 persons, operation, accession, element, 2 samples
    code, out = _verify(engine)
    assert (code, out["ok"], out["chains"]) == (0, True, [
        {"chain": "audit", "ok": True, "entries": 10, "first_bad": None, "reason": ""},
        {"chain": "custody", "ok": True, "entries": 0, "first_bad": None, "reason": ""}])
    assert out["statuses"] == {"ok": True, "missing_persons": 2, "identifications": 0, "problems": [],
                               "total_problems": 0}


def test_custody_log_and_its_rules(engine: Engine) -> None:
    small_registry(engine)
    _custody(engine)
    with sessions(engine)() as s:
        smp = s.scalars(select(Sample).where(Sample.key == "S1")).one()
        hist = custody.history(s, smp)
        assert [(h.from_party, h.to_party) for h in hist] == [
            (None, "DPAA lab Hawaii"), ("DPAA lab Hawaii", "AFMES-AFDIL"), ("AFMES-AFDIL", "DPAA lab Hawaii")]
        assert hist[1].at == T0 + dt.timedelta(days=30) and hist[0].actor == "clerk"
    with pytest.raises(DogtagError, match="held by"), session_scope(engine, "clerk") as s:
        smp = s.scalars(select(Sample).where(Sample.key == "S1")).one()
        custody.record_transfer(s, smp, from_="AFMES-AFDIL", to="X", at=T0, purpose="p")
    with pytest.raises(DogtagError, match="append-only"), session_scope(engine, "clerk") as s:
        s.scalars(select(CustodyEntry)).first().purpose = "edited"
    with pytest.raises(DogtagError, match="append-only"), session_scope(engine, "clerk") as s:
        s.delete(s.scalars(select(AuditEntry)).first())
    assert _verify(engine)[0] == 0


@pytest.mark.parametrize(("chain", "sql", "bad", "reason"), [
    ("custody", "update custody_log set to_party = 'Someone else' where seq = 2", 2, "edited"),
    ("custody", "update custody_log set at = at where seq = 1; update custody_log set purpose = 'x' where seq = 3",
     3, "edited"),
    ("custody", "delete from custody_log where seq = 2", 2, "missing"),
    ("custody", "delete from custody_log where seq = 3", 3, "deleted"),
    ("audit", "update audit_log set after = replace(after, 'DOE', 'DOW') where seq = 3", 3, "edited"),
    ("audit", "update audit_log set actor = 'mallory' where seq = 5", 5, "edited"),
    ("audit", "delete from audit_log where seq = 4", 4, "missing"),
])
def test_tampering_is_detected_and_named(engine: Engine, chain: str, sql: str, bad: int, reason: str) -> None:
    small_registry(engine)
    _custody(engine)
    assert _verify(engine)[0] == 0
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        for stmt in sql.split(";"):
            conn.execute(text(stmt))
    assert _verify(engine)[0] == 0  # refused by the database's triggers
    drop_append_only_triggers(engine)
    with engine.begin() as conn:
        for stmt in sql.split(";"):
            conn.execute(text(stmt))
    code, out = _verify(engine)
    assert code == 1 and not out["ok"]
    report = next(c for c in out["chains"] if c["chain"] == chain)
    assert report["first_bad"] == bad and reason in report["reason"]
    res = CliRunner().invoke(cli, ["verify", "--database", engine.url.render_as_string(False)])
    assert res.exit_code == 1 and f"BROKEN at entry {bad}" in res.output


def test_rehashing_an_edited_entry_still_breaks_the_next_link(engine: Engine) -> None:
    small_registry(engine)
    _custody(engine)
    drop_append_only_triggers(engine)
    with engine.begin() as conn:
        row = dict(conn.execute(text("select * from custody_log where seq = 2")).mappings().one())
        row["to_party"] = "Someone else"
        row["at"] = T0 + dt.timedelta(days=30)
        row["recorded_at"] = dt.datetime.fromisoformat(str(row["recorded_at"])).replace(tzinfo=dt.UTC)
        new_hash = ledger.entry_hash(row, row["prev_hash"])
        conn.execute(text("update custody_log set to_party = 'Someone else', hash = :h where seq = 2"),
                     {"h": new_hash})
    code, out = _verify(engine)
    # the rehashed entry's own hash matches, its MAC (under the key kept outside) does not
    assert code == 1 and out["chains"][1]["first_bad"] == 2 and "MAC" in out["chains"][1]["reason"]
