"""Joint identification (dogtag.identify.joint, .matching, .mcmc).

Checked three ways: dvir 3.4.1's golden joint tables and Bmarginal posteriors;
a naive enumeration of every assignment written here, on random problems; and
the three exact methods (enumeration, subset DP) against each other.
"""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest

from dogtag.errors import InconsistentCaseError
from dogtag.identify.components import BOUND_OK
from dogtag.identify.joint import JointProblem, Prior, solve_joint
from dogtag.identify.mcmc import MCMCSettings, effective_sample_size, rhat

from dvi_helpers import problem_from_golden

SINGLE = ["planecrash", "KETPexer497"]
SMALL_MULTI = ["example1", "example2", "dvi-example", "KETPchap481", "symmetricSibs"]


def _check_against_golden(result, res):
    joint = res["joint"]
    assert result.n_assignments == joint["nAssignments"]
    assert result.loglik0 == pytest.approx(res["loglik0"], rel=1e-12)
    ours = {tuple(sorted(a.pairs.items())): a for a in result.assignments}
    golden_top = joint["top"]
    # every golden row strictly better than the last one written is among ours, with equal numbers
    last = golden_top[-1]["loglik"] if len(golden_top) < joint["nAssignments"] else -math.inf
    for g in golden_top:
        if g["loglik"] is None or (last is not None and g["loglik"] <= last + 1e-9):
            continue
        a = ours[tuple(sorted(g["assignment"].items()))]
        assert a.loglik == pytest.approx(g["loglik"], rel=1e-10)
        assert a.lr == pytest.approx(g["LR"], rel=1e-8)
        assert a.posterior == pytest.approx(g["posterior"], rel=1e-8, abs=1e-15)
    # logliks of the ranked list agree position by position (ties may be ordered differently)
    n = min(len(golden_top), len(result.assignments))
    for a, g in zip(result.assignments[:n], golden_top[:n], strict=True):
        if g["loglik"] is None:
            assert a.loglik == -math.inf
        else:
            assert a.loglik == pytest.approx(g["loglik"], rel=1e-10)
    pp = res["posteriorPairing"]
    assert list(pp["victims"]) == list(result.samples)
    assert list(pp["columns"]) == list(result.columns)
    np.testing.assert_allclose(result.posterior, np.array(pp["P"], dtype=float), atol=1e-6)


@pytest.mark.parametrize("name", SINGLE)
def test_single_missing_families_reproduce_dvir(name):
    prob, _, res = problem_from_golden(name)
    result = solve_joint(prob)
    assert result.method in ("exact", "exact-by-component")
    _check_against_golden(result, res)


@pytest.mark.parametrize("name", SMALL_MULTI)
def test_multi_missing_families_with_brute_force_likelihood(name):
    prob, _, res = problem_from_golden(name, brute_force=True)
    result = solve_joint(prob)
    _check_against_golden(result, res)


def test_planecrash_is_fast():
    prob, _, _ = problem_from_golden("planecrash")
    t = time.perf_counter()
    solve_joint(prob)
    assert time.perf_counter() - t < 1.0  # dvir: 442 s


@pytest.mark.parametrize("how", ["subset", "frontier"])
def test_planecrash_dp_equals_enumeration(how):
    prob, _, res = problem_from_golden("planecrash")
    enum = solve_joint(prob)
    dp = solve_joint(prob, max_assign=10, dp=how)
    assert {c.method for c in dp.components} >= {"exact-dp"}
    assert dp.n_assignments == enum.n_assignments == 19081
    np.testing.assert_allclose(dp.posterior, enum.posterior, atol=1e-12)
    np.testing.assert_allclose(np.log(dp.glr), np.log(enum.glr), atol=1e-9)
    for a, b in zip(dp.assignments, enum.assignments, strict=True):
        assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
        assert a.posterior == pytest.approx(b.posterior, rel=1e-9)
    _check_against_golden(dp, res)


def test_exclusion_example_exact_by_components():
    """dvir could not do this (>= 4e13 assignments) and reduced the problem; we solve it exactly."""
    prob, _, _res = problem_from_golden("exclusionExample")
    t = time.perf_counter()
    result = solve_joint(prob)
    assert time.perf_counter() - t < 5.0
    assert result.method in ("exact", "exact-by-component")
    assert result.n_assignments is not None and result.n_assignments >= 4.0e13
    assert any("dynamic programming" in n for n in result.notes)
    np.testing.assert_allclose(result.posterior.sum(axis=1), 1.0, atol=1e-12)
    # the undisputed pairs are (almost) certain
    s, m = result.samples.index("V15"), result.missing.index("M6")
    assert result.posterior[s, m] > 0.999
    # best assignment's loglik = loglik0 + sum of its pairwise log LRs
    best = result.assignments[0]
    direct = result.loglik0 + sum(
        prob.log_lr[result.samples.index(v), result.missing.index(mm)]
        for v, mm in best.pairs.items() if mm != "*"
    )
    assert best.loglik == pytest.approx(direct, rel=1e-12)
    # a sub-problem small enough to enumerate agrees with the subset DP
    keep_s, keep_m = list(range(7)), list(range(6))
    sub = JointProblem(
        tuple(prob.samples[i] for i in keep_s), tuple(prob.missing[j] for j in keep_m),
        tuple(prob.family[j] for j in keep_m), prob.log_lr[np.ix_(keep_s, keep_m)],
        prob.loglik0_family, prob.sample_loglik[keep_s],
    )
    a = solve_joint(sub)
    for how in ("subset", "frontier"):
        b = solve_joint(sub, max_assign=5, dp=how)
        assert a.n_assignments == b.n_assignments
        np.testing.assert_allclose(a.posterior, b.posterior, atol=1e-12)
        np.testing.assert_allclose(np.log(a.glr), np.log(b.glr), atol=1e-9)
        for x, y in zip(a.assignments, b.assignments, strict=True):
            assert x.loglik == pytest.approx(y.loglik, rel=1e-12)


# ---------------------------------------------------------------------------
# naive reference: enumerate everything


def _random_problem(rng, n_s, n_m, *, n_multi=1, p_cand=0.6):
    fams = []
    k = 0
    while k < n_m:
        size = 2 if (n_multi > 0 and k + 1 < n_m) else 1
        if size == 2:
            n_multi -= 1
        fams += [f"F{k}"] * size
        k += size
    fams = fams[:n_m]
    llr = rng.normal(0, 3, size=(n_s, n_m))
    r = rng.random((n_s, n_m))
    llr[r > p_cand] = -np.inf
    llr[(r > p_cand * 0.8) & (r <= p_cand)] = np.nan
    loglik0 = {f: float(rng.normal(-20, 2)) for f in set(fams)}
    vll = rng.normal(-30, 2, size=n_s)
    cache = {}

    def family_loglik(fam, placements):
        key = (fam, tuple(sorted(placements.items())))
        if key not in cache:
            pair = sum(llr[int(s[1:]), int(m[1:])] for m, s in placements.items())
            cache[key] = loglik0[fam] + sum(vll[int(s[1:])] for s in placements.values()) \
                + pair + float(rng.normal(0, 2))
        return cache[key]

    samples = [f"S{i}" for i in range(n_s)]
    missing = [f"M{j}" for j in range(n_m)]
    return JointProblem(tuple(samples), tuple(missing), tuple(fams), llr, loglik0, vll, family_loglik)


def _naive(prob, prior_w=None):
    n_s, n_m = prob.log_lr.shape
    with np.errstate(divide="ignore"):
        lw = np.zeros((n_s, n_m + 1)) if prior_w is None else np.log(prior_w)
    opts = [[j for j in range(n_m) if np.isfinite(prob.log_lr[s, j]) and np.isfinite(lw[s, j])]
            + ([-1] if np.isfinite(lw[s, n_m]) else []) for s in range(n_s)]
    rows, lls, ws = [], [], []
    for combo in itertools.product(*opts):
        used = [j for j in combo if j >= 0]
        if len(used) != len(set(used)):
            continue
        ll = prob.loglik0
        by_fam = {}
        for s, j in enumerate(combo):
            if j >= 0:
                by_fam.setdefault(prob.family[j], []).append((j, s))
        for fam, placed in by_fam.items():
            if len(placed) == 1:
                ll += prob.log_lr[placed[0][1], placed[0][0]]
            else:
                ll += prob.family_loglik(fam, {prob.missing[j]: prob.samples[s] for j, s in placed}) \
                    - prob.loglik0_family[fam] - sum(prob.sample_loglik[s] for _, s in placed)
        rows.append(combo)
        lls.append(ll)
        ws.append(ll + sum(lw[s, n_m if j < 0 else j] for s, j in enumerate(combo)))
    ws = np.array(ws)
    post = np.exp(ws - ws.max())
    post /= post.sum()
    marg = np.zeros((n_s, n_m + 1))
    for combo, p in zip(rows, post, strict=True):
        for s, j in enumerate(combo):
            marg[s, n_m if j < 0 else j] += p
    lls = np.array(lls)
    glr = np.full((n_s, n_m), np.nan)
    for s in range(n_s):
        col = np.array([c[s] for c in rows])
        if len(set(col)) < 2:
            continue
        for j in range(n_m):
            if (col == j).any():
                glr[s, j] = lls[col == j].max() - lls[col != j].max()
    return rows, lls, post, marg, glr


@pytest.mark.parametrize("seed", range(8))
def test_against_naive_enumeration(seed):
    rng = np.random.default_rng(seed)
    prob = _random_problem(rng, n_s=int(rng.integers(2, 7)), n_m=int(rng.integers(2, 6)))
    rows, lls, post, marg, glr = _naive(prob)
    res = solve_joint(prob, top=10_000)
    assert res.n_assignments == len(rows)
    np.testing.assert_allclose(res.posterior, marg, atol=1e-12)
    np.testing.assert_allclose(np.log(res.glr), glr, atol=1e-9)
    got = sorted((round(a.loglik, 9), round(a.posterior, 12)) for a in res.assignments)
    want = sorted((round(float(x), 9), round(float(p), 12)) for x, p in zip(lls, post, strict=True))
    assert got == want
    # ranked best first
    ps = [a.posterior for a in res.assignments]
    assert ps == sorted(ps, reverse=True)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_dp_against_naive(seed):
    """Single-missing families, sparse candidates: both DPs equal the naive enumeration."""
    rng = np.random.default_rng(200 + seed)
    prob = _random_problem(rng, n_s=7, n_m=7, n_multi=0, p_cand=0.35)
    rows, lls, _, marg, glr = _naive(prob)
    for how in ("subset", "frontier"):
        res = solve_joint(prob, max_assign=1, dp=how, top=10_000)
        assert res.n_assignments == len(rows)
        np.testing.assert_allclose(res.posterior, marg, atol=1e-12)
        np.testing.assert_allclose(np.log(res.glr), glr, atol=1e-9)
        got = sorted(round(a.loglik, 9) for a in res.assignments)
        assert got == sorted(round(float(x), 9) for x in lls)
        ps = [a.posterior for a in res.assignments]
        assert ps == sorted(ps, reverse=True)


@pytest.mark.parametrize("seed", range(5))
def test_priors_against_naive(seed):
    rng = np.random.default_rng(100 + seed)
    n_s, n_m = 4, 4
    prob = _random_problem(rng, n_s, n_m, n_multi=0, p_cand=0.9)
    w = rng.random((n_s, n_m)) + 0.1
    prior = Prior.pairs(w, star=0.5)
    _, _, _, marg, _ = _naive(prob, np.column_stack([w, np.full(n_s, 0.5)]))
    res = solve_joint(prob, prior=prior)
    np.testing.assert_allclose(res.posterior, marg, atol=1e-12)
    for how in ("subset", "frontier"):
        res_dp = solve_joint(prob, prior=prior, max_assign=1, dp=how)
        np.testing.assert_allclose(res_dp.posterior, marg, atol=1e-12)


def test_closed_incident():
    rng = np.random.default_rng(7)
    prob = _random_problem(rng, 3, 4, n_multi=0, p_cand=1.0)
    prior = Prior.closed(3, 4)
    _rows, _, _, marg, glr = _naive(prob, np.column_stack([np.ones((3, 4)), np.zeros(3)]))
    res = solve_joint(prob, prior=prior)
    assert res.prior == "closed"
    np.testing.assert_allclose(res.posterior, marg, atol=1e-12)
    assert np.all(res.posterior[:, -1] == 0)
    np.testing.assert_allclose(np.log(res.glr), glr, atol=1e-9)
    for how in ("subset", "frontier"):
        dp = solve_joint(prob, prior=prior, max_assign=1, dp=how)
        np.testing.assert_allclose(np.log(dp.glr), np.log(res.glr), atol=1e-9)
    assert all("*" not in a.pairs.values() for a in res.assignments)
    for how in ("subset", "frontier"):
        np.testing.assert_allclose(solve_joint(prob, prior=prior, max_assign=1, dp=how).posterior,
                                   marg, atol=1e-12)


def test_closed_incident_impossible():
    llr = np.array([[0.0], [1.0]])
    prob = JointProblem(("A", "B"), ("M",), ("F",), llr, {"F": -1.0}, np.zeros(2))
    with pytest.raises(InconsistentCaseError, match="no assignment"):
        solve_joint(prob, prior=Prior.closed(2, 1))


def test_fixed_pairs_condition_the_result():
    prob, _, _ = problem_from_golden("planecrash")
    res = solve_joint(prob, fixed={"V6": "M2", "V2": "M3"})
    i = prob.samples.index("V6")
    assert res.posterior[i, prob.missing.index("M2")] == 1.0
    assert all(a.pairs["V6"] == "M2" for a in res.assignments)
    assert res.fixed == {"V6": "M2", "V2": "M3"}
    with pytest.raises(ValueError, match="unknown"):
        solve_joint(prob, fixed={"V99": "M2"})


def test_missing_family_callback_is_an_error():
    prob, _, _ = problem_from_golden("example1")
    with pytest.raises(ValueError, match="family_loglik"):
        solve_joint(prob)


def test_components_are_independent():
    """Two disconnected blocks: the product of their results equals the whole."""
    llr = np.array([[1.0, np.nan], [0.5, np.nan], [np.nan, 2.0]])
    prob = JointProblem(("A", "B", "C"), ("M1", "M2"), ("F1", "F2"), llr,
                        {"F1": -5.0, "F2": -6.0}, np.array([-10.0, -11.0, -12.0]))
    res = solve_joint(prob)
    assert res.method == "exact-by-component"
    assert res.n_assignments == 3 * 2
    # block 1: weights * (1), A=M1 e^1, B=M1 e^.5
    z1 = 1 + math.e + math.exp(0.5)
    assert res.posterior[0, 0] == pytest.approx(math.e / z1)
    assert res.posterior[2, 1] == pytest.approx(math.exp(2) / (1 + math.exp(2)))
    assert res.assignments[0].pairs == {"A": "M1", "B": "*", "C": "M2"}
    assert res.assignments[0].log_lr == pytest.approx(3.0)
    assert res.assignments[0].loglik == pytest.approx(-5 - 6 - 10 - 11 - 12 + 3.0)


# ---------------------------------------------------------------------------
# MCMC


def test_mcmc_agrees_with_exact():
    rng = np.random.default_rng(3)
    prob = _random_problem(rng, 6, 5, n_multi=1, p_cand=0.8)
    exact = solve_joint(prob)
    settings = MCMCSettings(chains=4, iterations=40_000, burn_in=1_000)
    res = solve_joint(prob, max_assign=3, mcmc=settings, seed=11, dp="none")
    assert res.method == "mcmc"
    comp = next(c for c in res.components if c.method == "mcmc")
    assert comp.diagnostics["converged"]
    assert comp.diagnostics["seed"] == 11 + res.components.index(comp)
    np.testing.assert_allclose(res.posterior, exact.posterior, atol=0.03)
    assert res.assignments[0].pairs == exact.assignments[0].pairs
    assert res.assignments[0].loglik == pytest.approx(exact.assignments[0].loglik)
    # same seed, same answer
    again = solve_joint(prob, max_assign=3, mcmc=settings, seed=11, dp="none")
    np.testing.assert_array_equal(again.posterior, res.posterior)


def test_rhat_and_ess():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 2000))
    assert rhat(iid) == pytest.approx(1.0, abs=0.01)
    assert effective_sample_size(iid) > 4000
    shifted = iid + np.arange(4)[:, None] * 3
    assert rhat(shifted) > 1.5
    ar = np.zeros((4, 2000))
    for t in range(1, 2000):
        ar[:, t] = 0.95 * ar[:, t - 1] + rng.normal(size=4)
    assert effective_sample_size(ar) < 1000


def test_mcmc_on_additive_component_agrees_with_dp():
    rng = np.random.default_rng(21)
    prob = _random_problem(rng, 8, 8, n_multi=0, p_cand=0.5)
    exact = solve_joint(prob, max_assign=1)
    assert {c.method for c in exact.components} <= {"exact", "exact-dp"}
    res = solve_joint(prob, max_assign=1, dp="none", seed=5,
                      mcmc=MCMCSettings(chains=4, iterations=20_000, burn_in=2_000))
    np.testing.assert_allclose(res.posterior, exact.posterior, atol=0.03)
    assert any("MCMC" in n for n in res.notes)
    assert res.to_dict()["components"]  # serialisable summary with diagnostics


def test_open_prior_and_json():
    rng = np.random.default_rng(9)
    prob = _random_problem(rng, 4, 3, n_multi=0, p_cand=0.9)
    prior = Prior.open(4, 3, 0.4)
    w = np.column_stack([np.full((4, 3), 0.4 / 3), np.full(4, 0.6)])
    _, _, _, marg, _ = _naive(prob, w)
    res = solve_joint(prob, prior=prior)
    np.testing.assert_allclose(res.posterior, marg, atol=1e-12)
    assert res.prior == "open(p_listed=0.4)"
    import json

    text = json.dumps(res.to_dict(), allow_nan=False)
    assert '"assignments"' in text and '"glr"' in text
    with pytest.raises(ValueError, match="p_listed"):
        Prior.open(4, 3, 1.0)


@pytest.mark.parametrize("seed", range(3))
def test_relabelling_changes_nothing(seed):
    """Permuting the order of samples and missing persons permutes the answer, nothing more."""
    rng = np.random.default_rng(300 + seed)
    prob = _random_problem(rng, 6, 5, n_multi=1, p_cand=0.7)
    ps, pm = rng.permutation(6), rng.permutation(5)
    perm = JointProblem(tuple(prob.samples[i] for i in ps), tuple(prob.missing[j] for j in pm),
                        tuple(prob.family[j] for j in pm), prob.log_lr[np.ix_(ps, pm)],
                        prob.loglik0_family, prob.sample_loglik[ps], prob.family_loglik)
    a, b = solve_joint(prob), solve_joint(perm)
    np.testing.assert_allclose(b.posterior, a.posterior[np.ix_(ps, [*pm, 5])], atol=1e-12)
    assert b.n_assignments == a.n_assignments
    assert {tuple(sorted(x.pairs.items())) for x in a.assignments[:3]} == \
        {tuple(sorted(x.pairs.items())) for x in b.assignments[:3]} or \
        a.assignments[2].loglik == pytest.approx(a.assignments[3].loglik)


# ---------------------------------------------------------------------------
# pruned decomposition: exact on the kept parts, error within the proven bound


def _pruned_case(rng, n_s, n_m, *, closed, spread):
    prob = _random_problem(rng, n_s, n_m, n_multi=0, p_cand=0.95)
    llr = prob.log_lr.copy()
    # a few strong true pairs, the rest spread out: most pairs are negligible, some are not
    llr[np.isfinite(llr)] = rng.normal(-2, spread, int(np.isfinite(llr).sum()))
    for s in range(min(n_s, n_m)):
        if rng.random() < 0.7:
            llr[s, s] = rng.normal(20, 8)
    prob = JointProblem(prob.samples, prob.missing, prob.family, llr, prob.loglik0_family, prob.sample_loglik)
    prior = Prior.closed(n_s, n_m) if closed else None
    return prob, prior


def _component_posterior(res):
    n_m = len(res.missing)
    post = np.zeros((len(res.samples), n_m + 1))
    for c in res.components:
        post[np.ix_(c.samples, np.append(c.missing, n_m))] = c.marginals
    return post


@pytest.mark.parametrize("seed", range(120))
def test_pruned_decomposition_within_its_bound(seed, monkeypatch):
    """Random additive components, open and closed, pruned hard (delta 1e-3, margin 10): the
    posteriors of the kept parts are within the stated bound of exact enumeration."""
    import dogtag.identify.prune as pr

    rng = np.random.default_rng(5000 + seed)
    closed = bool(seed % 2)
    n_s = int(rng.integers(2, 7))
    n_m = int(rng.integers(n_s if closed else 2, 7))
    prob, prior = _pruned_case(rng, n_s, n_m, closed=closed, spread=float(rng.choice([2.0, 6.0])))
    prior_w = None if prior is None else prior.weights
    if prior is not None:
        ok = np.isfinite(prob.log_lr)
        try:
            _naive(prob, prior_w)
        except Exception:
            pytest.skip("no assignment")
        if not ok.any():
            pytest.skip("no candidates")
    rows, _, post, marg, _ = _naive(prob, prior_w)
    if not rows:
        pytest.skip("no consistent assignment")
    monkeypatch.setattr(pr, "DELTA", 1e-3)
    monkeypatch.setattr(pr, "MARGIN", 10.0)
    res = solve_joint(prob, prior=prior, dp="prune", top=50)
    bound = max(float((c.diagnostics or {}).get("error_bound", 0.0)) for c in res.components)
    assert 0.0 <= bound <= 1.0
    # above BOUND_OK the component is unresolved (no posterior reported); its estimates still obey the bound
    assert (bound > BOUND_OK) == bool(res.unresolved)
    np.testing.assert_array_less(np.abs(_component_posterior(res) - marg), bound + 1e-9)
    # the most probable assignment is exact, whatever was pruned
    best_naive = rows[int(np.argmax(post))]
    best = res.assignments[0].pairs
    got = tuple(-1 if best[s] == "*" else prob.missing.index(best[s]) for s in prob.samples)
    w_naive = np.max(post)
    w_got = post[rows.index(got)]
    assert w_got == pytest.approx(w_naive, rel=1e-9) or got == tuple(best_naive)
    np.testing.assert_allclose(_component_posterior(res).sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_pruned_decomposition_default_is_exact_to_the_bound(seed):
    """At the default delta the bound is tiny and the posteriors equal enumeration to it."""
    rng = np.random.default_rng(7000 + seed)
    closed = bool(seed % 2)
    n_s = int(rng.integers(2, 7))
    n_m = int(rng.integers(n_s if closed else 2, 7))
    prob, prior = _pruned_case(rng, n_s, n_m, closed=closed, spread=10.0)
    rows, _, _, marg, _ = _naive(prob, None if prior is None else prior.weights)
    if not rows:
        pytest.skip("no consistent assignment")
    res = solve_joint(prob, prior=prior, dp="prune", top=5)
    bound = max(float((c.diagnostics or {}).get("error_bound", 0.0)) for c in res.components)
    assert bound < 1e-6
    np.testing.assert_allclose(res.posterior, marg, atol=bound + 1e-12)


def test_time_limit_leaves_an_unconverged_component_unresolved():
    """A sampler stopped by the time limit gives no posterior (nan, null in JSON), says what
    would resolve it, and the posteriors of whole assignments are unknown."""
    rng = np.random.default_rng(11)
    prob = _random_problem(rng, 9, 9, n_multi=2, p_cand=1.0)
    res = solve_joint(prob, max_assign=10, dp="none", time_limit=1e-3,
                      mcmc=MCMCSettings(iterations=4000, burn_in=1000))
    assert set(res.unresolved) == set(prob.samples)
    assert np.isnan(res.posterior).all()
    assert all(math.isnan(a.posterior) for a in res.assignments)
    d = res.to_dict()
    comp = d["components"][0]
    assert comp["status"] == "unresolved" and "would_resolve" in comp["diagnostics"]
    assert all(x is None for row in d["posterior"]["p"] for x in row)
    assert any("unresolved" in n for n in res.notes)
    json.dumps(d, allow_nan=False)


def test_converged_sampler_is_resolved_and_close_to_exact():
    rng = np.random.default_rng(12)
    prob = _random_problem(rng, 6, 5, n_multi=1, p_cand=0.8)
    exact = solve_joint(prob)
    res = solve_joint(prob, max_assign=5, dp="none", seed=3, time_limit=120,
                      mcmc=MCMCSettings(iterations=20_000, burn_in=2_000))
    assert res.method == "mcmc" and not res.unresolved
    np.testing.assert_allclose(res.posterior, exact.posterior, atol=0.03)
    assert res.to_dict()["components"][0]["status"] == "resolved"


@pytest.mark.parametrize("seed", range(4))
def test_enumeration_equals_itertools(seed):
    """The in-place enumeration lists exactly the consistent assignments, in the order of
    appending option by option (the last sample's option position first), and refuses a cap
    below their number (with and without "*", counted by the subset DP or as it builds)."""
    from dogtag.identify.components import enumerate_component

    rng = np.random.default_rng(300 + seed)
    for _ in range(200):
        ns, nm = int(rng.integers(0, 6)), int(rng.integers(1, 6))
        opts = []
        for _s in range(ns):
            o = [j for j in range(nm) if rng.random() < 0.6]
            rng.shuffle(o)
            if rng.random() < 0.7:
                o.insert(int(rng.integers(0, len(o) + 1)), -1)
            opts.append(o)
        combos = [c for c in itertools.product(*opts) if len([j for j in c if j >= 0]) == len({j for j in c if j >= 0})]
        # the appending order: sort by option positions, last sample most significant
        combos.sort(key=lambda c: tuple(opts[s].index(c[s]) for s in reversed(range(ns))))
        arrs = [np.array(o, dtype=np.int64) for o in opts]
        rows = enumerate_component(arrs, nm, 10**6)
        assert rows is not None and rows.shape == (len(combos), ns)
        assert [tuple(int(x) for x in r) for r in rows] == combos
        if ns and combos and all(-1 in o for o in opts):
            assert enumerate_component(arrs, nm, len(combos) - 1) is None
            assert enumerate_component(arrs, nm, len(combos)) is not None


@pytest.mark.parametrize("seed", range(3))
def test_dense_split_equals_pair_by_pair(seed, monkeypatch):
    """Components peeled off a dense graph by breadth-first search (families joined) are those
    of the pair-by-pair union, on random graphs with dense blocks and multi-missing families."""
    import dogtag.identify.components as comps

    rng = np.random.default_rng(400 + seed)
    for _ in range(60):
        ns, nm = int(rng.integers(1, 40)), int(rng.integers(1, 30))
        fam = [f"F{int(x)}" for x in rng.integers(0, max(1, nm - 3), nm)]
        allowed = rng.random((ns, nm)) < rng.choice([0.02, 0.1, 0.5])
        if rng.random() < 0.5:
            a, b = int(rng.integers(0, ns)), int(rng.integers(0, nm))
            allowed[a:a + 10, b:b + 10] = True
        prob = JointProblem(tuple(f"s{i}" for i in range(ns)), tuple(f"m{j}" for j in range(nm)), tuple(fam),
                            np.zeros((ns, nm)), dict.fromkeys(fam, 0.0), np.zeros(ns))
        monkeypatch.setattr(comps, "DENSE_PAIRS", 10**9)
        want = sorted((tuple(sorted(a)), tuple(sorted(b))) for a, b in comps.split_components(prob, allowed))
        monkeypatch.setattr(comps, "DENSE_PAIRS", int(rng.integers(0, 30)))
        got = sorted((tuple(sorted(a)), tuple(sorted(b))) for a, b in comps.split_components(prob, allowed))
        assert got == want
