"""Y-STR: parsing, paternal-relative likelihoods by hand, counting, discrete Laplace fit."""

from __future__ import annotations

import numpy as np
import pytest

from dogtag.errors import DataFormatError, DogtagError
from dogtag.genetics import ystr

from conftest import EXAMPLES


def hap(id="x", **loci):
    return ystr.YHaplotype.parse({k: str(v) for k, v in loci.items()}, id=id)


def test_parse_multicopy_null_untyped():
    h = ystr.YHaplotype.parse({"DYS19": "14", "DYS385a/b": "14,11", "DYS439": "null",
                               "DYS390": "", "Y-GATA-H4": "12"}, id="p")
    assert h.alleles == {"DYS19": (14.0,), "DYS385": (11.0, 14.0), "DYS439": (), "YGATAH4": (12.0,)}
    assert h.text("DYS385") == "11,14" and h.text("DYS439") == "null"


def test_bad_allele_names_profile_and_locus():
    with pytest.raises(DataFormatError, match=r"'P9'.*DYS19.*'1x'"):
        ystr.YHaplotype.parse({"DYS19": "1x"}, id="P9")


def test_unknown_locus_names_profile_and_token():
    with pytest.raises(DataFormatError, match=r"'P2'.*unknown Y-STR locus 'D8S1179'"):
        ystr.YHaplotype.parse({"DYS19": "14", "D8S1179": "12"}, id="P2")
    ok = ystr.YHaplotype.parse({"DYS389I": "13", "DYS389II": "29", "DYF387S1": "35,37", "DYS385a/b": "11,14",
                                "Y-GATA-H4": "12", "DYS385a": "11"}, id="P3")
    assert set(ok.alleles) == {"DYS389I", "DYS389II", "DYF387S1", "DYS385", "YGATAH4", "DYS385A"}


def test_rates():
    r = ystr.YMutationRates.default()
    assert r.rate("DYS19") == pytest.approx(36 / 16090)
    assert r.rate("DYS385") == pytest.approx(32 / 26171)
    with pytest.raises(DogtagError, match="DYS999"):
        r.rate("DYS999")


def test_step_distribution_by_hand():
    mu = 0.01
    d1 = ystr.step_distribution(mu, 1)
    assert d1.tolist() == pytest.approx([0.005, 0.99, 0.005])
    d2 = ystr.step_distribution(mu, 2)
    # two meioses: net 0 = stay-stay or +1-1 or -1+1; net +1 = one step and one stay (2 orders)
    assert d2[2] == pytest.approx(0.99**2 + 2 * 0.005**2)
    assert d2[3] == pytest.approx(2 * 0.99 * 0.005)
    assert d2[4] == pytest.approx(0.005**2)
    assert d2.sum() == pytest.approx(1.0)


def test_compare_by_hand():
    rates = ystr.YMutationRates({"DYS19": 0.002, "DYS390": 0.004, "DYS385": 0.001})
    a = hap("a", DYS19=14, DYS390=24, DYS385="11,14")
    same = ystr.compare(a, hap("b", DYS19=14, DYS390=24, DYS385="11,14"), meioses=2, rates=rates)
    assert same.verdict == "match"
    assert same.likelihood == pytest.approx((0.998**2 + 2 * 0.001**2) * (0.996**2 + 2 * 0.002**2)
                                            * (0.999**2 + 2 * 0.0005**2) ** 2)
    one = ystr.compare(a, hap("b", DYS19=15, DYS390=24, DYS385="11,14"), meioses=1, rates=rates)
    assert one.likelihood == pytest.approx(0.001 * 0.996 * 0.999**2)
    assert one.differences == (("DYS19", "14", "15"),)
    dup = ystr.compare(a, hap("b", DYS19="14,15", DYS390=24, DYS385="11,14"), meioses=1, rates=rates)
    assert dup.likelihood == 0 and dup.incompatible == ("DYS19",) and dup.verdict == "exclusion"
    micro = ystr.compare(a, hap("b", DYS19=14.2, DYS390=24), meioses=1, rates=rates)
    assert micro.likelihood == 0 and micro.loci == ("DYS19", "DYS390")


def test_matrix_equals_pairwise():
    rng = np.random.default_rng(3)
    rates = ystr.YMutationRates.default()
    hs = []
    for i in range(25):
        d = {"DYS19": str(14 + rng.integers(-1, 2)), "DYS390": str(24 + rng.integers(-1, 2)),
             "DYS385": f"{11 + rng.integers(0, 2)},{14 + rng.integers(0, 2)}",
             "DYS439": "null" if i == 3 else str(12 + rng.integers(-1, 2))}
        if i == 5:
            d["DYS385"] = "11"
        if i == 7:
            d.pop("DYS390")
        hs.append(ystr.YHaplotype.parse(d, id=f"h{i}"))
    a, b = ystr.YPanel.from_haplotypes(hs[:10]), ystr.YPanel.from_haplotypes(hs[10:] + hs[:3])
    m = np.array([1, 2, 3, 4, 5, 6] * 3)
    got = ystr.relative_likelihood_matrix(a, b, m, rates=rates)
    refs = hs[10:] + hs[:3]
    want = np.array([[ystr.compare(r, s, meioses=int(m[j]), rates=rates).likelihood
                      for j, r in enumerate(refs)] for s in hs[:10]])
    assert got == pytest.approx(want, rel=1e-12)


def test_count_frequencies():
    db = [hap(f"d{i}", DYS19=14, DYS390=24) for i in range(3)] + \
         [hap(f"e{i}", DYS19=15, DYS390=24) for i in range(6)] + [hap("short", DYS19=14)]
    q = ystr.YPanel.from_haplotypes([hap("q", DYS19=14, DYS390=24)], loci=("DYS19", "DYS390"))
    x, n, _ub = ystr.count_frequencies(q, ystr.YPanel.from_haplotypes(db, loci=("DYS19", "DYS390")))
    assert (x[0], n[0]) == (3, 9)


def test_dl_pmf_sums_to_one():
    d = np.arange(-200, 201)
    for p in (0.05, 0.3, 0.7):
        assert np.exp(ystr.dl_logpmf(d, np.float64(p))).sum() == pytest.approx(1.0)
    assert np.exp(ystr.dl_logpmf(np.array([0]), np.float64(0.25)))[0] == pytest.approx(0.75 / 1.25)


def test_discrete_laplace_recovers_simulated_parameters():
    true = ystr.DiscreteLaplaceMixture(
        ("A", "B", "C", "D", "E"),
        centers=np.array([[14, 12, 24, 10, 30], [17, 13, 21, 11, 28], [15, 16, 23, 14, 33]]),
        p=np.array([[0.10, 0.20, 0.15, 0.05, 0.30], [0.25, 0.10, 0.20, 0.15, 0.10],
                    [0.15, 0.30, 0.05, 0.20, 0.20]]),
        tau=np.array([0.5, 0.3, 0.2]), loglik=0.0)
    x = true.sample(6000, seed=11)
    rows, counts = np.unique(x, axis=0, return_counts=True)
    fit = ystr.fit_discrete_laplace(rows, 3, counts=counts.astype(float), seed=2)
    order = [int(np.argmin(np.abs(fit.centers - c).sum(axis=1))) for c in true.centers]
    assert sorted(order) == [0, 1, 2]
    assert np.array_equal(fit.centers[order], true.centers)
    assert fit.tau[order] == pytest.approx(true.tau, abs=0.03)
    assert fit.p[order] == pytest.approx(true.p, abs=0.04)
    # the fitted frequencies agree with the true ones
    top = rows[np.argsort(-counts)[:5]]
    assert fit.prob(top) == pytest.approx(true.prob(top), rel=0.15)


def test_discrete_laplace_on_danes():
    lines = (EXAMPLES / "danes.txt").read_text().split("\n")
    head = lines[0].split()
    rows = [list(map(int, ln.split())) for ln in lines[1:] if ln.strip()]
    arr = np.array(rows)
    x, n = arr[:, :-1], arr[:, -1].astype(float)
    assert n.sum() == 185 and head[-1] == "n"
    fit = ystr.fit_discrete_laplace(x, 4, counts=n, seed=1, loci=head[:-1])
    probs = fit.prob(x)
    assert np.all(probs > 0) and probs.sum() < 1
    assert fit.loglik > ystr.fit_discrete_laplace(x, 1, counts=n, seed=1).loglik
