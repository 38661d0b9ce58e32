"""``dogtag lr``: kinship likelihood ratios of a case's hypotheses."""

from __future__ import annotations

import dataclasses
import json
import math
from importlib import resources
from pathlib import Path

import click

from dogtag.errors import DataFormatError, DogtagError
from dogtag.genetics.cases import KinshipCase

EXAMPLES = {"paternity": "paternity.kinship.json", "threegen": "threegen.kinship.json"}


def read_kinship_case(path: Path) -> KinshipCase:
    """A kinship case from a Familias .fam or a pedsuite JSON file."""
    if path.suffix.lower() == ".fam":
        from dogtag.io.familias import read_fam

        case = read_fam(path)
    else:
        from dogtag.io.pedsuite_json import read_json_case

        case = read_json_case(path)
    if not isinstance(case, KinshipCase):
        raise DataFormatError("this is a DVI case, not a kinship case: use `dogtag dvi`", path=path)
    return case


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "NA"
    if x == 0:
        return "0"
    if x >= 1e5 or x < 1e-3:
        return f"{x:.4e}"
    return f"{x:.4f}"


@click.command("lr")
@click.argument("case", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reference", metavar="NAME", help="Denominator hypothesis (default: the case's, else the last pedigree).")
@click.option("--example", type=click.Choice(sorted(EXAMPLES)), help="Run a shipped example case instead of CASE.")
@click.option("--theta", type=float, metavar="THETA",
              help="Subpopulation correction, 0 <= THETA < 1 (default: the case's, else 0).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (natural-log logliks; null for log 0).")
def lr(case: Path | None, reference: str | None, example: str | None, theta: float | None, as_json: bool) -> None:
    """Per-marker and total likelihood ratios of each hypothesis of CASE.

    CASE is a Familias .fam file or a pedsuite JSON kinship case.

    \b
    Examples:
      dogtag lr --example paternity
      dogtag examples copy paternity.fam paternity.kinship.json
      dogtag lr paternity.fam
      dogtag lr paternity.kinship.json --reference H1 --json
    """
    from dogtag.genetics.lr import kinship_lr

    if example is not None:
        from dogtag.io.pedsuite_json import read_kinship_json

        with resources.as_file(resources.files("dogtag.data.examples") / EXAMPLES[example]) as p:
            kc = read_kinship_json(p)
    elif case is None:
        raise click.UsageError("give a CASE file or --example NAME")
    else:
        kc = read_kinship_case(case)
    if theta is not None:
        if not 0 <= theta < 1:
            raise click.BadParameter(f"must be in [0, 1), got {theta}", param_hint="--theta")
        kc = dataclasses.replace(kc, theta=theta)
    try:
        result = kinship_lr(kc, reference=reference)
    except DogtagError:
        raise
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reference") from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    others = [h for h in result.hypotheses if h.name != result.reference]
    title = kc.name or (case.name if case else example)
    if not others:
        h = result.hypotheses[0]
        click.echo(f"Case {title}: one hypothesis ({h.name}); log-likelihood per marker (natural log)")
        for m, v in zip(result.markers, h.loglik_per_marker, strict=True):
            click.echo(f"{m:<12} {v:12.6f}")
        click.echo(f"{'total':<12} {h.loglik:12.6f}")
        return
    click.echo(f"Case {title}: {len(result.markers)} markers; LR against {result.reference}"
               + (f"; theta {result.theta:g}" if result.theta else ""))
    width = max(len(m) for m in [*result.markers, "marker"])
    head = f"{'marker':<{width}}  " + "  ".join(f"{h.name:>12}" for h in others)
    click.echo(head)
    click.echo("-" * len(head))
    for k, m in enumerate(result.markers):
        click.echo(f"{m:<{width}}  " + "  ".join(f"{_fmt(h.lr_per_marker[k]):>12}" for h in others))
    click.echo("-" * len(head))
    click.echo(f"{'total LR':<{width}}  " + "  ".join(f"{_fmt(h.lr):>12}" for h in others))
    click.echo(f"{'log10 LR':<{width}}  " + "  ".join(
        f"{h.log10_lr:>12.4f}" if math.isfinite(h.log10_lr) else f"{'NA' if math.isnan(h.log10_lr) else h.log10_lr:>12}"
        for h in others))
    if any(math.isnan(x) for h in others for x in h.lr_per_marker):
        click.echo(f"NA: the data are impossible under {result.reference} at that marker; choose another --reference")
