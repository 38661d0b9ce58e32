"""Hash-chained, authenticated, append-only logs: the audit log and the chain-of-custody log.

Each entry stores ``hash = SHA-256(canonical JSON of the entry's fields + prev_hash)`` where
``prev_hash`` is the previous entry's hash (64 zeros for the first). Canonical JSON is
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` with timestamps as UTC
ISO 8601. A per-chain head row (last ``seq`` and ``hash``) is locked while appending, so concurrent
writers serialise, and it anchors the end of the chain so that deleting the newest entries is
detected too.

The hashes alone can be recomputed by anyone who can write the database, so every entry and every
head also carries ``mac = HMAC-SHA256(key, "entry"|"head", chain, seq, hash)`` under the ledger key,
which is kept outside the database (:mod:`dogtag.registry.keys`): an edited and re-chained entry, a
head moved back over deleted entries or reset to the start, all fail their MAC. Triggers refuse
updates and deletes in the database itself (migration ``0005_tamper_evidence``), and signed
checkpoints kept elsewhere catch a head replayed from an older copy (:mod:`dogtag.registry.anchor`).
:func:`verify_chain` recomputes everything and names the first bad entry.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, Table, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from dogtag.errors import DogtagError
from dogtag.registry import keys
from dogtag.registry.base import Base, table_of, utcnow
from dogtag.registry.bulk import bulk_insert

GENESIS = "0" * 64
CHAINS = ("audit", "custody")


class ChainHead(Base):
    __tablename__ = "chain_head"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who changed what, when: ``before``/``after`` are canonical JSON of the row (None if absent)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class CustodyEntry(Base):
    """One transfer of an accession, element or sample: from, to, place, time, purpose."""

    __tablename__ = "custody_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_key: Mapped[str] = mapped_column(String(64), index=True)
    from_party: Mapped[str | None] = mapped_column(String(200))
    to_party: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    purpose: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


_TABLES: dict[str, Table] = {"audit": table_of(AuditEntry), "custody": table_of(CustodyEntry)}


def _default(value: Any) -> Any:
    """JSON for what the C encoder does not know: timestamps, dates, enums, bytes."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamps in the ledger must be timezone-aware, got {value!r}")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError(f"cannot put {type(value).__name__} into the ledger")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTC ISO timestamps, enums by value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_default)


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of the canonical JSON of ``fields`` (without ``hash`` and ``mac``) followed by
    ``prev_hash``."""
    body = {k: v for k, v in fields.items() if k not in ("hash", "mac")}
    return hashlib.sha256((canonical_json(body) + prev_hash).encode("utf-8")).hexdigest()


def entry_mac(key: bytes, chain: str, seq: int, hash_: str) -> str:
    return keys.mac(key, "entry", chain, seq, hash_)


def head_mac(key: bytes, chain: str, seq: int, hash_: str) -> str:
    return keys.mac(key, "head", chain, seq, hash_)


def append(conn: Connection, chain: str, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Append entries (dicts of the log's columns, without seq/prev_hash/hash/mac) to a chain.

    Locks the chain head (``SELECT ... FOR UPDATE``; SQLite serialises writers itself), chains
    and authenticates the entries, inserts them and moves the head. Runs inside the caller's
    transaction.
    """
    if chain not in _TABLES:
        raise ValueError(f"`chain` must be one of {CHAINS}, got {chain!r}")
    if not entries:
        return []
    key = keys.ledger_key()
    head_t = table_of(ChainHead)
    row = conn.execute(
        select(head_t.c.seq, head_t.c.hash).where(head_t.c.name == chain).with_for_update()
    ).first()
    if row is None:
        conn.execute(insert(head_t).values(name=chain, seq=0, hash=GENESIS,
                                           mac=head_mac(key, chain, 0, GENESIS)))
        seq, prev = 0, GENESIS
    else:
        seq, prev = int(row.seq), str(row.hash)
    out = []
    iso: dict[dt.datetime, str] = {}  # entries of one batch mostly share their timestamps
    for e in entries:
        seq += 1
        fields = dict(e)
        body = dict(e)
        for k in ("at", "recorded_at"):
            v = fields.get(k)
            if isinstance(v, dt.datetime):
                fields[k] = v = v.astimezone(dt.UTC)
                if v not in iso:
                    iso[v] = _default(v)
                body[k] = iso[v]  # the same text canonical_json would write
        fields["seq"] = body["seq"] = seq
        fields["prev_hash"] = body["prev_hash"] = prev
        fields["hash"] = prev = entry_hash(body, prev)
        fields["mac"] = entry_mac(key, chain, seq, prev)
        out.append(fields)
    bulk_insert(conn, _TABLES[chain], out)
    conn.execute(update(head_t).where(head_t.c.name == chain)
                 .values(seq=seq, hash=prev, mac=head_mac(key, chain, seq, prev)))
    return out


@dataclass(frozen=True)
class ChainReport:
    """Result of verifying one chain. ``first_bad`` is the seq of the first bad entry (None = ok)."""

    chain: str
    entries: int
    first_bad: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def as_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "ok": self.ok, "entries": self.entries,
                "first_bad": self.first_bad, "reason": self.reason}


def verify_chain(conn: Connection, chain: str, *, key: bytes | None = None,
                 batch: int = 10_000) -> ChainReport:
    """Recompute a chain: sequence numbers, links, hashes and MACs, and the authenticated head."""
    key = keys.ledger_key() if key is None else key
    table = _TABLES[chain]
    cols = [c.name for c in table.columns]
    prev, expected, n = GENESIS, 1, 0
    result = conn.execute(select(table).order_by(table.c.seq).execution_options(yield_per=batch))
    for r in result:
        fields = dict(zip(cols, r, strict=True))
        seq = fields["seq"]
        if seq != expected:
            missing = f"entries {expected}..{seq - 1} are missing" if seq > expected else "duplicate"
            return ChainReport(chain, n, expected, f"sequence broken at {seq}: {missing}")
        if fields["prev_hash"] != prev:
            return ChainReport(chain, n, seq, "prev_hash does not match the previous entry's hash")
        if entry_hash(fields, prev) != fields["hash"]:
            return ChainReport(chain, n, seq, "content does not match its hash (entry was edited)")
        if not keys.same(fields["mac"], entry_mac(key, chain, seq, fields["hash"])):
            return ChainReport(chain, n, seq, "MAC does not match: the entry was rewritten without the "
                                              "ledger key (or this is not the registry's key)")
        prev, expected, n = fields["hash"], expected + 1, n + 1
    head = conn.execute(select(table_of(ChainHead)).where(table_of(ChainHead).c.name == chain)).first()
    if head is None:
        return ChainReport(chain, n, n + 1, "the chain head is missing (deleted)")
    head_seq, head_hash = int(head.seq), str(head.hash)
    if head_seq != n or head_hash != prev:
        return ChainReport(chain, n, n + 1 if head_seq > n else head_seq,
                           f"chain ends at entry {n} but its head records entry {head_seq}: "
                           "entries were deleted or the head was altered")
    if not keys.same(head.mac, head_mac(key, chain, head_seq, head_hash)):
        return ChainReport(chain, n, n + 1, "the head's MAC does not match: the head was moved or reset "
                                            "without the ledger key")
    return ChainReport(chain, n)


def check_key(conn: Connection, *, key: bytes | None = None) -> None:
    """Refuse (:class:`DogtagError`) a ledger key that is absent, malformed, or not this registry's.

    Cheap (the chain heads only), for a server's start-up: every write to a log would otherwise fail
    or, worse, chain on under a key that nobody can later check. A head whose MAC fails under the
    key means another registry's key, or a head altered without the key (``dogtag verify`` tells).
    """
    key = keys.ledger_key() if key is None else key
    head_t = table_of(ChainHead)
    bad = [str(r.name) for r in conn.execute(select(head_t).order_by(head_t.c.name))
           if not keys.same(r.mac, head_mac(key, str(r.name), int(r.seq), str(r.hash)))]
    if bad:
        raise DogtagError(
            f"the ledger key at {keys.key_path()} (id {keys.key_id(key)}) does not authenticate this registry's "
            f"{' and '.join(bad)} chain head: it is another registry's key (set {keys.KEY_ENV} to this "
            "registry's key file), or the head was altered without the key (`dogtag verify` tells)")


def verify_all(conn: Connection, *, key: bytes | None = None) -> list[ChainReport]:
    key = keys.ledger_key() if key is None else key
    return [verify_chain(conn, c, key=key) for c in CHAINS]


def audit_entries(actor: str, action: str, table_name: str,
                  changes: Iterable[tuple[str | None, Any, Any]]) -> list[dict[str, Any]]:
    """Audit-log dicts for (row_key, before, after) triples; before/after are canonicalised."""
    now = utcnow()
    return [
        {"at": now, "actor": actor, "action": action, "table_name": table_name, "row_key": key,
         "before": None if before is None else canonical_json(before),
         "after": None if after is None else canonical_json(after)}
        for key, before, after in changes
    ]
