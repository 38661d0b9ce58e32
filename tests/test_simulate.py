"""Simulation: exact conditional draws, checked against the engine and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from dogtag.genetics.likelihood import conditional_genotypes
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import full_siblings, parent_child
from dogtag.genetics.simulate import simulate_profiles

from test_likelihood import _marker


def test_seeded_and_reproducible():
    ped = full_siblings("A", "B")
    m = _marker(5, 1, mutation=True)
    a = simulate_profiles(ped, [m], members=["A", "B"], nsim=20, seed=7)
    b = simulate_profiles(ped, [m], members=["A", "B"], nsim=20, seed=7)
    assert a == b


def test_unconditional_founder_frequencies():
    q = np.array([0.1, 0.2, 0.3, 0.4])
    m = Marker("M", ("1", "2", "3", "4"), q)
    ped = parent_child("AF", "CH")
    sims = simulate_profiles(ped, [m], members=["AF", "CH"], nsim=20000, seed=1)
    counts = np.zeros(4)
    for s in sims:
        for a in s["AF"]["M"]:
            counts[int(a) - 1] += 1
        # no mutation: the child shares an allele with the father
        assert set(s["AF"]["M"]) & set(s["CH"]["M"])
    freq = counts / counts.sum()
    assert freq == pytest.approx(q, abs=0.01)  # 40,000 alleles: sd < 0.0025


def test_conditional_draws_follow_the_conditional_distribution():
    m = _marker(4, 3, mutation=True)
    ped = full_siblings("A", "B")
    given = {"A": {"M": ("8", "10")}}
    expect = conditional_genotypes(ped, [m], given, "B")[0]
    sims = simulate_profiles(ped, [m], members=["B"], nsim=20000, conditional_on=given, seed=3)
    gi, gj = np.triu_indices(4)
    index = {(m.alleles[i], m.alleles[j]): k for k, (i, j) in enumerate(zip(gi, gj, strict=True))}
    counts = np.zeros(len(gi))
    for s in sims:
        counts[index[s["B"]["M"]]] += 1
    assert counts / counts.sum() == pytest.approx(expect, abs=0.015)


def test_refuses_typed_members():
    m = _marker(3, 0, mutation=False)
    ped = parent_child("AF", "CH")
    with pytest.raises(ValueError, match="AF"):
        simulate_profiles(ped, [m], members=["AF"], conditional_on={"AF": {"M": ("8", "8")}})
