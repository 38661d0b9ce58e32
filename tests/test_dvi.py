"""`dogtag dvi`: the whole analysis of dvir's data sets against dvir's golden results."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from dogtag.identify.dvi import run_dvi
from dogtag.io.pedsuite_json import read_dvi_json

from conftest import EXAMPLES, GOLDEN, ROOT

FAST = ["KETPchap481", "KETPchap484", "KETPexer497", "KETPexer498", "dvi-example", "example1",
        "example2", "exclusionExample", "fire", "planecrash", "symmetricSibs"]
SLOW = ["grave", "icmp"]  # 23-person pedigrees with 8 and 12 missing: 672 and 1898 joint assignments


def _run(name: str) -> tuple[dict, dict]:
    case = read_dvi_json(GOLDEN / "dvi" / f"{name}.json")
    out = run_dvi(case).to_json()
    gold = json.loads((GOLDEN / "dvi" / f"{name}.results.json").read_text())
    return out, gold


def _check(out: dict, gold: dict, *, conclusions: bool = True) -> None:
    # pairwise LR matrix: null = not a candidate, 0 = excluded
    m = out["lr_matrix"]
    pw = gold["pairwise"]
    si = [m["samples"].index(v) for v in pw["victims"]]
    mi = [m["missing"].index(x) for x in pw["missing"]]
    for a, v in zip(si, pw["LR"], strict=True):
        for b, w in zip(mi, v, strict=True):
            got = m["lr"][a][b]
            assert (got is None) == (w is None)
            if w is not None:
                assert got == pytest.approx(w, rel=1e-9, abs=0)
                assert out["exclusions"]["counts"][a][b] == \
                    gold["exclusionMatrix"]["nIncompatible"][pw["victims"].index(m["samples"][a])][pw["missing"].index(m["missing"][b])]
    # undisputed set
    assert [(u["sample"], u["missing"], u["step"]) for u in out["undisputed"]] == \
        [(g["Sample"], g["Missing"], int(g["Comment"].split()[-1])) for g in gold["undisputed"]["summary"]]
    joint = gold["joint"]
    if joint["status"] == "ok":
        # Bmarginal posteriors
        p = out["posterior"]
        g = gold["posteriorPairing"]
        for v, row in zip(g["victims"], g["P"], strict=True):
            for col, x in zip(g["columns"], row, strict=True):
                assert p["p"][p["samples"].index(v)][p["columns"].index(col)] == pytest.approx(x, abs=1e-6)
        # top assignments: loglik, LR, posterior
        for ours, theirs in zip(out["assignments"], joint["top"][: len(out["assignments"])], strict=False):
            assert ours["loglik"] == pytest.approx(theirs["loglik"], abs=1e-6)
            assert ours["posterior"] == pytest.approx(theirs["posterior"], abs=1e-6)
            assert math.log10(ours["lr"]) == pytest.approx(theirs["log10LR"], abs=1e-6)
        assert out["joint"]["n_assignments"] == joint["nAssignments"]
        # same assignment at the top (ties aside)
        if len(joint["top"]) < 2 or joint["top"][0]["posterior"] - joint["top"][1]["posterior"] > 1e-9:
            assert out["assignments"][0]["assignment"] == joint["top"][0]["assignment"]
    else:
        # dvir reduced the problem; dogtag solves it exactly and says how
        assert out["method"]["joint"].startswith("exact")
    if conclusions:
        _check_conclusions(out, gold)


def _check_conclusions(out: dict, gold: dict) -> None:
    """dviSolve conclusions per missing person."""
    am = [r for r in out["summary"] if r["table"] == "am"]
    gam = gold["dviSolve"]["AM"]
    assert [(r["missing"], r["conclusion"]) for r in am] == [(g["Missing"], g["Conclusion"]) for g in gam]


@pytest.mark.parametrize("name", FAST)
def test_dvi_equals_dvir(name):
    out, gold = _run(name)
    _check(out, gold)


@pytest.fixture(scope="module")
def large() -> dict[str, tuple[dict, dict]]:
    return {name: _run(name) for name in SLOW}


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_dvi_equals_dvir_large_pedigrees(name, large):
    out, gold = large[name]
    _check(out, gold, conclusions=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_dvi_conclusions_large_pedigrees(name, large):
    out, gold = large[name]
    _check_conclusions(out, gold)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "dogtag", *args], capture_output=True, text=True, env=env)


def test_cli_json_and_tables_on_a_csv_folder():
    folder = EXAMPLES / "planecrash"
    out = run_cli("dvi", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    gold = json.loads((GOLDEN / "dvi" / "planecrash.results.json").read_text())
    assert js["assignments"][0]["assignment"] == gold["joint"]["top"][0]["assignment"]
    assert set(js["method"]) >= {"lr_matrix", "joint", "posterior", "undisputed", "summary"}
    table = run_cli("dvi", str(folder))
    assert table.returncode == 0 and "Posterior pairing" in table.stdout and "V2" in table.stdout


def test_cli_top_k_keeps_candidates_only():
    out = run_cli("dvi", str(GOLDEN / "dvi" / "exclusionExample.json"), "--top", "2", "--json")
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    assert "lr_matrix" not in js and "posterior" not in js
    assert all(len(v) >= 1 for v in js["candidates"].values())
    full = run_dvi(read_dvi_json(GOLDEN / "dvi" / "exclusionExample.json")).to_json()
    for s, rows in js["candidates"].items():
        i = full["lr_matrix"]["samples"].index(s)
        lrs = [x for x in full["lr_matrix"]["lr"][i] if x is not None]
        assert rows[0]["lr"] == pytest.approx(max(lrs), rel=1e-8)


def test_closed_incident_has_no_star_mass():
    case = read_dvi_json(GOLDEN / "dvi" / "planecrash.json")
    # planecrash has 8 victims for 5 missing persons: a closed incident is impossible
    with pytest.raises(ValueError):
        run_dvi(case, prior="closed")
    case = read_dvi_json(GOLDEN / "dvi" / "example2.json")
    js = run_dvi(case, prior="closed").to_json()
    star = [row[-1] for row in js["posterior"]["p"]]
    assert np.allclose(star, 0.0)


def test_cli_bad_case_is_a_message(tmp_path):
    (tmp_path / "pedigrees.csv").write_text("role,family,id\n")
    out = run_cli("dvi", str(tmp_path))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "pedigrees.csv, line 1" in out.stderr


def test_same_source_groups_a_bone_sampled_twice():
    from dataclasses import replace

    case = read_dvi_json(GOLDEN / "dvi" / "planecrash.json")
    twice = replace(case.pm[0], id="V1-bis")
    case = replace(case, pm=[*case.pm, twice])
    out = run_dvi(case).to_json()
    assert [g["samples"] for g in out["same_source"]] == [["V1", "V1-bis"]]
    # both samples are candidates for M1, but the joint assignment gives M1 to at most one
    p = out["posterior"]
    m1 = p["columns"].index("M1")
    total = sum(row[m1] for row in p["p"])
    assert total <= 1 + 1e-9


def test_cli_on_a_local_dask_cluster_gives_the_same_answer():
    case = str(GOLDEN / "dvi" / "planecrash.json")
    single = run_cli("dvi", case, "--json")
    dask = run_cli("dvi", case, "--json", "--workers", "2")
    assert single.returncode == 0 and dask.returncode == 0, dask.stderr
    a, b = json.loads(single.stdout), json.loads(dask.stdout)
    for key in ("lr_matrix", "exclusions", "posterior", "assignments", "undisputed", "summary"):
        assert a[key] == b[key], key
    both = run_cli("dvi", case, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert both.returncode != 0 and "not both" in both.stderr
