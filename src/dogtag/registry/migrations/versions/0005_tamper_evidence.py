"""tamper evidence: MACs on the logs and their heads, append-only triggers

Every audit and custody entry and each chain head gets ``mac`` = HMAC-SHA256 under the ledger key
(kept outside the database; created here when there is none, see dogtag.registry.keys). Existing
entries are checked (sequence, links, hashes) before they are sealed: a broken chain is refused,
not laundered. Triggers then refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the logs, the
deletion of a head, and a head that moves backwards.

Revision ID: 0005_tamper_evidence
Revises: 0004_one_active_identification
Create Date: 2026-12-03 10:05:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0005_tamper_evidence"
down_revision = "0004_one_active_identification"
branch_labels = None
depends_on = None

LOGS = {"audit": "audit_log", "custody": "custody_log"}

SQLITE_TRIGGERS = [
    *(f"""CREATE TRIGGER {t}_no_{what} BEFORE {what.upper()} ON {t}
          BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END""" for t in LOGS.values()
      for what in ("update", "delete")),
    """CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
       BEGIN SELECT RAISE(ABORT, 'chain heads cannot be deleted'); END""",
    """CREATE TRIGGER chain_head_forward BEFORE UPDATE ON chain_head
       WHEN NEW.seq <= OLD.seq OR NEW.name <> OLD.name
       BEGIN SELECT RAISE(ABORT, 'chain heads only move forward'); END""",
]

PG_TRIGGERS = [
    """CREATE FUNCTION dogtag_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    """CREATE FUNCTION dogtag_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'UPDATE' THEN RAISE EXCEPTION 'chain heads cannot be deleted'; END IF;
         IF NEW.seq <= OLD.seq OR NEW.name <> OLD.name THEN
           RAISE EXCEPTION 'chain heads only move forward';
         END IF;
         RETURN NEW;
       END $$""",
    *(f"""CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
          FOR EACH ROW EXECUTE FUNCTION dogtag_append_only()""" for t in LOGS.values()),
    *(f"""CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
          FOR EACH STATEMENT EXECUTE FUNCTION dogtag_append_only()""" for t in (*LOGS.values(), "chain_head")),
    """CREATE TRIGGER chain_head_forward BEFORE UPDATE OR DELETE ON chain_head
       FOR EACH ROW EXECUTE FUNCTION dogtag_head_forward()""",
]


def _seal(conn: sa.Connection) -> None:
    from dogtag.registry import keys, ledger

    keys.create_key()
    key = keys.ledger_key()
    for chain, name in LOGS.items():
        table = sa.table(name, sa.column("seq", sa.Integer), sa.column("hash", sa.String),
                         sa.column("mac", sa.String))
        full = sa.Table(name, sa.MetaData(), autoload_with=conn)
        prev, expected = ledger.GENESIS, 1
        macs = []
        for r in conn.execute(sa.select(full).order_by(full.c.seq)).mappings():
            fields = {k: v for k, v in r.items() if k != "mac"}
            for k in ("at", "recorded_at"):
                if k in fields and fields[k].tzinfo is None:
                    fields[k] = fields[k].replace(tzinfo=dt.UTC)
            if (r["seq"] != expected or r["prev_hash"] != prev
                    or ledger.entry_hash(fields, prev) != r["hash"]):
                raise RuntimeError(f"{name} entry {r['seq']} does not verify: the chain is broken, so it "
                                   "is not sealed (run `dogtag verify` on the previous version)")
            macs.append({"s": r["seq"], "m": ledger.entry_mac(key, chain, r["seq"], r["hash"])})
            prev, expected = r["hash"], expected + 1
        if macs:
            conn.execute(table.update().where(table.c.seq == sa.bindparam("s")).values(mac=sa.bindparam("m")),
                         macs)
        row = conn.execute(sa.text("SELECT seq, hash FROM chain_head WHERE name = :n"), {"n": chain}).first()
        if row is None:
            conn.execute(sa.text("INSERT INTO chain_head (name, seq, hash) VALUES (:n, 0, :h)"),
                         {"n": chain, "h": ledger.GENESIS})
        head = (0, ledger.GENESIS) if row is None else (int(row[0]), str(row[1]))
        if head != (expected - 1, prev):
            raise RuntimeError(f"the {chain} chain head does not match its last entry; not sealed")
        conn.execute(sa.text("UPDATE chain_head SET mac = :m WHERE name = :n"),
                     {"m": ledger.head_mac(key, chain, *head), "n": chain})


def upgrade() -> None:
    for name in (*LOGS.values(), "chain_head"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    _seal(op.get_bind())
    for name in (*LOGS.values(), "chain_head"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("mac", existing_type=sa.String(length=64), nullable=False)
    for stmt in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else PG_TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for stmt in SQLITE_TRIGGERS:
            op.execute("DROP TRIGGER IF EXISTS " + stmt.split()[2])
    else:
        for t in LOGS.values():
            op.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}")
        for t in (*LOGS.values(), "chain_head"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute("DROP TRIGGER IF EXISTS chain_head_forward ON chain_head")
        op.execute("DROP FUNCTION IF EXISTS dogtag_append_only()")
        op.execute("DROP FUNCTION IF EXISTS dogtag_head_forward()")
    for name in (*LOGS.values(), "chain_head"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("mac")
