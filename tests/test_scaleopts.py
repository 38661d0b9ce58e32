"""The --scheduler/--workers options and the progress printer of the CLI."""

from __future__ import annotations

import io

import click
from click.testing import CliRunner

from dogtag.cli.scaleopts import dask_client, progress_printer, scale_options


@click.command()
@scale_options
def probe(scheduler, workers):
    with dask_client(scheduler, workers) as client:
        click.echo("numpy" if client is None else f"dask {len(client.scheduler_info()['workers'])}")


def test_neither_option_runs_single_process():
    res = CliRunner().invoke(probe, [])
    assert res.exit_code == 0 and res.output == "numpy\n"


def test_both_options_are_refused():
    res = CliRunner().invoke(probe, ["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
    assert res.exit_code == 2 and "not both" in res.output


def test_workers_must_be_positive():
    res = CliRunner().invoke(probe, ["--workers", "0"])
    assert res.exit_code == 2


def test_workers_start_a_local_cluster():
    res = CliRunner().invoke(probe, ["--workers", "1"])
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("dask 1")


def test_progress_printer_throttles_but_prints_the_end():
    buf = io.StringIO()
    report = progress_printer(buf, every=3600)
    for d in range(0, 11):
        report(d, 10, "pairs")
    assert buf.getvalue().splitlines() == ["pairs: 0/10 (0%)", "pairs: 10/10 (100%)"]
