"""`dogtag lr`: golden LRs through the CLI, readable output and clean errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from dogtag.genetics.cases import Hypothesis, KinshipCase
from dogtag.genetics.lr import kinship_lr
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import parent_child, singletons

from conftest import KINSHIP, ROOT, kinship_case


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "dogtag", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("name", KINSHIP)
def test_lr_json_equals_golden(name):
    path, results = kinship_case(name)
    out = run("lr", str(path), "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    gold = json.loads(results.read_text())
    assert got["reference"] == gold["reference"]
    for h in got["hypotheses"]:
        g_lr = gold["kinshipLR"]["LRtotal"][h["name"]]
        assert h["lr"] == pytest.approx(g_lr, rel=1e-9)
        for m, v in h["lr_per_marker"].items():
            assert v == pytest.approx(gold["kinshipLR"]["LRperMarker"][h["name"]][m], rel=1e-9)
    for h, g in zip(got["hypotheses"], gold["likelihood"], strict=True):
        assert h["loglik"] == pytest.approx(g["loglik"], abs=1e-9)


def test_exclusion_is_lr_zero_and_null_loglik():
    m = Marker("M", ("1", "2", "3"), [0.2, 0.3, 0.5])
    case = KinshipCase(
        [m],
        [Hypothesis("H1", parent_child("AF", "CH")), Hypothesis("H2", singletons(["AF", "CH"], [1, 1]))],
        {"AF": {"M": ("1", "1")}, "CH": {"M": ("2", "3")}},
    )
    res = kinship_lr(case)
    assert res.hypotheses[0].lr == 0.0
    js = res.to_json()
    assert js["hypotheses"][0]["loglik"] is None  # type: ignore[index]
    assert res.hypotheses[1].lr == 1.0
    assert math.isclose(res.hypotheses[1].loglik, math.log(0.04 * 0.3), rel_tol=1e-12)


def test_table_output_and_example():
    out = run("lr", "--example", "paternity")
    assert out.returncode == 0, out.stderr
    assert "total LR" in out.stdout and "760.34" in out.stdout


def test_bad_file_gives_message_not_traceback(tmp_path):
    bad = tmp_path / "case.json"
    bad.write_text('{"schema": "pedsuite-json/1", "markers": [{"name": "M", "alleles": ["1"]}]}\n')
    out = run("lr", str(bad))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "case.json" in out.stderr and "line" in out.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"markers": [\n  {"name": "M",,}\n')
    out = run("lr", str(broken))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "broken.json, line 2" in out.stderr


def test_unknown_reference_is_a_usage_error():
    out = run("lr", str(kinship_case("paternity.kinship")[0]), "--reference", "H9")
    assert out.returncode != 0 and "H9" in out.stderr and "Traceback" not in out.stderr
