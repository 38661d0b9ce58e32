"""Pedigree likelihoods: hand-worked values, a brute-force enumerator, and the pedsuite's golden values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.genetics.likelihood import conditional_genotypes, encode, loglik
from dogtag.genetics.markers import Marker
from dogtag.genetics.mutation import MutationModel
from dogtag.genetics.pedigree import Pedigree, parent_child
from dogtag.io.pedsuite_json import read_dvi_json, read_kinship_json

from conftest import GOLDEN, KINSHIP, kinship_case
from test_likelihood_engine import naive

# --- a slow, obvious reference ---------------------------------------------


def naive_likelihood(ped: Pedigree, marker: Marker, geno: dict[str, tuple[str, str]],
                     theta: float = 0.0) -> float:
    """Sum over every ordered genotype of every member (exponential; tiny pedigrees only)."""
    return naive(ped, encode(ped, marker, {k: {marker.name: g} for k, g in geno.items()}), theta)[0]


def _marker(n: int, seed: int, *, mutation: bool) -> Marker:
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(n))
    alleles = tuple(str(8 + i) for i in range(n))
    if not mutation:
        return Marker("M", alleles, q)

    def mut(rate: float) -> MutationModel:
        m = rng.dirichlet(np.ones(n), size=n) * rate + np.eye(n) * (1 - rate)
        return MutationModel("custom", m)

    return Marker("M", alleles, q, female=mut(0.05), male=mut(0.1))


def _ped(rows: list[tuple[str, str | None, str | None, int]]) -> Pedigree:
    return Pedigree.from_table(*zip(*rows, strict=True))  # type: ignore[arg-type]


# half-sib mating loop: A and B are paternal half-siblings, C is their child
LOOP = [("F", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
        ("A", "F", "M1", 1), ("B", "F", "M2", 2), ("C", "A", "B", 1)]
# first-cousin marriage (double loop through two founder couples)
TRIO = [("FA", None, None, 1), ("MO", None, None, 2), ("CH", "FA", "MO", 1)]
SIBS = [("FA", None, None, 1), ("MO", None, None, 2), ("S1", "FA", "MO", 1),
        ("S2", "FA", "MO", 2), ("S3", "FA", "MO", 1)]


@pytest.mark.parametrize("rows,n,typed", [
    (TRIO, 3, ["FA", "CH"]),
    (TRIO, 3, ["FA", "MO", "CH"]),
    (SIBS, 3, ["S1", "S2"]),
    (SIBS, 3, ["MO", "S1", "S3"]),
    (LOOP, 2, ["F", "C"]),
    (LOOP, 2, ["A", "B", "C"]),
    (LOOP, 2, ["C"]),
])
@pytest.mark.parametrize("mutation", [False, True])
@pytest.mark.parametrize("theta", [0.0, 0.05])
def test_engine_equals_brute_force(rows, n, typed, mutation, theta):
    ped = _ped(rows)
    rng = np.random.default_rng(len(rows) * 7 + n + len(typed))
    for seed in range(3):
        marker = _marker(n, seed, mutation=mutation)
        geno = {k: tuple(str(8 + a) for a in sorted(rng.integers(0, n, 2))) for k in typed}
        table = {k: {"M": g} for k, g in geno.items()}
        ref = naive_likelihood(ped, marker, geno, theta)
        got = loglik(ped, [marker], table, theta=theta)[0]
        if ref == 0:
            assert got == -math.inf
        else:
            assert got == pytest.approx(math.log(ref), abs=1e-12)


def test_paternity_index_by_hand():
    # Alleged father a/a, child a/b, mother untyped: the child's paternal allele is a, so
    # P(CH | AF) = p_b and P(CH) = 2 p_a p_b: PI = 1 / (2 p_a).
    q = np.array([0.1, 0.2, 0.3, 0.4])
    marker = Marker("M", ("1", "2", "3", "4"), q)
    trio = parent_child("AF", "CH")
    table = {"AF": {"M": ("1", "1")}, "CH": {"M": ("1", "2")}}
    h1 = loglik(trio, [marker], table)[0]
    unrelated = Pedigree.from_table(["AF", "CH"], [None, None], [None, None], [1, 1])
    h2 = loglik(unrelated, [marker], table)[0]
    # homozygous father a/a, child a/b: PI = 1 / (2 p_a)
    assert math.exp(h1 - h2) == pytest.approx(1 / (2 * 0.1), rel=1e-12)
    # P(AF = a/a) = p_a^2 under H2
    assert math.exp(h2) == pytest.approx(0.1**2 * 2 * 0.1 * 0.2, rel=1e-12)


def test_exclusion_is_zero_not_error():
    marker = Marker("M", ("1", "2", "3"), np.array([0.2, 0.3, 0.5]))
    trio = parent_child("AF", "CH")
    ll = loglik(trio, [marker], {"AF": {"M": ("1", "1")}, "CH": {"M": ("2", "3")}})
    assert ll[0] == -math.inf


def test_no_underflow_fifty_people_forty_markers():
    # a 50-person chain of full-sib families, everyone typed: likelihood far below 1e-308
    rows = [("F0", None, None, 1), ("M0", None, None, 2)]
    for g in range(1, 25):
        rows += [(f"F{g}", f"F{g - 1}", f"M{g - 1}", 1), (f"M{g}", None, None, 2)]
    ped = _ped(rows)
    rng = np.random.default_rng(1)
    markers = [_marker(10, s, mutation=True) for s in range(40)]
    markers = [Marker(f"M{i}", m.alleles, m.freqs, m.female, m.male) for i, m in enumerate(markers)]
    table = {k: {m.name: tuple(str(8 + a) for a in rng.integers(0, 10, 2)) for m in markers}
             for k in ped.ids}
    ll = loglik(ped, markers, table)
    assert np.all(np.isfinite(ll))
    assert ll.sum() < -708  # the plain product would underflow


def test_conditional_genotypes_by_hand():
    # a child of an a/a father and untyped mother: P(G = a/x) = p_x (x != a), P(a/a) = p_a
    q = np.array([0.1, 0.2, 0.7])
    marker = Marker("M", ("1", "2", "3"), q)
    trio = parent_child("AF", "CH")
    dist = conditional_genotypes(trio, [marker], {"AF": {"M": ("1", "1")}}, "CH")[0]
    i, j = np.triu_indices(3)
    expect = np.where(i == 0, q[j], 0.0)
    np.testing.assert_allclose(dist, expect, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(5))), st.integers(0, 1000))
def test_relabelling_members_changes_nothing(perm, seed):
    ped = _ped(SIBS)
    marker = _marker(4, seed, mutation=True)
    rng = np.random.default_rng(seed)
    table = {k: {"M": tuple(str(8 + a) for a in rng.integers(0, 4, 2))} for k in ("MO", "S1", "S2")}
    rows = ped.as_rows()
    shuffled = _ped([rows[k] for k in perm])
    assert loglik(shuffled, [marker], table)[0] == pytest.approx(loglik(ped, [marker], table)[0], abs=1e-12)


# --- golden values (R pedsuite: pedprobr 1.1.0, forrel 1.8.0) -----------------

@pytest.mark.parametrize("name", KINSHIP)
def test_golden_kinship_logliks(name):
    path, results = kinship_case(name)
    case = read_kinship_json(path)
    gold = json.loads(results.read_text())
    for hyp, g in zip(case.hypotheses, gold["likelihood"], strict=True):
        assert hyp.name == g["hypothesis"]
        ll = loglik(hyp.pedigree, case.markers, case.genotypes)
        for m, value in zip(case.markers, ll, strict=True):
            assert value == pytest.approx(g["perMarker"][m.name], abs=1e-9)
        assert ll.sum() == pytest.approx(g["loglik"], abs=1e-9)


DVI = sorted(p.name.removesuffix(".results.json") for p in (GOLDEN / "dvi").glob("*.results.json"))


@pytest.mark.parametrize("name", DVI)
def test_golden_family_logliks(name):
    case = read_dvi_json(GOLDEN / "dvi" / f"{name}.json")
    gold = json.loads((GOLDEN / "dvi" / f"{name}.results.json").read_text())
    by_family = {g["family"]: g for g in gold["familyLoglik"]}
    for fam in case.am:
        g = by_family[fam.name]
        ll = loglik(fam.pedigree, case.markers, fam.genotypes)
        for m, value in zip(case.markers, ll, strict=True):
            assert value == pytest.approx(g["perMarker"][m.name], abs=1e-9)
        assert ll.sum() == pytest.approx(g["loglik"], abs=1e-9)
