"""Chain of custody for accessions, elements and samples (append-only, hash-chained)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dogtag.errors import DogtagError
from dogtag.registry import ledger
from dogtag.registry.audit import actor_of
from dogtag.registry.base import utcnow
from dogtag.registry.recovery import Accession, Element, Sample

Item = Accession | Element | Sample
_KINDS = {Accession: "accession", Element: "element", Sample: "sample"}


def record_transfer(session: Session, item: Item, *, to: str, purpose: str, at: dt.datetime,
                    from_: str | None = None, place: str | None = None) -> dict[str, Any]:
    """Append one transfer of ``item`` to the custody log (in the session's transaction).

    ``from_`` defaults to the current custodian; when given it must match it, so that the log
    never shows an item leaving someone who did not hold it.
    """
    kind = _KINDS.get(type(item))
    if kind is None:
        raise ValueError(f"`item` must be an accession, element or sample, got {type(item).__name__}")
    if not to.strip() or not purpose.strip():
        raise DogtagError("a custody transfer needs a recipient (to) and a purpose")
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    session.flush()
    holder = current_custodian(session, item)
    if from_ is None:
        from_ = holder
    elif holder is not None and from_ != holder:
        raise DogtagError(f"{kind} {item.key} is held by {holder!r}, not {from_!r}")
    entry = {"item_kind": kind, "item_key": item.key, "from_party": from_, "to_party": to.strip(),
             "place": place, "at": at, "purpose": purpose.strip(), "actor": actor_of(session),
             "recorded_at": utcnow()}
    return ledger.append(session.connection(), "custody", [entry])[0]


def history(session: Session, item: Item) -> list[ledger.CustodyEntry]:
    kind = _KINDS[type(item)]
    q = select(ledger.CustodyEntry).where(ledger.CustodyEntry.item_kind == kind,
                                          ledger.CustodyEntry.item_key == item.key)
    return list(session.scalars(q.order_by(ledger.CustodyEntry.seq)))


def current_custodian(session: Session, item: Item) -> str | None:
    kind = _KINDS[type(item)]
    q = (select(ledger.CustodyEntry.to_party)
         .where(ledger.CustodyEntry.item_kind == kind, ledger.CustodyEntry.item_key == item.key)
         .order_by(ledger.CustodyEntry.seq.desc()).limit(1))
    return session.scalar(q)
