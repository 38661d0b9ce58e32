"""`dogtag mito` and `dogtag ystr`: the real commands, exact JSON, clean errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dogtag.cli import cli, main

from conftest import EXAMPLES

HSD = str(EXAMPLES / "evaluation.hsd")
DANES = str(EXAMPLES / "danes.txt")


def run(*args):
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def test_mito_compare_json():
    out = json.loads(run("mito", "compare", "16093C 16189C 263G 315.1C", "16189C 263G 309.1C 315.1C",
                         "--range", "16024-16569;1-576", "--json"))
    assert out["verdict"] == "inconclusive" and out["range"] == "16024-16569;1-576"
    assert out["differences"] == [{"site": "16093", "a": "C", "b": "T"}]
    out = json.loads(run("mito", "compare", "16093C", "16093C 73G", "--range-a",
                         "16024-16569;1-72", "--json"))
    assert out["verdict"] == "match" and out["range"] == "16024-16569;1-72"
    strict = json.loads(run("mito", "compare", "263G 309.1C 315.1C", "263G 315.1C",
                            "--count-length-heteroplasmy", "--json"))
    assert strict["verdict"] == "inconclusive"


def test_mito_freq_json():
    out = json.loads(run("mito", "freq", "263G 315.1C", "--range", "16024-16569;1-576", "--db", HSD,
                         "--skip-invalid", "--json"))
    # hand count: 118 readable profiles all cover the control region; one is exactly 263G 315.1C
    assert (out["count"], out["n"]) == (1, 118)
    assert out["frequency"] == pytest.approx(1 / 118)
    from scipy import stats
    assert out["upper_bound"] == pytest.approx(stats.beta.ppf(0.95, 2, 117))
    assert out["lr"] == pytest.approx(1 / out["upper_bound"])


def test_ystr_commands_json():
    out = json.loads(run("ystr", "compare", "DYS19=14 DYS390=24", "DYS19=14 DYS390=24", "--meioses", "1",
                         "--json"))
    assert out["verdict"] == "match" and out["lr"] is None
    assert out["likelihood"] == pytest.approx((1 - 36 / 16090) * (1 - 33 / 15612))
    q = ("DYS19=14 DYS389I=13 DYS389II=29 DYS390=24 DYS391=11 DYS392=13 DYS393=13 DYS437=15 "
         "DYS438=12 DYS439=12")
    out = json.loads(run("ystr", "freq", q, "--db", DANES, "--json"))
    assert out["n"] == 185 and out["count"] == 5 and out["lr"] == pytest.approx(1 / out["upper_bound"])


def test_bad_input_is_a_message_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["mito", "compare", "16093Q", "263G"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "profile 'A': token '16093Q'" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["mito", "freq", "263G", "--db", HSD])
    assert "'Asia34'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ystr", "compare", "DYS19:14", "DYS19=14"])
    assert "'DYS19:14'" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", [["mito", "compare"], ["mito", "freq"], ["ystr", "compare"], ["ystr", "freq"]])
def test_help_has_example(cmd):
    assert "Example" in run(*cmd, "--help")


def test_mito_compare_fasta_against_notation(tmp_path):
    from dogtag.genetics import mtdna as mt

    seq = mt.rcrs()[:72] + "G" + mt.rcrs()[73:]
    f = tmp_path / "v1.fasta"
    f.write_text(">V1 remains\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    out = json.loads(run("mito", "compare", str(f), "73G 16093C", "--json"))
    assert out["verdict"] == "inconclusive" and out["a"] == "73G" and out["range"] == "1-16569"
