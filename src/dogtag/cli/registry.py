"""Registry commands: init, import, stats, verify, anchor, export, user (add, list, deactivate,
activate, reset-password).

Each takes ``--database URL`` (default: ``$DOGTAG_DATABASE_URL``, else the SQLite file in the
user's data directory).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from dogtag.errors import DogtagError

database_option = click.option(
    "--database", "url", metavar="URL", default=None,
    help="Database URL (sqlite:///FILE or postgresql://...); default $DOGTAG_DATABASE_URL or the "
         "SQLite file in your data directory.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _engine(url: str | None, *, initialised: bool = True) -> Any:
    from dogtag.registry.engine import database_url, is_initialised, make_engine

    engine = make_engine(url)
    if initialised and not is_initialised(engine):
        raise DogtagError(f"no registry at {database_url(url)}; run `dogtag init` first")
    return engine


def _actor(engine: Any, username: str | None, roles: Any, action: str) -> str:
    """Who the command acts as: the operating-system user, or the active registered ``username``
    whose role is one of ``roles`` (else a :class:`DogtagError` naming the roles)."""
    if username is None:
        return f"{getpass.getuser()}@cli"
    from dogtag.registry.engine import sessions
    from dogtag.registry.users import acting_user

    with sessions(engine)() as s:
        return acting_user(s, username, roles, action).username


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.command()
@database_option
@click.option("--admin", metavar="USERNAME", help="Also create a first admin user (asks for a password).")
@json_option
def init(url: str | None, admin: str | None, as_json: bool) -> None:
    """Create the registry database, or bring it up to date (runs the migrations).

    \b
    Examples:
      dogtag init                                               # the SQLite file in your data directory
      dogtag init --database sqlite:///registry.sqlite --admin alice   # asks for alice's password
    """
    from dogtag.registry.engine import current_revision, database_url, upgrade
    from dogtag.registry.keys import create_key

    engine = _engine(url, initialised=False)
    key_file, created = create_key()
    upgrade(engine)
    if admin:
        _add_user(engine, admin, "admin", None, click.prompt("Password", hide_input=True,
                                                              confirmation_prompt=True))
    info = {"database": engine.url.render_as_string(hide_password=True), "revision": current_revision(engine),
            "ledger_key": str(key_file), "ledger_key_created": created}
    if as_json:
        _dump(info)
    else:
        click.echo(f"registry ready at {database_url(url)} (schema {info['revision']})")
        if created:
            click.echo(f"new ledger key at {key_file}: keep it where the database's writers cannot read "
                       "it, and back it up (DOGTAG_LEDGER_KEY_FILE names it)")


@click.command("import")
@click.argument("kind", type=click.Choice(["incidents", "missing", "operations", "accessions", "elements",
                                           "inventory", "samples", "pedigrees", "profiles", "mito", "ystr"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@database_option
@click.option("--conflict", help="Conflict of rows without a CONFLICT column (missing persons).")
@click.option("--as", "username", metavar="USERNAME",
              help="Record the import as this registered user (an admin or analyst).")
@json_option
def import_(kind: str, file: str, url: str | None, conflict: str | None, username: str | None,
            as_json: bool) -> None:
    """Import a CSV FILE of KIND in one transaction: all rows or none; re-importing changes nothing.

    Kinds, in the order of their dependencies: incidents, missing (DCAS-like columns), operations,
    accessions, elements (or inventory: OsteoSort's layout with Accession and Portion), samples,
    pedigrees, profiles (genotypes.csv), mito, ystr.

    \b
    Examples:
      dogtag simulate korean-war --missing 100       # import files of a simulated scenario
      dogtag init
      dogtag import incidents korean-war/incidents.csv
      dogtag import missing korean-war/missing.csv --conflict "Korean War"
    """
    from dogtag.registry.imports import ImportRejected, import_file
    from dogtag.registry.users import Role

    engine = _engine(url)
    options = {"conflict": conflict} if kind == "missing" else {}
    actor = _actor(engine, username, {Role.ADMIN, Role.ANALYST}, "import")
    try:
        result = import_file(engine, kind, file, actor=actor, **options)
    except ImportRejected as exc:
        if as_json:
            _dump({"ok": False, "file": file, "errors": [e.as_dict() for e in exc.errors]})
        else:
            click.echo(f"Error: {file}: {len(exc.errors)} bad row(s); nothing was imported", err=True)
            for e in exc.errors:
                click.echo(f"  line {e.line}, column {e.column}: {e.reason}", err=True)
        sys.exit(2)
    if as_json:
        _dump({"ok": True, **result.as_dict()})
    else:
        click.echo(f"{kind}: {result.rows} rows: {result.inserted} inserted, {result.updated} updated, "
                   f"{result.unchanged} unchanged")


@click.command()
@database_option
@json_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the statistics as a long CSV table (table, key, measure, value).")
@click.option("--per-person", is_flag=True, help="Include the reference coverage of every person.")
def stats(url: str | None, as_json: bool, csv_path: str | None, per_person: bool) -> None:
    """Accounting statistics: unaccounted/accounted for, identifications, reference coverage.

    \b
    Examples:
      dogtag init
      dogtag stats --json > stats.json
    """
    from dogtag.io.spreadsheet import write_dicts
    from dogtag.registry.stats import all_stats, long_rows

    engine = _engine(url)
    with engine.connect() as conn:
        data = all_stats(conn, per_person=per_person)
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8") as fh:
            write_dicts(fh, ["table", "key", "measure", "value"], long_rows(data))
    if as_json:
        _dump(data)
        return
    t = data["totals"]
    click.echo(f"missing persons: {t['missing_persons']}  accounted for: {t['accounted']}  "
               f"unaccounted for: {t['unaccounted']}")
    for table, rows in data["accounting"].items():
        click.echo(f"\n{table.replace('_', ' ')}")
        for r in rows[:25]:
            key = next(iter(r.values()))
            click.echo(f"  {key!s:<30} unaccounted {r['unaccounted']:>8}  accounted {r['accounted']:>8}")
        if len(rows) > 25:
            click.echo(f"  ... {len(rows) - 25} more (use --json or --csv)")
    for table, rows in data["identifications"].items():
        click.echo(f"\nidentifications {table.replace('_', ' ')}")
        for r in rows:
            click.echo(f"  {next(iter(r.values()))!s:<30} {r['identifications']:>8}")
    click.echo("\nreference coverage (unaccounted for)")
    for k, v in data["coverage"]["summary"].items():
        click.echo(f"  {k:<45} {v:>8}")


@click.command()
@database_option
@json_option
@click.option("--anchor", "anchors", metavar="FILE", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Also check the signed checkpoints in FILE (from `dogtag anchor`); repeatable.")
def verify(url: str | None, as_json: bool, anchors: tuple[str, ...]) -> None:
    """Check the audit and custody logs (hashes, links, MACs under the ledger key, heads), every
    status of a missing person and an identification against its history, and checkpoints.

    Exits with status 1 when anything does not verify.

    \b
    Examples:
      dogtag init
      dogtag verify --json
    """
    from dogtag.registry import anchor
    from dogtag.registry.history import check_statuses
    from dogtag.registry.keys import ledger_key
    from dogtag.registry.ledger import verify_all

    engine = _engine(url)
    key = ledger_key()
    with engine.connect() as conn:
        reports = verify_all(conn, key=key)
        statuses = check_statuses(conn)
        checked = [(path, *anchor.check(conn, path, key=key)) for path in anchors]
    ok = all(r.ok for r in reports) and statuses.ok and not any(p for _, _, p in checked)
    if as_json:
        _dump({"ok": ok, "chains": [r.as_dict() for r in reports], "statuses": statuses.as_dict(),
               "anchors": [{"file": path, "checkpoints": n, "problems": [p.as_dict() for p in probs]}
                           for path, n, probs in checked]})
    else:
        for r in reports:
            state = "ok" if r.ok else f"BROKEN at entry {r.first_bad}: {r.reason}"
            click.echo(f"{r.chain} log: {r.entries} entries, {state}")
        click.echo(f"statuses: {statuses.persons} missing persons, {statuses.identifications} identifications, "
                   + ("all agree with their history" if statuses.ok else
                      f"{statuses.total_problems} DO NOT agree with their history"))
        for p in statuses.problems:
            click.echo(f"  {p}")
        for path, n, probs in checked:
            click.echo(f"anchor {path}: {n} checkpoints, " + ("ok" if not probs else f"{len(probs)} BROKEN"))
            for pr in probs:
                click.echo(f"  line {pr.line}" + (f", {pr.chain} log" if pr.chain else "") + f": {pr.reason}")
        if not anchors:
            click.echo("no checkpoint checked (--anchor FILE): a copy of an older, genuine history "
                       "put back in place is caught only by a checkpoint kept elsewhere")
    if not ok:
        sys.exit(1)


@click.command("anchor")
@database_option
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Append the checkpoint to FILE (default: print it).")
def anchor_(url: str | None, output: str | None) -> None:
    """Write a signed checkpoint of the audit and custody chain heads (one JSON line).

    Keep checkpoints where the database's writers cannot change them (write-once storage,
    another organisation); `dogtag verify --anchor FILE` checks the registry against them.
    A copy of an older, genuine history put back in place is caught only by such a checkpoint.

    \b
    Examples:
      dogtag init
      dogtag anchor -o checkpoints.jsonl          # in practice: a file on write-once storage
      dogtag verify --anchor checkpoints.jsonl
    """
    from dogtag.registry.anchor import checkpoint
    from dogtag.registry.ledger import canonical_json

    engine = _engine(url)
    with engine.connect() as conn:
        line = canonical_json(checkpoint(conn))
    if output:
        with open(output, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    else:
        click.echo(line)


@click.command()
@click.argument("table")
@database_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout).")
def export(table: str, url: str | None, fmt: str, output: str | None) -> None:
    """Export one registry table (e.g. missing_person, identification, custody_log) as CSV or JSON.

    \b
    Examples:
      dogtag init
      dogtag export missing_person --format json -o missing.json
    """
    from sqlalchemy import select

    from dogtag.io.spreadsheet import write_rows
    from dogtag.registry.base import Base
    from dogtag.registry.ledger import canonical_json

    engine = _engine(url)
    import dogtag.registry.models  # noqa: F401

    tables = {t: v for t, v in Base.metadata.tables.items() if t != "app_user"}
    if table not in tables:
        raise DogtagError(f"no table {table!r}; tables: {', '.join(sorted(tables))}")
    t = tables[table]
    fh = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(select(t).order_by(*t.primary_key.columns))
            cols = [c.name for c in t.columns]
            plain: Callable[[Any], Any] = lambda v: json.loads(canonical_json(v))  # noqa: E731
            if fmt == "csv":
                write_rows(fh, cols, (["" if v is None else (json.dumps(plain(v)) if isinstance(v, (dict, list))
                                                             else plain(v)) for v in r] for r in rows))
            else:
                fh.write("[")
                for i, r in enumerate(rows):
                    fh.write(("," if i else "") + "\n" + canonical_json(dict(zip(cols, r, strict=True))))
                fh.write("\n]\n")
    finally:
        if output:
            fh.close()


@click.group()
def user() -> None:
    """Manage registry users (roles: admin, analyst, reviewer, family_liaison)."""


def _add_user(engine: Any, username: str, role: str, full_name: str | None, password: str) -> None:
    from dogtag.registry.engine import session_scope
    from dogtag.registry.users import add_user

    try:
        with session_scope(engine, actor=f"{getpass.getuser()}@cli") as s:
            add_user(s, username, password, role, full_name=full_name)
    except ValueError as exc:  # the password policy, a bad user name: a message, not a traceback
        raise DogtagError(str(exc)) from None


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


password_stdin_option = click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
admin_option = click.option("--as", "admin", metavar="USERNAME",
                            help="Record the change as this registered admin (default: your system user).")


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "analyst", "reviewer", "family_liaison"]))
@click.option("--full-name", default=None)
@password_stdin_option
@database_option
def user_add(username: str, role: str, full_name: str | None, password_stdin: bool, url: str | None) -> None:
    """Add a user with a role; the password is hashed with Argon2id.

    Passwords need at least 15 characters and must not be common (a passphrase of several words is
    easiest).

    \b
    Examples:
      dogtag init
      dogtag user add bob --role reviewer --full-name "Bob Reyes"    # asks for a password
    """
    engine = _engine(url)
    _add_user(engine, username, role, full_name, _new_password(password_stdin))
    click.echo(f"user {username} added ({role})")


@user.command("list")
@database_option
@json_option
def user_list(url: str | None, as_json: bool) -> None:
    """List the users: name, role, active or not, open sessions.

    \b
    Examples:
      dogtag init
      dogtag user list --json
    """
    from dogtag.registry.engine import sessions
    from dogtag.registry.logins import user_overview

    engine = _engine(url)
    with sessions(engine)() as s:
        rows = user_overview(s)
    if as_json:
        _dump(rows)
        return
    for r in rows:
        click.echo(f"{r['username']:<20} {r['role']:<15} {'active' if r['active'] else 'INACTIVE':<9} "
                   f"{r['sessions']} session(s)  {r['full_name'] or ''}")


def _change_user(url: str | None, admin: str | None, change: Callable[[Any], Any]) -> None:
    from dogtag.registry.engine import session_scope
    from dogtag.registry.users import Role

    engine = _engine(url)
    actor = _actor(engine, admin, {Role.ADMIN}, "managing users")
    with session_scope(engine, actor=actor) as s:
        change(s)


@user.command("deactivate")
@click.argument("username")
@database_option
@admin_option
def user_deactivate(username: str, url: str | None, admin: str | None) -> None:
    """Deactivate a user: they can no longer log in and their open sessions end now (audited).

    \b
    Examples:
      dogtag init --admin alice                                  # asks for alice's password
      dogtag user add bob --role analyst                         # asks for bob's password
      dogtag user deactivate bob --as alice
    """
    from dogtag.registry.users import set_active

    _change_user(url, admin, lambda s: set_active(s, username, False))
    click.echo(f"user {username} deactivated; their sessions have ended")


@user.command("activate")
@click.argument("username")
@database_option
@admin_option
def user_activate(username: str, url: str | None, admin: str | None) -> None:
    """Reactivate a deactivated user (audited).

    \b
    Examples:
      dogtag init --admin alice                                  # asks for alice's password
      dogtag user add bob --role analyst                         # asks for bob's password
      dogtag user deactivate bob --as alice
      dogtag user activate bob --as alice
    """
    from dogtag.registry.users import set_active

    _change_user(url, admin, lambda s: set_active(s, username, True))
    click.echo(f"user {username} activated")


@user.command("reset-password")
@click.argument("username")
@password_stdin_option
@database_option
@admin_option
def user_reset_password(username: str, password_stdin: bool, url: str | None, admin: str | None) -> None:
    """Set a new password for a user (admin reset, audited); their open sessions end now.

    \b
    Examples:
      dogtag init --admin alice                                  # asks for alice's password
      dogtag user add bob --role analyst                         # asks for bob's password
      dogtag user reset-password bob --as alice                  # asks for the new password
    """
    from dogtag.registry.users import reset_password

    password = _new_password(password_stdin)
    try:
        _change_user(url, admin, lambda s: reset_password(s, username, password))
    except ValueError as exc:
        raise DogtagError(str(exc)) from None
    click.echo(f"password of {username} reset; their sessions have ended")
