"""The families' side of the blind search (dogtag.identify.families): null log-likelihoods from
the normaliser of the missing person's distribution, the support without mutation, the reading."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.likelihood import (
    MarkerData,
    conditional_genotypes,
    loglik,
    same_shape_batch,
    same_shape_support,
    target_adds_founder_alleles,
)
from dogtag.genetics.markers import Marker
from dogtag.genetics.mutation import MutationModel
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family
from dogtag.identify.search import family_batch_logliks, family_logliks

from test_likelihood_engine import _random_pedigree, naive


def _marker(rng: np.random.Generator, n: int, name: str, mutation: bool, total: float) -> Marker:
    """A marker whose frequencies sum to ``total`` (databases need not sum to 1)."""
    q = rng.dirichlet(np.ones(n)) * total
    alleles = tuple(str(8 + i) for i in range(n))
    if not mutation:
        return Marker(name, alleles, q)

    def mut(rate: float) -> MutationModel:
        return MutationModel("custom", rng.dirichlet(np.ones(n), size=n) * rate + np.eye(n) * (1 - rate))

    return Marker(name, alleles, q, female=mut(0.05), male=mut(0.1))


_TRIO = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
_SIBS = Pedigree.from_table(["FA", "MO", "S1", "MP"], [None, None, "FA", "FA"], [None, None, "MO", "MO"],
                            [1, 2, 2, 1])


def _random_family(rng: np.random.Generator, name: str, markers: list[Marker]) -> Family:
    """A random pedigree of 2-4 members, or a trio or two full siblings (the last one missing)."""
    kind = rng.integers(0, 3)
    if kind == 0:
        size = int(rng.integers(2, 5))
        ped = _random_pedigree(rng, size)
        missing = tuple(sorted(rng.choice(ped.ids, size=int(rng.integers(1, min(size, 2) + 1)), replace=False)))
    else:
        ped = _TRIO if kind == 1 else _SIBS
        missing = ("MP",)
    geno: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    for member in ped.ids:
        row = {}
        for m in markers:
            # missing persons are sometimes typed too (their data are not used for their own distribution)
            if rng.random() < (0.25 if member in missing else 0.6):
                a, b = rng.integers(0, m.n_alleles, size=2)
                row[m.name] = (m.alleles[a], m.alleles[b])
        if row:
            geno[member] = row
    return Family(name, ped, missing, geno)


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("seed", range(6))
def test_null_loglik_equals_brute_force(seed, theta):
    # each family's null log-likelihood (its data alone, taken from the normaliser of its missing
    # person's distribution where that is the same) against a sum over every genotype of every member
    rng = np.random.default_rng(seed)
    markers = [_marker(rng, 3, "M1", True, 1.0), _marker(rng, 3, "M2", False, 1.0)]
    fams = [_random_family(rng, f"F{i}", markers) for i in range(12)]
    got = family_logliks(DVICase(markers, [], fams), theta=theta)
    kinds = set()
    for fam in fams:
        ped = fam.pedigree
        want = 0.0
        for m in markers:
            typed = {ped.index(x): (m.index(g[0]), m.index(g[1]))
                     for x, row in fam.genotypes.items() for mk, g in row.items() if mk == m.name}
            lik = naive(ped, MarkerData(m, typed), theta)[0]
            want += math.log(lik) if lik > 0 else -math.inf
            mp = ped.index(fam.missing[0])
            kinds.add(target_adds_founder_alleles(ped, sorted(set(typed) - {mp}), mp) or mp in typed)
        assert got[fam.name] == pytest.approx(want, rel=1e-12, abs=1e-12) or got[fam.name] == want == -math.inf
    assert kinds == {True, False}      # both ways of computing it were exercised


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("seed", range(6))
def test_null_loglik_equals_the_likelihood_of_the_data_when_frequencies_do_not_sum_to_one(seed, theta):
    # databases that sum to 0.93: a missing person who brings founder alleles into the computation
    # would be off by a factor of 0.93 per allele if its normaliser were used; the likelihood of the
    # data alone (untyped members without typed descendants pruned, as pedprobr does) is the reference
    rng = np.random.default_rng(50 + seed)
    markers = [_marker(rng, 4, "M1", True, 0.93), _marker(rng, 4, "M2", False, 0.93)]
    fams = [_random_family(rng, f"F{i}", markers) for i in range(10)]
    got = family_logliks(DVICase(markers, [], fams), theta=theta)
    for fam in fams:
        want = float(np.sum(loglik(fam.pedigree, markers, fam.genotypes, theta=theta)))
        assert got[fam.name] == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_null_loglik_when_the_missing_person_brings_a_founder():
    # FA typed 8/9, MP his child by an untyped mother: the likelihood is 2 p8 p9 (the mother and
    # MP sum out); summing MP's distribution instead would give 2 p8 p9 (p8 + p9 + p10) = 2 p8 p9 0.9
    q = np.array([0.2, 0.3, 0.4])
    m = Marker("M", ("8", "9", "10"), q)
    ped = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    fam = Family("F", ped, ("MP",), {"FA": {"M": ("8", "9")}})
    assert target_adds_founder_alleles(ped, [0], 2)
    trio = Family("T", ped, ("MP",), {"FA": {"M": ("8", "9")}, "MO": {"M": ("10", "10")}})
    assert not target_adds_founder_alleles(ped, [0, 1], 2)
    fb, ll = family_batch_logliks([fam, trio], [m])
    assert ll["F"] == pytest.approx(math.log(2 * 0.2 * 0.3), rel=1e-14)
    assert ll["T"] == pytest.approx(math.log(2 * 0.2 * 0.3 * 0.4 ** 2), rel=1e-14)
    # MP's distribution: 8 or 9 from the father, any allele from the mother, by frequency
    i, j = np.triu_indices(3)
    want = np.zeros(6)
    for a in (0, 1):
        for b in range(3):
            want[(i == min(a, b)) & (j == max(a, b))] += 0.5 * q[b] / 0.9
    np.testing.assert_allclose(fb.cond[0][:, 0], want, rtol=1e-14)


@pytest.mark.parametrize("seed", range(8))
def test_support_equals_where_the_probabilities_without_mutation_are_positive(seed):
    rng = np.random.default_rng(100 + seed)
    ped = _random_pedigree(rng, int(rng.integers(3, 6)))
    target = int(rng.integers(0, len(ped)))
    typed = sorted(rng.choice([k for k in range(len(ped)) if k != target], size=2, replace=False).tolist())
    q = rng.dirichlet(np.ones(6)) * 0.98
    q[int(rng.integers(0, 6))] = 0.0              # an allele of frequency 0
    m = _marker(rng, 6, "M", True, 1.0)
    m = Marker("M", m.alleles, q, female=m.female, male=m.male)
    alleles = rng.integers(0, 6, size=(9, len(typed), 2))
    got = same_shape_support(ped, m, typed, alleles, target=target)
    want = same_shape_batch(ped, m, typed, alleles, target=target, mutation=False) > 0
    np.testing.assert_array_equal(got, want)
    assert same_shape_support(ped, m, typed, alleles[:1], target=target).tolist() == got[:1].tolist()


def test_reading_errors_name_the_family_member_and_marker():
    m = Marker("M", ("8", "9"), np.array([0.5, 0.5]))
    ped = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    bad = Family("F7", ped, ("MP",), {"FA": {"M": ("8", "11")}})
    with pytest.raises(InconsistentCaseError, match=r"F7: FA's genotype \('8', '11'\) at M"):
        family_batch_logliks([bad], [m])
    stranger = Family("F8", ped, ("MP",), {"XX": {"M": ("8", "9")}})
    with pytest.raises(InconsistentCaseError, match="F8: typed member 'XX' is not in its pedigree"):
        family_batch_logliks([stranger], [m])


def test_exchanged_sibling_genotypes_and_allele_order_give_the_same_columns():
    # a genotype is unordered, and two typed full siblings without children are interchangeable:
    # their rows are made canonical before the distinct ones are computed, so these families
    # share one row, and it equals the direct conditional distribution of the missing brother
    rng = np.random.default_rng(7)
    markers = [_marker(rng, 9, "M1", True, 1.0), _marker(rng, 6, "M2", False, 1.0)]
    ped = Pedigree.from_table(["FA", "MO", "S1", "S2", "MP", "X"], [None, None, "FA", "FA", "FA", None],
                              [None, None, "MO", "MO", "MO", None], [1, 2, 2, 1, 1, 2])
    g1 = {"M1": ("8", "12"), "M2": ("9", "9")}
    g2 = {"M1": ("10", "11"), "M2": ("8", "10")}
    flip = {k: (b, a) for k, (a, b) in g2.items()}
    fams = [Family("A", ped, ("MP",), {"S1": g1, "S2": g2}), Family("B", ped, ("MP",), {"S1": flip, "S2": g1}),
            Family("C", ped, ("MP",), {"S2": g1, "S1": g2, "X": {"M1": ("8", "8")}})]
    fb, ll = family_batch_logliks(fams, markers)
    for j, m in enumerate(markers):
        np.testing.assert_array_equal(fb.cond[j][:, 0], fb.cond[j][:, 1])
        np.testing.assert_array_equal(fb.cond[j][:, 0], fb.cond[j][:, 2])
        want = conditional_genotypes(ped, [m], fams[0].genotypes, "MP")[0]
        np.testing.assert_allclose(fb.cond[j][:, 0], want, rtol=1e-12, atol=1e-15)
    assert ll["A"] == ll["B"]
    assert ll["A"] == pytest.approx(float(np.sum(loglik(ped, markers, fams[0].genotypes))), rel=1e-12)
    assert ll["C"] == pytest.approx(float(np.sum(loglik(ped, markers, fams[2].genotypes))), rel=1e-12)


def test_only_childless_children_of_the_same_parents_are_interchangeable():
    from dogtag.identify.families import _twins

    ped = Pedigree.from_table(["FA", "MO", "S1", "S2", "S3", "W", "K"], [None, None, "FA", "FA", "FA", None, "S3"],
                              [None, None, "MO", "MO", "MO", None, "W"], [1, 2, 2, 1, 1, 2, 1])
    assert _twins(ped, [0, 1, 2, 3, 4, 6]) == [[2, 3]]     # S3 has a child; FA, MO are founders
    assert _twins(ped, [2, 4]) == []
