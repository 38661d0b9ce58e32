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
    t0 = time.perf_counter()
    res = _invoke("import", "pedigrees", str(f), "--database", db_url)
    assert time.perf_counter() - t0 < 1.0
    assert res.exit_code == 2, res.output
    assert "line 3, column family: family 'F1': pedigree has a cycle" in res.output
    assert "M1 -> M2 -> M1" in res.output
    assert "line 6, column family: family 'F2': members who are their own parent: S" in res.output
    assert snapshot(engine) == before
