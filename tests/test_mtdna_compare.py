"""mtDNA comparison: hand-worked verdicts, Clopper-Pearson bounds, fast paths against the obvious one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dogtag.genetics import mtdna as mt
from dogtag.genetics import mtdna_compare as mc

CR = "16024-16569;1-576"


def h(text, rng=CR, id="x"):
    return mt.haplotype(text, range=rng, id=id)


def test_hand_verdicts():
    a = h("16093C 16189C 263G 315.1C")
    assert mc.compare(a, h("16093C 16189C 263G 315.1C")).verdict == "match"
    one = mc.compare(a, h("16189C 263G 315.1C"))
    assert one.verdict == "inconclusive"
    assert one.differences == (mc.Difference("16093", "C", "T"),)
    two = mc.compare(a, h("16189C 263G 315.1C 73G"))
    assert two.verdict == "exclusion" and len(two.differences) == 2
    # a different base at one site is one difference, not two
    assert len(mc.compare(h("16093C"), h("16093A")).differences) == 1


def test_heteroplasmy_matches_either_base():
    het = h("16093Y 263G")           # rCRS 16093 is T; Y = C/T
    assert mc.compare(het, h("16093C 263G")).verdict == "match"
    assert mc.compare(het, h("263G")).verdict == "match"
    assert mc.compare(het, h("16093A 263G")).verdict == "inconclusive"
    assert mc.compare(h("16093R"), h("16093Y")).verdict == "inconclusive"  # A/G vs C/T


def test_c_stretch_length_heteroplasmy_ignored_by_default():
    a = h("16189C 16193.1C 263G 309.1C 309.2C 315.1C")
    b = h("16189C 263G 309.1C 315.1C")
    assert mc.compare(a, b).verdict == "match"
    strict = mc.compare(a, b, ignore=None)
    assert strict.verdict == "exclusion" and {d.site for d in strict.differences} == {"16193.1", "309.2"}


def test_rcrs_placeholder_3107_is_not_a_difference():
    assert mc.compare(h("3107d 263G", rng="1-16569"), h("263G", rng="1-16569")).verdict == "match"
    pa = mc.MtPanel.from_haplotypes([h("3107d 263G", rng="1-16569")])
    pb = mc.MtPanel.from_haplotypes([h("263G", rng="1-16569")])
    assert mc.screen(pa, pb).differences.tolist() == [0]
    assert mc.difference_matrix(pa, pb).tolist() == [[0]]


def test_only_the_shared_range_counts():
    a = h("16093C 263G 750G", rng="1-16569")
    b = h("16093C 263G")
    c = mc.compare(a, b)
    assert c.verdict == "match" and str(c.range) == CR
    assert mc.compare(h("16093C", rng="16024-16569"), h("73G 16093C")).verdict == "match"


def test_clopper_pearson_hand_values():
    # x = 0: 1 - 0.05^(1/n)
    assert mc.clopper_pearson_upper(0, 100) == pytest.approx(1 - 0.05 ** (1 / 100), rel=1e-12)
    assert mc.clopper_pearson_upper(0, 100) == pytest.approx(0.0295130, abs=1e-7)
    # the defining property: P(X <= x | p = ub) = 0.05
    for x, n in [(1, 10), (3, 250), (17, 1000)]:
        ub = float(mc.clopper_pearson_upper(x, n))
        assert stats.binom.cdf(x, n, ub) == pytest.approx(0.05, rel=1e-9)
    assert mc.clopper_pearson_upper(5, 5) == 1.0


def test_frequency_and_lr_by_hand():
    db = [h("16093C 263G", id=f"a{i}") for i in range(3)]
    db += [h("263G", id=f"b{i}") for i in range(96)]
    db += [h("263G 315.1C 16093Y", id="het")]      # matches 16093C too (heteroplasmy)
    db += [h("16093C 263G", rng="16024-16569;1-300", id="short")]  # does not cover the range
    q = mc.MtPanel.from_haplotypes([h("16093C 263G 315.1C", id="q")])
    f = mc.frequencies(q, mc.MtPanel.from_haplotypes(db))
    assert f.count.tolist() == [4] and f.n.tolist() == [100]
    assert f.frequency[0] == pytest.approx(0.04)
    ub = stats.beta.ppf(0.95, 5, 96)
    assert f.upper_bound[0] == pytest.approx(ub) and f.lr[0] == pytest.approx(1 / ub)


def random_panel(seed, n):
    rng = np.random.default_rng(seed)
    pool = ["16093C", "16129A", "16189C", "16223T", "16311C", "73G", "263G", "315.1C",
            "309.1C", "152C", "195C", "523d 524d", "16093Y", "146C", "16519C", "310.1T", "16183C"]
    ranges = [mt.MtRange.parse(r) for r in (CR, "16024-16569;1-400", "1-16569", "16100-16400")]
    hs = []
    for i in range(n):
        toks = list(rng.choice(pool, size=rng.integers(0, 6), replace=False))
        if "16093C" in toks and "16093Y" in toks:
            toks.remove("16093Y")
        full = mt.haplotype(" ".join(toks), id=f"h{i}")
        hs.append(mt.restrict(full, ranges[rng.integers(0, len(ranges))]))
    return hs


def test_fast_paths_equal_the_obvious_one():
    a, b = random_panel(1, 70), random_panel(2, 90)
    slow = np.array([[len(mc.compare(x, y).differences) for y in b] for x in a])
    pa, pb = mc.MtPanel.from_haplotypes(a), mc.MtPanel.from_haplotypes(b)
    assert np.array_equal(mc.difference_matrix(pa, pb), slow)
    assert np.array_equal(mc.screen(pa, pb).dense(len(a), len(b)), np.minimum(slow, 2))
    # frequencies: the obvious count
    f = mc.frequencies(pa, pb)
    for i, x in enumerate(a):
        cover = [y for y in b if y.range.covers(x.range)]
        assert f.n[i] == len(cover)
        assert f.count[i] == sum(mc.compare(x, y).verdict == "match" for y in cover)


def test_lr_matrix():
    a = [h("16093C 263G", id="s1"), h("73G", id="s2")]
    refs = [h("16093C 263G", id="r1"), h("263G", id="r2"), h("73G 152C 195C", id="r3")]
    db = mc.MtPanel.from_haplotypes([h("263G", id=f"d{i}") for i in range(50)])
    lr, v = mc.lr_matrix(mc.MtPanel.from_haplotypes(a), mc.MtPanel.from_haplotypes(refs), db)
    assert v.tolist() == [[0, 1, 2], [2, 2, 2]]
    assert lr[0, 0] == pytest.approx(1 / (1 - 0.05 ** (1 / 50)))
    assert lr[0, 1] == 1.0 and lr[0, 2] == 0.0 and (lr[1] == 0).all()


def test_many_heteroplasmies_take_the_exact_path():
    ys = " ".join(f"{p}Y" for p in (16093, 16129, 16145, 16163, 16168, 16176, 16186, 16209, 16223, 16264))
    a = [*random_panel(3, 30), h(ys + " 263G", id="many"), h("16093Y 16129R 263G", id="two")]
    b = [*random_panel(4, 40), h("16093C 263G", id="r1"), h(ys + " 73G", id="many_r")]
    assert mc.MAX_AMBIGUOUS < 10
    slow = np.array([[len(mc.compare(x, y).differences) for y in b] for x in a])
    pa, pb = mc.MtPanel.from_haplotypes(a), mc.MtPanel.from_haplotypes(b)
    assert np.array_equal(mc.screen(pa, pb).dense(len(a), len(b)), np.minimum(slow, 2))
    f = mc.frequencies(pa, pb)
    for i, x in enumerate(a):
        cover = [y for y in b if y.range.covers(x.range)]
        assert f.count[i] == sum(mc.compare(x, y).verdict == "match" for y in cover), x.id


def test_lr_counts_over_the_compared_range():
    # the reference covers HV1 only: the match and its frequency are both over HV1
    s1 = h("16093C 263G", id="s1")
    r1 = h("16093C", rng="16024-16365", id="r1")
    db = [h("16093C 73G", id=f"a{i}") for i in range(9)] + [h("16093C 263G", id="b")]
    db += [h("263G", id=f"c{i}") for i in range(30)]
    lr, v = mc.lr_matrix(mc.MtPanel.from_haplotypes([s1]), mc.MtPanel.from_haplotypes([r1]),
                         mc.MtPanel.from_haplotypes(db))
    assert v.tolist() == [[0]]
    # over 16024-16365 the sample is "16093C": 10 of 40 database entries
    assert lr[0, 0] == pytest.approx(1 / mc.clopper_pearson_upper(10, 40))
