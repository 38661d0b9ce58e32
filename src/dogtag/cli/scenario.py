"""``dogtag simulate`` (the Korean War scenario's import files) and ``dogtag demo`` (the whole chain)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from dogtag.errors import DogtagError


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, writable=True))
@click.option("--seed", default=1, show_default=True, help="Seed of the generator (everything follows from it).")
@click.option("--missing", "n_missing", default=7500, show_default=True, type=click.IntRange(20, 200_000),
              help="Number of missing service members; the remains scale with it.")
@click.option("--k55-unlisted", default=0.40, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of the turnover's individuals who are not on the list.")
@click.option("--unlisted-population", default="Asian", show_default=True,
              type=click.Choice(["Cauc", "AfAm", "Hisp", "Asian"]),
              help="NIST 1036 population of the remains not on the list (foreign remains).")
@click.option("--relatives", "n_relatives", default=0, show_default=True, type=click.IntRange(0, 100_000),
              help="Departure: remains of relatives of the missing (half-brothers, uncles, cousins), not on the list.")
@click.option("--nonpaternity", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: share of missing persons fathered by another man than the family's father.")
@click.option("--wrong-donor", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: share of families whose first donor is unrelated (not the stated relative).")
@click.option("--swapped-reference", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: share of families whose first donor's samples are another family's (swapped in pairs).")
@click.option("--str-mutation", default=0.0, show_default=True, type=click.FloatRange(0.0, 0.5),
              help="Departure: STR mutation rate per transmitted allele (one step).")
@click.option("--dropout-max", default=0.3, show_default=True, type=click.FloatRange(0.0, 0.95),
              help="Drop-out of the remains' profiles drawn up to this (the lab's estimate stays at most 0.3).")
@click.option("--dropin", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: drop-in rate per locus showing one allele.")
@click.option("--contaminated", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: share of samples carrying a lab worker's DNA.")
@click.option("--far", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: share of field recoveries that also hold someone lost at another incident.")
@click.option("--merged-labels", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Departure: chance that two people of one casket or site share one individual label.")
@click.option("--brothers", "n_brothers", default=0, show_default=True, type=click.IntRange(0, 100_000),
              help="Departure: pairs of full brothers missing together, both on the list and among the remains "
                   "(as many as the remains allow).")
@click.option("--father-son", "n_father_son", default=0, show_default=True, type=click.IntRange(0, 100_000),
              help="Departure: pairs of a father and his son missing together, both on the list and among the "
                   "remains (as many as the remains allow).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def simulate(folder: str, seed: int, n_missing: int, as_json: bool, **departures: Any) -> None:
    """Write a seeded Korean War scenario as registry import files, with its truth apart.

    FOLDER receives incidents.csv, missing.csv (DCAS layout), operations.csv, accessions.csv,
    elements.csv, samples.csv, pedigrees.csv, genotypes.csv, mito.csv, ystr.csv (import them in
    this order with `dogtag import`), truth.csv (not for import; its note column says how a
    sample departs from the identification model), truth_references.csv (departures of the
    family references) and scenario.json.

    \b
    Examples:
      dogtag simulate korean-war --seed 1 --missing 1000
      dogtag simulate korean-war-departures --missing 1000 --relatives 40 --nonpaternity 0.05 --far 0.3 \
        --brothers 5 --father-son 5
    """
    from dogtag.scenario.generate import ScenarioParams, simulate_scenario

    names = {"n_relatives": "n_relatives", "nonpaternity": "p_nonpaternity", "wrong_donor": "p_wrong_donor",
             "swapped_reference": "p_swapped_reference", "str_mutation": "str_mutation_rate",
             "contaminated": "p_contaminated", "far": "p_far", "merged_labels": "p_merged_labels"}
    params = ScenarioParams(seed=seed, n_missing=n_missing, **{names.get(k, k): v for k, v in departures.items()})
    summary = simulate_scenario(folder, params)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    c = summary.counts
    click.echo(f"scenario (seed {seed}) in {folder}: {c['missing']} missing persons in {c['incidents']} loss "
               f"incidents, {c['families_with_donors']} families with donors, {c['samples']} samples from "
               f"{c['remains_individuals']} individuals ({c['remains_unlisted']} not on the list)")


def _work_folder() -> Path:
    """A new folder for one demo run under the data directory's demo/."""
    from dogtag.registry.engine import data_dir

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = data_dir() / "demo"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"demo-{stamp}-", dir=base))


@click.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file to create, kept (default: demo.sqlite in a new work folder under the "
                   "data directory's demo/).")
@click.option("--folder", type=click.Path(file_okay=False), default=None,
              help="Folder for the scenario files and the calibration report, kept (default: next to "
                   "the database).")
@click.option("--keep", is_flag=True,
              help="Keep the work folder (default: removed when the demo ends, after serving).")
@click.option("--seed", default=1, show_default=True, help="Seed of the scenario.")
@click.option("--missing", "n_missing", default=7500, show_default=True, type=click.IntRange(20, 200_000),
              help="Number of missing service members.")
@click.option("--threshold", default=None, type=click.FloatRange(0.5, 1.0),
              help="Posterior for proposing an identification (default 0.9995, as `dogtag search`).")
@click.option("--force", is_flag=True, help="Replace an existing --db file.")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the workbench afterwards (--no-serve for tests and benchmarks).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the workbench.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port of the workbench.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (no progress bars).")
@click.pass_context
def demo(ctx: click.Context, db_path: str | None, folder: str | None, keep: bool, seed: int, n_missing: int,
         threshold: float | None, force: bool, serve: bool, host: str, port: int, as_json: bool) -> None:
    """Run the whole chain on a simulated Korean War scenario, then serve the workbench.

    Simulates the scenario, imports it into a fresh SQLite registry, creates one demo account per
    role (passwords printed), runs the identification (individuals, autosomal, mtDNA and Y-STR
    evidence, joint posteriors under open-world priors: the pipeline of `dogtag search`), stores the
    proposed identifications for review, writes the calibration report (the truth is known) and
    serves the workbench.

    Without --db or --folder it works in a new folder under the data directory's demo/
    ($XDG_DATA_HOME/dogtag/demo, by default ~/.local/share/dogtag/demo) and removes it when it
    ends, unless --keep; files at paths you name with --db or --folder stay.

    \b
    Examples:
      dogtag demo --no-serve --missing 200
      dogtag demo --no-serve --missing 200 --db demo.sqlite --force
    """
    work = None
    if db_path or folder:
        db = Path(db_path) if db_path else Path(folder or ".") / "demo.sqlite"
    else:
        work = _work_folder()
        db = work / "demo.sqlite"
    try:
        _demo(ctx, db, folder, seed, n_missing, threshold, force, serve, host, port, as_json)
    finally:
        if work is not None:
            if keep:
                click.echo(f"Kept the demo's work folder {work}", err=True)
            else:
                shutil.rmtree(work, ignore_errors=True)
                click.echo(f"Removed the demo's work folder {work} (--keep keeps it)", err=True)


def _demo(ctx: click.Context, db: Path, folder: str | None, seed: int, n_missing: int,
          threshold: float | None, force: bool, serve: bool, host: str, port: int, as_json: bool) -> None:
    from dogtag.demo import DEFAULT_THRESHOLD, run_demo
    from dogtag.scenario.generate import ScenarioParams

    if db.exists():
        if not force:
            raise DogtagError(f"{db} exists; the demo needs a fresh database (use --force to replace it)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    out = Path(folder) if folder else db.with_suffix("")
    url = f"sqlite:///{db.resolve()}"
    params = ScenarioParams(seed=seed, n_missing=n_missing)
    thr = DEFAULT_THRESHOLD if threshold is None else threshold
    if as_json:
        result = run_demo(out, url, params=params, threshold=thr)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), transient=False) as bars:
            tasks: dict[str, Any] = {}

            def progress(what: str, done: int, total: int) -> None:
                key = "import" if what.startswith("import") else what
                if key not in tasks:
                    tasks[key] = bars.add_task(what, total=max(total, 1))
                bars.update(tasks[key], completed=done, total=max(total, 1), description=what)

            result = run_demo(out, url, params=params, threshold=thr, progress=progress)
    summary = result.summary()
    summary["users"] = {u: {"role": r, "password": p} for u, (r, p) in result.users.items()}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    if serve:
        from dogtag.cli import COMMANDS

        if "serve" not in COMMANDS:
            click.echo("The workbench (`dogtag serve`) is not part of this build; the registry is ready at "
                       f"{url}.", err=True)
            return
        module, attr = COMMANDS["serve"].split(":")
        cmd = getattr(importlib.import_module(module), attr)
        ctx.invoke(cmd, host=host, port=port, url=url)


def _print_summary(s: dict[str, Any]) -> None:
    t = s["timings_s"]
    click.echo("")
    click.echo(f"Scenario: {s['missing_persons']} missing persons, {s['families_with_donors']} families with "
               f"reference donors, {s['samples']} samples of remains")
    click.echo(f"Samples grouped into {s['individuals']} individuals")
    click.echo(f"Identifications proposed: {s['proposed_identifications']} (posterior >= {s['threshold']:g})")
    for band, n in s["posterior_bands"].items():
        click.echo(f"  {band:<30} {n:>6}")
    c = s["calibration"]
    click.echo(f"Against the truth: {c['true']} true, {c['false']} false identifications at the threshold")
    for k, v in sorted(c["outcomes"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {k:<48} {v:>6}")
    click.echo(f"Calibration report: {s['report']['markdown']} (plot {s['report']['png']})")
    click.echo(f"Time: {t['total']:.0f} s (simulate {t['simulate']:.0f}, import {t['import']:.0f}, "
               f"identify and propose {t['identify']:.0f}, calibrate {t['calibrate']:.0f})")
    click.echo(f"Registry: {s['database']}")
    click.echo("Demo accounts (username / password / role):")
    for u, d in s["users"].items():
        click.echo(f"  {u:<10} {d['password']:<16} {d['role']}")
