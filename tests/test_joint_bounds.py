"""Proven posterior bounds of open components (dogtag.identify.bounds), against exact enumeration.

Hundreds of random small open components (flat, open and per-pair priors; strong true pairs among
weak ones; ties; families with several missing persons whose joint terms never exceed the
product of the pairwise LRs, the case the bounds are proven for): every exact pairing
probability lies within the reported [lower, upper]. Then simulated open incidents: the bounds
are tight where it matters (near-certain pairings), and nobody is claimed wrongly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dogtag.identify.bounds import posterior_bounds
from dogtag.identify.joint import JointProblem, Prior, solve_joint

from test_joint import _naive, _random_problem


def _open_case(rng, n_s, n_m, *, n_multi):  # type: ignore[no-untyped-def]
    prob = _random_problem(rng, n_s, n_m, n_multi=n_multi, p_cand=float(rng.choice([0.6, 1.0])))
    llr = prob.log_lr.copy()
    ok = np.isfinite(llr)
    llr[ok] = rng.normal(-2, float(rng.choice([1.0, 4.0, 8.0])), int(ok.sum()))
    for s in range(min(n_s, n_m)):
        if rng.random() < 0.5 and not np.isnan(llr[s, s]):
            llr[s, s] = rng.normal(15, 8)
    if n_m >= 2 and rng.random() < 0.2:
        llr[0, 1] = llr[0, 0]  # a tie (brothers)
    interaction = -abs(rng.normal(0, 2, size=64))

    def family_loglik(fam, placements):  # type: ignore[no-untyped-def]
        # joint terms at most the product of the pairwise LRs (a placed member never raises another's LR)
        ids = sorted((int(m[1:]), int(s[1:])) for m, s in placements.items())
        pair = sum(llr[s, m] for m, s in ids)
        return prob.loglik0_family[fam] + sum(prob.sample_loglik[s] for _, s in ids) + pair \
            + float(interaction[(7 * ids[0][1] + 3 * ids[-1][1]) % 64])

    prob = JointProblem(prob.samples, prob.missing, prob.family, llr, prob.loglik0_family, prob.sample_loglik,
                        family_loglik)
    kind = rng.integers(3)
    if kind == 0:
        prior = None
        weights = None
    elif kind == 1:
        prior = Prior.open(n_s, n_m, float(rng.uniform(0.1, 0.9)))
        weights = prior.weights
    else:
        w = rng.random((n_s, n_m)) + 0.05
        prior = Prior.pairs(w, star=rng.random(n_s) + 0.05)
        weights = prior.weights
    return prob, prior, weights


@pytest.mark.parametrize("block", range(8))
def test_exact_posteriors_lie_within_the_bounds(block):
    """400 random open components: lower <= exact <= upper for every pairing and "*"."""
    rng = np.random.default_rng(9100 + block)
    checked = tight = 0
    for _ in range(50):
        n_s = int(rng.integers(1, 7))
        n_m = int(rng.integers(1, 7))
        prob, prior, weights = _open_case(rng, n_s, n_m, n_multi=int(rng.integers(0, 2)))
        _, _, _, marg, _ = _naive(prob, weights)
        res = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
        assert res.posterior_upper is not None
        assert res.method == "bounds" and not res.unresolved
        low, up = res.posterior, res.posterior_upper
        assert np.all(low >= 0) and np.all(up <= 1) and np.all(low <= up)
        np.testing.assert_array_less(low, marg + 1e-12)
        np.testing.assert_array_less(marg, up + 1e-12)
        # a sample's lower bounds never sum above 1, nor a missing person's
        assert np.all(low.sum(axis=1) <= 1 + 1e-12) and np.all(low[:, :-1].sum(axis=0) <= 1 + 1e-12)
        checked += 1
        tight += int(np.any(low[:, :-1] >= 0.99))
    assert checked == 50
    assert tight >= 5  # the bounds do decide some pairings, not only hold


def test_bounds_of_a_worked_example():
    """Two samples, one missing person, flat prior: exact posteriors by hand."""
    # weights: s0 on m: 100, s0 on *: 1; s1 on m: 2, s1 on *: 1
    w = np.log(np.array([[100.0], [2.0]]))
    low, up = posterior_bounds(w, np.zeros(2))
    # assignments: (*,*) 1, (m,*) 100, (*,m) 2 -> Z = 103
    exact_s0 = 100 / 103
    # L = 1 / (1 + R (1 + A)) with R = 1/100, A = 2
    assert low[0, 0] == pytest.approx(1 / (1 + 0.01 * 3), rel=1e-12)
    assert low[0, 0] <= exact_s0 <= up[0, 0]
    # s1 on "*": R = 2 / 1, A = 0
    assert low[1, 1] == pytest.approx(1 / 3, rel=1e-12)
    assert low[1, 1] <= 101 / 103 <= up[1, 1]
    # s1 on m: at most a = 2 times its "*" upper bound, and 1 - L(s0 on m)
    assert up[1, 0] == pytest.approx(min(2 * (1 - low[1, 0]), 1 - low[0, 0]), rel=1e-12)
    assert low[1, 0] <= 2 / 103 <= up[1, 0]


def test_chunking_changes_nothing():
    rng = np.random.default_rng(3)
    w = rng.normal(-3, 6, size=(37, 11))
    w[rng.random(w.shape) < 0.2] = -np.inf
    ws = rng.normal(0, 1, 37)
    multi = np.zeros(11, dtype=bool)
    multi[[2, 3]] = True
    up = w[:, [2, 3]] + rng.uniform(0, 3, size=(37, 2))
    a = posterior_bounds(w, ws, multi, up)
    b = posterior_bounds(w, ws, multi, up, chunk=4)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-300)
    assert np.all(a[0][:, [2, 3]] == 0)


def test_claim_margin_is_the_lower_bound_with_pairwise_weights():
    """A sample is refined only where its lower bound at its best single-family option, with every
    multi column at its pairwise weight (the least any proven bound u can be), reaches CLAIM: the
    filter equals that lower bound from posterior_bounds itself, on random weights."""
    from dogtag.identify.bounds import CLAIM, _claim_margin

    rng = np.random.default_rng(21)
    hits = 0
    for _ in range(400):
        ns, k = int(rng.integers(1, 9)), int(rng.integers(2, 7))
        w = rng.normal(-4, 5, size=(ns, k))
        w[rng.random(w.shape) < 0.3] = -np.inf
        ws = rng.normal(0, 1, ns)
        multi = np.zeros(k, dtype=bool)
        multi[rng.permutation(k)[:2]] = True
        low, _ = posterior_bounds(w, ws, multi, w[:, multi])
        single = np.where(multi[None, :], -np.inf, w)
        arg = np.argmax(single, axis=1)
        best = single[np.arange(ns), arg]
        others = w.copy()
        others[np.arange(ns), arg] = -np.inf
        log_r = np.logaddexp(np.logaddexp.reduce(others, axis=1), ws) - best
        got = _claim_margin(w, ws, arg, log_r) >= 0
        want = low[np.arange(ns), arg] >= CLAIM
        near = np.abs(low[np.arange(ns), arg] - CLAIM) < 1e-9
        ok = np.isfinite(best)
        assert np.array_equal(got[ok & ~near], want[ok & ~near])
        hits += int(want[ok].sum())
    assert hits >= 20


class _Raising:
    """Joint terms of two-member families that exceed the product of the pairwise LRs: placing
    ``t`` beside ``s`` multiplies by ``exp(inter[s, t]) >= 1`` (a placed brother raising the other's
    LR), with the proven upper bound ``upper_term`` = pairwise + the largest interaction."""

    def __init__(self, prob, llr, inter):  # type: ignore[no-untyped-def]
        self.prob, self.llr, self.inter = prob, llr, inter

    def _ids(self, placements):  # type: ignore[no-untyped-def]
        return sorted((int(m[1:]), int(s[1:])) for m, s in placements.items())

    def __call__(self, fam, placements):  # type: ignore[no-untyped-def]
        ids = self._ids(placements)
        extra = sum(self.inter[a[1], b[1]] for a, b in itertools.combinations(ids, 2))
        return (self.prob.loglik0_family[fam] + sum(self.prob.sample_loglik[s] for _, s in ids)
                + sum(self.llr[s, m] for m, s in ids) + extra)

    def upper_term(self, fam, target, samples):  # type: ignore[no-untyped-def]
        j = int(target[1:])
        return np.array([self.llr[int(s[1:]), j] + self.inter[int(s[1:])].max() for s in samples])

    def partner_sums(self, fam, target, partner, samples, partners, log_c):  # type: ignore[no-untyped-def]
        # sum over r != s of c_r LR(r on partner | s on target) = c_r LR(r, partner) exp(inter[s, r])
        p = int(partner[1:])
        out = []
        for sid in samples:
            s = int(sid[1:])
            terms = [lc + self.llr[int(r[1:]), p] + self.inter[s, int(r[1:])]
                     for r, lc in zip(partners, log_c, strict=True) if int(r[1:]) != s]
            terms = [t for t in terms if not np.isnan(t)]
            out.append(float(np.logaddexp.reduce(terms)) if terms else -np.inf)
        return np.array(out)


def _raising_case(rng, n_s, n_m):  # type: ignore[no-untyped-def]
    prob, prior, weights = _open_case(rng, n_s, n_m, n_multi=int(rng.integers(1, 3)))
    inter = np.abs(rng.normal(0, float(rng.choice([2.0, 8.0])), size=(n_s, n_s)))
    inter = np.triu(inter, 1) + np.triu(inter, 1).T
    llr = prob.log_lr
    fl = _Raising(prob, llr, inter)
    raising = JointProblem(prob.samples, prob.missing, prob.family, llr, prob.loglik0_family, prob.sample_loglik, fl)
    pairwise_only = JointProblem(prob.samples, prob.missing, prob.family, llr, prob.loglik0_family,
                                 prob.sample_loglik, lambda f, p: fl(f, p))
    return raising, pairwise_only, prior, weights


@pytest.mark.parametrize("block", range(6))
def test_bounds_hold_when_a_placed_brother_raises_the_other(block, monkeypatch):
    """300 random open components with two-member families whose joint terms exceed the product
    of the pairwise LRs: every exact pairing probability lies within the bounds, which count a
    placement in such a family by its proven upper bound. The same components bounded with the
    pairwise LRs instead (no upper bound offered) put some exact posterior outside: the check can fail.
    The exact partner sums run for samples that could reach a lower bound of 0.3 (not 0.99: these
    components are small) over the 2 partners with the largest bound-(i) terms, bound (i) for the rest."""
    from dogtag.identify import bounds

    monkeypatch.setattr(bounds, "CLAIM", 0.3)
    monkeypatch.setattr(bounds, "PARTNERS", 2)
    rng = np.random.default_rng(9700 + block)
    outside_pairwise = refined = 0
    for _ in range(50):
        n_s = int(rng.integers(2, 7))
        n_m = int(rng.integers(2, 6))
        prob, pairwise_only, prior, weights = _raising_case(rng, n_s, n_m)
        _, _, _, marg, _ = _naive(prob, weights)
        res = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
        assert res.posterior_upper is not None
        assert all("bound_note" not in (c.diagnostics or {}) for c in res.components)
        np.testing.assert_array_less(res.posterior, marg + 1e-12)
        np.testing.assert_array_less(marg, res.posterior_upper + 1e-12)
        refined += sum(int((c.diagnostics or {}).get("refined_pairs", 0)) for c in res.components)
        old = solve_joint(pairwise_only, prior=prior, max_assign=1, dp="bounds")
        assert old.posterior_upper is not None
        if any(np.isfinite(prob.log_lr[:, j]).any() for j in range(n_m)):
            outside_pairwise += int(np.any(old.posterior > marg + 1e-9) or np.any(marg > old.posterior_upper + 1e-9))
        noted = [c for c in old.components if c.method == "bounds" and "bound_note" in (c.diagnostics or {})]
        multi_in_comp = any(len({prob.family[m] for m in c.missing}) < len(c.missing) for c in old.components)
        assert bool(noted) == multi_in_comp
    assert outside_pairwise >= 10
    assert refined >= 5  # the exact partner sums (bound iii) are exercised, not only the cruder ones


def test_closed_component_is_not_bounded():
    with pytest.raises(ValueError, match="open"):
        posterior_bounds(np.zeros((2, 2)), np.array([0.0, -math.inf]))


def _incident_problem(inc):  # type: ignore[no-untyped-def]
    from dogtag.identify.dvi import FamilyLoglik
    from dogtag.identify.search import blind_search

    s = blind_search(inc.case)
    return JointProblem(tuple(s.samples), tuple(s.missing), tuple(s.family), s.log_lr, s.family_loglik,
                        s.sample_loglik, FamilyLoglik(inc.case, s.lineage_log_lr))


@pytest.mark.parametrize("seed", range(2))
def test_simulated_open_incident_exact_posteriors_within_the_bounds(seed):
    """A small open incident solved exactly (pruned, proven bound) and by bounds: the exact
    posteriors lie within the bounds, and the true pairings found exactly at >= 0.999 are
    bounded at >= 0.99."""
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(30, 30, degraded=0.3, unrelated=0.5,
                            relatives={"half-brother": 3, "cousin": 3, "uncle": 3}, seed=seed)
    prob = _incident_problem(inc)
    prior = Prior.open(len(prob.samples), len(prob.missing), 0.5)
    exact = solve_joint(prob, prior=prior)
    assert exact.posterior_upper is None and not exact.unresolved
    bound = max(float((c.diagnostics or {}).get("error_bound") or 0.0) for c in exact.components)
    res = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
    assert res.posterior_upper is not None
    np.testing.assert_array_less(res.posterior, exact.posterior + bound + 1e-9)
    np.testing.assert_array_less(exact.posterior, res.posterior_upper + bound + 1e-9)
    sure = exact.posterior[:, :-1] >= 0.999
    assert sure.sum() >= 5
    assert np.all(res.posterior[:, :-1][sure] >= 0.99)


def test_relatives_in_a_large_open_incident_are_never_claimed():
    """300 samples x 300 families, open: half-brothers, cousins and uncles of the missing (not
    missing themselves) and unrelated remains among them. The component is too big for exact
    methods and is bounded; no pairing at lower bound >= 0.99 is wrong, no relative has even an
    upper bound >= 0.99 with a missing person alone in his family (his kin's, among them; with a
    brother of a two-brother family the proven upper bound of a sample not refined by partner
    sums may be loose), and most missing persons present are found."""
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(300, 300, brothers=0.08, degraded=0.2, unrelated=0.4,
                            relatives={"half-brother": 20, "cousin": 20, "uncle": 20}, seed=5)
    prob = _incident_problem(inc)
    res = solve_joint(prob, prior=Prior.open(len(prob.samples), len(prob.missing), 0.5), time_limit=120)
    assert not res.unresolved
    assert "bounds" in {c.method for c in res.components}
    cols = res.columns
    alone = np.array([prob.family.count(f) == 1 for f in prob.family])
    found = 0
    for i, sid in enumerate(res.samples):
        for j in np.nonzero(res.posterior[i, :-1] >= 0.99)[0]:
            assert inc.truth[sid] == cols[j], (sid, cols[j], inc.kind[sid])
            found += 1
        if inc.kind[sid] in ("half-brother", "cousin", "uncle"):
            assert np.nanmax(res.posterior_upper[i, :-1][alone]) < 0.99, (sid, inc.kind[sid])
    listed = sum(1 for k in inc.kind.values() if k == "missing")
    assert found >= 0.7 * listed


def test_huge_open_component_is_bounded_at_once(monkeypatch):
    """An open component with more pairs than DENSE_OPEN_PAIRS goes straight to the bounds
    (options never listed), with the same bounds as the listed route, and its most probable
    assignment equals the exact one (pairs weighing less than "*" left out of the matching)."""
    import dogtag.identify.joint as joint

    rng = np.random.default_rng(17)
    for _ in range(40):
        n_s, n_m = int(rng.integers(2, 7)), int(rng.integers(2, 7))
        prob, prior, _ = _open_case(rng, n_s, n_m, n_multi=0)
        listed = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
        monkeypatch.setattr(joint, "DENSE_OPEN_PAIRS", 0)
        direct = solve_joint(prob, prior=prior)
        monkeypatch.undo()
        assert direct.method == "bounds"
        np.testing.assert_allclose(direct.posterior, listed.posterior, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(direct.posterior_upper, listed.posterior_upper, rtol=1e-12, atol=1e-300)
        exact = solve_joint(prob, prior=prior)
        assert direct.assignments[0].loglik == pytest.approx(exact.assignments[0].loglik, rel=1e-12, abs=1e-9)


def test_family_upper_term_bounds_every_conditional_term():
    """On simulated brother families (references: parents, a sister, paternal grandparents; clean
    and degraded samples), the proven upper bound of a sample's log LR on one brother is at least
    its pairwise log LR and its conditional log LR given each sample on the other brother; with both
    parents typed the brothers are independent given the references, and the bound is the pairwise
    LR itself. The partner sums (bound iii) equal sums of conditional LRs computed one by one."""
    from dogtag.identify.dvi import FamilyLoglik
    from dogtag.identify.search import blind_search
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(30, 12, brothers=1.0, degraded=0.3, unrelated=0.3, seed=11)
    case = inc.case
    s = blind_search(case)
    fl = FamilyLoglik(case, s.lineage_log_lr)
    sids = [x.id for x in case.pm]
    labels = case.missing_labels()
    rng = np.random.default_rng(5)
    k = 0
    kinds = set()
    for f in case.am:
        a, b = labels[k], labels[k + 1]
        k += 2
        for target, other in ((a, b), (b, a)):
            up = fl.upper_term(f.name, target, sids)
            pw = s.log_lr[:, s.missing.index(target)]
            assert np.all(up >= pw - 1e-9)
            for x in sids:
                fl.conditional_term(f.name, {other: x}, target, sids[0])
                cond = fl._cond[fl._cond_key(f.name, {other: x}, target)]
                assert np.all(cond <= up + 1e-9), (f.name, target, x)
            if set(f.genotypes) == {"FA", "MO"}:
                np.testing.assert_allclose(up, pw, rtol=1e-9, atol=1e-9)
            # the partner sums read off the tables equal those from each placement's own pedigree
            # computation (clean and degraded samples placed)
            # (most partners: the case's batch; a few: a batch of their own)
            for share in (0.2, 0.85):
                log_c = rng.normal(-3, 2, len(sids))
                log_c[rng.random(len(sids)) < share] = -np.inf
                got = fl.partner_sums(f.name, other, target, sids, sids, log_c)
                for si, x in enumerate(sids):
                    fl.conditional_term(f.name, {other: x}, target, sids[0])
                    cond = fl._cond[fl._cond_key(f.name, {other: x}, target)]
                    terms = np.array([log_c[r] + cond[r] for r in range(len(sids)) if r != si])
                    terms = terms[~np.isnan(terms)]
                    assert got[si] == pytest.approx(float(np.logaddexp.reduce(terms)), abs=1e-9)
        kinds.add(frozenset(f.genotypes))
    assert len(kinds) == 3


@pytest.mark.parametrize("seed", range(3))
def test_simulated_brothers_exact_posteriors_within_the_bounds(seed):
    """Small open incidents with two-brother families of every reference kind, solved exactly
    (joint family terms) and by the bounds: the exact posteriors lie within the proven bounds."""
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(7, 5, brothers=0.6, degraded=0.3, unrelated=0.3, seed=40 + seed)
    prob = _incident_problem(inc)
    prior = Prior.open(len(prob.samples), len(prob.missing), 0.5)
    exact = solve_joint(prob, prior=prior, max_assign=10**6)
    assert exact.method.startswith("exact")
    res = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
    assert res.posterior_upper is not None
    assert all("bound_note" not in (c.diagnostics or {}) for c in res.components)
    np.testing.assert_array_less(res.posterior, exact.posterior + 1e-9)
    np.testing.assert_array_less(exact.posterior, res.posterior_upper + 1e-9)


def test_conditioning_many_samples_by_the_chain_rule(monkeypatch):
    """condition_on with many samples takes a conditioned family's LRs from the conditional
    genotype distribution (one pedigree computation per missing person): the same LRs as one
    pedigree likelihood per sample."""
    import dogtag.identify.undisputed as und
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(24, 6, brothers=1.0, degraded=0.3, unrelated=0.3, seed=8)
    prob = _incident_problem(inc)
    # brothers of families without both parents typed (a placed brother changes the other's LR)
    weak = [k for k, f in enumerate(inc.case.am) if set(f.genotypes) != {"FA", "MO"}][:2]
    assert len(weak) == 2
    fixed = {prob.samples[0]: prob.missing[2 * weak[0]], prob.samples[3]: prob.missing[2 * weak[1]]}
    monkeypatch.setattr(und, "VECTOR_SAMPLES", 10**9)
    slow = und.condition_on(prob, fixed)
    monkeypatch.setattr(und, "VECTOR_SAMPLES", 0)
    fast = und.condition_on(prob, fixed)
    assert fast.samples == slow.samples and fast.missing == slow.missing
    # the brothers of the fixed ones have new LRs
    j = fast.missing.index(prob.missing[2 * weak[0] + 1])
    rows = [prob.samples.index(x) for x in fast.samples]
    assert np.abs(fast.log_lr[:, j] - prob.log_lr[rows, 2 * weak[0] + 1]).max() > 1e-3
    np.testing.assert_allclose(fast.log_lr, slow.log_lr, rtol=1e-9, atol=1e-9)


def test_batched_family_tables_equal_one_by_one():
    """The genotype tables of two-brother families (references: parents, a sister, paternal
    grandparents) computed for many families at once, by shape, equal those computed family by
    family through the general engine (every row, to rounding), and the batch is kept whole in
    the cache."""
    from dogtag.identify.dvi import FamilyLoglik
    from dogtag.scenario.incident import simulate_incident

    inc = simulate_incident(20, 9, brothers=1.0, degraded=0.3, unrelated=0.3, seed=11)
    case = inc.case
    labels = iter(case.missing_labels())
    pairs = [(f.name, next(labels)) for f in case.am for _ in f.missing]
    one, many = FamilyLoglik(case), FamilyLoglik(case)
    ref = {p: one._tables(*p) for p in pairs}
    many.prefetch_tables(pairs)
    assert len(many._table_cache) >= len(case.am)
    n_tables = 0
    for p in pairs:
        got = many._table_cache[many._table_key(*p)]
        for want_t, got_t in zip(ref[p][0], got[0], strict=True):
            assert (want_t is None) == (got_t is None)
            if want_t is not None:
                n_tables += want_t.shape[0] > 1
                np.testing.assert_allclose(got_t, want_t, rtol=0, atol=1e-13)
        for want_p, got_p in zip(ref[p][1], got[1], strict=True):
            np.testing.assert_allclose(got_p, want_p, rtol=0, atol=1e-13)
    assert n_tables >= 10
    assert len({frozenset(f.genotypes) for f in case.am}) == 3   # every kind of reference


def test_bounds_hold_when_the_partner_sums_run_out_of_time(monkeypatch):
    """With a time budget too short for every partner sum, the (family, direction) pairs share what
    is left, the most promising samples first; what is not refined keeps bounds (i)/(ii), and every
    exact pairing probability still lies within the bounds."""
    import time as _time

    from dogtag.identify import bounds, joint

    monkeypatch.setattr(bounds, "CLAIM", 0.0)
    monkeypatch.setattr(joint, "PARTNER_SECONDS", 0.05)
    rng = np.random.default_rng(77)
    refined = unrefined = 0
    for _ in range(30):
        prob, _pairwise, prior, weights = _raising_case(rng, int(rng.integers(3, 7)), int(rng.integers(3, 6)))
        fl = prob.family_loglik
        slow = fl.partner_sums

        def partner_sums(*args, slow=slow):  # type: ignore[no-untyped-def]
            _time.sleep(0.06)   # longer than the budget: the first sum spends it
            return slow(*args)

        fl.partner_sums = partner_sums
        _, _, _, marg, _ = _naive(prob, weights)
        res = solve_joint(prob, prior=prior, max_assign=1, dp="bounds")
        assert res.posterior_upper is not None
        np.testing.assert_array_less(res.posterior, marg + 1e-12)
        np.testing.assert_array_less(marg, res.posterior_upper + 1e-12)
        for c in res.components:
            refined += int((c.diagnostics or {}).get("refined_pairs", 0))
            unrefined += int((c.diagnostics or {}).get("unrefined_pairs", 0))
    assert refined > 0 and unrefined > 0
