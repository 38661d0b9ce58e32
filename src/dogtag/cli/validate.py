"""``dogtag validate``: the validation study outside the model (:mod:`dogtag.validation.study`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from dogtag.errors import DogtagError
from dogtag.validation.study import StudySettings


def _join(seeds: Sequence[int]) -> str:
    return ",".join(map(str, seeds))


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from exc


@click.command()
@click.option("--scenario", "scenarios", multiple=True,
              help="A scenario to run (repeatable; default: every one and 'all'). See the list below.")
@click.option("--missing", "n_missing", default=StudySettings.n_missing, show_default=True, type=click.IntRange(20, 200_000),
              help="Missing persons per simulated scenario.")
@click.option("--tune-seeds", default=_join(StudySettings.tune_seeds), show_default=True, help="Seeds on which the threshold is chosen.")
@click.option("--report-seeds", default=_join(StudySettings.report_seeds), show_default=True, help="Seeds on which the figures are reported.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Scenarios run in parallel (processes).")
@click.option("--folder", type=click.Path(file_okay=False), default=None,
              help="Keep the scenarios and registries here (default: a temporary folder).")
@click.option("--json", "as_json", is_flag=True, help="Print the study's figures as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the reliability plot (report seeds; .png, .svg or .pdf) here.")
def validate(scenarios: tuple[str, ...], n_missing: int, tune_seeds: str, report_seeds: str, workers: int,
             folder: str | None, as_json: bool, plot: str | None) -> None:
    """Measure false identifications where the model is wrong (a validation study).

    Each scenario is the simulated Korean War scenario with one departure from the identification
    model (or all of them: 'all'). For each scenario and seed the study imports the scenario into
    a fresh SQLite registry, sorts the turnover, runs the registry search with its default
    settings and compares with the truth. Reported per scenario, on the report seeds: true and
    false identifications at the default threshold, the false rate's exact 95% upper bound
    (Clopper-Pearson), sensitivity, the same at each threshold, and the reliability of the
    posteriors. A threshold is also chosen on the tuning seeds (the smallest with no false
    identification there) and reported on the report seeds. See docs/validation.md.

    \b
    Examples:
      dogtag validate --scenario relatives --missing 150 --workers 1
      dogtag validate --scenario far --missing 150 --workers 1 --json
      dogtag validate --scenario father-son --missing 150 --workers 1 --plot reliability.png
    """
    from dogtag.cli.progress import progress_bars
    from dogtag.validation.study import SCENARIOS, run_study

    settings = StudySettings(scenarios=tuple(scenarios) or (*SCENARIOS, "all"), tune_seeds=_seeds(tune_seeds),
                             report_seeds=_seeds(report_seeds), n_missing=n_missing, workers=workers)
    try:
        if as_json:
            result = run_study(settings, folder=folder)
        else:
            with progress_bars() as bars:
                result = run_study(settings, folder=folder,
                                   progress=lambda d, t, _w: bars(d, t, "scenarios and seeds"))
    except ValueError as exc:
        raise DogtagError(str(exc)) from exc
    if plot:
        from dogtag.report.validation import reliability_plot

        seeds = ", ".join(map(str, result["settings"]["report_seeds"]))
        reliability_plot(result["reliability_pooled"], plot, title=(
            f"dogtag validate: {result['settings']['n_missing']} missing, report seeds {seeds}"),
            thresholds={"default": result["default_threshold"], "chosen on tuning seeds": result["chosen_threshold"]})
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _table(result)


def _table(result: dict[str, Any]) -> None:
    d, c = result["default_threshold"], result["chosen_threshold"]
    click.echo(f"Reported on seeds {result['settings']['report_seeds']}; threshold chosen on seeds "
               f"{result['settings']['tune_seeds']}: {c:g} (default {d:g}).")
    click.echo(f"{'scenario':<18} {'true':>5} {'false':>5} {'bound':>7} {'sens.':>6}   "
               f"at chosen {c:g}: true false bound")
    for name, s in result["scenarios"].items():
        row = next(r for r in s["thresholds"] if r["threshold"] == c)
        click.echo(f"{name:<18} {s['true']:>5} {s['false']:>5} {s['false_rate_upper_95']:>7.3f} "
                   f"{(s['sensitivity'] or 0):>6.3f}   {row['true']:>16} {row['false']:>5} "
                   f"{row['false_rate_upper_95']:>6.3f}")
    for name, s in result["scenarios"].items():
        for f in s["failed"]:
            click.echo(f"{name} seed {f['seed']}: could not be run: {f['error']}")
    click.echo("true, false: identifications proposed at the default threshold; bound: the false rate's "
               "95% upper bound (Clopper-Pearson); sens.: true / remains on the list.")
