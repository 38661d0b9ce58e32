"""Frequency databases: readers, sum checks, missing-allele rule, shipped databases."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.errors import DataFormatError, InconsistentCaseError
from dogtag.genetics import freqdb
from dogtag.genetics.freqdb import FrequencyDatabase, load_database, read_frequencies

from conftest import DATA, GOLDEN, ROOT

NORSTR = ROOT / "src" / "dogtag" / "data" / "frequencies" / "norstr"  # verbatim copies


def test_shipped_names_and_sizes():
    names = freqdb.list_databases()
    assert {"nist1036-Cauc", "nist1036-AfAm", "nist1036-Hisp", "nist1036-Asian",
            "fbi2015-Caucasian", "fbi2015-SW-Hispanic", "norwegian", "norstr-Norsk"} <= set(names)
    assert sum(n.startswith("fbi2015-") for n in names) == 12
    sizes = {"nist1036-Cauc": 29, "fbi2015-Navajo": 23, "norwegian": 35, "norstr-Norsk": 50,
             "norstr-Europa": 45, "norstr-OstAsia": 40, "norstr-SydAmerika": 32}
    for name, n in sizes.items():
        assert len(load_database(name)) == n


@pytest.mark.parametrize("name", sorted(freqdb.list_databases()))
def test_shipped_databases_sum_to_one(name):
    db = load_database(name)
    assert db.provenance
    for m, loc in db.loci.items():
        assert abs(loc.freqs.sum() - 1) < 1e-3, m
        assert list(loc.alleles) == sorted(loc.alleles, key=freqdb.allele_sort_key)


def test_nist_cauc_values():
    db = load_database("NIST1036-cauc")  # names are case-insensitive
    tpox, th01 = db.locus("TPOX"), db.locus("TH01")
    assert tpox.as_dict()["8"] == pytest.approx(379 / 722)
    assert round(tpox.as_dict()["8"], 3) == 0.525
    assert round(th01.as_dict()["9.3"], 3) == 0.345
    assert tpox.n == 722
    assert db.locus("Penta D") is db.locus("Penta_D")


def test_nist_counts_match_genotypes():
    # Recount Cauc TH01 from the individual genotypes (an independent derivation).
    counts: dict[str, int] = {}
    with open(DATA / "str-frequencies" / "nist1036_genotypes.csv") as f:
        for r in csv.DictReader(f):
            if r["population"] != "Cauc":
                continue
            for k in ("TH01_1", "TH01_2"):
                if r[k]:
                    counts[r[k]] = counts.get(r[k], 0) + 1
    total = sum(counts.values())
    loc = load_database("nist1036-Cauc").locus("TH01")
    assert loc.n == total
    got = loc.as_dict()
    for a, c in counts.items():
        key = a if a in got else str(float(a)).removesuffix(".0")
        assert got[key] == pytest.approx(c / total, abs=1e-12)


def test_fbi_values_and_n():
    db = load_database("fbi2015-Caucasian")
    th01 = db.locus("TH01")
    assert th01.n == 404
    assert th01.as_dict()["6"] == pytest.approx(0.22524752475247525)
    assert "Y indel" not in db and "DYS391" not in db
    assert db.locus("Penta D") is db.locus("PENTA D")


def test_norwegian_matches_pedsuite_export():
    golden = json.loads((GOLDEN / "NorwegianFrequencies.markers.json").read_text())
    markers = golden["markers"] if isinstance(golden, dict) else golden
    db = load_database("norwegian")
    assert len(markers) == len(db)
    for m in markers:
        loc = db.locus(m["name"])
        assert list(loc.alleles) == m["alleles"]
        np.testing.assert_allclose(loc.freqs, m["freqs"], atol=1e-12)


def test_norstr_reader_matches_shipped():
    db = read_frequencies(NORSTR / "NorskDB_v2023.txt")
    assert db.name == "NorskDB_v2023"
    shipped = load_database("norstr-Norsk")
    assert db.marker_names == shipped.marker_names
    tpox = db.locus("TPOX").as_dict()
    assert tpox["8"] == 0.55224 and tpox["13"] == 0.001


def test_familias_frequency_file():
    db = read_frequencies(DATA / "dvi-cases" / "familias-fam" / "codis.txt")
    assert len(db) == 13
    assert db.locus("CSF1PO").as_dict()["11.3"] == pytest.approx(0.0005917161)


def test_long_csv_reader(tmp_path: Path):
    p = tmp_path / "db.csv"
    p.write_text("Locus,Allele,Freq,N\nTH01,9.3,0.5,100\nTH01,6,0.5,100\nTPOX,8,1.0,80\n")
    db = read_frequencies(p)
    assert db.name == "db"
    assert db.locus("TH01").alleles == ("6", "9.3")
    assert db.locus("TPOX").n == 80


def test_long_csv_populations(tmp_path: Path):
    p = tmp_path / "db.csv"
    p.write_text("population,marker,allele,frequency\nA,M1,1,1\nB,M1,2,1\n")
    with pytest.raises(DataFormatError, match="several populations"):
        freqdb.read_long_csv(p)
    assert freqdb.read_long_csv(p, population="B").locus("M1").alleles == ("2",)
    with pytest.raises(DataFormatError, match="population 'C'"):
        freqdb.read_long_csv(p, population="C")


@pytest.mark.parametrize("text,match,line", [
    ("marker,allele\nM,1\n", "expected columns", 1),
    ("marker,allele,frequency\nM,1,abc\n", "a frequency", 2),
    ("marker,allele,frequency\nM,1\n", "at least 3 fields", 2),
    ("marker,allele,frequency\nM,1,0.5\nM,1,0.5\n", "listed twice", 2),
    ("marker,allele,frequency\nM,1,0.5\nM,2,0.4\n", "sum to 0.9", 2),
    ("marker,allele,frequency,n\nM,1,0.5,10\nM,2,0.5,12\n", "n is 12", 3),
    ("", "header", 1),
])
def test_long_csv_errors(tmp_path: Path, text, match, line):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=match) as e:
        freqdb.read_long_csv(p)
    assert e.value.path == str(p)
    assert e.value.line == line


@pytest.mark.parametrize("text,match,line", [
    ("8\t0.5\n", "marker name before", 1),
    ("TPOX\n8\tx\n", "a frequency", 2),
    ("TPOX\n8\t0.5\t3\n", "allele<TAB>frequency", 2),
    ("TPOX\n8\t1\n\nTPOX\n8\t1\n", "appears twice", 4),
    ("TPOX\n8\t0.7\n9\t0.2\n", "sum to 0.9", 1),
    ("\n\n", "expected marker blocks", None),
])
def test_block_errors(tmp_path: Path, text, match, line):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=match) as e:
        freqdb.read_locus_blocks(p)
    assert e.value.line == line


def test_block_names_with_spaces(tmp_path: Path):
    p = tmp_path / "db.txt"
    p.write_text("Penta D\n2.2 0.5\n3 0.5\nTPOX\n8\t1\n")
    db = freqdb.read_locus_blocks(p)
    assert db.marker_names == ["Penta D", "TPOX"]
    assert db.locus("PENTA_D").alleles == ("2.2", "3")


def test_rest_allele_and_normalise():
    f = {"M": {"1": 0.5, "2": 0.4}}
    with pytest.raises(DataFormatError, match=r"'M'.*sum to 0\.9"):
        FrequencyDatabase.from_dict("x", f)
    db = FrequencyDatabase.from_dict("x", f, rest_allele=True)
    assert db.locus("M").as_dict() == pytest.approx({"1": 0.5, "2": 0.4, "Rest allele": 0.1})
    db = FrequencyDatabase.from_dict("x", f, normalise=True)
    assert db.locus("M").as_dict() == pytest.approx({"1": 0.5 / 0.9, "2": 0.4 / 0.9})
    # within tolerance: accepted as is
    db = FrequencyDatabase.from_dict("x", {"M": {"1": 0.5, "2": 0.4995}})
    assert db.locus("M").freqs.sum() == pytest.approx(0.9995)


def test_missing_allele_with_n():
    db = FrequencyDatabase.from_dict("x", {"TH01": {"6": 0.25, "7": 0.75}}, n={"TH01": 100})
    with pytest.warns(UserWarning, match=r"'THO1'.*allele '9\.3'.*5/100"):
        (m,) = db.markers(["THO1"], observed={"TH01": ["9.3", "6", None]})
    assert m.name == "THO1"
    assert m.alleles == ("6", "7", "9.3")
    # 5/(2N) with 2N = 100 alleles; the rest scaled by 0.95
    np.testing.assert_allclose(m.freqs, [0.25 * 0.95, 0.75 * 0.95, 0.05])
    assert m.freqs.sum() == pytest.approx(1)


def test_missing_allele_floor():
    db = FrequencyDatabase.from_dict("x", {"M": {"10": 0.5, "11": 0.5}})
    with pytest.warns(UserWarning, match="minimum frequency"):
        (m,) = db.markers(["M"], observed={"M": ["9", "12"]}, min_freq=0.01)
    assert m.alleles == ("9", "10", "11", "12")
    np.testing.assert_allclose(m.freqs, [0.01, 0.49, 0.49, 0.01])


def test_no_warning_when_all_present():
    db = load_database("nist1036-Cauc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ms = db.markers(["TPOX", "vwa"], observed={"TPOX": ["8", "11"]})
    assert [m.name for m in ms] == ["TPOX", "vwa"]


def test_markers_absent_and_mutation():
    db = load_database("norwegian")
    with pytest.raises(InconsistentCaseError, match="D99, X1"):
        db.markers(["TH01", "D99", "X1"])
    (m,) = db.markers(["TH01"], mutation={"model": "equal", "rate": 0.001},
                      male_mutation={"model": "Extended stepwise", "rate": 0.002,
                                     "rate2": 1e-6, "range": 0.1})
    assert m.female is not None and m.female.model == "equal"
    assert m.male is not None and m.male.model == "stepwise"
    np.testing.assert_allclose(m.male.matrix.sum(axis=1), 1, atol=1e-12)


def test_unknown_database():
    with pytest.raises(ValueError, match=r"unknown frequency database 'nope'.*nist1036-Cauc"):
        load_database("nope")


def test_two_spellings_in_database():
    with pytest.raises(DataFormatError, match="two spellings"):
        FrequencyDatabase.from_dict("x", {"TH01": {"1": 1.0}, "THO1": {"1": 1.0}})


def test_wide_table_fbi_extended():
    db = read_frequencies(DATA / "str-frequencies" / "fbi_extended_cauc_022024.csv")
    assert "DYS570" not in db  # no data in that column
    th01 = db.locus("TH01")
    assert th01.n == 404
    assert db.locus("Yindel").n == 97
    assert all(f > 0 for f in th01.freqs)
    assert abs(db.locus("SE33").freqs.sum() - 1) < 1e-3
    # same population as fbi2015-Caucasian: the frequencies agree closely
    ref = load_database("fbi2015-Caucasian").locus("TH01").as_dict()
    for a, f in th01.as_dict().items():
        assert f == pytest.approx(ref[a], abs=0.01)


@pytest.mark.parametrize("text,match,line", [
    ("Allele,M1\n8,x\n", "a frequency for marker M1", 2),
    ("Allele,M1,\n8,1,\n", "marker name in every header", 1),
    ("Allele,M1\n8,0.5\n9,0.2\n", "sum to 0.7", 1),
    ("Allele,M1\n,0.5\n", "allele label", 2),
    ("Allele,M1\n8,1\nN,ab\n", "n for marker M1", 3),
])
def test_wide_errors(tmp_path: Path, text, match, line):
    p = tmp_path / "w.csv"
    p.write_text(text)
    with pytest.raises(DataFormatError, match=match) as e:
        read_frequencies(p)
    assert e.value.line == line


_labels = st.one_of(st.integers(1, 60).map(str),
                    st.tuples(st.integers(1, 60), st.integers(1, 3)).map(lambda t: f"{t[0]}.{t[1]}"),
                    st.sampled_from(["Rest allele", ">27", "X"]))


@st.composite
def _databases(draw):
    names = draw(st.lists(st.sampled_from(["TH01", "Penta D", "D21S11", "vWA", "M1", "FGA"]),
                          min_size=1, max_size=6, unique=True))
    freqs, ns = {}, {}
    for m in names:
        als = draw(st.lists(_labels, min_size=1, max_size=8, unique=True))
        raw = draw(st.lists(st.floats(1e-6, 1.0), min_size=len(als), max_size=len(als)))
        tot = sum(raw)
        freqs[m] = {a: r / tot for a, r in zip(als, raw, strict=True)}
        ns[m] = draw(st.one_of(st.none(), st.integers(1, 5000)))
    return FrequencyDatabase.from_dict("db", freqs, n=ns)


@settings(max_examples=100, deadline=None)
@given(_databases())
def test_long_csv_round_trip(db):
    back = freqdb.read_long_csv(io.StringIO(freqdb.write_long_csv(db)), name="db")
    assert back.marker_names == db.marker_names
    for m in db.marker_names:
        a, b = db.locus(m), back.locus(m)
        assert a.alleles == b.alleles and a.n == b.n
        assert a.freqs.tolist() == b.freqs.tolist()  # exact: repr round-trips floats


@st.composite
def _corrupted_frequency_files(draw):
    src = draw(st.sampled_from([NORSTR / "SydAmerikaDB_v2023.txt",
                                DATA / "dvi-cases" / "familias-fam" / "codis.txt",
                                DATA / "str-frequencies" / "forrel_NorwegianFrequencies.csv",
                                DATA / "str-frequencies" / "fbi_extended_cauc_022024.csv"]))
    lines = src.read_text().splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "replace", "duplicate", "truncate"]))
        if op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "truncate":
            lines = lines[:k]
        else:
            lines[k] = draw(st.sampled_from(["", "x", "8\t", "\t0.5", "8\t-1", "8\t1e400",
                                             "8\tnan", "a,b", ",,,", "N,0", "TPOX,8,2",
                                             "Allele,TPOX", "9 9 9"]))
    return src.suffix, "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(_corrupted_frequency_files())
def test_corrupted_frequency_files_raise_only_data_format_error(tmp_path_factory, case):
    suffix, text = case
    p = tmp_path_factory.mktemp("freq") / f"db{suffix}"
    p.write_text(text)
    try:
        read_frequencies(p)
    except DataFormatError as e:
        assert e.path == str(p)


def test_observed_alleles():
    t1 = {"A": {"TH01": ("6", "9.3")}, "B": {"TH01": ("7", None), "TPOX": ("8", "8")}}
    t2 = {"C": {"TH01": ("10", "6")}}
    assert freqdb.observed_alleles(t1, t2) == {"TH01": {"6", "9.3", "7", "10"}, "TPOX": {"8"}}
