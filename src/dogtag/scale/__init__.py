"""Optional Dask backend: the blind search and joint identification on a cluster.

Install with the ``scale`` extra. Dask is imported only when a cluster is used::

    from dogtag import scale

    with scale.client(None, 4) as c:              # a local cluster of 4 worker processes
        res = scale.search(case, client=c, top=5, min_lr=1e4)
    res = scale.search(case, client=None, top=5)  # no Dask: the single-process engine

Both give the same :class:`~dogtag.identify.search.SearchResult`; the capacity plan
for large registries is in ``docs/capacity.md``.

``client(scheduler, workers)`` is what ``--scheduler ADDRESS`` and ``--workers N``
of the command line map to; with neither, it returns None and the single-process
engine runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client

    from dogtag.identify.case import DVICase
    from dogtag.identify.joint import JointProblem, JointResult
    from dogtag.identify.search import SearchResult

__all__ = ["client", "search", "solve_joint"]


def client(scheduler: str | None = None, workers: int | None = None, *,
           memory_limit: str | int = "4GiB", threads_per_worker: int = 1) -> Client | None:
    """A Dask client for ``--scheduler ADDRESS`` / ``--workers N``; None for neither.

    Parameters
    ----------
    scheduler : address of a running Dask scheduler (``tcp://host:8786``).
    workers : start a local cluster of this many worker processes instead.
    memory_limit : per local worker (Dask spills to disk, then pauses, then restarts a
        worker that goes past it).
    threads_per_worker : threads per local worker.

    The caller closes the client (``with scale.client(...) as c:``); a local
    cluster closes with it.
    """
    if scheduler is not None and workers is not None:
        raise ValueError("give either `scheduler` or `workers`, not both")
    if scheduler is None and workers is None:
        return None
    from distributed import Client

    if scheduler is not None:
        return Client(scheduler)
    assert workers is not None
    if workers < 1:
        raise ValueError(f"`workers` must be >= 1, got {workers}")
    import dask

    # Dask sets MALLOC_TRIM_THRESHOLD_ in its workers, which makes glibc hand every large
    # freed array back to the system; the tiles allocate such arrays all the time, and
    # the page faults then cost 2-5x the arithmetic. Workers keep glibc's default here.
    # The statistical profiler (for the dashboard) samples every task's stack and costs
    # 10-20% of the CPU of these tasks; it is off for the local cluster.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                          "distributed.worker.profile.enabled": False}):
        return Client(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                      memory_limit=memory_limit, dashboard_address=":0")


def search(case: DVICase, *, client: Client | None, **kwargs: Any) -> SearchResult:
    """The blind search (:func:`dogtag.identify.search.blind_search`'s keywords), on ``client`` if given."""
    if client is None:
        from dogtag.identify.search import blind_search

        for key in ("family_batch_size", "merge_every"):
            kwargs.pop(key, None)
        return blind_search(case, **kwargs)
    from dogtag.scale.blindsearch import blind_search as dask_search

    return dask_search(case, client=client, **kwargs)


def solve_joint(problem: JointProblem, *, client: Client | None,
                fixed: Mapping[str, str] | None = None, **kwargs: Any) -> JointResult:
    """Joint identification (:func:`dogtag.identify.joint.solve_joint`'s keywords), on ``client`` if given."""
    if client is None:
        from dogtag.identify.joint import solve_joint as local

        kwargs.pop("task_size", None)
        return local(problem, fixed=fixed, **kwargs)
    from dogtag.scale.joint import solve_joint as dask_joint

    return dask_joint(problem, client=client, fixed=fixed, **kwargs)
