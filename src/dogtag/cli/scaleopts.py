"""``--scheduler ADDRESS`` and ``--workers N`` for the commands that search (search, dvi).

Without either, the single-process engine runs; ``--workers N`` starts a local Dask
cluster of N worker processes; ``--scheduler`` uses a running cluster. Use::

    @click.command()
    @scale_options
    def search(..., scheduler, workers):
        with dask_client(scheduler, workers) as client:
            res = scale.search(case, client=client, progress=progress_printer())
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def scale_options(f: F) -> F:
    """Add ``--scheduler ADDRESS`` and ``--workers N`` to a click command."""
    f = click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Start a local Dask cluster of N worker processes.")(f)
    f = click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Run on the Dask cluster whose scheduler is at ADDRESS "
                          "(tcp://host:8786).")(f)
    return f


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """The Dask client for the options (None for neither), closed on exit."""
    if scheduler is not None and workers is not None:
        raise click.UsageError("give --scheduler or --workers, not both")
    if scheduler is None and workers is None:
        yield None
        return
    try:
        from dogtag import scale

        client = scale.client(scheduler, workers)
    except ImportError as exc:
        raise click.ClickException(
            f"--scheduler/--workers need the Dask backend (install dogtag[scale]): {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    assert client is not None
    with client:
        yield client


def progress_printer(stream: Any = None, *, every: float = 1.0) -> Callable[[int, int, str], None]:
    """A progress callback printing ``what: done/total (pct)`` to stderr at most every ``every`` s."""
    out = stream if stream is not None else sys.stderr
    last = [-float("inf")]  # the first report always prints

    def report(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        pct = 100.0 * done / total if total else 100.0
        print(f"{what}: {done}/{total} ({pct:.0f}%)", file=out, flush=True)

    return report
