"""Observation vectors for drop-out / drop-in (dogtag.genetics.dropout)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dogtag.genetics.dropout import (
    genotype_index,
    hardy_weinberg,
    n_genotypes,
    observation_matrix,
    observation_vector,
)

P = np.array([0.1, 0.2, 0.3, 0.4])


def test_genotype_index_matches_triu_order():
    for n in range(1, 7):
        i, j = np.triu_indices(n)
        for k, (a, b) in enumerate(zip(i, j, strict=True)):
            assert genotype_index(int(a), int(b), n) == k
            assert genotype_index(int(b), int(a), n) == k
        assert n_genotypes(n) == len(i)


def test_hardy_weinberg_sums_to_one():
    hw = hardy_weinberg(P)
    assert hw.sum() == pytest.approx(1.0, abs=1e-15)
    assert hw[genotype_index(0, 0, 4)] == pytest.approx(0.01)
    assert hw[genotype_index(1, 3, 4)] == pytest.approx(2 * 0.2 * 0.4)


def test_clean_profile_is_indicator():
    o = observation_vector([1, 3], P)
    expect = np.zeros(10)
    expect[genotype_index(1, 3, 4)] = 1
    np.testing.assert_array_equal(o, expect)
    o = observation_vector([2], P)
    expect = np.zeros(10)
    expect[genotype_index(2, 2, 4)] = 1
    np.testing.assert_array_equal(o, expect)


def test_untyped_is_all_ones():
    np.testing.assert_array_equal(observation_vector([], P, dropout=0.3), np.ones(10))


def test_hand_worked_values():
    d, c = 0.2, 0.05
    o = observation_vector([0], P, dropout=d, dropin=c)
    n = 4
    # true (0,0): seen (1 - d^2), no drop-in (1 - c)
    assert o[genotype_index(0, 0, n)] == pytest.approx((1 - d * d) * (1 - c))
    # true (0,1): 0 seen, 1 dropped, no drop-in
    assert o[genotype_index(0, 1, n)] == pytest.approx((1 - d) * d * (1 - c))
    # true (1,2): both dropped, allele 0 dropped in
    assert o[genotype_index(1, 2, n)] == pytest.approx(d * d * c * P[0])
    # true (1,1): homozygote lost (d^2), allele 0 dropped in
    assert o[genotype_index(1, 1, n)] == pytest.approx(d * d * c * P[0])
    o = observation_vector([0, 1], P, dropout=d, dropin=c)
    assert o[genotype_index(0, 1, n)] == pytest.approx((1 - d) ** 2 * (1 - c))
    assert o[genotype_index(0, 0, n)] == pytest.approx((1 - d * d) * c * P[1])
    assert o[genotype_index(0, 2, n)] == pytest.approx((1 - d) * d * c * P[1])
    assert o[genotype_index(2, 3, n)] == pytest.approx(d * d * c * P[0] * c * P[1])


def test_dropout_only_is_a_distribution_over_observations():
    """Without drop-in, summing P(E | g) over all observable sets E gives 1 for every g."""
    d = 0.35
    n = 4
    total = np.zeros(n_genotypes(n))
    for size in range(0, 3):
        for obs in itertools.combinations(range(n), size):
            if size == 0:
                # nothing observed: both alleles dropped (not "untyped")
                gi, gj = np.triu_indices(n)
                total += np.where(gi == gj, d * d, d * d)
            else:
                total += observation_vector(list(obs), P, dropout=d)
    np.testing.assert_allclose(total, 1.0, atol=1e-14)


def test_observation_matrix_agrees_with_vector():
    profiles = [[0, 1], [2], [], [1, 3]]
    m = observation_matrix(profiles, P, dropout=[0, 0.1, 0.2, 0], dropin=[0, 0.01, 0, 0])
    assert m.shape == (4, 10)
    for k, (obs, d, c) in enumerate(
        zip(profiles, [0, 0.1, 0.2, 0], [0, 0.01, 0, 0], strict=True)
    ):
        np.testing.assert_allclose(m[k], observation_vector(obs, P, dropout=d, dropin=c))


def test_bad_arguments():
    with pytest.raises(ValueError, match="dropout"):
        observation_vector([0], P, dropout=1.0)
    with pytest.raises(ValueError, match="out of range"):
        observation_vector([7], P)
    with pytest.raises(ValueError, match="alleles observed"):
        observation_matrix([[0, 1, 2]], P)
