"""Signed checkpoints of the chain heads, kept outside the database.

A MAC stops someone without the ledger key from forging entries, but not from putting back an
older copy of the database (or of a head row with its MAC): a history cut back to an earlier,
genuine state. Checkpoints catch that. ``dogtag anchor`` writes one JSON line per checkpoint,
``{"chains": {"audit": {"seq", "hash"}, "custody": {...}}, "at", "key_id", "mac"}`` with
``mac = HMAC-SHA256(key, "checkpoint", canonical JSON of the rest)``; keep the lines where the
database's writers cannot change them (write-once storage, a printed report, another
organisation's mailbox). ``dogtag verify --anchor FILE`` then checks that every checkpoint is
genuine and that each chain still holds the recorded entry with the recorded hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from dogtag.errors import DataFormatError
from dogtag.registry import keys, ledger
from dogtag.registry.base import table_of, utcnow


def checkpoint(conn: Connection, *, key: bytes | None = None) -> dict[str, Any]:
    """A signed checkpoint of the current chain heads."""
    key = keys.ledger_key() if key is None else key
    head_t = table_of(ledger.ChainHead)
    heads = {r.name: {"seq": int(r.seq), "hash": str(r.hash)} for r in conn.execute(select(head_t))}
    body = {"kind": "dogtag-checkpoint", "version": 1, "at": utcnow().isoformat(),
            "key_id": keys.key_id(key),
            "chains": {c: heads.get(c, {"seq": 0, "hash": ledger.GENESIS}) for c in ledger.CHAINS}}
    return {**body, "mac": keys.mac(key, "checkpoint", ledger.canonical_json(body))}


@dataclass(frozen=True)
class AnchorProblem:
    line: int
    chain: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "chain": self.chain, "reason": self.reason}


def read_checkpoints(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, checkpoint) of every non-blank line of a checkpoint file."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataFormatError("not UTF-8 text: expected JSON lines of checkpoints", path=path) from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"expected a JSON checkpoint ({exc.msg})", path=path, line=n) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("chains"), dict):
            raise DataFormatError("expected a checkpoint object with `chains`", path=path, line=n)
        out.append((n, obj))
    return out


def check(conn: Connection, path: str | Path, *, key: bytes | None = None) -> tuple[int, list[AnchorProblem]]:
    """Check every checkpoint of ``path`` against the registry; returns (checkpoints, problems)."""
    key = keys.ledger_key() if key is None else key
    problems: list[AnchorProblem] = []
    points = read_checkpoints(path)
    for n, cp in points:
        body = {k: v for k, v in cp.items() if k != "mac"}
        if not keys.same(cp.get("mac"), keys.mac(key, "checkpoint", ledger.canonical_json(body))):
            problems.append(AnchorProblem(n, None, "the checkpoint's MAC does not match: not made with "
                                                   "this registry's key, or edited"))
            continue
        for chain, mark in cp["chains"].items():
            if chain not in ledger.CHAINS or not isinstance(mark, dict):
                problems.append(AnchorProblem(n, chain, "unknown chain"))
                continue
            seq, want = int(mark["seq"]), str(mark["hash"])
            if seq == 0:
                continue
            table = ledger._TABLES[chain]
            got = conn.scalar(select(table.c.hash).where(table.c.seq == seq))
            if got is None:
                problems.append(AnchorProblem(n, chain, f"the checkpoint of {cp.get('at')} records entry "
                                              f"{seq}, which the registry no longer has: the log was cut back"))
            elif got != want:
                problems.append(AnchorProblem(n, chain, f"entry {seq} differs from the checkpoint of "
                                              f"{cp.get('at')}: the history was rewritten"))
    return len(points), problems
