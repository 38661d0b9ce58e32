"""``dogtag dvi``: blind search and joint identification of a DVI case."""

from __future__ import annotations

import dataclasses
import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import click

from dogtag.cli.progress import progress_bars
from dogtag.cli.scaleopts import dask_client, scale_options
from dogtag.errors import DataFormatError
from dogtag.identify.case import DVICase


def read_dvi_case(path: Path) -> DVICase:
    """A DVI case from a CSV case folder, a pedsuite JSON file or a Familias .fam file."""
    if path.is_dir():
        from dogtag.io.csvcase import read_case_folder

        return read_case_folder(path)
    if path.suffix.lower() == ".fam":
        from dogtag.io.familias import read_fam

        case = read_fam(path)
    else:
        from dogtag.io.pedsuite_json import read_json_case

        case = read_json_case(path)
    if not isinstance(case, DVICase):
        raise DataFormatError("this is a kinship case, not a DVI case: use `dogtag lr`", path=path)
    return case


def _lr(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return f"{x:.3g}"


@click.command("dvi")
@click.argument("case", type=click.Path(exists=True, path_type=Path))
@click.option("--threshold", default=1e4, show_default=True, help="LR threshold for undisputed matches.")
@click.option("--max-assign", default=100_000, show_default=True,
              help="Largest component enumerated assignment by assignment (bigger: exact DP or MCMC).")
@click.option("--prior", type=click.Choice(["flat", "closed"]), default="flat", show_default=True,
              help="Prior over assignments.")
@click.option("--open/--closed", "open_", default=True,
              help="Open incident (a sample may be none of the missing) or closed (every sample is one of them).")
@click.option("--no-joint", is_flag=True, help="Blind search only.")
@click.option("--top", type=int, metavar="K", help="Keep only the K best candidates per sample (implies --no-joint).")
@click.option("--theta", type=float, metavar="THETA",
              help="Subpopulation correction, 0 <= THETA < 1 (default: the case's, e.g. a Familias file's, else 0).")
@click.option("--threads", default=1, show_default=True, help="Threads for the LR matrix (single process).")
@click.option("--time-limit", default=600.0, show_default=True, type=click.FloatRange(min=1.0), metavar="SECONDS",
              help="Time the joint identification and conclusions may take after the blind search; what "
                   "cannot be solved in time is reported unresolved, never as an answer.")
@scale_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def dvi(case: Path, threshold: float, max_assign: int, prior: str, open_: bool, no_joint: bool,
        top: int | None, theta: float | None, threads: int, time_limit: float, scheduler: str | None,
        workers: int | None,
        as_json: bool) -> None:
    """Identify the pm samples of CASE among its missing persons.

    CASE is a CSV case folder (pedigrees.csv, genotypes.csv, frequencies.csv, ...),
    a pedsuite JSON DVI case or a Familias .fam DVI file.

    \b
    Examples:
      dogtag examples copy planecrash          # dvir's planecrash: 8 victims, 5 families
      dogtag dvi planecrash/                   # tables: LR matrix, posteriors, conclusions
      dogtag dvi planecrash/ --json > out.json
      dogtag dvi planecrash/ --no-joint --top 3 --json

    On Dask (pip install 'dogtag[scale]'): --workers N starts a local cluster of N worker
    processes, --scheduler tcp://HOST:8786 joins a running one.
    """
    from dogtag.identify.dvi import run_dvi

    if top is not None and top < 1:
        raise click.BadParameter("must be at least 1", param_hint="--top")
    if theta is not None and not 0 <= theta < 1:
        raise click.BadParameter(f"must be in [0, 1), got {theta}", param_hint="--theta")
    started = time.perf_counter()
    c = read_dvi_case(case)
    if theta is not None:
        c = dataclasses.replace(c, theta=theta)
    with progress_bars() as progress:
        eff_prior = "closed" if (prior == "closed" or not open_) else "flat"
        with dask_client(scheduler, workers) as client:
            fns: dict[str, Any] = {}
            if client is not None:
                from dogtag import scale

                fns = {"search_fn": partial(scale.search, client=client),
                       "joint_fn": partial(scale.solve_joint, client=client)}
            result = run_dvi(c, threshold=threshold, max_assign=max_assign, prior=eff_prior,
                             joint=not no_joint, top=top, workers=threads, progress=progress,
                             time_limit=time_limit, **fns)
    out = result.to_json(top=top)
    out["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        click.echo(json.dumps(out, allow_nan=False))
        return
    _print_tables(out)


def _print_tables(out: dict[str, Any]) -> None:
    echo = click.echo
    theta = out["settings"].get("theta") or 0
    echo(f"Case {out['case']}: {out['n_samples']} samples, {out['n_missing']} missing persons, "
         f"{out['n_markers']} markers ({out['seconds']} s)" + (f"; theta {theta:g}" if theta else ""))
    if "lr_matrix" in out:
        m = out["lr_matrix"]
        w = max(len(s) for s in [*m["samples"], "sample"])
        echo("\nPairwise LR (sample = missing person vs unrelated; - not a candidate)")
        echo(f"{'sample':<{w}}  " + "  ".join(f"{x:>9}" for x in m["missing"]))
        for s, row in zip(m["samples"], m["lr"], strict=True):
            echo(f"{s:<{w}}  " + "  ".join(f"{_lr(x):>9}" for x in row))
    else:
        echo("\nBest candidates per sample")
        for s, rows in out["candidates"].items():
            echo(f"  {s}: " + ", ".join(f"{r['missing']} (LR {_lr(r['lr'])})" for r in rows))
    if "posterior" in out:
        p = out["posterior"]
        w = max(len(s) for s in [*p["samples"], "sample"])
        echo(f"\nPosterior pairing probabilities ({out['method']['posterior']})")
        echo(f"{'sample':<{w}}  " + "  ".join(f"{x:>7}" for x in p["columns"]))
        for s, row in zip(p["samples"], p["p"], strict=True):
            echo(f"{s:<{w}}  " + "  ".join("      -" if x is None else f"{x:7.4f}" for x in row))
        if out["joint"].get("unresolved"):
            echo("  - : unresolved (the sampler did not converge in the time given; "
                 "more --time-limit or more references would resolve it)")
        echo("\nTop assignments")
        for a in out["assignments"][:5]:
            pairs = ", ".join(f"{k}={v}" for k, v in a["assignment"].items() if v != "*") or "(none)"
            post = "unknown" if a["posterior"] is None else f"{a['posterior']:.4f}"
            echo(f"  posterior {post}  log10 LR {a['log10_lr']:.2f}  {pairs}")
    if out.get("undisputed"):
        echo("\nUndisputed identifications")
        for u in out["undisputed"]:
            echo(f"  {u['sample']} = {u['missing']} ({u['family']}), LR {_lr(u['lr'])}, step {u['step']}")
    if out.get("same_source"):
        echo("\nSamples from one individual (same-source groups)")
        for g in out["same_source"]:
            echo(f"  {', '.join(g['samples'])}")
    if "summary" in out:
        echo("\nConclusions per missing person")
        for r in out["summary"]:
            if r["table"] == "am":
                echo(f"  {r['family']:<8} {r['missing'] or '-':<10} {r['sample'] or '-':<10} "
                     f"LR {_lr(r['lr']):>9}  {r['conclusion']}" + (f"  ({r['comment']})" if r["comment"] else ""))
