"""The registry commands, invoked as a user would, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from dogtag.cli import cli, main
from dogtag.registry.engine import database_url, head_revision, make_engine, sessions
from dogtag.registry.users import Role, User, authenticate


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_init_user_import_stats_verify_export(db_url: str, tmp_path: Path) -> None:
    res = run("init", "--json", "--database", db_url)
    assert res.exit_code == 0 and json.loads(res.output)["revision"] == head_revision(make_engine(db_url))
    assert run("init", "--database", db_url).exit_code == 0  # idempotent
    res = run("user", "add", "rita", "--role", "reviewer", "--password-stdin", "--database", db_url,
              input="correct horse battery\n")
    assert res.exit_code == 0, res.output
    eng = make_engine(db_url)
    with sessions(eng)() as s:
        u = authenticate(s, "rita", "correct horse battery")
        assert u.role == Role.REVIEWER and u.password_hash.startswith("$argon2id$")
        assert "correct horse" not in u.password_hash
    res = CliRunner().invoke(cli, ["user", "add", "rita", "--role", "admin", "--password-stdin", "--database", db_url],
                             input="whatever-amber-lantern\n")
    assert res.exit_code != 0 and "already exists" in str(res.exception)

    f = tmp_path / "m.csv"
    f.write_text("SERVICE_NUMBER,BRANCH,HOME_STATE,INCIDENT_DATE\nRA1,ARMY,OHIO,19501128\nRA2,NAVY,IOWA,19510203\n")
    # --as names a user whose role may import: a reviewer may not
    res = CliRunner().invoke(cli, ["import", "missing", str(f), "--conflict", "Korean War", "--as", "rita",
                                   "--database", db_url])
    assert res.exit_code != 0 and "import needs the role admin, analyst" in str(res.exception)
    assert run("user", "add", "ann", "--role", "analyst", "--password-stdin", "--database", db_url,
               input="ann's own passphrase\n").exit_code == 0
    res = run("import", "missing", str(f), "--conflict", "Korean War", "--as", "ann", "--json", "--database", db_url)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["ok"], out["inserted"], out["rows"]) == (True, 2, 2)
    res = run("import", "missing", str(f), "--database", db_url)
    assert res.output.strip() == "missing: 2 rows: 0 inserted, 0 updated, 2 unchanged"

    bad = tmp_path / "bad.csv"
    bad.write_text("SERVICE_NUMBER,BIRTH_YEAR\nRA3,1930\nRA4,19x0\n")
    res = CliRunner().invoke(cli, ["import", "missing", str(bad), "--json", "--database", db_url])
    assert res.exit_code == 2
    assert json.loads(res.output) == {"ok": False, "file": str(bad), "errors": [
        {"line": 3, "column": "BIRTH_YEAR", "reason": "'19x0' is not an integer"}]}

    res = run("stats", "--json", "--database", db_url)
    data = json.loads(res.output)
    assert data["accounting"]["by_conflict"] == [{"conflict": "Korean War", "unaccounted": 2, "accounted": 0, "total": 2}]
    assert data["accounting"]["by_year_of_loss"] == [{"year_of_loss": 1950, "unaccounted": 1, "accounted": 0, "total": 1},
                                                     {"year_of_loss": 1951, "unaccounted": 1, "accounted": 0, "total": 1}]
    res = run("verify", "--database", db_url)
    assert res.exit_code == 0 and "audit log: 5 entries, ok" in res.output  # 2 users, conflict, 2 persons
    res = run("export", "missing_person", "--format", "json", "--database", db_url)
    rows = json.loads(res.output)
    assert [(r["service_number"], r["home_state"], r["loss_date"]) for r in rows] == [
        ("RA1", "OHIO", "1950-11-28"), ("RA2", "IOWA", "1951-02-03")]
    out_csv = tmp_path / "audit.csv"
    assert run("export", "audit_log", "-o", str(out_csv), "--database", db_url).exit_code == 0
    assert out_csv.read_text().splitlines()[0].startswith("seq,at,actor,action")
    res = CliRunner().invoke(cli, ["export", "app_user", "--database", db_url])
    assert res.exit_code != 0  # password hashes are never exported
    with sessions(eng)() as s:
        assert sorted(s.scalars(select(User.username))) == ["ann", "rita"]
    eng.dispose()


def test_commands_refuse_an_uninitialised_database(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    try:
        main(["stats", "--database", url])
    except SystemExit as exc:
        assert exc.code == 2
    assert "run `dogtag init` first" in capsys.readouterr().err


def test_default_database_is_in_the_user_data_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DOGTAG_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    assert database_url() == f"sqlite:///{tmp_path / 'dogtag' / 'registry.sqlite'}"
    monkeypatch.setenv("DOGTAG_DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    eng = make_engine(f"sqlite:///{tmp_path / 'x' / 'r.sqlite'}")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
    eng.dispose()


def test_every_registry_command_is_registered_with_an_example() -> None:
    for name in ("init", "import", "stats", "verify", "export", "user"):
        res = CliRunner().invoke(cli, [name, "--help"])
        assert res.exit_code == 0, name
        if name == "user":
            res = CliRunner().invoke(cli, ["user", "add", "--help"])
        assert "Example: dogtag" in res.output or "Examples:\n    dogtag" in res.output, name
