"""``dogtag commingle``: sort a box of commingled bones into individuals by osteometrics."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("commingle")
@click.argument("inventory", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Reference individuals in OsteoSort's .ref layout (default: the shipped DPAA males).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
              show_default=True, help="Exclude a candidate pair when its p-value is at most this.")
@click.option("--absolute", is_flag=True, help="Absolute D-value sum |a-b|, tested on its upper tail.")
@click.option("--yeo-johnson", is_flag=True, help="Yeo-Johnson transform the D-values (OsteoSort option).")
@click.option("--zero-mean", is_flag=True, help="Test against a reference mean of 0 (OsteoSort option).")
@click.option("--tails", type=click.Choice(["1", "2"]), default="2", show_default=True,
              help="Tails of the signed D-value test.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def commingle(inventory: Path, reference: Path | None, alpha: float, absolute: bool,
              yeo_johnson: bool, zero_mean: bool, tails: str, as_json: bool) -> None:
    """MNI, left-right pair matching, articulation and regression sorting of INVENTORY.

    INVENTORY is a CSV in OsteoSort's template layout: id, Side, Element, optional Accession
    and Portion, then measurements in ARDS codes (Hum_01, Fem_01, ...; mm).

    \b
    Examples:
      dogtag examples copy osteosort.csv        # OsteoSort's example case, 380 elements
      dogtag commingle osteosort.csv
      dogtag commingle osteosort.csv --alpha 0.05 --json
    """
    from dogtag.osteology.commingle import sort_inventory
    from dogtag.osteology.inventory import default_reference, read_inventory, read_reference
    from dogtag.osteology.sorting import SortOptions

    inv = read_inventory(inventory)
    ref = read_reference(reference) if reference is not None else default_reference()
    options = SortOptions(alpha=alpha, absolute=absolute, yeo_johnson=yeo_johnson,
                          zero_mean=zero_mean, tails=int(tails))
    result = sort_inventory(inv, ref, options=options)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    click.echo(f"{inventory.name}: {result.n_elements} elements; MNI {result.mni} "
               f"({result.mni_element['side']} {result.mni_element['element']})".replace("( ", "("))
    for acc, n in result.mni_by_accession.items():
        if acc:
            click.echo(f"  accession {acc}: MNI {n}")
    for m in result.mlni:
        hi = "unbounded" if m.upper is None else str(m.upper)
        click.echo(f"  {m.element}: L {m.left}, R {m.right}, pairs {m.pairs}; MLNI {m.mlni:.1f} "
                   f"({m.level:.0%} CI {m.lower}-{hi})")
    for name, cs in (("pair matches", result.pair_matches), ("articulations", result.articulations),
                     ("regressions", result.associations)):
        tested = [c for c in cs if c.p_value is not None]
        click.echo(f"{name}: {len(cs)} candidates, {len(tested)} tested, "
                   f"{sum(c.excluded for c in cs)} excluded at alpha {alpha}")
    multi = [g for g in result.groups if len(g.elements) > 1]
    click.echo(f"proposed groups: {len(result.groups)} ({len(multi)} of several elements)")
    for g in multi:
        click.echo(f"  {g.id}: {', '.join(g.elements)}")
    for c in result.conflicts:
        click.echo(f"conflict ({c.kind}) {c.a} - {c.b}: {c.reason}")
