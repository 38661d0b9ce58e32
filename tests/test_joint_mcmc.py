"""The joint sampler's kernel, checked exactly: on hundreds of random small components (open and
closed incidents, per-pair priors, families with several missing persons) the full transition
matrix of one Metropolis-Hastings step, built from the sampler's own proposals and acceptance,
(pairwise-LR proposals, delayed acceptance on the pairwise LRs and then on the joint family terms)
leaves the posterior of the naive enumeration invariant and is in detailed balance with it.

A wrong Hastings factor (a proposal route forgotten, a swap counted once) breaks detailed balance
by a visible amount, while a sampling test would only drift within its Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dogtag.identify.joint import solve_joint
from dogtag.identify.mcmc import MCMCSettings, _apply, _Proposal, _State

from test_joint import _naive, _random_problem


def _transition_matrix(prob, logprior, rows):  # type: ignore[no-untyped-def]
    """One step of the sampler over the enumerated states ``rows`` (local = global indices)."""
    n_s, n_m = prob.log_lr.shape
    st = _State(prob, list(range(n_s)), list(range(n_m)), logprior)
    opts = [[j for j in range(n_m) if np.isfinite(prob.log_lr[s, j]) and np.isfinite(logprior[s, j])]
            + ([-1] if np.isfinite(logprior[s, n_m]) else []) for s in range(n_s)]
    prop = _Proposal(st, opts)
    index = {tuple(r): k for k, r in enumerate(rows)}
    P = np.zeros((len(rows), len(rows)))
    for k, row in enumerate(rows):
        for s in range(n_s):
            if len(opts[s]) < 2:
                P[k, k] += 1.0 / n_s
                continue
            old = row[s]
            for new in opts[s]:
                if new == old:
                    continue
                q = math.exp(prop._log_q(s, new, old)) / n_s
                a = list(row)
                owner = [-1] * n_m
                for x, j in enumerate(a):
                    if j >= 0:
                        owner[j] = x
                t = owner[new] if new >= 0 else -1
                if t >= 0 and old not in opts[t]:
                    P[k, k] += q
                    continue
                # the sampler's delayed acceptance: pairwise LRs first, then the joint family terms
                dlr, dlp = st.pair_delta(s, old, new)
                if t >= 0:
                    d2, p2 = st.pair_delta(t, new, old)
                    dlr, dlp = dlr + d2, dlp + p2
                fams = st.families_of(old, new)
                before = st.coupling(fams, owner)
                _apply(a, owner, s, t, old, new)
                b = index[tuple(a)]
                acc = min(1.0, math.exp(min(0.0, dlr + dlp + prop.log_hastings(s, t, old, new)))) \
                    * min(1.0, math.exp(min(0.0, st.coupling(fams, owner) - before)))
                P[k, b] += q * acc
                P[k, k] += q * (1.0 - acc)
    return P


@pytest.mark.parametrize("block", range(6))
def test_kernel_is_in_detailed_balance_with_the_exact_posterior(block):
    """50 random components per block (300 in all): open (flat or open prior) and closed
    incidents, families with two missing persons, per-pair priors."""
    for seed in range(50 * block, 50 * (block + 1)):
        rng = np.random.default_rng(1000 + seed)
        n_s, n_m = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        prob = _random_problem(rng, n_s, n_m, n_multi=int(rng.integers(0, 3)), p_cand=0.8)
        kind = seed % 3
        if kind == 0:  # flat, open
            w = np.ones((n_s, n_m + 1))
        elif kind == 1:  # per-pair prior, open
            w = np.column_stack([rng.random((n_s, n_m)) + 0.05, np.full(n_s, 0.3)])
        else:  # closed where possible: every sample must be someone
            w = np.ones((n_s, n_m + 1))
            if n_s <= n_m:
                w[:, -1] = 0.0
        try:
            rows, _, post, _, _ = _naive(prob, w)
        except ValueError:  # the closed prior leaves no consistent assignment
            assert kind == 2
            continue
        with np.errstate(divide="ignore"):
            logprior = np.log(w)
        rows = [tuple(r) for r in rows]
        P = _transition_matrix(prob, logprior, rows)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
        flow = post[:, None] * P
        np.testing.assert_allclose(flow, flow.T, atol=1e-12)
        np.testing.assert_allclose(post @ P, post, atol=1e-12)


def test_starts_are_valid_assignments():
    rng = np.random.default_rng(5)
    prob = _random_problem(rng, 8, 6, n_multi=2, p_cand=0.7)
    n_s, n_m = prob.log_lr.shape
    logprior = np.zeros((n_s, n_m + 1))
    st = _State(prob, list(range(n_s)), list(range(n_m)), logprior)
    opts = [[j for j in range(n_m) if np.isfinite(prob.log_lr[s, j])] + [-1] for s in range(n_s)]
    prop = _Proposal(st, opts)
    seen = set()
    for _ in range(50):
        a, owner = prop.start(rng)
        used = [j for j in a if j >= 0]
        assert len(used) == len(set(used))
        assert all(j in opts[s] for s, j in enumerate(a))
        assert all(owner[j] == s for s, j in enumerate(a) if j >= 0)
        assert sum(o >= 0 for o in owner) == len(used)
        seen.add(tuple(a))
    assert len(seen) > 5  # over-dispersed


def test_sampler_with_several_missing_per_family_agrees_with_enumeration():
    """Open incident, two families with two missing persons each: visit frequencies within
    Monte Carlo error of the exact posterior."""
    rng = np.random.default_rng(8)
    prob = _random_problem(rng, 6, 5, n_multi=2, p_cand=0.9)
    _, _, _, marg, _ = _naive(prob)
    res = solve_joint(prob, max_assign=3, dp="none", seed=2,
                      mcmc=MCMCSettings(chains=4, iterations=40_000, burn_in=2_000))
    assert res.method == "mcmc" and not res.unresolved
    np.testing.assert_allclose(res.posterior, marg, atol=0.03)


def test_sampler_runs_until_its_diagnostics_pass():
    """Too few steps between records for R-hat at first: the sampler runs again with twice the
    steps while the time allows, until it converges, and then agrees with the enumeration."""
    rng = np.random.default_rng(8)
    prob = _random_problem(rng, 6, 5, n_multi=2, p_cand=0.9)
    _, _, _, marg, _ = _naive(prob)
    settings = MCMCSettings(chains=4, iterations=300, burn_in=50)
    res = solve_joint(prob, max_assign=3, dp="none", seed=2, time_limit=120, mcmc=settings)
    d = res.components[0].diagnostics
    assert d["runs"] > 1 and d["thin"] == 2 ** (d["runs"] - 1)
    assert d["converged"] and not res.unresolved
    assert 0.0 < d["acceptance_rate"] < 1.0
    np.testing.assert_allclose(res.posterior, marg, atol=0.06)
    # without a time limit: one run, reported as it is
    once = solve_joint(prob, max_assign=3, dp="none", seed=2, mcmc=settings)
    assert once.components[0].diagnostics["runs"] == 1
