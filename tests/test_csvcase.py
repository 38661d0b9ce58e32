"""CSV case folders: the shared DVI cases read back to dvir's numbers; bad input names file and line."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.errors import DataFormatError
from dogtag.identify.search import blind_search
from dogtag.io.csvcase import read_case_folder

from conftest import DATA, EXAMPLES, GOLDEN

CASES = ["example2", "exclusionExample", "fire", "grave", "icmp", "planecrash"]
FILES = ["pedigrees.csv", "genotypes.csv", "frequencies.csv", "mutation_models.csv"]


def _copy(name: str, dest: Path) -> Path:
    for f in FILES:
        # planecrash ships with the package as an example; the others are test data
        src = EXAMPLES / name / f if name == "planecrash" else DATA / "dvi-cases" / f"{name}_{f}"
        if src.exists():
            shutil.copy(src, dest / f)
    return dest


@pytest.mark.parametrize("name", CASES)
def test_shared_cases_give_dvir_pairwise_lrs(name, tmp_path):
    case = read_case_folder(_copy(name, tmp_path))
    gold = json.loads((GOLDEN / "dvi" / f"{name}.results.json").read_text())
    res = blind_search(case)
    pw = gold["pairwise"]
    want = np.array([[np.nan if x is None else x for x in row] for row in pw["LR"]], dtype=float)
    idx = np.ix_([res.samples.index(v) for v in pw["victims"]], [res.missing.index(m) for m in pw["missing"]])
    got = res.lr[idx]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9)


def test_prefix_reads_a_folder_of_several_cases():
    case = read_case_folder(DATA / "dvi-cases", prefix="fire_")
    assert len(case.pm) == 3 and len(case.am) == 1
    assert case.markers[0].female is not None


def test_shipped_example_folder():
    case = read_case_folder(EXAMPLES / "planecrash")
    assert len(case.pm) == 8 and len(case.am) == 5
    assert case.markers[0].female is not None


def _write(tmp_path: Path, **files: str) -> Path:
    base = {
        "pedigrees.csv": "role,family,id,father,mother,sex,missing\n"
                         "pm,,V1,,,male,false\n"
                         "am,F1,FA,,,male,false\nam,F1,MO,,,female,false\nam,F1,MP,FA,MO,male,true\n",
        "genotypes.csv": "family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,M,1,1\n",
        "frequencies.csv": "marker,allele,frequency\nM,1,0.5\nM,2,0.5\n",
    }
    base.update({k.replace("_csv", ".csv"): v for k, v in files.items()})
    for name, text in base.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_minimal_case_and_dropout_table(tmp_path):
    folder = _write(tmp_path, samples_csv="id,dropout,dropin\nV1,0.1,0.01\n")
    case = read_case_folder(folder)
    assert case.pm[0].dropout == 0.1 and case.pm[0].dropin == 0.01
    assert case.am[0].missing == ("MP",)
    # FA 1/1 x untyped MO: P(1/2 | family) = 1/2, HW 2 * 0.25 -> LR 1 for a clean profile
    clean = read_case_folder(_write(tmp_path))
    assert blind_search(clean).lr[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("files,where,text", [
    ({"pedigrees_csv": "role,family,id,father,mother,sex\npm,,V1,,,male\n"}, "pedigrees.csv, line 1", "missing"),
    ({"pedigrees_csv": "role,family,id,father,mother,sex,missing\npm,,V1,,,mole,false\n"}, "pedigrees.csv, line 2", "sex"),
    ({"genotypes_csv": "family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,XX,M,1,1\n"}, "genotypes.csv, line 3", "XX"),
    ({"genotypes_csv": "family,id,marker,allele1,allele2\nV1,V1,M,1,7\n"}, "genotypes.csv, line 2", "7"),
    ({"genotypes_csv": "family,id,marker,allele1,allele2\nV1,V1,Q,1,2\n"}, "frequencies.csv", "Q"),
    ({"frequencies_csv": "marker,allele,frequency\nM,1,0.5\nM,2,zero\n"}, "frequencies.csv, line 3", "zero"),
    ({"pedigrees_csv": "role,family,id,father,mother,sex,missing\npm,,V1,,,male,false\n"
                       "am,F1,V1,,,male,true\n"}, "pedigrees.csv, line 3", "pm sample"),
    ({"pedigrees_csv": "role,family,id,father,mother,sex,missing\npm,,V1,,,male,false\n"
                       "am,F1,MP,FA,,male,true\nam,F1,FA,,,male,false\n"}, "pedigrees.csv", "one parent"),
    ({"samples_csv": "id,dropout\nV1,1.5\n"}, "samples.csv, line 2", "dropout"),
])
def test_bad_rows_name_file_and_line(tmp_path, files, where, text):
    folder = _write(tmp_path, **files)
    with pytest.raises(DataFormatError) as err:
        read_case_folder(folder)
    assert where in str(err.value) and text in str(err.value)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["pedigrees.csv", "genotypes.csv", "frequencies.csv"]),
       st.text(alphabet=",\n\"abc12.-", max_size=8))
def test_corrupted_files_raise_only_data_format_errors(tmp_path_factory, pos, target, junk):
    folder = _write(tmp_path_factory.mktemp("c"))
    path = folder / target
    text = path.read_text()
    k = pos % (len(text) + 1)
    path.write_text(text[:k] + junk + text[k + len(junk):])
    with contextlib.suppress(DataFormatError):
        read_case_folder(folder)


def _genotype_lists(case):
    return ([(s.id, list(s.genotypes.items())) for s in case.pm],
            [(f.name, list(f.genotypes.items())) for f in case.am])


GENOS_FAST = ("family,id,marker,allele1,allele2\n"
              "F1,FA,M,1,1\nV1,V1,M,1,2\nF1,MO,N,,F\nF1,MO,M,2,\nV1,V1,N,3,3\n"   # person by person, or not
              "V2,V2,N,F,-\nV2,V2,M,2,2\nF1,FA,N,1,3\nF1,MO,P,-,-\nF1,MP,P,2,1\n")   # failed alleles


@pytest.mark.parametrize("genos", [GENOS_FAST, GENOS_FAST.replace(",", " , "), GENOS_FAST.replace("\n", "\r\n")])
def test_columnar_reader_equals_the_row_reader(tmp_path, monkeypatch, genos):
    """Plain files are read column by column; the case, insertion order of every dict included,
    is what the record-by-record reader gives (which reads quoted or irregular files)."""
    import dogtag.io.csvcase as csvcase

    peds = ("role,family,id,father,mother,sex,missing\npm,,V1,,,male,false\npm,V2,V2,,,female,false\n"
            "am,F1,FA,,,male,false\nam,F1,MO,,,female,false\nam,F1,MP,FA,MO,male,true\n")
    freqs = "marker,allele,frequency\n" + "".join(f"{m},{a},0.25\n" for m in "MNP" for a in "1234")
    folder = _write(tmp_path, pedigrees_csv=peds, genotypes_csv=genos, frequencies_csv=freqs)
    assert csvcase._genotypes_fast(folder / "genotypes.csv", {("F1", x) for x in ("FA", "MO", "MP")},
                                   {"V1": 2, "V2": 3}) is not None
    fast = read_case_folder(folder)
    monkeypatch.setattr(csvcase, "_genotypes_fast", lambda *a: None)
    slow = read_case_folder(folder)
    assert _genotype_lists(fast) == _genotype_lists(slow)
    assert [m.name for m in fast.markers] == [m.name for m in slow.markers] == ["M", "N", "P"]
    assert fast.am[0].genotypes["MO"] == {"M": ("2", None)}
    assert fast.pm[1].genotypes == {"M": ("2", "2")}


@pytest.mark.parametrize("genos,where,text", [
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,M,1,1\nV1,V1,M,2,2\n", "line 4", "second genotype"),
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,M,1,1\nF1,XX,M,1,1\n", "line 4", "XX"),
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,M,1,x\n", "line 3", "'x'"),
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,,1,1\n", "line 3", "marker"),
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\nF1,FA,M,1\n", "line 3", "fields"),
    ("family,id,marker,allele1,allele2\nV1,V1,M,1,2\n\nF1,FA,M,1,7\n", "line 4", "7"),
])
def test_plain_files_with_errors_still_name_the_line(tmp_path, genos, where, text):
    with pytest.raises(DataFormatError) as err:
        read_case_folder(_write(tmp_path, genotypes_csv=genos))
    assert "genotypes.csv" in str(err.value) and where in str(err.value) and text in str(err.value)


@pytest.mark.parametrize("genos", ["family,id,marker,allele1,allele2\n",
                                   "family,id,marker,allele1,allele2\nV1,V1,M,-,-\nF1,FA,M,,\n"])
def test_columnar_reader_without_any_genotype(tmp_path, monkeypatch, genos):
    import dogtag.io.csvcase as csvcase

    folder = _write(tmp_path, genotypes_csv=genos)
    assert csvcase._genotypes_fast(folder / "genotypes.csv", {("F1", x) for x in ("FA", "MO", "MP")},
                                   {"V1": 2}) == ({}, {}, ["M"] if "V1" in genos else [])
    fast = read_case_folder(folder)
    monkeypatch.setattr(csvcase, "_genotypes_fast", lambda *a: None)
    assert _genotype_lists(fast) == _genotype_lists(read_case_folder(folder))


@pytest.mark.parametrize("text", [
    "family,id,marker,allele1,allele2\nF1,FA,M,1,1\nV1,V1,M,1,2\n",
    "family,id,marker,allele1,allele2\nF1,FA,M,1,1\nV1,V1,M,1,2",                       # no last newline
    "family,id,marker,allele1,allele2\n" + "".join(                                    # 7-17 byte fields
        f"Family-{k % 13:0{k % 11}d},member_{k % 7}{'x' * (k % 9)},D{k % 5}S1338,{k % 4}.{k % 3},\n"
        for k in range(300)),
    "family,id,marker,allele1,allele2\nF1,ABCDEFGH,M,1,1\nF1,ABCDEFGHI,M,1,1\nF1,ABCDEFG,M,,\n",
])
def test_coded_columns_equal_the_string_columns(tmp_path, text):
    """The byte-level column reader gives each column's distinct values in order of first
    appearance and each row's code, as the string reader and :func:`_codes` do."""
    from dogtag.io.csvcase import _coded_columns, _codes, _columns

    path = tmp_path / "genotypes.csv"
    path.write_text(text)
    cols = ["family", "id", "marker", "allele1", "allele2"]
    got = _coded_columns(path, cols)
    want = _columns(path, cols)
    assert got is not None and want is not None
    for c in cols:
        values, codes = got[c]
        assert values == _codes(want[c])[0]
        np.testing.assert_array_equal(codes, _codes(want[c])[1])
        assert [values[k] for k in codes] == want[c]


@pytest.mark.parametrize("text", [
    "family,id,marker,allele1,allele2\nF1,FA,M,1,1,\nV1,V1,M,1\n",       # fields per line differ (same total)
    "family,id,marker,allele1,allele2\nF1,FA,M,1,1\n\nV1,V1,M,1,2\n",      # a blank line
    "family,id,marker,allele1,allele2\nF1,FA,M,1,1\n,,,,\n",               # a row of empty fields
    "family,id,marker,allele1\nF1,FA,M,1\n",                              # a column missing
])
def test_coded_columns_leave_irregular_files_to_the_row_reader(tmp_path, text):
    from dogtag.io.csvcase import _coded_columns

    path = tmp_path / "genotypes.csv"
    path.write_text(text)
    assert _coded_columns(path, ["family", "id", "marker", "allele1", "allele2"]) is None
