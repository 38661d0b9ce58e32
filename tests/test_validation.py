"""The validation study: its statistics against hand values and a brute-force reference, and a
small ``dogtag validate`` run end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from dogtag.cli import cli
from dogtag.errors import DogtagError
from dogtag.validation.stats import clopper_pearson, reliability
from dogtag.validation.study import SCENARIOS, scenario_params


def _binom_cdf(x: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(x + 1))


def _upper_by_bisection(x: int, n: int, a: float = 0.05) -> float:
    """The p at which P(X <= x) = a/2: the slow obvious Clopper-Pearson upper end."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _binom_cdf(x, n, mid) > a / 2 else (lo, mid)
    return (lo + hi) / 2


def test_clopper_pearson_by_hand() -> None:
    # no false identification among n: the upper end solves (1 - p)^n = 0.025
    assert clopper_pearson(0, 10)[1] == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    assert clopper_pearson(0, 100) == (0.0, pytest.approx(0.036217, abs=1e-6))
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    assert clopper_pearson(5, 5)[0] == pytest.approx(0.025 ** (1 / 5), rel=1e-9)
    with pytest.raises(ValueError, match="0 <= x <= n"):
        clopper_pearson(3, 2)


@pytest.mark.parametrize(("x", "n"), [(0, 7), (1, 20), (3, 40), (12, 30), (29, 30)])
def test_clopper_pearson_against_scipy_and_brute_force(x: int, n: int) -> None:
    lo, hi = clopper_pearson(x, n)
    ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
    assert (lo, hi) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))
    assert hi == pytest.approx(_upper_by_bisection(x, n), abs=1e-9)


def test_reliability_bins_count_every_point_once() -> None:
    pts = [(0.05, False), (0.95, True), (0.999, True), (1.0, True), (0.991, False), (0.5, True)]
    rel = reliability(pts, bins=(0.0, 0.1, 0.2, 0.5, 0.9, 0.95, 0.99, 1.0))
    assert sum(b["n"] for b in rel) == len(pts)
    top = rel[-1]
    assert top["bin"] == [0.99, 1.0] and top["n"] == 3 and top["fraction_true"] == pytest.approx(2 / 3)
    assert top["band_95"][0] < 2 / 3 < top["band_95"][1]
    empty = rel[2]
    assert empty["n"] == 0 and empty["band_95"] == [0.0, 1.0]
    # the default bins split the posteriors where identifications are claimed; an edge opens its bin
    rel = {tuple(b["bin"]): b["n"] for b in reliability(pts)}
    assert sum(rel.values()) == len(pts)
    assert (rel[(0.99, 0.999)], rel[(0.999, 0.9999)], rel[(0.9999, 1.0)]) == (1, 1, 1)


def test_scenarios_switch_on_their_departures() -> None:
    base = scenario_params("baseline", 1, 600)
    assert base.departures() == {}
    assert scenario_params("relatives", 1, 600).departures() == {"n_relatives": 30}
    every = scenario_params("all", 1, 600).departures()
    for name, (_what, over) in SCENARIOS.items():
        assert all(k in every or k in ("k55_unlisted", "population_mix") for k in over), name
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_params("bogus", 1, 600)


def test_validate_end_to_end(tmp_path: Path) -> None:
    plot = tmp_path / "reliability.svg"
    out = CliRunner().invoke(cli, ["validate", "--scenario", "relatives", "--scenario", "father-son", "--missing",
                                   "200", "--workers", "1", "--tune-seeds", "1", "--report-seeds", "2", "--folder",
                                   str(tmp_path), "--json", "--plot", str(plot)])
    assert out.exit_code == 0, out.output
    res = json.loads(out.output[out.output.index("{"):])
    assert res["chosen_on"] == "tune_seeds" and res["settings"]["report_seeds"] == [2]
    s = res["scenarios"]["relatives"]
    assert s["seeds"] == [2]
    # the scenario really holds relatives, and their files are kept for inspection
    truth = (tmp_path / "relatives-seed2" / "truth.csv").read_text(encoding="utf-8")
    assert "not on the list" in truth and "uncle of" in truth
    assert s["false"] == len(s["false_proposals"])
    assert s["false_rate_upper_95"] == pytest.approx(
        binomtest(s["false"], max(1, s["true"] + s["false"])).proportion_ci(method="exact").high
        if s["true"] + s["false"] else 1.0, abs=1e-4)
    assert sum(b["n"] for b in s["reliability"]) >= s["true"] + s["false"]
    row = next(r for r in s["thresholds"] if r["threshold"] == res["default_threshold"])
    assert row["true"] + row["false"] >= s["true"] + s["false"] - 0   # proposals reach the threshold
    assert s["false"] == 0, s["false_proposals"]
    # father and son missing together: both on the list, both among the remains, the truth kept apart
    fs = (tmp_path / "father-son-seed2" / "truth.csv").read_text(encoding="utf-8")
    assert "father of " in fs and "son of " in fs and "(missing together, both on the list)" in fs
    assert res["scenarios"]["father-son"]["false"] == 0, res["scenarios"]["father-son"]["false_proposals"]
    # the reliability plot: one series per group run, with the report seeds' individuals
    pooled = res["reliability_pooled"]
    assert set(pooled) == {"one departure at a time"}
    assert sum(b["n"] for b in pooled["one departure at a time"]) == sum(
        sum(b["n"] for b in res["scenarios"][n]["reliability"]) for n in ("relatives", "father-son"))
    svg = plot.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "one departure at a time" in svg and "posteriors from 0.9" in svg


def test_validate_rejects_overlapping_seeds() -> None:
    out = CliRunner().invoke(cli, ["validate", "--scenario", "baseline", "--tune-seeds", "1",
                                   "--report-seeds", "1,2"])
    assert isinstance(out.exception, DogtagError) and "must differ" in str(out.exception)  # a message, no traceback


def test_a_case_that_cannot_run_is_reported_not_counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dogtag.validation import study

    def fake(scenario: str, seed: int, n: int, folder: Path) -> study.CaseResult:
        if seed == 3:
            raise RuntimeError("boom")
        return study.CaseResult(scenario, seed, 4, 0, 10, 12, [(0.999, True)] * 4 + [(0.3, False)])

    monkeypatch.setattr(study, "run_case", fake)
    res = study.run_study(study.StudySettings(scenarios=("far",), tune_seeds=(1,), report_seeds=(2, 3), workers=1),
                          folder=tmp_path)
    s = res["scenarios"]["far"]
    assert s["failed"] == [{"seed": 3, "error": "RuntimeError: boom"}]
    assert (s["seeds"], s["true"], s["on_list"], s["sensitivity"]) == ([2], 4, 10, 0.4)
    assert res["chosen_threshold"] == 0.5   # no false pairing at or above 0.5 on the tuning seed
    assert s["false_rate_upper_95"] == pytest.approx(1 - 0.025 ** (1 / 4), abs=1e-4)
