"""Same-source matching (dogtag.identify.samesource)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dogtag.genetics.dropout import hardy_weinberg, observation_vector
from dogtag.genetics.markers import Marker
from dogtag.identify.case import Sample
from dogtag.identify.samesource import (
    group_same_source,
    identity_log_lr,
    identity_lr_matrix,
    observations,
)

from conftest import GOLDEN

M = Marker("L1", ("a", "b", "c", "d"), np.array([0.1, 0.2, 0.3, 0.4]))


def _s(id_, gt, d=0.0, c=0.0, marker="L1"):
    return Sample(id_, 0, {marker: gt} if gt else {}, d, c)


def test_hand_worked_identity_lrs():
    samples = [_s("A", ("a", "b")), _s("B", ("b", "a")), _s("C", ("c", "c")), _s("D", ("c", "c"))]
    lr = 10 ** identity_lr_matrix(samples, [M])
    assert lr[0, 1] == pytest.approx(1 / (2 * 0.1 * 0.2))
    assert lr[2, 3] == pytest.approx(1 / 0.3**2)
    assert lr[0, 2] == 0.0
    np.testing.assert_allclose(lr, lr.T)


def test_dropout_identity_lr_by_hand():
    d = 0.3
    p = M.freqs
    samples = [_s("A", ("a", "b")), _s("B", ("a", "a"), d=d)]  # B shows only allele a
    lr = 10 ** identity_lr_matrix(samples, [M])[0, 1]
    den_b = p[0] ** 2 * (1 - d * d) + sum(2 * p[0] * p[x] * (1 - d) * d for x in (1, 2, 3))
    assert lr == pytest.approx((1 - d) * d / den_b)


def test_untyped_marker_is_neutral():
    m2 = Marker("L2", ("x", "y"), np.array([0.5, 0.5]))
    a = Sample("A", 0, {"L1": ("a", "b"), "L2": ("x", "y")})
    b = Sample("B", 0, {"L1": ("a", "b")})
    obs = observations([a, b], [M, m2])
    llr, cmp = identity_log_lr(obs, [hardy_weinberg(M.freqs), hardy_weinberg(m2.freqs)])
    assert llr[0, 1] == pytest.approx(-math.log(2 * 0.1 * 0.2))
    assert cmp[0, 1] == 1 and cmp[0, 0] == 2


def _naive_log_lr(profiles, dropouts, markers):
    n = len(profiles)
    out = np.zeros((n, n))
    for mk in markers:
        hw = hardy_weinberg(mk.freqs)
        vec = [observation_vector(p.get(mk.name, []), mk.freqs, dropout=d)
               for p, d in zip(profiles, dropouts, strict=True)]
        for i in range(n):
            for j in range(n):
                num = sum(vec[i][g] * vec[j][g] * hw[g] for g in range(len(hw)))
                den = sum(vec[i][g] * hw[g] for g in range(len(hw))) * \
                    sum(vec[j][g] * hw[g] for g in range(len(hw)))
                out[i, j] += math.log(num / den) if num > 0 else -math.inf
    return out


def _norwegian(k):
    data = json.loads((GOLDEN / "NorwegianFrequencies.markers.json").read_text())["markers"][:k]
    return [Marker(m["name"], tuple(m["alleles"]), np.array(m["freqs"]) / np.sum(m["freqs"]))
            for m in data]


def _simulate(rng, markers, n_people, copies):
    people = []
    for _ in range(n_people):
        people.append({m.name: tuple(sorted(rng.choice(m.n_alleles, 2, p=m.freqs))) for m in markers})
    samples, truth = [], []
    for k, person in enumerate(people):
        for c in range(copies[k]):
            d = 0.2 if c == 1 else 0.0
            gt = {}
            for m in markers:
                alle = [a for a in set(person[m.name]) if rng.random() >= (d if len(set(person[m.name])) == 2 else d * d)]
                if alle:
                    gt[m.name] = tuple(m.alleles[a] for a in sorted(alle)) * (2 if len(alle) == 1 else 1)
            samples.append(Sample(f"S{k}_{c}", 0, {n: g[:2] for n, g in gt.items()}, d, 0.0))
            truth.append(k)
    return samples, truth


def test_matrix_products_equal_naive_loops():
    rng = np.random.default_rng(1)
    markers = _norwegian(4)
    samples, _ = _simulate(rng, markers, 3, [2, 1, 2])
    profiles = [{mk: [m.index(a) for a in set(g)] for mk, g in s.genotypes.items()
                 for m in markers if m.name == mk} for s in samples]
    want = _naive_log_lr(profiles, [s.dropout for s in samples], markers)
    got = identity_lr_matrix(samples, markers) * math.log(10)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_grouping_recovers_individuals():
    rng = np.random.default_rng(5)
    markers = _norwegian(20)
    samples, truth = _simulate(rng, markers, 6, [2, 1, 3, 1, 2, 1])
    groups = group_same_source(samples, markers, threshold=1e6, chunk=3)
    got = sorted(sorted(g.samples) for g in groups)
    want = sorted(sorted(s.id for s, t in zip(samples, truth, strict=True) if t == k)
                  for k in set(truth) if truth.count(k) > 1)
    assert got == want
    for g in groups:
        assert g.min_log10_lr >= 6 and not g.linked_only
        assert len(g.pairs) == len(g.samples) * (len(g.samples) - 1) // 2


def test_unknown_allele_names_the_sample():
    with pytest.raises(ValueError, match="sample 'A', marker 'L1'"):
        observations([_s("A", ("a", "z"))], [M])


def test_group_linked_only_through_a_degraded_sample():
    # A=(a,b) and C=(a,a) cannot be one person; B shows only "a" with drop-out 0.3
    samples = [_s("A", ("a", "b")), _s("B", ("a", "a"), d=0.3), _s("C", ("a", "a"))]
    (g,) = group_same_source(samples, [M], threshold=2.0)
    assert g.samples == ("A", "B", "C")
    assert g.linked_only and g.min_log10_lr == -math.inf
    lrs = {(a, b): 10**x for a, b, x in g.pairs}
    assert lrs[("A", "B")] == pytest.approx(0.21 / (0.01 * 0.91 + 0.2 * 0.9 * 0.21))
    assert lrs[("B", "C")] == pytest.approx(0.0091 / ((0.01 * 0.91 + 0.2 * 0.9 * 0.21) * 0.01))
