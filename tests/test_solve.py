"""Undisputed identifications and the dviSolve-style summary against dvir 3.4.1's golden output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family
from dogtag.identify.joint import JointProblem
from dogtag.identify.solve import dvi_solve, full_sibling_pairs
from dogtag.identify.undisputed import condition_on, find_undisputed

from dvi_helpers import GOLDEN_DVI, load, problem_from_golden
from dvi_helpers import full_sibling_pairs as json_sibling_pairs

KEYS = ["Family", "Missing", "Sample", "LR", "GLR", "Conclusion", "Comment"]

# families with one missing person: the pairwise table is all we need
PAIRWISE_ONLY = ["planecrash", "KETPexer497", "exclusionExample", "KETPchap484"]
# several missing persons in a family: joint terms from the brute-force likelihood of the test
BRUTE = ["example1", "example2", "dvi-example", "KETPchap481", "symmetricSibs"]


def _same(ours, gold):
    for k in KEYS:
        x, y = ours[k.lower()], gold[k]
        if isinstance(x, float) or isinstance(y, float):
            if x is None or y is None:
                assert x is None and y is None, (k, ours, gold)
            else:
                assert math.isclose(x, y, rel_tol=1e-6), (k, ours, gold)
        elif not ({x, y} <= {None, ""}):
            assert x == y, (k, ours, gold)


@pytest.mark.parametrize("name", PAIRWISE_ONLY + BRUTE)
def test_dvi_solve_matches_dvir(name):
    brute = name in BRUTE
    prob, case, res = problem_from_golden(name, brute_force=brute)
    if name == "KETPchap484":
        # family F2 has two missing persons and mutation: joint terms from the pedigree engine
        from dataclasses import replace

        from dogtag.identify.dvi import FamilyLoglik
        from dogtag.io.pedsuite_json import read_dvi_json

        prob = replace(prob, family_loglik=FamilyLoglik(read_dvi_json(GOLDEN_DVI / f"{name}.json")))
    out = dvi_solve(prob, res["exclusionMatrix"]["nIncompatible"],
                    full_siblings=json_sibling_pairs(case))
    for kind, rows in (("AM", out.am), ("PM", out.pm)):
        gold = res["dviSolve"][kind]
        assert len(rows) == len(gold)
        for r, g in zip(rows, gold, strict=True):
            _same(r.to_dict(), g)


@pytest.mark.parametrize("name", ["planecrash", "KETPexer497", "exclusionExample", "KETPchap484",
                                  *BRUTE])
def test_find_undisputed_matches_dvir(name):
    prob, _, res = problem_from_golden(name, brute_force=name in BRUTE)
    found, reduced = find_undisputed(prob, threshold=res["undisputed"]["threshold"])
    gold = res["undisputed"]["summary"]
    assert [(u.family, u.missing, u.sample, f"Step {u.step}") for u in found] == \
        [(g["Family"], g["Missing"], g["Sample"], g["Comment"]) for g in gold]
    for u, g in zip(found, gold, strict=True):
        assert u.lr == pytest.approx(g["LR"], rel=1e-9)
    assert set(reduced.samples) == set(prob.samples) - {u.sample for u in found}


def test_undisputed_strict_and_hand_example():
    # V1=M1 has LR 1e6, V2=M1 LR 50: undisputed by default (50 <= 1e6/1e4), not when strict
    lr = [[1e6, 0.5], [50.0, 0.1], [0.2, 2.0]]
    prob = JointProblem.from_lr(["V1", "V2", "V3"], ["M1", "M2"], ["F1", "F2"], lr,
                                {"F1": -1.0, "F2": -2.0}, [-3.0, -4.0, -5.0])
    found, reduced = find_undisputed(prob)
    assert [(u.sample, u.missing, u.step) for u in found] == [("V1", "M1", 1)]
    assert reduced.samples == ("V2", "V3") and reduced.missing == ("M2",)
    found, _ = find_undisputed(prob, strict=True)
    assert found == []


def test_condition_on_uses_the_family_likelihood():
    calls = []

    def family_loglik(fam, placements):
        calls.append(dict(placements))
        return -10.0 - len(placements)

    llr = np.log(np.array([[20.0, 3.0], [2.0, 4.0]]))
    prob = JointProblem(("V1", "V2"), ("M1", "M2"), ("F", "F"), llr, {"F": -10.0},
                        np.array([-5.0, -6.0]), family_loglik)
    cond = condition_on(prob, {"V1": "M1"})
    assert cond.samples == ("V2",) and cond.missing == ("M2",)
    # loglik0 of F becomes family_loglik(F, {M1: V1}) = -11
    assert cond.loglik0_family["F"] == -11.0
    # log LR(V2 -> M2 | V1 -> M1) = -12 - (-11) - (-6)
    assert cond.log_lr[0, 0] == pytest.approx(5.0)
    assert {"M1": "V1", "M2": "V2"} in calls


def test_full_sibling_pairs_from_a_case():
    case, _ = load("symmetricSibs")
    fams = []
    for f in case["am"]:
        rows = f["pedigree"]
        ped = Pedigree.from_table([r["id"] for r in rows], [r["fid"] for r in rows],
                                  [r["mid"] for r in rows], [r["sex"] for r in rows])
        fams.append(Family(f["family"], ped, tuple(f["missing"]), {}))
    pairs = full_sibling_pairs(DVICase([], [], fams))
    assert pairs == json_sibling_pairs(case)
    assert ("M1", "M2") in pairs and ("M3", "M4") in pairs


def test_exclusions_recomputed_after_undisputed():
    """A callback for exclusion counts given the fixed pairs is used from the second round on."""
    prob, _, res = problem_from_golden("planecrash")
    base = np.array(res["exclusionMatrix"]["nIncompatible"], dtype=float)
    seen = []

    def given(fixed):
        seen.append(dict(fixed))
        out = base.copy()
        out[prob.samples.index("V1"), :] = 9  # pretend V1 is now inconsistent with everyone
        return out

    out = dvi_solve(prob, base, exclusions_given=given)
    assert seen and seen[0] == {"V6": "M2", "V2": "M3", "V4": "M5"}
    row = next(r for r in out.pm if r.sample == "V1")
    assert (row.conclusion, row.comment) == ("Excluded", "9+ inconsistencies")


def _naive_ranked(vals, idx, thr2):
    """dviSolve's best / above threshold2 / runner-up, one Python element at a time."""
    col = list(zip(vals.tolist(), idx.tolist(), strict=True))
    best_lr = max(x for x, _ in col)
    best = next(i for x, i in col if x == best_lr)
    top = [(x, i) for x, i in col if x > thr2]
    others = [(x, i) for x, i in col if i != best]
    runner = None
    if others:
        x2 = max(x for x, _ in others)
        runner = (x2, next(i for x, i in others if x == x2))
    return best_lr, best, top, runner


def test_ranked_equals_naive():
    from dogtag.identify.solve import _ranked

    rng = np.random.default_rng(5)
    for _ in range(500):
        n = int(rng.integers(1, 8))
        # ties, zeros (LR 0) and values either side of the threshold
        vals = rng.choice([0.0, 0.5, 3.0, 1e3, 2e3, 1e5], size=n)
        idx = rng.permutation(50)[:n].astype(np.int64)
        assert _ranked(vals, idx, 1e3) == _naive_ranked(vals, idx, 1e3)
