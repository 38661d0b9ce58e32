"""``dogtag search``: blind search and joint identification on the registry's open work."""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Any

import click

from dogtag.cli.progress import progress_bars
from dogtag.cli.registry import _engine, database_option, json_option
from dogtag.cli.scaleopts import dask_client, scale_options


@click.command("search")
@database_option
@click.option("--threshold", default=1e4, show_default=True,
              help="LR at or above which a pair is a hit (stored, joint identification, proposal).")
@click.option("--top", default=5, show_default=True, help="Candidates stored per sample.")
@click.option("--frequencies", default="nist1036-Cauc", show_default=True,
              help="Autosomal frequency database (a name from dogtag.genetics.freqdb).")
@click.option("--mito-db", type=click.Path(exists=True, dir_okay=False),
              help="mtDNA population haplotypes (HSD or CSV) for the mtDNA frequencies.")
@click.option("--ystr-db", type=click.Path(exists=True, dir_okay=False),
              help="Y-STR population haplotypes (wide table) for the Y frequencies.")
@click.option("--ystr-model", type=click.Choice(["counting", "laplace"]), default="counting", show_default=True)
@click.option("--min-posterior", default=0.5, show_default=True,
              help="Smallest posterior of a hit that becomes a proposed identification.")
@click.option("--threads", default=1, show_default=True, help="Threads for the LR matrix (single process).")
@scale_options
@click.option("--as", "username", metavar="USERNAME",
              help="Propose as this registered analyst (default: the system user dogtag-search).")
@json_option
def search(url: str | None, threshold: float, top: int, frequencies: str, mito_db: str | None,
           ystr_db: str | None, ystr_model: str, min_posterior: float, threads: int, scheduler: str | None,
           workers: int | None, username: str | None, as_json: bool) -> None:
    """Search every unidentified sample against every unaccounted-for missing person with references.

    Runs the blind search (autosomal, mtDNA and Y-STR evidence combined) and the joint
    identification, and stores hits as proposed identifications with their provenance. A second
    run recomputes only the samples and families whose data changed.

    \b
    Examples:
      dogtag demo --no-serve --missing 50 --db demo.sqlite     # a small registry to search
      dogtag search --database sqlite:///demo.sqlite
      dogtag search --database sqlite:///demo.sqlite --threshold 1e6 --top 3 --frequencies nist1036-AfAm --json
      dogtag examples copy evaluation.hsd
      dogtag search --database sqlite:///demo.sqlite --mito-db evaluation.hsd --as analyst

    On Dask (pip install 'dogtag[scale]'): --workers N starts a local cluster of N worker
    processes, --scheduler tcp://HOST:8786 joins a running one.
    """
    from dogtag.registry.search_run import SearchOptions, search_registry

    try:
        options = SearchOptions(threshold=threshold, top=top, frequencies=frequencies, min_posterior=min_posterior,
                                mtdna_database=mito_db, ystr_database=ystr_db, ystr_method=ystr_model,
                                workers=threads)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    engine = _engine(url)
    with progress_bars() as progress, dask_client(scheduler, workers) as client:
        extra: dict[str, Any] = {}
        if client is not None:
            from dogtag import scale

            extra["search_fn"] = partial(scale.search, client=client)
        report = search_registry(engine, actor=username, options=options, progress=progress,
                                 command=" ".join(["dogtag", *sys.argv[1:]]), **extra)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, allow_nan=False))
        return
    r = report
    click.echo(f"run {r.run_id}: {r.n_samples} samples x {r.n_missing} missing persons "
               f"({r.n_families} families); recomputed {r.recomputed_samples} samples, "
               f"{r.recomputed_families} families; {r.pairs_stored} pairs stored ({r.pairs_kept} kept)")
    click.echo(f"time: read {r.seconds['read']} s, engine {r.seconds['engine']} s, write {r.seconds['write']} s")
    for p in r.proposals:
        click.echo(f"  proposed #{p['identification']}: {p['sample']} = {p['missing_person']} ({p['family']}), "
                   f"log10 LR {p['log10_lr']:.2f}, posterior {p['posterior']:.4f}, {'+'.join(p['evidence'])}")
    if not r.proposals:
        click.echo("  no new proposals")
    for n in r.notes:
        click.echo(f"note: {n}")
