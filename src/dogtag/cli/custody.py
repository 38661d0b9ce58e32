"""``dogtag custody``: record a transfer of an accession, element or sample, and show its history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from dogtag.cli.registry import _actor, _dump, _engine, database_option, json_option
from dogtag.errors import DogtagError

KINDS = ("accession", "element", "sample")


def _item(session: Any, kind: str, key: str) -> Any:
    from sqlalchemy import select

    from dogtag.registry.recovery import Accession, Element, Sample

    model: Any = {"accession": Accession, "element": Element, "sample": Sample}[kind]
    item = session.scalar(select(model).where(model.key == key))
    if item is None:
        raise DogtagError(f"no {kind} {key!r} in the registry")
    return item


def _when(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DogtagError(f"--at {text!r} is not a date and time (ISO 8601, e.g. 2026-12-03T09:30+09:00)") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _entry(e: Any) -> dict[str, Any]:
    return {"seq": e.seq, "item": f"{e.item_kind} {e.item_key}", "from": e.from_party, "to": e.to_party,
            "place": e.place, "at": e.at.isoformat(), "purpose": e.purpose, "actor": e.actor}


@click.group()
def custody() -> None:
    """Chain of custody of accessions, elements and samples (append-only, authenticated)."""


@custody.command("transfer")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("key")
@click.option("--to", "to", required=True, metavar="PARTY", help="Who receives the item.")
@click.option("--purpose", required=True, help="Why (turnover, DNA testing, return, ...).")
@click.option("--from", "from_", metavar="PARTY", help="Who hands it over (default: the current custodian; "
              "when given it must be the current custodian).")
@click.option("--place", help="Where the transfer happened.")
@click.option("--at", "at", metavar="TIME", help="When (ISO 8601; no zone means UTC; default: now).")
@click.option("--as", "username", metavar="USERNAME", help="Record the transfer as this registered user (an admin or analyst).")
@database_option
@json_option
def transfer(kind: str, key: str, to: str, purpose: str, from_: str | None, place: str | None, at: str | None,
             username: str | None, url: str | None, as_json: bool) -> None:
    """Record that KIND KEY passed to a new custodian.

    \b
    Examples:
      dogtag demo --no-serve --missing 200 --db demo.sqlite      # a registry to try it on
      dogtag custody transfer sample K55-02-E00001-S1 --to AFMES-AFDIL --place Dover \
          --purpose "DNA testing" --database sqlite:///demo.sqlite
    """
    from dogtag.registry import custody as chain
    from dogtag.registry.engine import session_scope
    from dogtag.registry.users import Role

    engine = _engine(url)
    # the same roles as the workbench's custody form (admins and analysts: the lab's staff)
    actor = _actor(engine, username, {Role.ADMIN, Role.ANALYST}, "recording custody")
    with session_scope(engine, actor) as s:
        entry = chain.record_transfer(s, _item(s, kind, key), to=to, purpose=purpose, at=_when(at),
                                      from_=from_, place=place)
    if as_json:
        _dump({"ok": True, "seq": entry["seq"], "hash": entry["hash"]})
    else:
        click.echo(f"{kind} {key}: {entry['from_party'] or '(first entry)'} -> {entry['to_party']} "
                   f"recorded as custody entry {entry['seq']}")


@custody.command("history")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("key")
@database_option
@json_option
def history(kind: str, key: str, url: str | None, as_json: bool) -> None:
    """The custody history of KIND KEY, oldest first.

    \b
    Examples:
      dogtag demo --no-serve --missing 200 --db demo.sqlite      # a registry to try it on
      dogtag custody transfer sample K55-02-E00001-S1 --to AFMES-AFDIL --place Dover \
          --purpose "DNA testing" --database sqlite:///demo.sqlite
      dogtag custody history sample K55-02-E00001-S1 --database sqlite:///demo.sqlite --json
    """
    from dogtag.registry import custody as chain
    from dogtag.registry.engine import sessions

    engine = _engine(url)
    with sessions(engine)() as s:
        rows = [_entry(e) for e in chain.history(s, _item(s, kind, key))]
    if as_json:
        _dump(rows)
        return
    if not rows:
        click.echo(f"{kind} {key}: no custody entries")
    for r in rows:
        click.echo(f"{r['at']}  {r['from'] or '-'} -> {r['to']}  at {r['place'] or '-'}: {r['purpose']} "
                   f"(recorded by {r['actor']}, entry {r['seq']})")
