"""Blind search: dvir's pairwise LR and exclusion matrices, the matrix method, drop-out, top-K."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.dropout import observation_vector
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.identify.search import _family_logliks, blind_search, family_batch, family_logliks
from dogtag.io.pedsuite_json import read_dvi_json

from conftest import GOLDEN

DVI = sorted(p.name.removesuffix(".results.json") for p in (GOLDEN / "dvi").glob("*.results.json"))


def _gold(name: str, folder: str = "dvi"):
    case = read_dvi_json(GOLDEN / folder / f"{name}.json")
    gold = json.loads((GOLDEN / folder / f"{name}.results.json").read_text())
    return case, gold


def _align(res, block):
    si = [res.samples.index(v) for v in block["victims"]]
    mi = [res.missing.index(m) for m in block["missing"]]
    return np.ix_(si, mi)


@pytest.mark.parametrize("name", DVI)
def test_pairwise_lr_and_exclusions_equal_dvir(name):
    case, gold = _gold(name)
    res = blind_search(case)
    pw = gold["pairwise"]
    want = np.array([[np.nan if x is None else x for x in row] for row in pw["LR"]], dtype=float)
    got = res.lr[_align(res, pw)]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    cand = ~np.isnan(want)
    np.testing.assert_allclose(got[cand], want[cand], rtol=1e-9, atol=0)
    ex = gold["exclusionMatrix"]
    want_ex = np.array([[np.nan if x is None else x for x in row] for row in ex["nIncompatible"]], dtype=float)
    got_ex = res.exclusions[_align(res, ex)]
    np.testing.assert_array_equal(got_ex[cand], want_ex[cand])
    # null log-likelihoods
    for row in gold["familyLoglik"]:
        assert res.family_loglik[row["family"]] == pytest.approx(row["loglik"], abs=1e-9)
    for row in gold["victimLoglik"]:
        k = res.samples.index(row["victim"] if "victim" in row else row["id"])
        assert res.sample_loglik[k] == pytest.approx(row["loglik"], abs=1e-9)


@pytest.mark.parametrize("name", ["planecrash", "grave", "icmp", "exclusionExample", "fire"])
def test_matrix_method_equals_direct_likelihoods(name):
    case, _ = _gold(name)
    direct = blind_search(case)
    matrix = blind_search(case, refine=0, chunk=3)
    assert matrix.method.startswith("conditional")
    np.testing.assert_array_equal(np.isnan(direct.log_lr), np.isnan(matrix.log_lr))
    ok = np.isfinite(direct.log_lr)
    np.testing.assert_array_equal(np.isfinite(matrix.log_lr), np.isfinite(direct.log_lr))
    # equal up to the 1e-10 sum-to-one tolerance of the stored frequency databases
    np.testing.assert_allclose(matrix.log_lr[ok], direct.log_lr[ok], atol=1e-8, rtol=0)


def test_scale200_matrix_equals_dvir():
    case, gold = _gold("scale200", "synthetic")
    res = blind_search(case, workers=2, chunk=64)
    pw = gold["pairwise"]
    want = np.array([[np.nan if x is None else x for x in row] for row in pw["LR"]], dtype=float)
    got = res.lr[_align(res, pw)]
    cand = ~np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), ~cand)
    np.testing.assert_allclose(got[cand], want[cand], rtol=1e-9)


def test_top_k_equals_full_matrix():
    case, _ = _gold("exclusionExample")
    full = blind_search(case)
    top = blind_search(case, top=3, min_lr=1e6, refine=0)
    assert top.log_lr is None
    for s, sid in enumerate(full.samples):
        row = np.where(np.isnan(full.log_lr[s]), -np.inf, full.log_lr[s])
        best = sorted(np.nonzero(np.isfinite(row))[0], key=lambda j: -row[j])[:3]
        got = top.candidates[sid]
        assert [j for j, _, _ in got[:len(best)]][:1] == best[:1]
        assert all(got[k][1] >= got[k + 1][1] for k in range(len(got) - 1))
        for j, llr, exc in got:
            assert llr == pytest.approx(full.log_lr[s, j], abs=1e-8)
            assert exc == full.exclusions[s, j]
        above = {int(j) for j in np.nonzero(row >= math.log(1e6))[0]}
        assert above <= {j for j, _, _ in got}


def _trio_case(sample: Sample) -> DVICase:
    m = Marker("M", ("1", "2", "3", "4"), np.array([0.1, 0.2, 0.3, 0.4]))
    ped = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    fam = Family("F1", ped, ("MP",), {"FA": {"M": ("1", "2")}, "MO": {"M": ("3", "3")}})
    return DVICase([m], [sample], [fam])


def test_dropout_lr_by_hand():
    # The MP is 1/3 or 2/3 (each 1/2). The sample shows only allele 3 with drop-out d:
    # o(g) = d(1-d) for heterozygotes carrying 3, 1-d^2 for 3/3, else d^2 or 0.
    d = 0.3
    case = _trio_case(Sample("V", 1, {"M": ("3", "3")}, dropout=d))
    res = blind_search(case)
    q = case.markers[0].freqs
    o = observation_vector([2], q, dropout=d)
    i, j = np.triu_indices(4)
    hw = np.where(i == j, 1, 2) * q[i] * q[j]
    num = 0.5 * d * (1 - d) + 0.5 * d * (1 - d)  # 1/3 and 2/3 each lose their non-3 allele
    assert res.lr[0, 0] == pytest.approx(num / float(o @ hw), rel=1e-12)
    assert res.exclusions[0, 0] == 0
    # the matrix method agrees with direct likelihoods
    assert blind_search(case, refine=0).lr[0, 0] == pytest.approx(res.lr[0, 0], rel=1e-12)


def test_replicate_typings_multiply_their_observations_by_hand():
    # Two degraded typings of one person: one shows only allele 3, the other only allele 1.
    # Jointly only 1/3 fits (no drop-in): o1(g) o2(g) = d1(1-d1) d2(1-d2) at 1/3, 0 elsewhere,
    # so the LR is that of a clean 1/3 call, P(1/3 | FA 1/2, MO 3/3) / P_pop(1/3) = 0.5 / (2 .1 .3).
    d1, d2 = 0.3, 0.2
    a = Sample("V", 1, {"M": ("3", "3")}, dropout=d1)
    b = Sample("V-2", 1, {"M": ("1", "1")}, dropout=d2)
    both = dataclasses.replace(a, replicates=(b,))
    res = blind_search(_trio_case(both))
    assert res.lr[0, 0] == pytest.approx(0.5 / (2 * 0.1 * 0.3), rel=1e-12)
    assert blind_search(_trio_case(both), refine=0).lr[0, 0] == pytest.approx(res.lr[0, 0], rel=1e-12)
    assert blind_search(_trio_case(dataclasses.replace(b, id="V", replicates=(a,)))).lr[0, 0] == pytest.approx(
        res.lr[0, 0], rel=1e-12)
    # each typing alone weighs less (the first is test_dropout_lr_by_hand's 0.5 d(1-d) x 2 / o.hw)
    alone = blind_search(_trio_case(a)).lr[0, 0]
    assert alone < res.lr[0, 0]


def test_replicates_at_disjoint_markers_equal_one_profile_of_their_union():
    ms = [Marker(n, ("1", "2", "3"), np.array([0.2, 0.3, 0.5])) for n in ("M1", "M2", "M3")]
    ped = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    fam = Family("F1", ped, ("MP",), {"MO": {"M1": ("1", "2"), "M2": ("3", "3"), "M3": ("2", "3")}})
    union = Sample("V", 1, {"M1": ("1", "3"), "M2": ("3", "2"), "M3": ("3", "3")})
    split = Sample("V", 1, {"M1": ("1", "3")}, replicates=(Sample("V-2", 1, {"M2": ("3", "2")}),
                                                            Sample("V-3", 1, {"M3": ("3", "3")})))
    for refine in (0, 10):
        want = blind_search(DVICase(ms, [union], [fam]), refine=refine).log_lr[0, 0]
        got = blind_search(DVICase(ms, [split], [fam]), refine=refine).log_lr[0, 0]
        assert got == pytest.approx(want, rel=1e-12) and want > 0


def test_replicates_that_exclude_each_other_are_named():
    b = Sample("V-2", 1, {"M": ("1", "2")})
    with pytest.raises(InconsistentCaseError, match="V: its typings exclude each other at M"):
        blind_search(_trio_case(Sample("V", 1, {"M": ("3", "4")}, replicates=(b,))))


def test_sex_and_unknown_sex():
    case = _trio_case(Sample("V", 2, {"M": ("1", "3")}))
    assert np.isnan(blind_search(case).log_lr[0, 0])
    case = _trio_case(Sample("V", 0, {"M": ("1", "3")}))
    # unknown sex: a candidate. FA 1/2 x MO 3/3 gives 1/3 with probability 1/2; HW 2 * 0.1 * 0.3
    assert blind_search(case).lr[0, 0] == pytest.approx(0.5 / (2 * 0.1 * 0.3), rel=1e-12)


def test_inconsistent_cases_are_named():
    m = Marker("M", ("1", "2"), np.array([0.5, 0.5]))
    ped = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    fam = Family("F1", ped, ("MP",), {"FA": {"X9": ("1", "2")}})
    with pytest.raises(InconsistentCaseError, match="X9"):
        blind_search(DVICase([m], [Sample("V", 1, {"M": ("1", "2")})], [fam]))
    fam = Family("F1", ped, ("NOBODY",), {})
    with pytest.raises(InconsistentCaseError, match="NOBODY"):
        blind_search(DVICase([m], [Sample("V", 1, {"M": ("1", "2")})], [fam]))
    fam = Family("F1", ped, ("MP",), {})
    with pytest.raises(InconsistentCaseError, match="twice"):
        blind_search(DVICase([m], [Sample("V", 1, {}), Sample("V", 1, {})], [fam]))


@pytest.mark.parametrize("name", ["planecrash", "exclusionExample", "KETPchap484"])
def test_any_split_of_families_gives_the_same_columns(name):
    # the Dask backend computes the families in batches: a family's conditionals and
    # null log-likelihood must not depend, even in the last bit, on the others in its batch
    case, _ = _gold(name)
    mk = case.markers
    whole = family_batch(case.am, mk)
    rng = np.random.default_rng(3)
    cuts = [list(range(len(case.am) + 1)),
            [0, *sorted(rng.choice(np.arange(1, len(case.am)), size=2, replace=False).tolist()), len(case.am)]]
    for cut in cuts:
        parts = [family_batch(case.am[a:b], mk) for a, b in itertools.pairwise(cut)]
        for field in ("cond", "logp", "support"):
            for j in range(len(mk)):
                np.testing.assert_array_equal(
                    np.concatenate([getattr(p, field)[j] for p in parts], axis=1), getattr(whole, field)[j])
        np.testing.assert_array_equal(np.concatenate([p.typed for p in parts], axis=1), whole.typed)
        ll = {}
        for a, b in itertools.pairwise(cut):
            ll.update(_family_logliks(case.am[a:b], mk))
        assert ll == family_logliks(case)


def _degraded_planecrash() -> DVICase:
    """planecrash with every third sample degraded and every third half-typed at one marker."""
    case, _ = _gold("planecrash")
    pm = []
    for i, s in enumerate(case.pm):
        if i % 3 == 1:
            s = dataclasses.replace(s, dropout=0.2, dropin=0.05)
        elif i % 3 == 2:
            first = next(iter(s.genotypes))
            s = dataclasses.replace(s, genotypes={**s.genotypes, first: (s.genotypes[first][0], None)})
        pm.append(s)
    return DVICase(case.markers, pm, case.am, case.name)


def test_top_k_exclusions_of_degraded_and_half_typed_samples():
    # top-K counts exclusions for the kept pairs only: with every pair kept, they must
    # equal the full matrix's, for clean, degraded and half-typed samples alike
    case = _degraded_planecrash()
    full = blind_search(case, refine=0)
    top = blind_search(case, top=len(full.missing), chunk=2, refine=0)
    n_kept = 0
    for s, sid in enumerate(full.samples):
        for j, llr, exc in top.candidates[sid]:
            assert llr == full.log_lr[s, j]
            assert exc == full.exclusions[s, j]
            n_kept += 1
    assert n_kept == int((~np.isnan(full.log_lr)).sum())
    assert full.exclusions.any()


@pytest.mark.parametrize("theta", [0.0, 0.02])
def test_column_blocks_and_threads_give_the_same_matrix_and_candidates(monkeypatch, theta):
    # wide tiles are worked on in blocks of columns (for the cache): any width, and any number
    # of threads, gives the same LRs, exclusions and kept pairs, bit for bit, for clean,
    # degraded and half-typed samples
    import dogtag.identify.search as search

    case = _degraded_planecrash()
    whole_full = blind_search(case, refine=0, theta=theta)
    whole_top = blind_search(case, top=2, min_lr=10.0, theta=theta)
    monkeypatch.setattr(search, "BLOCK_COLUMNS", 2)
    fb = family_batch(case.am, case.markers, theta=theta)
    kept_blocks = search.column_blocks(fb)
    assert len(kept_blocks) == 3
    consumed = search.column_blocks(fb, consume=True)     # the batch's arrays dropped as they are cut
    assert fb.cond == fb.logp == fb.support == []
    for (c0, a), (c1, b) in zip(kept_blocks, consumed, strict=True):
        assert c0 == c1
        for field in ("cond", "logp", "support", "cond_unrelated", "logp_unrelated"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None) == (theta == 0 and field.endswith("unrelated"))
            for u, v in zip(x or [], y or [], strict=True):
                np.testing.assert_array_equal(u, v)
    # and two threads: the markers' conditionals dealt out between them, tiles in both
    full = blind_search(case, refine=0, theta=theta, chunk=3, workers=2)
    top = blind_search(case, top=2, min_lr=10.0, theta=theta, chunk=3, workers=2)
    assert full.family_loglik == whole_full.family_loglik
    np.testing.assert_array_equal(full.sample_loglik, whole_full.sample_loglik)
    for field in ("log_lr", "exclusions", "markers_used", "evidence"):
        np.testing.assert_array_equal(getattr(full, field), getattr(whole_full, field))
    assert top.candidates == whole_top.candidates and top.candidate_evidence == whole_top.candidate_evidence
    for s, sid in enumerate(full.samples):       # and the kept pairs are the full matrix's best
        row = np.where(np.isnan(full.log_lr[s]), -np.inf, full.log_lr[s])
        best = sorted(range(row.size), key=lambda j: (-row[j], j))[:2]
        assert [j for j, _, _ in top.candidates[sid]][:2] == [j for j in best if not np.isnan(full.log_lr[s, j])]
        assert all(llr == full.log_lr[s, j] and e == full.exclusions[s, j] for j, llr, e in top.candidates[sid])


def test_families_with_the_same_data_are_computed_once_and_agree_with_alone():
    # distinct allele arrays are computed once per shape; a family repeated under other names
    # gets the columns and null log-likelihood it gets alone, bit for bit
    case, _ = _gold("planecrash")
    fam = case.am[0]
    copies = [dataclasses.replace(fam, name=f"{fam.name}-{k}") for k in range(3)]
    alone = family_batch([fam], case.markers)
    many = family_batch([*copies, *case.am[1:], fam], case.markers)
    m = len(fam.missing)
    for j in range(len(case.markers)):
        for field in ("cond", "logp", "support"):
            a = getattr(alone, field)[j]
            for c0 in (0, m, 2 * m, getattr(many, field)[j].shape[1] - m):
                np.testing.assert_array_equal(getattr(many, field)[j][:, c0:c0 + m], a)
    ll = _family_logliks([*copies, fam], case.markers)
    assert set(ll.values()) == {family_logliks(dataclasses.replace(case, am=[fam]))[fam.name]}
