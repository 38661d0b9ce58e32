"""``dogtag sorting``: sort the registry's commingled elements into individuals, then review."""

from __future__ import annotations

from typing import Any

import click

from dogtag.cli.registry import _actor, _dump, _engine, database_option, json_option


def _summary(s: Any) -> dict[str, Any]:
    r = s.result
    return {"sorting": s.id, "status": s.status.value, "accessions": s.accessions,
            "proposed_by": s.proposed_by, "reviewed_by": s.reviewed_by, "mni": r["mni"],
            "mni_by_accession": r["mni_by_accession"],
            "groups": sum(1 for g in r["groups"] if len(g["elements"]) > 1),
            "conflicts": r["conflicts"], "notes": r["notes"]}


@click.group()
def sorting() -> None:
    """Sort commingled elements into individuals (osteometrics and DNA), review, apply."""


@sorting.command()
@database_option
@click.option("--accession", "accessions", multiple=True, metavar="KEY",
              help="Sort the elements of this accession (repeat; default: every accession).")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False),
              help="Osteometric reference in OsteoSort's .ref layout (default: DPAA males).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
              show_default=True)
@click.option("--dna-threshold", type=float, default=4.0, show_default=True,
              help="log10 same-source LR that joins two elements.")
@click.option("--osteometric-links", is_flag=True,
              help="Also join elements by unique osteometric matches (default: DNA joins, "
                   "osteometry excludes).")
@click.option("--as", "username", metavar="USERNAME", help="Record the proposal as this user (admin or analyst).")
@json_option
def propose(url: str | None, accessions: tuple[str, ...], reference: str | None, alpha: float,
            dna_threshold: float, osteometric_links: bool, username: str | None,
            as_json: bool) -> None:
    """Propose a sorting; nothing changes until a second person applies it.

    \b
    Examples:
      dogtag demo --no-serve --missing 200 --db demo.sqlite     # a registry holding the K55 boxes
      dogtag sorting propose --database sqlite:///demo.sqlite --accession K55-01 --accession K55-02 --as analyst
    """
    from dogtag.osteology.sorting import SortOptions
    from dogtag.registry.commingling import propose_sorting
    from dogtag.registry.engine import session_scope
    from dogtag.registry.users import Role

    engine = _engine(url)
    actor = _actor(engine, username, {Role.ADMIN, Role.ANALYST}, "proposing a sorting")
    with session_scope(engine, actor=actor) as s:
        res = _summary(propose_sorting(s, actor, accessions=list(accessions) or None,
                                       reference=reference, options=SortOptions(alpha=alpha),
                                       dna_threshold=dna_threshold,
                                       osteometric_links=osteometric_links))
    if as_json:
        _dump(res)
        return
    click.echo(f"sorting {res['sorting']} proposed: MNI {res['mni']}, {res['groups']} groups of "
               f"several elements, {len(res['conflicts'])} conflicts for review")
    for c in res["conflicts"]:
        click.echo(f"  conflict ({c['kind']}) {c['a']} - {c['b']}: {c['reason']}")
    for n in res["notes"]:
        click.echo(f"  note: {n}")


@sorting.command()
@click.argument("sorting_id", type=int)
@database_option
@click.option("--apply/--reject", "apply", required=True, help="Apply the groups, or reject.")
@click.option("--note", help="The reviewer's note.")
@click.option("--as", "username", metavar="USERNAME",
              help="Record the review as this user (admin, analyst or reviewer).")
@json_option
def review(sorting_id: int, url: str | None, apply: bool, note: str | None, username: str | None,
           as_json: bool) -> None:
    """Apply or reject proposed sorting SORTING_ID (the reviewer is not the proposer).

    \b
    Examples:
      dogtag demo --no-serve --missing 200 --db demo.sqlite     # the demo's own sorting is 1
      dogtag sorting propose --database sqlite:///demo.sqlite --accession K55-01 --accession K55-02 --as analyst   # 2
      dogtag sorting review 2 --database sqlite:///demo.sqlite --apply --as reviewer
    """
    from dogtag.registry.commingling import review_sorting
    from dogtag.registry.engine import session_scope
    from dogtag.registry.users import Role

    engine = _engine(url)
    actor = _actor(engine, username, {Role.ADMIN, Role.ANALYST, Role.REVIEWER}, "reviewing a sorting")
    with session_scope(engine, actor=actor) as s:
        res = _summary(review_sorting(s, sorting_id, actor, apply=apply, note=note))
    if as_json:
        _dump(res)
    else:
        click.echo(f"sorting {sorting_id} {res['status']}")
