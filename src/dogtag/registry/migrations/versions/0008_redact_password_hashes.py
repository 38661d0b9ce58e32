"""redact password hashes in audit entries written before they were redacted on write

Entries of the audit log written before ``dogtag.registry.audit.redact`` existed hold the Argon2
hash of every new or reset password in their before/after JSON, readable (and open to offline
guessing) by whoever may read or export the log. This migration replaces each by the fingerprint
that new entries carry (``[redacted sha256:...]``). The audit chain is first verified with the
ledger key (a broken chain is refused, not laundered); the entries from the first redacted one on
are then re-hashed and re-authenticated, the head moved to the new hash, and a last entry
(action ``redact``) records which entries were redacted and the head before and after. Checkpoints
(``dogtag anchor``) made before this no longer match the audit chain from the first redacted entry
on: make a new one after upgrading. A registry with nothing to redact is left untouched.

Revision ID: 0008_redact_password_hashes
Revises: 0007_login_failures
Create Date: 2026-12-03 13:20:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008_redact_password_hashes"
down_revision = "0007_login_failures"
branch_labels = None
depends_on = None

SQLITE_GUARDS = {  # the triggers of 0005_tamper_evidence that stand in the way, and their DDL
    "audit_log_no_update": """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    "chain_head_forward": """CREATE TRIGGER chain_head_forward BEFORE UPDATE ON chain_head
        WHEN NEW.seq <= OLD.seq OR NEW.name <> OLD.name
        BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END""",
}
PG_GUARDS = (("audit_log", "audit_log_append_only"), ("chain_head", "chain_head_forward"))


def _redacted(text: str | None) -> str | None:
    from dogtag.registry.audit import redact
    from dogtag.registry.ledger import canonical_json

    if text is None:
        return None
    row = json.loads(text)
    new = redact("app_user", row)
    return text if new is row else canonical_json(new)


def _guards(conn: sa.Connection, on: bool) -> None:
    if conn.dialect.name == "sqlite":
        for name, ddl in SQLITE_GUARDS.items():
            conn.execute(sa.text(ddl if on else f"DROP TRIGGER {name}"))
    else:
        for table, trigger in PG_GUARDS:
            conn.execute(sa.text(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER {trigger}"))


def upgrade() -> None:
    from dogtag.registry import keys, ledger
    from dogtag.registry.base import table_of

    conn = op.get_bind()
    log = table_of(ledger.AuditEntry)
    fixes: dict[int, tuple[str | None, str | None]] = {}
    for seq, before, after in conn.execute(sa.select(log.c.seq, log.c.before, log.c.after)
                                           .where(log.c.table_name == "app_user")):
        new = (_redacted(before), _redacted(after))
        if new != (before, after):
            fixes[int(seq)] = new
    if not fixes:
        return
    key = keys.ledger_key()
    report = ledger.verify_chain(conn, "audit", key=key)
    if not report.ok:
        raise RuntimeError(f"audit entry {report.first_bad} does not verify ({report.reason}): the chain is "
                           "not rewritten to redact password hashes (run `dogtag verify` on the previous version)")
    head_t = table_of(ledger.ChainHead)
    head_seq, old_hash = conn.execute(sa.select(head_t.c.seq, head_t.c.hash).where(head_t.c.name == "audit")).one()
    first = min(fixes)
    prev = conn.scalar(sa.select(log.c.hash).where(log.c.seq == first - 1)) or ledger.GENESIS
    cols = [c.name for c in log.columns]
    _guards(conn, on=False)
    batch: list[dict[str, Any]] = []
    stmt = (log.update().where(log.c.seq == sa.bindparam("s"))
            .values(before=sa.bindparam("b"), after=sa.bindparam("a"), prev_hash=sa.bindparam("p"),
                    hash=sa.bindparam("h"), mac=sa.bindparam("m")))
    rows = conn.execute(sa.select(log).where(log.c.seq >= first).order_by(log.c.seq)).all()
    for r in rows:
        fields = dict(zip(cols, r, strict=True))
        seq = int(fields["seq"])
        if seq in fixes:
            fields["before"], fields["after"] = fixes[seq]
        fields["prev_hash"] = prev
        prev = ledger.entry_hash(fields, prev)
        batch.append({"s": seq, "b": fields["before"], "a": fields["after"], "p": fields["prev_hash"],
                      "h": prev, "m": ledger.entry_mac(key, "audit", seq, prev)})
        if len(batch) == 5000:
            conn.execute(stmt, batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
    conn.execute(head_t.update().where(head_t.c.name == "audit")
                 .values(hash=prev, mac=ledger.head_mac(key, "audit", int(head_seq), prev)))
    _guards(conn, on=True)
    ledger.append(conn, "audit", ledger.audit_entries(
        "migration 0008_redact_password_hashes", "redact", "audit_log",
        [(f"{len(fixes)} entries", {"head_seq": int(head_seq), "head_hash": str(old_hash)},
          {"redacted": sorted(fixes), "head_hash": prev})]))


def downgrade() -> None:
    pass  # the hashes are gone for good; the redacted entries verify on every revision
