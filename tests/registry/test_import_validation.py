"""Registry imports validate genetic data with the engine's own rules, refuse bad bytes, and are
all-or-nothing under fuzzing: only data errors escape and the database is unchanged after each."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from dogtag.errors import DataFormatError, DogtagError
from dogtag.registry.imports import ImportRejected, import_file
from dogtag.registry.models import Profile
from fuzz_readers import REGISTRY_SEEDS, mutate, registry_for_fuzzing

from .factories import small_registry, snapshot


@pytest.fixture
def reg(engine: Engine, tmp_path: Path) -> Engine:
    registry_for_fuzzing(engine, tmp_path)
    return engine


def _rejected(engine: Engine, kind: str, path: Path, text: str) -> list[tuple[int, str, str]]:
    path.write_text(text)
    before = snapshot(engine)
    with pytest.raises(ImportRejected) as err:
        import_file(engine, kind, path, actor="ann")
    assert snapshot(engine) == before
    return [(e.line, e.column, e.reason) for e in err.value.errors]


def test_bad_alleles_are_refused(reg: Engine, tmp_path: Path) -> None:
    errors = _rejected(reg, "profiles", tmp_path / "g.csv",
                       "family,id,marker,allele1,allele2\nF1,FA,TH01,6,9.3\nF1,FA,D8S1179,abc,12\n"
                       "F1,MO,TH01,<script>,7\nF1,MO,D8S1179,-3,12\nS1,S1,vWA,0,16\n")
    assert [(line, col) for line, col, _ in errors] == [(3, "allele1"), (4, "allele1"), (5, "allele1"),
                                                        (6, "allele1")]
    assert "allele 'abc' is not a repeat number" in errors[0][2]


def test_bad_lineage_markers_are_refused(reg: Engine, tmp_path: Path) -> None:
    errors = _rejected(reg, "ystr", tmp_path / "y.csv",
                       "family,id,marker,alleles\nF1,FA,DYS19,14\nF1,FA,DYS390,-4\nF1,FA,FOO,12\nF1,MP,DYS385,\"11,x\"\n")
    assert [(line, col) for line, col, _ in errors] == [(3, "alleles"), (4, "marker"), (5, "alleles")]
    assert "out of range" in errors[0][2]
    errors = _rejected(reg, "mito", tmp_path / "m.csv",
                       "family,id,range,variants\nF1,MO,16024-16569;1-576,16093C 263G\nF1,FA,99999-1,263G\n"
                       "F1,MP,16024-16569,16093Q\n")
    assert [(line, col) for line, col, _ in errors] == [(3, "variants"), (4, "variants")]
    assert "99999" in errors[0][2] and "16093Q" in errors[1][2]


def test_good_profiles_still_import(reg: Engine, tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("family,id,marker,allele1,allele2\nF1,FA,TH01,6,9.3\nF1,FA,AMEL,X,Y\n"
                                    "F1,MO,Penta E,5,24.1\n")
    assert import_file(reg, "profiles", tmp_path / "g.csv", actor="ann").inserted == 2
    (tmp_path / "y.csv").write_text("family,id,marker,alleles\nF1,FA,DYS19,14\nF1,FA,DYS385,\"11,14\"\n")
    assert import_file(reg, "ystr", tmp_path / "y.csv", actor="ann").inserted == 1
    (tmp_path / "m.csv").write_text("family,id,range,variants\nF1,MO,16024-16569;1-576,16093C 263G 315.1C\n")
    assert import_file(reg, "mito", tmp_path / "m.csv", actor="ann").inserted == 1


def test_unknown_markers_are_refused(reg: Engine, tmp_path: Path) -> None:
    """A marker no shipped frequency database has (a typo, a made-up name) is a row error, as are
    amelogenin alleles out of place; the search could never use such a row."""
    errors = _rejected(reg, "profiles", tmp_path / "g.csv",
                       "family,id,marker,allele1,allele2\nF1,FA,TH01,6,9.3\nF1,FA,TH0l,6,7\n"
                       "F1,MO,FOO,12,13\nF1,MO,AMEL,12,X\nF1,MO,D8S1179,X,12\nF1,FA,THO1,6,9.3\n")
    assert [(line, col) for line, col, _ in errors] == [(3, "marker"), (4, "marker"), (5, "allele1"),
                                                        (6, "allele1"), (7, "marker")]
    assert "'TH0l' is not a known autosomal STR marker" in errors[0][2] and "did you mean 'TH01'" in errors[0][2]
    assert "'FOO' is not a known" in errors[1][2] and "did you mean" not in errors[1][2]
    assert "amelogenin" in errors[2][2] and "amelogenin" in errors[3][2]
    assert "'TH01' given twice" in errors[4][2]  # THO1 is TH01 spelled another way


def test_marker_spellings_are_stored_canonical(reg: Engine, tmp_path: Path) -> None:
    """Two persons typed at one locus under two spellings end up under one name (a search over both
    would otherwise meet two spellings of one marker)."""
    (tmp_path / "g.csv").write_text("family,id,marker,allele1,allele2\nF1,FA,THO1,6,9.3\nF1,FA,PENTA_D,9,12\n"
                                    "F1,MO,TH01,7,7\nF1,MO,D21,28,30\n")
    import_file(reg, "profiles", tmp_path / "g.csv", actor="ann")
    with reg.connect() as conn:
        data = [json.loads(d) if isinstance(d, str) else d for d in conn.scalars(select(Profile.data))]
    assert sorted(sorted(d) for d in data) == [["D21S11", "TH01"], ["Penta D", "TH01"]]


@pytest.mark.parametrize(("data", "line", "reason"), [
    (b"SERVICE_NUMBER,LAST_NAME\nRA9,DO\x00E\n", 2, "NUL byte"),
    (b"SERVICE_NUMBER,LAST_NAME\nRA9,DOE\nRA10,\xff\xfeX\n", 3, "not UTF-8"),
    (b"SERVICE_NUMBER,LAST_NAME\nRA9,\"" + b"x" * 140_000 + b"\"\n", 2, "longer than 131,072 characters"),
    (b"SERVICE_NUMBER,LAST_NAME,last_name\nRA9,DOE,ROE\n", 1, "'last_name' appears twice"),
    (bytes(range(256)) * 4, 1, "NUL byte"),
])
def test_bad_bytes_are_data_errors(engine: Engine, tmp_path: Path, data: bytes, line: int, reason: str) -> None:
    small_registry(engine)
    f = tmp_path / "m.csv"
    f.write_bytes(data)
    before = snapshot(engine)
    with pytest.raises(DataFormatError) as err:
        import_file(engine, "missing", f, actor="ann")
    assert err.value.path == str(f) and err.value.line == line and reason in err.value.message
    assert snapshot(engine) == before




@pytest.mark.parametrize("kind", sorted(REGISTRY_SEEDS))
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_fuzzed_imports_change_nothing_or_import(reg: Engine, tmp_path: Path, kind: str, seed: int) -> None:
    f = tmp_path / f"{kind}-{seed}.csv"
    f.write_bytes(mutate(REGISTRY_SEEDS[kind].encode(), random.Random(seed)))
    before = snapshot(reg)
    try:
        import_file(reg, kind, f, actor="ann")
    except DogtagError:
        assert snapshot(reg) == before
