"""Joint identification on simulated incidents with known truth, out of the model too.

Incidents from :func:`dogtag.scenario.incident.simulate_incident` (NIST 1036 Caucasian, 23 STRs,
stepwise mutation): relatives of the missing who are not missing themselves (half-brothers,
cousins, uncles) among the remains, and two missing brothers whom autosomal DNA cannot tell apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from dogtag.identify.dvi import FamilyLoglik
from dogtag.identify.joint import JointProblem, Prior, solve_joint
from dogtag.identify.search import blind_search
from dogtag.identify.solve import dvi_solve, full_sibling_pairs
from dogtag.scenario.incident import simulate_incident

CLAIMS = ("Undisputed", "Match (GLR)", "Probable", "Symmetric match")


def _problem(inc):  # type: ignore[no-untyped-def]
    s = blind_search(inc.case)
    prob = JointProblem(tuple(s.samples), tuple(s.missing), tuple(s.family), s.log_lr, s.family_loglik,
                        s.sample_loglik, FamilyLoglik(inc.case, s.lineage_log_lr))
    return s, prob


@pytest.mark.parametrize("seed", range(3))
def test_relatives_who_are_not_missing_are_never_identified(seed):
    inc = simulate_incident(40, 40, relatives={"half-brother": 10, "cousin": 10, "uncle": 10}, unrelated=0.25,
                            seed=seed)
    assert sum(k != "missing" and k != "unrelated" for k in inc.kind.values()) == 30
    s, prob = _problem(inc)
    sol = dvi_solve(prob, np.where(np.isnan(s.log_lr), np.nan, s.exclusions),
                    full_siblings=full_sibling_pairs(inc.case))
    for r in sol.pm:
        if r.conclusion in CLAIMS:
            # every claim is right: the relatives (truth "*") are never claimed
            assert r.sample is not None and inc.truth[r.sample] == r.missing, (r, inc.kind[r.sample])
    # and the missing persons who are there are found
    found = sum(1 for r in sol.pm if r.conclusion in ("Undisputed", "Probable") and r.sample is not None
                and inc.truth[r.sample] == r.missing)
    assert found >= 0.8 * sum(1 for k in inc.kind.values() if k == "missing")
    # under an open prior (half the samples on the list) no relative has posterior >= 0.99
    res = solve_joint(prob, prior=Prior.open(len(s.samples), len(s.missing), 0.5), time_limit=120)
    for i, sid in enumerate(res.samples):
        if inc.kind[sid] in ("half-brother", "cousin", "uncle"):
            assert np.nanmax(res.posterior[i, :-1]) < 0.99, (sid, inc.kind[sid])


def test_brothers_are_a_symmetric_match_never_one_brother_claimed():
    """Two missing brothers found together: a symmetric match, at any size (a small
    ``max_assign`` forces the joint analysis onto its candidate cut, which used to crash)."""
    inc = simulate_incident(30, 12, brothers=0.5, unrelated=0.3, seed=4)
    s, prob = _problem(inc)
    bro = {m for pair in inc.brothers for m in pair}
    both = [pair for pair in inc.brothers if sum(t in pair for t in inc.truth.values()) == 2]
    assert both
    exc = np.where(np.isnan(s.log_lr), np.nan, s.exclusions)
    for max_assign in (100_000, 40):
        sol = dvi_solve(prob, exc, full_siblings=full_sibling_pairs(inc.case), max_assign=max_assign)
        by_m = {r.missing: r for r in sol.am}
        for a, b in both:
            assert by_m[a].conclusion == by_m[b].conclusion == "Symmetric match", (by_m[a], by_m[b])
        for r in sol.am:
            if r.missing in bro and r.conclusion in ("Match (GLR)", "Undisputed", "Probable"):
                # a brother claimed alone only when his brother is not among the remains
                other = next(x for p in inc.brothers if r.missing in p for x in p if x != r.missing)
                assert other not in inc.truth.values(), r


def test_closed_incident_most_probable_pairing_is_exact_and_right():
    inc = simulate_incident(0, 120, closed=True, seed=2)
    s, prob = _problem(inc)
    res = solve_joint(prob, prior=Prior.closed(*s.log_lr.shape), time_limit=120)
    assert not res.unresolved
    best = res.assignments[0].pairs
    right = sum(best[sid] == inc.truth[sid] for sid in res.samples)
    assert right >= 0.995 * len(res.samples)
    for c in res.components:
        if c.method == "exact-pruned":
            assert float(c.diagnostics["error_bound"]) < 1e-6


def test_family_term_given_one_placed_brother_equals_the_joint_likelihood():
    """Two missing brothers: the joint family term by the chain rule (pairwise LR of one, then
    the other's LR from the conditional genotype distribution given the family and the first)
    equals the joint pedigree likelihood of both placed, for clean and degraded samples, true
    brothers and unrelated remains, in either order."""
    inc = simulate_incident(40, 16, brothers=0.5, degraded=0.4, unrelated=0.3, seed=6)
    _, prob = _problem(inc)
    fl = prob.family_loglik
    assert isinstance(fl, FamilyLoglik)
    rng = np.random.default_rng(0)
    checked = 0
    for a, b in inc.brothers:
        ja, jb = prob.missing.index(a), prob.missing.index(b)
        fam = prob.family[ja]
        true = [i for i, sid in enumerate(prob.samples) if inc.truth[sid] in (a, b)]
        others = rng.choice(len(prob.samples), size=3, replace=False).tolist()
        for i, k in [(x, y) for x in true + others for y in true + others if x != y][:8]:
            si, sk = prob.samples[i], prob.samples[k]
            joint = fl(fam, {a: si, b: sk}) - prob.loglik0_family[fam] - prob.sample_loglik[i] \
                - prob.sample_loglik[k]
            one = prob.log_lr[i, ja] + fl.conditional_term(fam, {a: si}, b, sk)
            other = prob.log_lr[k, jb] + fl.conditional_term(fam, {b: sk}, a, si)
            assert one == pytest.approx(joint, abs=1e-8 * max(1.0, abs(joint)))
            assert other == pytest.approx(joint, abs=1e-8 * max(1.0, abs(joint)))
            # and the problem's own term takes that route
            assert prob.family_term(fam, [(ja, i), (jb, k)]) == pytest.approx(joint, abs=1e-8 * max(1.0, abs(joint)))
            checked += 1
    assert checked >= 20
    assert any(inc.case.pm[i].dropout > 0 for i in range(len(inc.case.pm)))
