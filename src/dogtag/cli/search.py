"""``dogtag search``: the identification pipeline (:mod:`dogtag.analysis.search`) on the registry's open work."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Any

import click

from dogtag.cli.progress import progress_bars
from dogtag.cli.registry import _actor, _engine, database_option, json_option
from dogtag.cli.scaleopts import dask_client, scale_options


def _p_off(values: tuple[str, ...]) -> dict[str, float]:
    from dogtag.analysis.priors import DEFAULT_P_OFF

    out = dict(DEFAULT_P_OFF)
    for v in values:
        kind, sep, num = v.partition("=")
        try:
            out[kind.strip()] = float(num)
        except ValueError:
            raise click.UsageError(f"--p-off expects KIND=PROBABILITY (e.g. turnover=0.5), got {v!r}") from None
        if not sep:
            raise click.UsageError(f"--p-off expects KIND=PROBABILITY (e.g. turnover=0.5), got {v!r}")
    return out


@click.command("search")
@database_option
@click.option("--min-posterior", default=0.9995, show_default=True,
              help="Posterior (open-world prior) at or above which the best pairing of an individual is proposed "
                   "(ICMP's 99.95 %).")
@click.option("--min-lr", default=1e4, show_default=True,
              help="LR below which nothing is proposed, whatever the posterior.")
@click.option("--candidate-lr", default=10.0, show_default=True,
              help="LR at or above which a pair is a candidate of the joint identification (and stored).")
@click.option("--p-off", multiple=True, metavar="KIND=P",
              help="Prior probability that remains are nobody on the list, by operation kind (turnover, "
                   "disinterment, recovery, investigation, unknown); repeatable. Defaults: docs/priors.md.")
@click.option("--p-context", default=0.8, show_default=True,
              help="Share of the on-the-list prior given to the missing persons of the incidents linked to the "
                   "operation the remains came from (0: no context).")
@click.option("--radius-km", default=10.0, show_default=True,
              help="Operation with a site but no linked incident: incidents lost within this distance are its context.")
@click.option("--dates/--no-dates", default=True, show_default=True,
              help="Missing persons lost after the remains were in custody get prior 0.")
@click.option("--top", default=5, show_default=True, help="Pairs stored per individual (besides the candidates).")
@click.option("--frequencies", default="nist1036-Cauc", show_default=True,
              help="Autosomal frequency database (a name from dogtag.genetics.freqdb).")
@click.option("--mito-db", type=click.Path(exists=True, dir_okay=False),
              help="mtDNA population haplotypes (HSD or CSV): an mtDNA match weighs 1 / (95% upper bound of its "
                   "count); without it a match weighs LR 1.")
@click.option("--ystr-db", type=click.Path(exists=True, dir_okay=False),
              help="Y-STR population haplotypes (wide table) for the Y frequencies.")
@click.option("--ystr-model", type=click.Choice(["counting", "laplace"]), default="counting", show_default=True)
@click.option("--theta", default=0.0, show_default=True,
              help="Subpopulation correction (Balding-Nichols theta, in [0, 1); NRC II suggests 0.01-0.03): "
                   "each LR is of the remains as the missing person against the remains unrelated to the "
                   "family but of its subpopulation. Recorded in the run; changing it recomputes every pair.")
@click.option("--threads", default=1, show_default=True, help="Threads for the LR matrix (single process).")
@scale_options
@click.option("--as", "username", metavar="USERNAME",
              help="Propose as this registered analyst (default: the system user dogtag-search).")
@json_option
def search(url: str | None, min_posterior: float, min_lr: float, candidate_lr: float, p_off: tuple[str, ...],
           p_context: float, radius_km: float, dates: bool, top: int, frequencies: str, mito_db: str | None,
           ystr_db: str | None, ystr_model: str, theta: float, threads: int, scheduler: str | None,
           workers: int | None, username: str | None, as_json: bool) -> None:
    """Identify the registry's unidentified remains among its unaccounted-for missing persons.

    Groups samples into individuals, weighs each against every family with references
    (autosomal, mtDNA and Y-STR evidence), runs the joint identification under an open-world
    prior (any remains may be nobody on the list; context from the operation, incidents and
    dates), and proposes an individual's best pairing when both its posterior and its LR reach
    the thresholds. Prints, per individual with a candidate, the best candidates with LR, prior,
    posterior and the posterior without context, and why nothing was proposed. A second run
    recomputes the LRs of only the individuals and families whose data changed.

    \b
    Examples:
      dogtag demo --no-serve --missing 50 --db demo.sqlite     # a small registry to search
      dogtag search --database sqlite:///demo.sqlite
      dogtag examples copy evaluation.hsd
      dogtag search --database sqlite:///demo.sqlite --mito-db evaluation.hsd --as analyst
      dogtag search --database sqlite:///demo.sqlite --min-posterior 0.9999 --p-off turnover=0.6 --json

    On Dask (pip install 'dogtag[scale]'): --workers N starts a local cluster of N worker
    processes, --scheduler tcp://HOST:8786 joins a running one.
    """
    from dogtag.analysis.decide import DecisionOptions
    from dogtag.analysis.priors import PriorSettings
    from dogtag.analysis.search import SearchOptions, search_registry

    try:
        options = SearchOptions(
            decision=DecisionOptions(min_posterior=min_posterior, min_lr=min_lr, candidate_lr=candidate_lr),
            prior=PriorSettings(p_off=_p_off(p_off), p_context=p_context, dates=dates, radius_km=radius_km),
            top=top, frequencies=frequencies, mtdna_database=mito_db, ystr_database=ystr_db,
            ystr_method=ystr_model, workers=threads, theta=theta)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    engine = _engine(url)
    if username is not None:  # checked before the search runs, not after
        from dogtag.registry.users import Role

        _actor(engine, username, {Role.ADMIN, Role.ANALYST}, "proposing identifications")
    with progress_bars() as progress, dask_client(scheduler, workers) as client:
        extra: dict[str, Any] = {}
        if client is not None:
            from dogtag import scale

            extra["search_fn"] = partial(scale.search, client=client)
        report = search_registry(engine, actor=username, options=options, progress=progress,
                                 command=" ".join(["dogtag", *sys.argv[1:]]), **extra)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, allow_nan=False, default=str))
        return
    r = report
    click.echo(f"run {r.run_id}: {r.n_samples} samples in {r.n_individuals} individuals x {r.n_missing} missing "
               f"persons with references ({r.n_families} families); recomputed {r.recomputed_individuals} "
               f"individuals, {r.recomputed_families} families; {r.pairs_stored} pairs stored ({r.pairs_kept} kept)")
    click.echo(f"prior: {options.prior.name}; alternative: {options.alternative.name}; proposal needs posterior "
               f">= {min_posterior:g} and LR >= {min_lr:g}")
    if theta > 0:
        click.echo(f"theta = {theta:g}: LRs against the remains unrelated, of the families' subpopulation")
    for u in r.individuals:
        if not u["candidates"]:
            continue
        head = f"{u['individual']} ({len(u['samples'])} sample{'s' if len(u['samples']) > 1 else ''})"
        click.echo(f"  {head}: {'PROPOSED' if u['proposed'] else 'not proposed: ' + '; '.join(u['reasons'])}")
        for c in u["caveats"]:
            click.echo(f"      caveat: {c}")
        for c in u["candidates"]:
            click.echo(f"      {c['missing_person']:<14} log10 LR {c['log10_lr']:6.2f} ({'+'.join(c['evidence'])}), "
                       f"prior {c['prior']:.2e}, posterior {c['posterior']:.4f} "
                       f"(without context {c['posterior_alternative_prior']:.4f})")
    for p in r.proposals:
        click.echo(f"proposed #{p['identification']}: {p['individual']} = {p['missing_person']} ({p['family']}), "
                   f"log10 LR {p['log10_lr']:.2f}, posterior {p['posterior']:.4f}")
    if not r.proposals:
        click.echo("no new proposals")
    for why, count in sorted(r.not_proposed.items(), key=lambda kv: -kv[1]):
        click.echo(f"not proposed ({why}): {count} individuals")
    click.echo(f"time: read {r.seconds['read']} s, engine {r.seconds['engine']} s, write {r.seconds['write']} s")
    for n in r.notes:
        click.echo(f"note: {n}")
