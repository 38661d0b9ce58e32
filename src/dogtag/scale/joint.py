"""Joint identification on a Dask cluster: the independent components solved in parallel.

:func:`dogtag.identify.joint.plan_joint` splits the problem into connected
components; each is sent to a worker as a small problem of its own (its samples,
its missing persons, their LRs) and solved there by
:func:`dogtag.identify.joint.solve_component`, with the seed the single-process
solver would give it (``seed + k`` for component ``k``); the client assembles
the answer with :func:`dogtag.identify.joint.assemble_joint`. Results equal
:func:`dogtag.identify.joint.solve_joint`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dogtag.identify.components import Component
from dogtag.identify.joint import (
    JointPlan,
    JointProblem,
    JointResult,
    Prior,
    assemble_joint,
    plan_joint,
    solve_component,
)
from dogtag.identify.mcmc import MCMCSettings

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["solve_joint"]

_Job = tuple[int, JointProblem, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64],
             NDArray[np.int64], NDArray[np.int64]]


def _job(problem: JointProblem, plan: JointPlan, k: int) -> _Job:
    """Component ``k`` as a problem of its own (local indices) and the map back."""
    samples, missing = plan.components[k]
    n_m = problem.log_lr.shape[1]
    fams = [problem.family[m] for m in missing]
    sub = JointProblem(
        tuple(problem.samples[s] for s in samples), tuple(problem.missing[m] for m in missing),
        tuple(fams), problem.log_lr[np.ix_(samples, missing)],
        {f: problem.loglik0_family[f] for f in fams}, problem.sample_loglik[samples],
        problem.family_loglik,
    )
    return (k, sub, plan.allowed[np.ix_(samples, missing)], plan.star_ok[samples],
            plan.logprior[np.ix_(samples, [*missing, n_m])],
            np.asarray(samples, dtype=np.int64), np.asarray(missing, dtype=np.int64))


def _solve(jobs: list[_Job], max_assign: int, top: int, mcmc: MCMCSettings | None,
           seed: int, dp: str, end: float | None = None) -> list[tuple[Component, str | None]]:
    # ``end``: the client's wall-clock deadline (time.time(); monotonic clocks differ between machines)
    deadline = None if end is None else time.monotonic() + (end - time.time())
    out = []
    for k, sub, allowed, star_ok, logprior, samples, missing in jobs:
        comp, note = solve_component(sub, list(range(len(samples))), list(range(len(missing))),
                                     allowed, star_ok, logprior, max_assign=max_assign, top=top,
                                     mcmc=mcmc, seed=seed + k, dp=dp, deadline=deadline)
        comp.samples = samples[comp.samples]
        comp.missing = missing[comp.missing]
        out.append((comp, note))
    return out


def solve_joint(
    problem: JointProblem,
    *,
    client: Client,
    prior: Prior | None = None,
    max_assign: int = 100_000,
    top: int = 200,
    fixed: Mapping[str, str] | None = None,
    mcmc: MCMCSettings | None = None,
    seed: int = 1,
    dp: str = "auto",
    task_size: int = 200,
    time_limit: float | None = None,
) -> JointResult:
    """:func:`dogtag.identify.joint.solve_joint` with the components solved on the cluster.

    ``task_size``: small components are sent together, about this many samples and
    missing persons per task; a bigger component is a task of its own.
    """
    end = None if time_limit is None else time.time() + float(time_limit)
    plan = plan_joint(problem, prior=prior, max_assign=max_assign, top=top, fixed=fixed,
                      mcmc=mcmc, seed=seed, dp=dp)
    groups: list[list[int]] = [[]]
    size = 0
    for k, (samples, missing) in enumerate(plan.components):
        n = len(samples) + len(missing)
        if groups[-1] and size + n > task_size:
            groups.append([])
            size = 0
        groups[-1].append(k)
        size += n
    run = uuid.uuid4().hex[:12]
    futs = [client.submit(_solve, [_job(problem, plan, k) for k in g], max_assign, top, mcmc, seed, dp, end,
                          key=f"dogtag-joint-{run}-{i}")
            for i, g in enumerate(groups) if g]
    solved = [item for part in client.gather(futs) for item in part]
    return assemble_joint(problem, plan, solved)
