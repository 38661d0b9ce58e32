"""One interface suite on both backends: numpy (single process) and Dask (a local cluster).

Every test gets ``backend`` (a :class:`Backend`) and asserts what the single-process
engine is tested for elsewhere: dvir's golden pairwise LRs and exclusions, the
golden joint posteriors, top-K equal to a naive selection from the full matrix.
On the Dask backend the results must also be identical, bit for bit, to the
numpy backend's. The worker-kill test runs its own cluster.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
import pytest

from dogtag import scale
from dogtag.errors import InconsistentCaseError
from dogtag.identify.joint import JointResult, Prior
from dogtag.identify.joint import solve_joint as np_solve_joint
from dogtag.identify.mcmc import MCMCSettings
from dogtag.identify.search import SearchResult
from dogtag.identify.search import blind_search as np_blind_search
from dogtag.io.pedsuite_json import read_dvi_json

from conftest import GOLDEN
from dvi_helpers import problem_from_golden
from test_joint import _check_against_golden, _random_problem

distributed = pytest.importorskip("distributed")

DVI = sorted(p.name.removesuffix(".results.json") for p in (GOLDEN / "dvi").glob("*.results.json"))
SINGLE = ["planecrash", "KETPexer497"]
SMALL_MULTI = ["example1", "example2", "dvi-example", "KETPchap481", "symmetricSibs"]


@dataclass
class Backend:
    name: str
    client: Any  # distributed.Client or None

    def search(self, case, **kw) -> SearchResult:
        if self.client is not None:
            # small batches so that even the small cases are cut into several tiles
            kw.setdefault("family_batch_size", 3)
            kw.setdefault("merge_every", 2)
        return scale.search(case, client=self.client, **kw)

    def solve_joint(self, problem, **kw) -> JointResult:
        if self.client is not None:
            kw.setdefault("task_size", 4)
        return scale.solve_joint(problem, client=self.client, **kw)


@pytest.fixture(scope="session")
def dask_client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(params=["numpy", "dask"])
def backend(request) -> Backend:
    if request.param == "numpy":
        return Backend("numpy", None)
    return Backend("dask", request.getfixturevalue("dask_client"))


def _gold(name: str, folder: str = "dvi"):
    case = read_dvi_json(GOLDEN / folder / f"{name}.json")
    gold = json.loads((GOLDEN / folder / f"{name}.results.json").read_text())
    return case, gold


@cache
def _reference(name: str, folder: str = "dvi", refine: int = 200_000, top: int | None = None,
               min_lr: float | None = None) -> SearchResult:
    """The numpy backend's result (cached: several tests compare with it)."""
    return np_blind_search(_gold(name, folder)[0], refine=refine, top=top, min_lr=min_lr)


def _matrix(rows) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in row] for row in rows], dtype=float)


def _align(res, block):
    return np.ix_([res.samples.index(v) for v in block["victims"]],
                  [res.missing.index(m) for m in block["missing"]])


def _assert_same_search(a: SearchResult, b: SearchResult) -> None:
    """Bit-for-bit equal results."""
    assert (a.samples, a.missing, a.family, a.method) == (b.samples, b.missing, b.family, b.method)
    np.testing.assert_array_equal(a.missing_sex, b.missing_sex)
    for x, y in ((a.log_lr, b.log_lr), (a.exclusions, b.exclusions), (a.markers_used, b.markers_used)):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.sample_loglik, b.sample_loglik)
    assert a.family_loglik == b.family_loglik
    assert list(a.family_loglik) == list(b.family_loglik)
    assert a.candidates == b.candidates


def _naive_top(full: SearchResult, top: int, min_lr: float) -> dict[str, list[tuple[int, float, int]]]:
    """Per sample: sort the non-nan pairs by (log LR desc, column), keep top and all >= min_lr."""
    out = {}
    for s, sid in enumerate(full.samples):
        pairs = [(j, float(full.log_lr[s, j]), int(full.exclusions[s, j]))
                 for j in range(len(full.missing)) if not math.isnan(full.log_lr[s, j])]
        pairs.sort(key=lambda t: (-t[1], t[0]))
        out[sid] = [p for r, p in enumerate(pairs) if r < top or p[1] >= math.log(min_lr)]
    return out


# ---------------------------------------------------------------------------
# the blind search


@pytest.mark.parametrize("name", DVI)
def test_pairwise_lr_and_exclusions_equal_dvir(backend, name):
    case, gold = _gold(name)
    res = backend.search(case)
    pw = gold["pairwise"]
    want = _matrix(pw["LR"])
    got = res.lr[_align(res, pw)]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    cand = ~np.isnan(want)
    np.testing.assert_allclose(got[cand], want[cand], rtol=1e-9, atol=0)
    got_ex = res.exclusions[_align(res, gold["exclusionMatrix"])]
    np.testing.assert_array_equal(got_ex[cand], _matrix(gold["exclusionMatrix"]["nIncompatible"])[cand])
    for row in gold["familyLoglik"]:
        assert res.family_loglik[row["family"]] == pytest.approx(row["loglik"], abs=1e-9)
    if backend.client is not None:
        _assert_same_search(res, _reference(name))


@pytest.mark.parametrize("name", ["planecrash", "grave", "symmetricSibs", "exclusionExample"])
def test_matrix_method_and_top_k(backend, name):
    case, _ = _gold(name)
    matrix = backend.search(case, refine=0, chunk=3)
    assert matrix.method.startswith("conditional")
    reference = _reference(name, refine=0)
    _assert_same_search(matrix, reference)
    top = backend.search(case, top=2, min_lr=1e3, chunk=2)
    assert top.log_lr is None and top.exclusions is None
    assert top.candidates == _naive_top(reference, 2, 1e3)


def test_scale200_equals_dvir(backend):
    case, gold = _gold("scale200", "synthetic")
    res = backend.search(case, chunk=64, family_batch_size=70) if backend.client else backend.search(case)
    pw = gold["pairwise"]
    want = _matrix(pw["LR"])
    got = res.lr[_align(res, pw)]
    cand = ~np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), ~cand)
    np.testing.assert_allclose(got[cand], want[cand], rtol=1e-9)
    top = backend.search(case, top=5, min_lr=100.0, chunk=64, **(
        {"family_batch_size": 70} if backend.client else {}))
    assert top.candidates == _naive_top(_reference("scale200", "synthetic", refine=0), 5, 100.0)
    if backend.client is not None:
        _assert_same_search(res, _reference("scale200", "synthetic"))


def test_progress_reaches_the_total(backend):
    case, _ = _gold("grave")
    calls: list[tuple[int, int, str]] = []
    backend.search(case, top=1, chunk=2, progress=lambda d, t, w: calls.append((d, t, w)))
    assert calls
    last = {w: (d, t) for d, t, w in calls}
    for what, (done, total) in last.items():
        assert done == total, what
    dones = [d for d, _, w in calls if w == calls[-1][2]]
    assert dones == sorted(dones)


def test_data_errors_raised_on_workers_reach_the_caller(backend):
    case, _ = _gold("grave")
    bad = replace(case.pm[-1], genotypes={**case.pm[-1].genotypes,
                                           case.markers[0].name: ("99.9", "99.9")})
    case = replace(case, pm=[*case.pm[:-1], bad])
    with pytest.raises(InconsistentCaseError, match=r"99\.9"):
        backend.search(case, top=2)


# ---------------------------------------------------------------------------
# joint identification


def _assert_same_joint(a: JointResult, b: JointResult) -> None:
    np.testing.assert_array_equal(a.posterior, b.posterior)
    np.testing.assert_array_equal(a.glr, b.glr)
    assert [x.to_dict() for x in a.assignments] == [x.to_dict() for x in b.assignments]
    assert (a.method, a.n_assignments, a.notes, a.prior, a.fixed) == (
        b.method, b.n_assignments, b.notes, b.prior, b.fixed)
    assert [(c.samples.tolist(), c.missing.tolist(), c.method) for c in a.components] == [
        (c.samples.tolist(), c.missing.tolist(), c.method) for c in b.components]


@pytest.mark.parametrize("name", SINGLE + SMALL_MULTI)
def test_joint_reproduces_dvir(backend, name):
    prob, _, res = problem_from_golden(name, brute_force=name in SMALL_MULTI)
    result = backend.solve_joint(prob)
    _check_against_golden(result, res)
    if backend.client is not None:
        _assert_same_joint(result, np_solve_joint(prob))


def test_joint_dp_mcmc_priors_and_fixed(backend):
    rng = np.random.default_rng(5)
    prob = _random_problem(rng, 7, 6, n_multi=1, p_cand=0.5)
    settings = MCMCSettings(chains=2, iterations=2_000, burn_in=200)
    variants: list[tuple[dict[str, Any], str]] = [
        ({}, "exact"), ({"max_assign": 3}, "mcmc"), ({"max_assign": 3, "mcmc": settings, "seed": 7}, "mcmc"),
    ]
    for kw, method in variants:
        want = np_solve_joint(prob, **kw)
        assert want.method == method, kw
        _assert_same_joint(backend.solve_joint(prob, **kw), want)
    # 7 samples, 6 missing persons, a closed incident: no assignment is possible; both refuse it
    for solve in (np_solve_joint, backend.solve_joint):
        with pytest.raises(InconsistentCaseError, match="no assignment"):
            solve(prob, prior=Prior.closed(7, 6))


# ---------------------------------------------------------------------------
# selecting the backend


def test_client_selection():
    assert scale.client(None, None) is None
    with pytest.raises(ValueError, match="not both"):
        scale.client("tcp://127.0.0.1:1", 2)
    with pytest.raises(ValueError, match="workers"):
        scale.client(None, 0)


# ---------------------------------------------------------------------------
# faults


def test_worker_killed_mid_run_gives_the_same_answer():
    case, _ = _gold("scale200", "synthetic")
    want = _reference("scale200", "synthetic", top=3, min_lr=100.0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        killed: list[tuple[str, int, int, int]] = []
        lock = threading.Lock()

        def progress(done: int, total: int, what: str) -> None:
            with lock:
                if what == "pairs" and not killed:
                    addr, pid = next(iter(pids.items()))
                    os.kill(pid, signal.SIGKILL)
                    killed.append((addr, pid, done, total))

        got = scale.search(case, client=client, top=3, min_lr=100.0, chunk=25,
                           family_batch_size=25, merge_every=3, progress=progress)
        assert killed, "no worker was killed"
        _addr, pid, done, total = killed[0]
        assert done < total  # killed mid-run
        # the killed worker is gone (a nanny may have started a new process in its place)
        assert pid not in client.run(os.getpid).values()
    _assert_same_search(got, want)


def test_dask_refuses_lineage_evidence(dask_client, tmp_path):
    # the lineage part is not cut into tiles yet: the Dask backend says so rather than
    # returning LRs without the mtDNA and Y evidence
    from dogtag.errors import DogtagError
    from dogtag.io.csvcase import read_case_folder

    from test_dvi_lineage import mixed_case

    case = read_case_folder(mixed_case(tmp_path / "mixed"))
    with pytest.raises(DogtagError, match="mtDNA or Y-STR"):
        scale.search(case, client=dask_client, top=1)
    assert scale.search(case, client=None, top=1).candidate_evidence
