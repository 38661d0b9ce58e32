"""Password hashes never stay in the audit log: redacted on write, and migration 0008 redacts the
entries written before that (re-chained under the ledger key, the rewrite itself recorded)."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from dogtag.cli import cli
from dogtag.registry import audit
from dogtag.registry.engine import alembic_config, current_revision, session_scope, upgrade
from dogtag.registry.ledger import AuditEntry
from dogtag.registry.users import Role, User, add_user, authenticate, reset_password

from .factories import drop_append_only_triggers, small_registry, snapshot


def _log(engine: Engine) -> list[AuditEntry]:
    with session_scope(engine, "test") as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        s.expunge_all()
    return rows


def _text(engine: Engine) -> str:
    return "\n".join(f"{e.before} {e.after}" for e in _log(engine))


def _users(engine: Engine) -> None:
    with session_scope(engine, "setup") as s:
        add_user(s, "ann", "ann-amber-lantern", Role.ANALYST)
        add_user(s, "ada", "ada-amber-lantern", Role.ADMIN)
    with session_scope(engine, "ada") as s:
        reset_password(s, "ann", "ann-copper-kettle-2")


BEFORE = "0007_login_failures"
REDACTION = "0008_redact_password_hashes"


def _migrate(engine: Engine, revision: str, direction: str = "upgrade") -> None:
    """Move the schema to ``revision`` (alembic, in one transaction): later migrations stay out."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _old_registry(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry as the code before redaction on write left it: users added and a password reset
    with their hashes in the log, later history on top, at the revision before 0008."""
    with monkeypatch.context() as m:
        m.setattr(audit, "redact", lambda table, row: row)
        _users(engine)
    small_registry(engine)
    _migrate(engine, BEFORE, "downgrade")


def _verify(db_url: str) -> tuple[int, dict]:
    res = CliRunner().invoke(cli, ["verify", "--json", "--database", db_url])
    return res.exit_code, json.loads(res.output)


def test_new_entries_hold_only_a_fingerprint(engine: Engine) -> None:
    _users(engine)
    text = _text(engine)
    with session_scope(engine, "test") as s:
        stored = s.scalars(select(User.password_hash).where(User.username == "ann")).one()
    assert stored.startswith("$argon2") and "$argon2" not in text
    assert f"[redacted sha256:{hashlib.sha256(stored.encode()).hexdigest()[:12]}]" in text


def test_migration_redacts_old_entries_and_rechains(engine: Engine, db_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _old_registry(engine, monkeypatch)
    with session_scope(engine, "test") as s:
        stored = s.scalars(select(User.password_hash).where(User.username == "ann")).one()
    old = _log(engine)
    hashed = [e.seq for e in old if "$argon2" in f"{e.before} {e.after}"]
    assert len(hashed) == 3 and max(hashed) < len(old)  # two users added, one reset; history after them
    assert _verify(db_url)[0] == 0
    rows = snapshot(engine)
    _migrate(engine, REDACTION)
    assert current_revision(engine) == REDACTION
    new = _log(engine)
    assert "$argon2" not in _text(engine)
    assert f"[redacted sha256:{hashlib.sha256(stored.encode()).hexdigest()[:12]}]" in new[hashed[-1] - 1].after
    # entries before the first redacted one are untouched; from it on only before/after and the chain changed
    first = hashed[0]
    assert [(e.hash, e.mac) for e in new[:first - 1]] == [(e.hash, e.mac) for e in old[:first - 1]]
    assert all(n.hash != o.hash for n, o in zip(new[first - 1:], old[first - 1:], strict=False))
    assert [(e.actor, e.action, e.table_name, e.row_key) for e in new[:len(old)]] == \
        [(e.actor, e.action, e.table_name, e.row_key) for e in old]
    # the rewrite is recorded, and the whole log verifies under the ledger key
    last = new[-1]
    assert len(new) == len(old) + 1 and last.action == "redact" and last.table_name == "audit_log"
    assert json.loads(last.before) == {"head_seq": len(old), "head_hash": old[-1].hash}
    assert json.loads(last.after) == {"redacted": hashed, "head_hash": new[len(old) - 1].hash}
    code, out = _verify(db_url)
    assert code == 0 and all(c["ok"] for c in out["chains"])
    # nothing else changed: the users still log in, the rest of the registry is as it was
    after = snapshot(engine)
    assert {k: v for k, v in after.items() if k not in ("audit_log", "chain_head")} == \
        {k: v for k, v in rows.items() if k not in ("audit_log", "chain_head")}
    with session_scope(engine, "test") as s:
        authenticate(s, "ann", "ann-copper-kettle-2")
    # the append-only guards are back
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(AuditEntry.__table__.update().values(actor="x"))


def test_migration_leaves_a_registry_with_nothing_to_redact_untouched(engine: Engine) -> None:
    _users(engine)
    small_registry(engine)
    _migrate(engine, BEFORE, "downgrade")
    before = snapshot(engine)
    _migrate(engine, REDACTION)
    assert snapshot(engine) == before


def test_migration_refuses_to_launder_a_broken_chain(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _old_registry(engine, monkeypatch)
    drop_append_only_triggers(engine)
    with engine.begin() as conn:
        conn.execute(AuditEntry.__table__.update().where(AuditEntry.seq == 2).values(actor="mallory"))
    with pytest.raises(RuntimeError, match="audit entry 2 does not verify"):
        upgrade(engine)
    assert current_revision(engine) == BEFORE and "$argon2" in _text(engine)
