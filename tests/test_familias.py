"""Familias .fam reader: every shipped file reads; golden agreement; corrupted files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dogtag.errors import DataFormatError
from dogtag.genetics.cases import KinshipCase
from dogtag.genetics.markers import Marker
from dogtag.identify.case import DVICase
from dogtag.io.familias import read_fam, read_fam_database

from conftest import DATA, EXAMPLES, GOLDEN

FAM_DIR = DATA / "dvi-cases" / "familias-fam"
FAM_FILES = [*sorted(FAM_DIR.glob("*.fam")), EXAMPLES / "paternity.fam", GOLDEN / "dvi" / "dvi-example.fam"]


@pytest.mark.parametrize("path", FAM_FILES, ids=[f"{p.parent.name}/{p.name}" for p in FAM_FILES])
def test_every_file_reads(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback models, no missing alleles in these files
        case = read_fam(path)
    assert case.markers
    for m in case.markers:
        assert abs(m.freqs.sum() - 1) < 1e-3
        for model in (m.female, m.male):
            if model is not None:
                np.testing.assert_allclose(model.matrix.sum(axis=1), 1, atol=1e-12)
    if isinstance(case, DVICase):
        assert case.pm and case.am
        assert all(f.missing for f in case.am)
        for f in case.am:  # names repeat across families (Solution3_3: "Brother"), not within
            assert set(f.genotypes) <= set(f.pedigree.ids)
            assert set(f.missing) <= set(f.pedigree.ids) - set(f.genotypes)
    else:
        assert isinstance(case, KinshipCase)
        assert case.hypotheses


def _rows(ped_json):
    return sorted((r["id"], r["fid"], r["mid"], r["sex"]) for r in ped_json)


def _ours(ped):
    return sorted(ped.as_rows())


def _check_marker(ours: Marker, gold: dict):
    assert ours.name == gold["name"]
    assert list(ours.alleles) == gold["alleles"]
    np.testing.assert_allclose(ours.freqs, gold["freqs"], rtol=0, atol=1e-12)
    mut = gold["mutation"]
    if mut is None:
        assert ours.female is None and ours.male is None
        return
    assert ours.female is not None
    np.testing.assert_allclose(ours.female.matrix, mut["matrix"], rtol=0, atol=1e-12)
    male = mut.get("male", mut)
    np.testing.assert_allclose(ours.mutation_matrix(1), male["matrix"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.mutation_matrix(2), mut["matrix"], rtol=0, atol=1e-12)
    assert (ours.male is not None) == ("male" in mut)


def test_paternity_matches_golden():
    gold = json.loads((EXAMPLES / "paternity.kinship.json").read_text())
    case = read_fam(EXAMPLES / "paternity.fam")
    assert isinstance(case, KinshipCase)
    assert [m.name for m in case.markers] == [m["name"] for m in gold["markers"]]
    for ours, g in zip(case.markers, gold["markers"], strict=True):
        _check_marker(ours, g)
    assert [h.name for h in case.hypotheses] == [h["name"] for h in gold["hypotheses"]]
    for h, g in zip(case.hypotheses, gold["hypotheses"], strict=True):
        assert _ours(h.pedigree) == _rows(g["pedigree"])
    assert case.reference_name == gold["reference"]
    assert case.theta == gold.get("theta", 0)
    got = {i: {m: tuple(g) for m, g in d.items()} for i, d in case.genotypes.items()}
    want = {i: {m: tuple(g) for m, g in d.items()} for i, d in gold["genotypes"].items()}
    assert got == want
    # the stepwise models are sex-specific (female 0.001, male 0.002)
    assert case.markers[0].female.rate == 0.001 and case.markers[0].male.rate == 0.002


def test_dvi_example_matches_golden():
    gold = json.loads((GOLDEN / "dvi" / "dvi-example.json").read_text())
    for path in (GOLDEN / "dvi" / "dvi-example.fam", FAM_DIR / "dvi-example.fam"):
        case = read_fam(path)  # CRLF and LF copies
        assert isinstance(case, DVICase)
        for ours, g in zip(case.markers, gold["markers"], strict=True):
            _check_marker(ours, g)
        assert [(s.id, s.sex) for s in case.pm] == [(v["id"], v["sex"]) for v in gold["pm"]]
        for s, v in zip(case.pm, gold["pm"], strict=True):
            assert {m: tuple(g) for m, g in s.genotypes.items()} == \
                {m: tuple(g) for m, g in v["genotypes"].items()}
        assert len(case.am) == len(gold["am"])
        for fam, g in zip(case.am, gold["am"], strict=True):
            assert fam.name == g["family"]
            assert _ours(fam.pedigree) == _rows(g["pedigree"])
            assert list(fam.pedigree.ids) == [r["id"] for r in g["pedigree"]]
            assert sorted(fam.missing) == sorted(g["missing"])
            assert {i: {m: tuple(x) for m, x in d.items()} for i, d in fam.genotypes.items()} == \
                {i: {m: tuple(x) for m, x in d.items()} for i, d in g["genotypes"].items()}


def test_dvi_familias_details():
    case = read_fam(FAM_DIR / "KETPex498.fam")
    assert isinstance(case, DVICase)
    (fam,) = case.am
    # Reference pedigree dropped; the disconnected "Missing female 1" is not in the family
    assert "Missing female 1" not in fam.pedigree
    assert set(fam.missing) == {"Missing female 2", "Missing male 1", "Missing person"}
    # "Missing person" has no Gender line: female, from the sex of its spouse EM1
    ped = fam.pedigree
    assert ped.sex[ped.index("Missing person")] == 2
    # DNA data says "VWA"; the database says "VWA" or an alias: genotypes use database names
    names = {m.name for m in case.markers}
    assert all(set(g) <= names for g in fam.genotypes.values())


def test_kinship_hypotheses_ch4():
    case = read_fam(FAM_DIR / "Ch4-table-4-4.fam")
    assert isinstance(case, KinshipCase)
    assert [h.name for h in case.hypotheses] == [f"H{k}" for k in range(1, 8)]
    typed = set(case.genotypes)
    for h in case.hypotheses:
        assert typed <= set(h.pedigree.ids)


def test_database_only():
    db = read_fam_database(EXAMPLES / "paternity.fam")
    assert len(db) == 10
    assert db.name == "unknown"
    assert db.locus("TH01").as_dict()["9.3"] == pytest.approx(0.3404967867)


@pytest.mark.parametrize("cut", [3, 10, 60, 90, 104, 120, 300])
def test_truncated_paternity(tmp_path: Path, cut: int):
    lines = (EXAMPLES / "paternity.fam").read_text().splitlines()
    p = tmp_path / "cut.fam"
    p.write_text("\n".join(lines[:cut]) + "\n")
    with pytest.raises(DataFormatError) as e:
        read_fam(p)
    assert e.value.path == str(p)
    assert e.value.line is not None and e.value.line <= cut + 1


def test_error_messages_name_line(tmp_path: Path):
    lines = (EXAMPLES / "paternity.fam").read_text().splitlines()
    lines[109] = "seven"  # female model code of D3S1358 (line 110)
    p = tmp_path / "bad.fam"
    p.write_text("\n".join(lines))
    with pytest.raises(DataFormatError, match=r"female mutation model code") as e:
        read_fam(p)
    assert e.value.line == 110
    assert "bad.fam, line 110" in str(e.value)


@pytest.mark.parametrize("count", ["9999999999999999", "1001"])
def test_huge_person_counts_are_refused_not_allocated(tmp_path: Path, count: str):
    """A damaged count of extra persons (found by benchmarks/fuzz.py: the reader built a list of
    10^16 names until the machine ran out of memory) is a data error on its line."""
    from fuzz_readers import familias

    lines = familias().splitlines()
    at = lines.index('"Known relations"') + 2  # the number of extra males (line at + 1)
    lines[at] = count
    p = tmp_path / "huge.fam"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"number of extra males \(at most 1000\)") as e:
        read_fam(p)
    assert e.value.line == at + 1


def test_pedigrees_of_too_many_persons_are_refused(tmp_path: Path):
    """1000 extra persons copied into each of 1001 pedigrees would be a million names: refused."""
    from fuzz_readers import familias

    lines = familias(rels=[]).splitlines()
    at = lines.index('"Known relations"')
    lines[at + 1] = "1000"  # extra females, in every pedigree
    i = lines.index('"H1"') - 1
    block = ["0", '"P"', "0", "0", "0"]  # index, name, extra females, extra males, relations
    lines[at + 4] = "1001"  # the number of pedigrees
    lines[i:lines.index('"H2"') + 4] = block * 1001
    p = tmp_path / "many.fam"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match="at most 1,000,000 persons in all"):
        read_fam(p)


def test_stepwise_fallback_on_nonnumeric(tmp_path: Path):
    text = (EXAMPLES / "paternity.fam").read_text()
    p = tmp_path / "rest.fam"
    p.write_text(text.replace("\"10\"\n5.21594e-005\n\"11\"", "\"Rest allele\"\n5.21594e-005\n\"11\"", 1))
    with pytest.warns(UserWarning, match="D3S1358: alleles incompatible with the stepwise"):
        case = read_fam(p)
    assert case.markers[0].female.model == "equal"
    assert "Rest allele" in case.markers[0].alleles


_SOURCES = [EXAMPLES / "paternity.fam", FAM_DIR / "dvi-example.fam",
            FAM_DIR / "KETPex498.fam"]


@st.composite
def _corruptions(draw):
    src = draw(st.sampled_from(_SOURCES))
    lines = src.read_text().splitlines()
    n = draw(st.integers(1, 4))
    for _ in range(n):
        kind = draw(st.sampled_from(["delete", "replace", "duplicate", "truncate", "swap"]))
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[k]
        elif kind == "replace":
            lines[k] = draw(st.sampled_from(
                ["", "x", "-1", "999999", "#TRUE#", "[DVI]", "[[[Person 1 ]]]", "nPersons= 7",
                 "Name= ", "Gender= Other", "Parent= R", "1e400", "nan", "0", "3"]))
        elif kind == "duplicate":
            lines.insert(k, lines[k])
        elif kind == "truncate":
            lines = lines[:k]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_corruptions())
def test_corrupted_files_raise_only_data_format_error(tmp_path_factory, text: str):
    p = tmp_path_factory.mktemp("fam") / "x.fam"
    p.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_fam(p)
        except DataFormatError as e:
            assert e.path == str(p)


def test_missing_gender_tolerated(tmp_path: Path):
    # Older Familias versions may omit Gender lines: such persons get sex 0 (unknown),
    # except a parent, whose sex follows from the other parent of its children.
    lines = [ln for ln in (FAM_DIR / "dvi-example.fam").read_text().splitlines()
             if not ln.startswith("Gender=")]
    p = tmp_path / "old.fam"
    p.write_text("\n".join(lines))
    case = read_fam(p)
    assert isinstance(case, DVICase)
    assert [s.sex for s in case.pm] == [0, 0, 0]
    ped = case.am[0].pedigree
    # R and "Missing person" are both parents of "Missing male 2" with no Gender line: the
    # relation still needs a father and a mother, so R (listed first) is the male parent.
    k = ped.index("Missing male 2")
    assert (ped.ids[ped.father[k]], int(ped.sex[ped.father[k]])) == ("R", 1)
    assert (ped.ids[ped.mother[k]], int(ped.sex[ped.mother[k]])) == ("Missing person", 2)
    assert ped.ids[ped.father[k]] != ped.ids[ped.mother[k]]


def test_theta_is_read(tmp_path: Path):
    text = (EXAMPLES / "paternity.fam").read_text()
    p = tmp_path / "theta.fam"
    p.write_text(text.replace("Theta/Kinship/Fst: 0 )", "Theta/Kinship/Fst: 0.02 )"))
    case = read_fam(p)
    assert isinstance(case, KinshipCase)
    assert case.theta == 0.02
