"""The compiled elimination engine on random pedigrees (loops included): brute force and path agreement.

Covers what the hand-picked pedigrees of test_likelihood.py may not: half-typed
members, soft evidence, conditional distributions, typed members with zero, one or
two untyped parents, collapsed founders, and the prepared (pedigree, markers) path
of :func:`loglik` against the general batch path.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dogtag.genetics.likelihood import (
    MarkerData,
    conditional_genotypes,
    encode,
    loglik,
    loglik_batch,
)
from dogtag.genetics.markers import Marker
from dogtag.genetics.mutation import MutationModel
from dogtag.genetics.pedigree import Pedigree


def _random_pedigree(rng: np.random.Generator, size: int) -> Pedigree:
    """Members in order; each is a founder or a child of any earlier man and woman (loops happen)."""
    fa, mo, sx = [], [], []
    for k in range(size):
        men = [i for i in range(k) if sx[i] == 1]
        women = [i for i in range(k) if sx[i] == 2]
        if men and women and rng.random() < 0.65:
            fa.append(int(rng.choice(men)))
            mo.append(int(rng.choice(women)))
        else:
            fa.append(-1)
            mo.append(-1)
        sx.append(int(rng.integers(1, 3)))
    return Pedigree(tuple(f"P{k}" for k in range(size)), np.array(fa), np.array(mo), np.array(sx, dtype=np.int8))


def _random_marker(rng: np.random.Generator, n: int, name: str = "M") -> Marker:
    q = rng.dirichlet(np.ones(n))
    alleles = tuple(str(8 + i) for i in range(n))

    def mut(rate: float) -> MutationModel:
        return MutationModel("custom", rng.dirichlet(np.ones(n), size=n) * rate + np.eye(n) * (1 - rate))

    return Marker(name, alleles, q, female=mut(0.05), male=mut(0.1))


def founder_prior(alleles: list[int], q: np.ndarray, theta: float) -> float:
    """The sampling formula, draw by draw: the j-th allele is a with probability
    (b theta + (1 - theta) q_a) / (1 + (j - 2) theta), b the earlier draws equal to a."""
    p = 1.0
    seen: dict[int, int] = {}
    for j, a in enumerate(alleles, start=1):
        p *= (seen.get(a, 0) * theta + (1 - theta) * q[a]) / (1 + (j - 2) * theta)
        seen[a] = seen.get(a, 0) + 1
    return p


def naive(ped: Pedigree, d: MarkerData, theta: float, target: int = -1) -> tuple[float, np.ndarray]:
    """Sum over every ordered genotype of every member: (likelihood, P(data, G_target = g)).

    All founder alleles (every founder, typed or not, relevant or not) are drawn jointly
    by the sampling formula (:func:`founder_prior`), in member order.
    """
    mk = d.marker
    n = mk.n_alleles
    q = mk.freqs
    mm, mf = mk.mutation_matrix(1), mk.mutation_matrix(2)
    mm = np.eye(n) if mm is None else mm
    mf = np.eye(n) if mf is None else mf
    gi = {(i, j): g for g, (i, j) in enumerate(zip(*np.triu_indices(n), strict=True))}
    soft = d.soft or {}
    total = 0.0
    dist = np.zeros(n * (n + 1) // 2)
    founders = [k for k in range(len(ped)) if ped.father[k] < 0]
    for combo in itertools.product(range(n), repeat=2 * len(ped)):
        p = 1.0
        for k in range(len(ped)):
            a, b = combo[2 * k], combo[2 * k + 1]
            if k in d.typed:
                x, y = d.typed[k]
                full_mismatch = x >= 0 and y >= 0 and sorted((a, b)) != sorted((x, y))
                half_mismatch = (x < 0) != (y < 0) and max(x, y) not in (a, b)
                if full_mismatch or half_mismatch:
                    p = 0.0
            if k in soft:
                p *= soft[k][gi[min(a, b), max(a, b)]]
            f, m = ped.father[k], ped.mother[k]
            if f >= 0:
                fa, fb = combo[2 * f], combo[2 * f + 1]
                ma, mb = combo[2 * m], combo[2 * m + 1]
                p *= 0.5 * (mm[fa, a] + mm[fb, a]) * 0.5 * (mf[ma, b] + mf[mb, b])
            if p == 0.0:
                break
        if p:
            p *= founder_prior([combo[i] for k in founders for i in (2 * k, 2 * k + 1)], q, theta)
        total += p
        if target >= 0 and p:
            a, b = combo[2 * target], combo[2 * target + 1]
            dist[gi[min(a, b), max(a, b)]] += p
    return total, dist


def random_case(rng: np.random.Generator, *, mutation: bool = True, with_target: bool = False,
                soft_evidence: bool = False) -> tuple[Pedigree, MarkerData, int]:
    """A random pedigree of 2-5 members with typed, half-typed and (optionally) soft-evidence members."""
    size = int(rng.integers(2, 6))
    n = 2 if size > 4 else 3
    ped = _random_pedigree(rng, size)
    marker = _random_marker(rng, n)
    if not mutation:
        marker = Marker(marker.name, marker.alleles, marker.freqs)
    target = int(rng.integers(0, size)) if with_target else -1
    typed: dict[int, tuple[int, int]] = {}
    for k in range(size):
        r = rng.random()
        if k == target:
            continue
        if r < 0.5:
            typed[k] = (int(rng.integers(0, n)), int(rng.integers(0, n)))
        elif r < 0.65:
            typed[k] = (int(rng.integers(0, n)), -1)
    free = [k for k in range(size) if k not in typed and k != target]
    soft = {free[0]: rng.random(n * (n + 1) // 2)} if free and soft_evidence else None
    return ped, MarkerData(marker, typed, soft), target


def assert_equals_naive(ped: Pedigree, d: MarkerData, theta: float, target: int, rel: float) -> None:
    """The engine's likelihood (or conditional distribution of ``target``) equals the brute force's."""
    want, want_dist = naive(ped, d, theta, target)
    if target < 0:
        got = loglik_batch([ped], [d], theta=theta)[0]
        if want == 0:
            assert got == -math.inf
        else:
            assert math.exp(got) == pytest.approx(want, rel=rel)
    else:
        got_dist = loglik_batch([ped], [d], theta=theta, target=[target])[0]
        expect = want_dist / want_dist.sum() if want_dist.sum() > 0 else want_dist
        np.testing.assert_allclose(got_dist, expect, rtol=rel, atol=1e-14)


@pytest.mark.parametrize("seed", range(24))
def test_random_pedigrees_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    ped, d, target = random_case(rng, with_target=bool(seed % 2), soft_evidence=seed % 4 == 1)
    assert_equals_naive(ped, d, 0.0 if seed % 3 else 0.05, target, 1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_prepared_path_equals_batch_path(seed):
    # loglik / conditional_genotypes (prepared per pedigree and markers, markers of
    # different allele counts batched together) against loglik_batch item by item
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(3, 15))
    ped = _random_pedigree(rng, size)
    markers = [_random_marker(rng, int(rng.integers(2, 12)), f"M{j}") for j in range(6)]
    theta = 0.0 if seed % 3 else 0.02
    for _ in range(2):  # a second genotype table on the same (cached) pedigree and markers
        table: dict[str, dict[str, tuple[str | None, str | None]]] = {}
        for k in range(size):
            row: dict[str, tuple[str | None, str | None]] = {}
            for m in markers:
                r = rng.random()
                if r < 0.5:
                    row[m.name] = (str(rng.choice(m.alleles)), str(rng.choice(m.alleles)))
                elif r < 0.6:
                    row[m.name] = (str(rng.choice(m.alleles)), None)
            table[ped.ids[k]] = row
        got = loglik(ped, markers, table, theta=theta)
        data = [encode(ped, m, table) for m in markers]
        want = loglik_batch([ped] * len(markers), data, theta=theta)
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(got[ok], want[ok], atol=1e-12, rtol=0)
        target = ped.ids[int(rng.integers(0, size))]
        k = ped.index(target)
        dists = conditional_genotypes(ped, markers, table, target, theta=theta)
        untargeted = [MarkerData(d.marker, {p: g for p, g in d.typed.items() if p != k}) for d in data]
        ref = loglik_batch([ped] * len(markers), untargeted, theta=theta, target=[k] * len(markers))
        for a, b in zip(dists, ref, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-12)


def test_batched_lumping_equals_single_item_rule():
    # pedprobr's lumping of unobserved alleles (databases summing to 1 only approximately):
    # the batched tables carry, per item, the frequencies of the single-item rule
    from dogtag.genetics.factors import lumped_tables, marker_tables
    from dogtag.genetics.likelihood import _lumped_freqs

    rng = np.random.default_rng(7)
    q = rng.dirichlet(np.ones(6)) * (1 + 3e-11)
    marker = Marker("M", tuple(str(8 + i) for i in range(6)), q)
    items = [MarkerData(marker, {0: (0, 2), 3: (2, -1)}), MarkerData(marker, {1: (5, 5)}),
             MarkerData(marker, {})]
    A = np.full((3, 8), -1, dtype=np.intp)
    for r, d in enumerate(items):
        for k, (a, b) in d.typed.items():
            A[r, 2 * k:2 * k + 2] = (a, b)
    tab = lumped_tables(marker_tables(marker, 6, False), np.arange(3), A)
    for r, d in enumerate(items):
        want = _lumped_freqs(d, False)
        np.testing.assert_allclose(tab.q[r], want, rtol=1e-14, atol=0)
        seen = [a for g in d.typed.values() for a in g if a >= 0]
        if seen:
            assert tab.q[r].sum() == pytest.approx(1.0, abs=1e-15)
            assert not np.array_equal(want, q)


def test_genotype_and_soft_evidence_on_one_member_is_refused():
    ped = _random_pedigree(np.random.default_rng(3), 3)
    marker = _random_marker(np.random.default_rng(3), 2)
    d = MarkerData(marker, {0: (0, 1)}, {0: np.ones(3)})
    with pytest.raises(ValueError, match="both a genotype and soft evidence"):
        loglik_batch([ped], [d])
