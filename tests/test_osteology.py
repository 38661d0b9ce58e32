"""Osteology: OsteoSort's tests against hand-worked p-values, MNI, MLNI, grouping, reader errors."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from dogtag.errors import DataFormatError
from dogtag.osteology.commingle import max_pairs, sort_inventory
from dogtag.osteology.groups import DnaLink, propose_groups
from dogtag.osteology.inventory import default_reference, read_inventory, read_reference
from dogtag.osteology.mni import lincoln_index, mlni, mni
from dogtag.osteology.sorting import (
    SortOptions,
    associate,
    difference_test,
    pair_match,
    regression_test,
    yeo_johnson,
    yeo_johnson_lambda,
)
from dogtag.osteology.validation import (
    folds,
    hold_out,
    individual_of,
    leave_one_out,
    leave_one_out_p,
    pair_rates,
    paired_elements,
)

DATA = Path(__file__).parent / "data" / "osteology"


def t3_sf(t: float) -> float:
    """P(T_3 > t), Student's t with 3 degrees of freedom in closed form (no scipy)."""
    u = t / math.sqrt(3)
    return 0.5 - (math.atan(u) + u / (1 + u * u)) / math.pi


@pytest.fixture(scope="module")
def tiny():
    return read_reference(DATA / "tiny.ref")


@pytest.fixture(scope="module")
def box():
    return read_inventory(DATA / "box.csv")


@pytest.fixture(scope="module")
def dpaa():
    return default_reference()


def test_pair_p_value_by_hand(tiny, box):
    # reference D = L - R of r1..r4: 1, -1, 2, 0 -> mean 1/2, variance 5/3, n 4 (df 3); a new
    # individual's D - mean has variance 5/3 (1 + 1/4) = 25/12
    got = {(c.a, c.b): c for c in pair_match(box, tiny, "humerus")}
    assert set(got) == {("h1", "h2"), ("h1", "h3")}
    # h1 300 - h2 297: D = 3, t^2 = (5/2)^2 / (25/12) = 3, and 2 P(T_3 > sqrt 3) = 1/2 - 1/pi
    assert got["h1", "h2"].statistic == pytest.approx(math.sqrt(3), rel=1e-12)
    assert got["h1", "h2"].p_value == pytest.approx(0.5 - 1 / math.pi, rel=1e-10)
    assert not got["h1", "h2"].excluded and got["h1", "h2"].n_reference == 4
    # h1 300 - h3 330: D = -30, t = (61/2) / sqrt(25/12) = 61 sqrt(3) / 5
    assert got["h1", "h3"].p_value == pytest.approx(2 * t3_sf(61 * math.sqrt(3) / 5), rel=1e-8)
    assert got["h1", "h3"].excluded


def test_pair_options_by_hand(tiny, box):
    # zero mean (mu = 0 assumed, nothing estimated): t = 3 / sqrt(5/3); one tail
    c = pair_match(box, tiny, "humerus", SortOptions(zero_mean=True, tails=1))[0]
    assert c.p_value == pytest.approx(t3_sf(3 / math.sqrt(5 / 3)), rel=1e-10)
    # absolute: reference |D| 1, 1, 2, 0 (mean 1, variance 2/3, times 5/4 = 5/6); upper tail only
    got = {c.b: c for c in pair_match(box, tiny, "humerus", SortOptions(absolute=True))}
    assert got["h2"].p_value == pytest.approx(t3_sf((3 - 1) / math.sqrt(5 / 6)), rel=1e-10)
    # a |D| below the reference mean is no evidence against the pair
    low = np.array([[300.0]]), np.array([[300.0]])
    ref = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[0.0], [0.0], [0.0], [0.0]])
    p, *_ = difference_test(*low, *ref, SortOptions(absolute=True))
    assert p[0, 0] > 0.9


def test_log_pair_p_value_by_hand():
    # reference ln(L/R) = 1, -1, 2, 0 (L, R = 10e, 10; 10, 10e; 10e^2, 10; 10, 10): mean 1/2,
    # variance 5/3, prediction variance 25/12 as in the mm test above; a case pair 10e^3 vs 10
    # has ln(a/b) = 3, t = sqrt 3 and p = 1/2 - 1/pi (on mm, D = 190.9 mm: excluded, p 0.02)
    e = math.e
    rx = np.array([[10 * e], [10.0], [10 * e * e], [10.0]])
    ry = np.array([[10.0], [10 * e], [10.0], [10.0]])
    a, b = np.array([[10 * e**3]]), np.array([[10.0]])
    p, stat, n, _ = difference_test(a, b, rx, ry, SortOptions(log=True))
    assert stat[0, 0] == pytest.approx(math.sqrt(3), rel=1e-12) and n[0, 0] == 4
    assert p[0, 0] == pytest.approx(0.5 - 1 / math.pi, rel=1e-10)
    assert difference_test(a, b, rx, ry, SortOptions())[0][0, 0] < 0.03
    # relative asymmetry: scaling every bone by 1.3 changes nothing
    p13, *_ = difference_test(1.3 * a, 1.3 * b, 1.3 * rx, 1.3 * ry, SortOptions(log=True))
    assert p13[0, 0] == pytest.approx(p[0, 0], rel=1e-10)
    with pytest.raises(ValueError, match=r"ref_y: measurement 0\.0 mm"):
        difference_test(a, b, rx, np.array([[10.0], [0.0], [10.0], [10.0]]),
                        SortOptions(log=True))


def test_regression_p_value_by_hand(tiny, box):
    # reference left humerus / left femur: r1..r5; x = log Hum_01, y = log Fem_01
    xs = [math.log(v) for v in (300, 310, 320, 330, 340)]
    ys = [math.log(v) for v in (450, 470, 480, 500, 510)]
    n = 5
    xbar, ybar = sum(xs) / n, sum(ys) / n
    sxx = sum((x - xbar) ** 2 for x in xs)
    b1 = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys, strict=True)) / sxx
    b0 = ybar - b1 * xbar
    sigma = math.sqrt(sum((y - b0 - b1 * x) ** 2 for x, y in zip(xs, ys, strict=True)) / (n - 2))
    x0, y0 = math.log(300), math.log(460)  # h1 and f1
    se = sigma * math.sqrt(1 + 1 / n + (x0 - xbar) ** 2 / sxx)  # (n-1) s_x^2 = Sxx
    want = 2 * t3_sf(abs(b0 + b1 * x0 - y0) / se)
    got = {(c.a, c.b): c for c in associate(box, tiny, "humerus", "femur")}
    assert got["h1", "f1"].p_value == pytest.approx(want, rel=1e-9)
    assert got["h1", "f1"].n_reference == 5
    assert got["h1", "f2"].p_value is None and got["h1", "f2"].reason == "no shared measurement"
    assert not got["h1", "f2"].excluded


def naive_difference_p(x, y, rx, ry, options):
    """Slow obvious version: one pair at a time, the reference re-selected for each."""
    from scipy import stats

    out = np.full((len(x), len(y)), np.nan)
    for i, j in itertools.product(range(len(x)), range(len(y))):
        s = [k for k in range(x.shape[1]) if not np.isnan(x[i, k]) and not np.isnan(y[j, k])]
        if not s:
            continue
        d = sum(x[i, k] - y[j, k] for k in s)
        ref = [sum(rx[r, k] - ry[r, k] for k in s) for r in range(len(rx))
               if all(not np.isnan(rx[r, k]) and not np.isnan(ry[r, k]) for k in s)]
        if len(ref) < 3:
            continue
        mu, sd = np.mean(ref), np.std(ref, ddof=1)
        out[i, j] = 2 * stats.t.sf(abs(d - mu) / (sd * math.sqrt(1 + 1 / len(ref))), len(ref) - 1)
    return out


def test_difference_test_equals_naive():
    rng = np.random.default_rng(7)
    x = rng.normal(300, 20, (6, 4))
    y = rng.normal(300, 20, (5, 4))
    rx = rng.normal(300, 20, (40, 4))
    ry = rx + rng.normal(0, 2, (40, 4))
    for a in (x, y, rx, ry):
        a[rng.random(a.shape) < 0.3] = np.nan
    p, *_ = difference_test(x, y, rx, ry, SortOptions())
    np.testing.assert_allclose(p, naive_difference_p(x, y, rx, ry, SortOptions()), rtol=1e-10)


def test_articulation_p_value_by_hand():
    from dogtag.osteology.inventory import Osteometrics
    from dogtag.osteology.sorting import articulate

    # reference Hum_06 - Uln_11 of four people: 10, 12, 14, 16 (mean 13, variance 20/3; a new
    # person: 20/3 (1 + 1/4) = 25/3). Case D: 18 and 8, both t = 5 / sqrt(25/3) = sqrt 3
    ref_rows = [(f"r{i}", e, v) for i, (h, u) in enumerate([(50, 40), (52, 40), (55, 41), (58, 42)])
                for e, v in (("humerus", (h, np.nan)), ("ulna", (np.nan, u)))]
    ref = Osteometrics(tuple(r[0] for r in ref_rows), tuple(r[1] for r in ref_rows),
                       ("left",) * 8, ("Hum_06", "Uln_11"), np.array([r[2] for r in ref_rows]))
    inv = Osteometrics(("h", "u1", "u2", "u3"), ("humerus", "ulna", "ulna", "ulna"),
                       ("left",) * 4, ("Hum_06", "Uln_11"),
                       np.array([[60, np.nan], [np.nan, 42], [np.nan, 52], [np.nan, 47]]))
    got = {c.b: c for c in articulate(inv, ref, "Hum_06", "Uln_11")}
    assert got["u1"].p_value == pytest.approx(0.5 - 1 / math.pi, rel=1e-10)  # D = 18
    assert got["u2"].p_value == pytest.approx(0.5 - 1 / math.pi, rel=1e-10)  # D = 8
    assert got["u3"].p_value == pytest.approx(1.0) and got["u3"].statistic == 0  # D = 13
    assert got["u1"].measurements == ("Hum_06-Uln_11",) and got["u1"].n_reference == 4


def test_pair_test_calibrated_on_small_references():
    # normal D-values, references of 4 people: a new true pair is excluded at alpha 0.1 one time
    # in ten (the prediction interval); dividing by s alone would exclude 12.6 %
    rng = np.random.default_rng(11)
    refs, new = 1500, 60
    excluded = 0
    for _ in range(refs):
        rx = rng.normal(0.0, 1.0, (4, 1))
        d = rng.normal(0.0, 1.0, (new, 1))
        p, *_ = difference_test(d, np.zeros((1, 1)), rx, np.zeros((4, 1)), SortOptions())
        excluded += int((p <= 0.1).sum())
    rate = excluded / (refs * new)
    assert abs(rate - 0.10) < 0.006, rate


def test_unmeasured_kinds_are_listed_untested(tiny):
    from dogtag.osteology.inventory import Osteometrics

    inv = Osteometrics(("a", "b"), ("rib", "rib"), ("left", "right"), (), np.empty((2, 0)))
    (c,) = pair_match(inv, tiny, "rib")
    assert (c.a, c.b, c.p_value, c.excluded, c.reason) == ("a", "b", None, False,
                                                           "no shared measurement")


def test_regression_test_equals_naive_single_pattern():
    from scipy import stats

    rng = np.random.default_rng(3)
    rx = rng.normal(300, 15, (30, 2))
    ry = 1.5 * rx.sum(axis=1, keepdims=True) + rng.normal(0, 5, (30, 1))
    x, y = rng.normal(300, 15, (3, 2)), rng.normal(900, 30, (4, 1))
    p, t, n = regression_test(x, y, rx, ry)
    lx, ly = np.log(rx.sum(axis=1)), np.log(ry[:, 0])
    b1, b0 = np.polyfit(lx, ly, 1)
    sigma = np.sqrt(np.sum((ly - b0 - b1 * lx) ** 2) / 28)
    for i, j in itertools.product(range(3), range(4)):
        x0, y0 = np.log(x[i].sum()), np.log(y[j, 0])
        se = sigma * np.sqrt(1 + 1 / 30 + (x0 - lx.mean()) ** 2 / np.sum((lx - lx.mean()) ** 2))
        assert t[i, j] == pytest.approx(abs(b0 + b1 * x0 - y0) / se, rel=1e-9)
        assert p[i, j] == pytest.approx(2 * stats.t.sf(t[i, j], 28), rel=1e-12)
    assert (n == 30).all()


def test_yeo_johnson_matches_scipy():
    from scipy import stats

    x = np.array([0.5, 1.0, 2.0, 3.5, 7.0, 12.0, -1.0])
    lam = yeo_johnson_lambda(x)
    assert lam == pytest.approx(stats.yeojohnson_normmax(x), abs=1e-4)
    np.testing.assert_allclose(yeo_johnson(x, lam), stats.yeojohnson(x, lam), rtol=1e-10)


def test_mni_with_fragments_and_accessions(box):
    whole = mni(box)
    # left femur: f1 complete counts in every zone, proximal held by f1, f2, f4
    assert (whole.mni, whole.element, whole.side, whole.zone) == (3, "femur", "left", "proximal")
    res = sort_inventory(box, read_reference(DATA / "tiny.ref"))
    assert res.mni == 3
    assert res.mni_by_accession == {"K55-01": 1, "K55-02": 2}


def test_mni_exact_on_complete_held_out_individuals(dpaa):
    kinds = [("humerus", "left"), ("humerus", "right"), ("femur", "left"), ("femur", "right"),
             ("tibia", "left"), ("tibia", "right")]
    have: dict[str, set[tuple[str, str]]] = {}
    for i, e, s in zip(dpaa.ids, dpaa.elements, dpaa.sides, strict=True):
        have.setdefault(i, set()).add((e, s))
    complete = sorted(i for i, k in have.items() if set(kinds) <= k)
    assert len(complete) > 100
    for n in (1, 7, 40):
        people = set(complete[:: len(complete) // n][:n])
        inv, _ = hold_out(dpaa, people)
        inv = inv.subset([i for i, (e, s) in enumerate(zip(inv.elements, inv.sides, strict=True))
                          if (e, s) in kinds])
        assert mni(inv).mni == n


def test_mlni_by_hand_and_brute_force():
    m = mlni(12, 14, 8)
    assert m.mlni == pytest.approx(13 * 15 / 9 - 1)
    assert lincoln_index(12, 14, 8) == pytest.approx(21.0)
    assert lincoln_index(3, 3, 0) is None

    def ll(n: int, L: int, R: int, P: int) -> float:
        if n < L + R - P:
            return -math.inf
        return math.log(math.comb(L, P) * math.comb(n - L, R - P) / math.comb(n, R))

    for L, R, P in ((12, 14, 8), (10, 10, 10), (20, 15, 3), (5, 9, 4)):
        lls = {n: ll(n, L, R, P) for n in range(L + R - P, 5000)}
        best = max(lls.values())
        inside = [n for n, v in lls.items() if v >= best - 3.841458820694124 / 2]
        got = mlni(L, R, P)
        assert (got.lower, got.upper) == (min(inside), max(inside))
    assert (mlni(10, 10, 10).lower, mlni(10, 10, 10).upper) == (10, 10)
    none = mlni(5, 5, 0)
    assert none.upper is None and none.lincoln is None
    with pytest.raises(ValueError, match="pairs"):
        mlni(3, 2, 4)


def test_pair_rates_on_held_out_reference(dpaa):
    rates = []
    for element in ("humerus", "femur"):
        r = pair_rates(dpaa, element, k=5)
        assert r.true_pairs > 400 and r.false_pairs > 50_000
        lo, hi = r.kept_interval()
        # kept at the rate alpha 0.1 implies: 90 % lies within the 95 % interval
        assert lo <= 0.90 <= hi and r.kept_rate >= 0.85
        assert r.excluded_interval()[0] >= 0.5
        rates.append(r)
    both = rates[0] + rates[1]
    assert (both.element, both.true_pairs, both.false_excluded) == (
        "humerus+femur", rates[0].true_pairs + rates[1].true_pairs,
        rates[0].false_excluded + rates[1].false_excluded)
    assert both.kept_interval()[0] <= 0.90 <= both.kept_interval()[1]


def test_leave_one_out_is_pair_match_without_the_individual(dpaa):
    # the fast loop gives each held-out pair the p-value pair_match gives it against the
    # reference without that individual (femur: 3 of them share no measurement with anyone)
    for element in ("humerus", "femur"):
        ids, p, used = leave_one_out_p(dpaa, element)
        assert len(ids) == len(p) == len(set(ids)) > 450
        for k in list(range(0, len(ids), 40)) + list(np.flatnonzero(np.isnan(p))):
            inv, rest = hold_out(dpaa, {ids[k]})
            (c,) = pair_match(inv, rest, element)
            assert individual_of(c.a) == individual_of(c.b) == ids[k]
            if c.p_value is None:
                assert np.isnan(p[k])
            else:
                assert p[k] == pytest.approx(c.p_value, rel=1e-12)
                assert used[k] == len(c.measurements)


def test_leave_one_out_by_hand():
    # p1..p4 have D = L - R = 1, -1, 2, 0 and p5 D = 3: held out alone, p5 meets the reference
    # of test_pair_p_value_by_hand (mean 1/2, prediction variance 25/12): t = sqrt 3,
    # p = 1/2 - 1/pi; with himself in it (mean 1, variance 5/2, times 6/5) t would be 2/sqrt 3
    from dogtag.osteology.inventory import Osteometrics

    lr = [(300, 299), (310, 311), (320, 318), (330, 330), (340, 337)]
    ids = tuple(f"p{i + 1}" for i in range(5)) * 2
    values = np.array([[a] for a, _ in lr] + [[b] for _, b in lr], dtype=float)
    ref = Osteometrics(ids, ("humerus",) * 10, ("left",) * 5 + ("right",) * 5, ("Hum_01",),
                       values)
    got, p, used = leave_one_out_p(ref, "humerus")
    assert got == ["p1", "p2", "p3", "p4", "p5"] and list(used) == [1] * 5
    assert p[4] == pytest.approx(0.5 - 1 / math.pi, rel=1e-10)
    # p4 (D = 0) against 1, -1, 2, 3: mean 5/4, variance 35/12, times 5/4: t^2 = 3/7
    assert p[3] == pytest.approx(2 * t3_sf(math.sqrt(3 / 7)), rel=1e-10)


def test_leave_one_out_calibrated():
    # 400 simulated people, three measurements, the right side larger by 1-2 mm (D is not
    # centred on 0), 15 % of the measurements missing: a calibrated test keeps about 90 %
    from dogtag.osteology.inventory import Osteometrics

    rng = np.random.default_rng(5)
    n = 400
    left = rng.normal([300.0, 60.0, 45.0], [15.0, 3.0, 2.0], (n, 3))
    right = left + rng.normal([1.0, 2.0, 1.5], [2.0, 1.0, 1.0], (n, 3))
    for side in (left, right):
        side[rng.random(side.shape) < 0.15] = np.nan
    ids = tuple(f"p{i}" for i in range(n)) * 2
    ref = Osteometrics(ids, ("humerus",) * 2 * n, ("left",) * n + ("right",) * n,
                       ("Hum_01", "Hum_02", "Hum_03"), np.vstack([left, right]))
    r = leave_one_out(ref, "humerus")
    no_shared = int((np.isnan(left) | np.isnan(right)).all(axis=1).sum())
    assert r.untested == no_shared and r.true_pairs == n - no_shared > 380
    assert r.false_pairs == 0 and r.to_dict()["excluded_ci95"] is None
    lo, hi = r.kept_interval()
    assert lo <= 0.90 <= hi, r
    # ignoring the side bias (mu = 0) would exclude far more than one in ten
    assert leave_one_out(ref, "humerus", options=SortOptions(zero_mean=True)).kept_rate < 0.8


def test_leave_one_out_dpaa(dpaa):
    for element, pairs in (("humerus", 475), ("femur", 461)):
        r = leave_one_out(dpaa, element)
        assert r.true_pairs == pairs
        lo, hi = r.kept_interval()
        assert lo <= 0.90 <= hi and r.kept_rate >= 0.87


def test_paired_elements(tiny, dpaa):
    assert paired_elements(tiny) == ["humerus"]  # femora: left only
    assert {"humerus", "femur", "tibia", "os_coxa", "metacarpal_1"} <= set(paired_elements(dpaa))


def test_folds_partition_individuals(dpaa):
    seen: set[str] = set()
    for inv, rest in folds(dpaa, 5):
        people = {individual_of(i) for i in inv.ids}
        assert not people & set(rest.ids) and not people & seen
        seen |= people
    assert seen == set(dpaa.ids)


def test_groups_unique_pairs_and_dna_conflicts(tiny, box):
    comps = pair_match(box, tiny, "humerus")
    groups, conflicts, applied = propose_groups(box, comps)
    assert [c.b for c in applied] == ["h2"]  # h3 is excluded: h1-h2 is the only open pair
    assert ["h1", "h2"] in [g.elements for g in groups]
    assert sum(len(g.elements) for g in groups) == len(box)
    # DNA says h1 and h3 share a profile, but osteometry excludes the pair: reported, not merged
    groups, conflicts, _ = propose_groups(box, comps, dna=[DnaLink("h1", "h3", 12.0)])
    assert any(c.kind == "dna" and {c.a, c.b} == {"h1", "h3"} for c in conflicts)
    assert not any({"h1", "h3"} <= set(g.elements) for g in groups)
    # DNA joining two left femora: impossible, reported
    groups, conflicts, _ = propose_groups(box, [], dna=[DnaLink("f1", "f2", 9.0)])
    assert conflicts and "two left femur" in conflicts[0].reason
    # DNA excluding h1-h2 blocks the osteometric link
    groups, conflicts, applied = propose_groups(box, comps, dna=[DnaLink("h1", "h2", -math.inf)])
    assert not applied and conflicts[0].kind == "pair"


def test_max_pairs(tiny, box):
    assert max_pairs(pair_match(box, tiny, "humerus")) == 1


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("id,Side,Element,Hum01\n", "column 'Hum01'"),
    ("id,Element,Hum_01\n", "no 'side' column"),
    ("id,Side,Element,Hum_01\na,top,humerus,300\n", "line 2: Side 'top'"),
    ("id,Side,Element,Hum_01\na,left,humerus,abc\n", "line 2: Hum_01 = 'abc'"),
    ("id,Side,Element,Hum_01\na,left,humerus,-3\n", "line 2: Hum_01 = '-3'"),
    ("id,Side,Element,Hum_01\na,left,humerus,300\na,right,humerus,301\n", "line 3: id 'a' repeated"),
    ("id,Side,Element,Hum_01\na,left,humerus\n", "line 2: 3 fields"),
    ("id,Side,Element,Hum_01\n", "only a header"),
])
def test_reader_errors_name_file_and_line(tmp_path, text, message):
    p = tmp_path / "inv.csv"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        read_inventory(p)
    assert str(p) in str(info.value)


def test_reader_accepts_osteosort_layout(box):
    assert box.ids[:2] == ("h1", "h2") and box.elements[0] == "humerus"
    assert box.portions[4] == ("proximal",) and box.portions[6] == ("proximal", "shaft")
    assert math.isnan(box.values[0, 1]) and box.values[0, 0] == 300


def test_cli_json(tmp_path):
    from click.testing import CliRunner

    from dogtag.cli import cli

    out = CliRunner().invoke(cli, ["commingle", str(DATA / "box.csv"), "--reference",
                                   str(DATA / "tiny.ref"), "--json"])
    assert out.exit_code == 0, out.output
    import json

    d = json.loads(out.output)
    assert d["mni"] == 3 and isinstance(d["mni"], int)
    assert d["mni_by_accession"] == {"K55-01": 1, "K55-02": 2}
    pairs = {(p["a"], p["b"]) for p in d["pair_matches"]}
    assert pairs == {("h1", "h2"), ("h1", "h3")}  # every left-right candidate of one element
    assert all(set(p) >= {"a", "b", "element", "p_value", "excluded"} for p in d["pair_matches"])
    assert "articulations" in d and "groups" in d
    bad = tmp_path / "bad.csv"
    bad.write_text("id,Side,Element,Hum_01\nx,left,humerus,big\n")
    out = CliRunner().invoke(cli, ["commingle", str(bad)], standalone_mode=False)
    assert isinstance(out.exception, DataFormatError) and "line 2" in str(out.exception)
