"""Lineage evidence (mtDNA, Y-STR) in the blind search and the joint identification.

Cases are CSV case folders written here: three families whose missing person MP has a
typed mother MO (maternal line: autosomal and mtDNA), a paternal uncle UNC (Y line) and a
typed in-law on neither line (his haplotypes must never be used). The expected lineage LRs
are recomputed pair by pair with the obvious per-pair functions (mtdna_compare.compare,
frequencies; ystr.compare, count_frequencies).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dogtag.cli import cli
from dogtag.errors import DataFormatError
from dogtag.genetics import mtdna_compare as mc
from dogtag.genetics import ystr
from dogtag.identify.dvi import FamilyLoglik, run_dvi
from dogtag.identify.search import blind_search
from dogtag.io.csvcase import read_case_folder

CR = "16024-16569;1-576"
MITO = {"F1": "16093C 16189C 263G 315.1C", "F2": "16129A 16223T 73G 263G 315.1C",
        "F3": "16311C 263G 309.1C 315.1C"}
STRANGER = "16051G 263G 315.1C"
YS = {"F1": {"DYS19": "14", "DYS390": "24", "DYS385": "11,14"},
      "F2": {"DYS19": "15", "DYS390": "23", "DYS385": "13,16"},
      "F3": {"DYS19": "13", "DYS390": "22", "DYS385": "12,12"}}
MEMBERS = [("GF", "", "", "male"), ("GM", "", "", "female"), ("FA", "GF", "GM", "male"),
           ("UNC", "GF", "GM", "male"), ("MO", "", "", "female"), ("MP", "FA", "MO", "male"),
           ("SIS", "FA", "MO", "female"), ("INLAW", "", "", "male")]


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n")


def _pedigrees(folder: Path, samples: list[str], families: list[str], extra: list[str] = ()) -> None:
    rows = [f"pm,,{s},,,male,false" for s in samples]
    for fam in families:
        rows += [f"am,{fam},{i},{f},{m},{sx},{'true' if i == 'MP' else 'false'}" for i, f, m, sx in MEMBERS]
    _write(folder / "pedigrees.csv", "role,family,id,father,mother,sex,missing", [*rows, *extra])


def _mito_db(folder: Path) -> None:
    rows = [f"d{i},{CR},263G 315.1C" for i in range(80)] + [f"e{t},{CR},{v}" for t, v in MITO.items()]
    _write(folder / "mito_database.csv", "id,range,variants", rows)


def mtdna_only_case(folder: Path) -> Path:
    """Remains typed for mtDNA only: V1 is F3's MP (with C-stretch length heteroplasmy),
    V2 is F1's MP (a shorter range), V3 a stranger whose haplotype only the in-laws share."""
    folder.mkdir()
    _pedigrees(folder, ["V1", "V2", "V3"], list(MITO))
    rows = [f"{t},MO,{CR},{v}" for t, v in MITO.items()]
    rows += [f"{t},INLAW,{CR},{STRANGER}" for t in MITO]          # on neither line: never used
    rows += [f",V1,{CR},16311C 263G 309.1C 309.2C 315.1C", ",V2,16024-16400;1-300,16093C 16189C 263G",
             f",V3,{CR},{STRANGER}"]
    _write(folder / "mito.csv", "family,id,range,variants", rows)
    _mito_db(folder)
    return folder


def test_mtdna_only_remains_identify_the_right_missing_persons(tmp_path: Path) -> None:
    case = read_case_folder(mtdna_only_case(tmp_path / "mito"))
    assert not case.markers and all(s.mtdna is not None and not s.genotypes for s in case.pm)
    res = run_dvi(case)
    s = res.search
    assert s.log_lr is not None and s.exclusions is not None and s.markers_used is not None
    assert s.missing == ["F1:MP", "F2:MP", "F3:MP"]
    assert (s.markers_used == 0).all()
    # one match among the 83 database haplotypes covering each range -> LR = 1 / CP bound
    lr1 = 1 / float(mc.clopper_pearson_upper(1, 83))
    assert s.lr[0].tolist() == pytest.approx([0, 0, lr1], rel=1e-12)
    assert s.lr[1].tolist() == pytest.approx([lr1, 0, 0], rel=1e-12)
    assert s.lr[2].tolist() == [0, 0, 0]
    assert s.exclusions.tolist() == [[1, 1, 0], [0, 1, 1], [1, 1, 1]]
    out = res.to_json()
    assert out["lr_matrix"]["evidence"] == [[["mtdna"]] * 3] * 3
    post = out["posterior"]
    best = {smp: post["columns"][int(np.argmax(p))] for smp, p in zip(post["samples"], post["p"], strict=True)}
    assert best == {"V1": "F3:MP", "V2": "F1:MP", "V3": "*"}
    assert "mtDNA and Y-STR lineage LRs" in out["method"]["lr_matrix"]


def _alleles(rng: np.random.Generator, k: int = 2) -> list[str]:
    return [str(x) for x in rng.integers(10, 15, size=k)]


def mixed_case(folder: Path, seed: int = 3) -> Path:
    """Autosomal (4 markers), mtDNA and Y. V1: F2's MP with all three kinds; V2: F1's MP with
    autosomal and mtDNA; V3: F3's MP with mtDNA only; V4: autosomal and a Y profile that has
    a copy-number change against every uncle (a Y exclusion everywhere)."""
    folder.mkdir()
    rng = np.random.default_rng(seed)
    markers = [f"M{i}" for i in range(4)]
    _write(folder / "frequencies.csv", "marker,allele,frequency",
           [f"{m},{a},0.2" for m in markers for a in range(10, 15)])
    _pedigrees(folder, ["V1", "V2", "V3", "V4"], list(MITO))
    geno: list[str] = []
    mo = {t: {m: _alleles(rng) for m in markers} for t in MITO}
    for t in MITO:
        geno += [f"{t},MO,{m},{a},{b}" for m, (a, b) in mo[t].items()]
    son = {t: {m: [mo[t][m][int(rng.integers(2))], _alleles(rng, 1)[0]] for m in markers} for t in MITO}
    for v, t in (("V1", "F2"), ("V2", "F1")):
        geno += [f",{v},{m},{a},{b}" for m, (a, b) in son[t].items()]
    geno += [f",V4,{m},{a},{b}" for m in markers for a, b in [_alleles(rng)]]
    _write(folder / "genotypes.csv", "family,id,marker,allele1,allele2", geno)
    mito = [f"{t},MO,{CR},{v}" for t, v in MITO.items()] + [f"{t},INLAW,{CR},{STRANGER}" for t in MITO]
    mito += [f",V1,{CR},{MITO['F2']}", f",V2,{CR},{MITO['F1']}", f",V3,{CR},{MITO['F3']}"]
    _write(folder / "mito.csv", "family,id,range,variants", mito)
    y = [f'{t},UNC,{k},"{v}"' for t, hap in YS.items() for k, v in hap.items()]
    y += [f'F1,INLAW,{k},"{v}"' for k, v in YS["F2"].items()]                 # never used
    y += [f',V1,{k},"{v}"' for k, v in {**YS["F2"], "DYS19": "16"}.items()]  # one step from F2's uncle
    y += [",V4,DYS19,14", ",V4,DYS390,24", ",V4,DYS385,11"]                 # one copy of DYS385
    _write(folder / "ystr.csv", "family,id,marker,alleles", y)
    _mito_db(folder)
    _write(folder / "ystr_database.csv", "DYS19,DYS390,DYS385,n",
           [f'{14 + i % 3},{22 + i % 4},"{11 + i % 2},{14 + i % 5}",2' for i in range(30)])
    return folder


def _without_lineage(case):
    pm = [dataclasses.replace(s, mtdna=None, ystr=None) for s in case.pm]
    am = [dataclasses.replace(f, mtdna={}, ystr={}) for f in case.am]
    return dataclasses.replace(case, pm=pm, am=am)


def _expected_lineage(case) -> tuple[np.ndarray, np.ndarray, list[list[list[str]]]]:
    """log lineage LR, lineage exclusions and evidence per pair, one pair at a time."""
    mt_db = mc.MtPanel.from_haplotypes(list(case.mtdna_database))
    y_db = ystr.YPanel.from_haplotypes(list(case.ystr_database))
    fams = {f.name: f for f in case.am}
    S, M = len(case.pm), len(case.am)
    llr, exc = np.zeros((S, M)), np.zeros((S, M), dtype=int)
    ev: list[list[list[str]]] = [[[] for _ in range(M)] for _ in range(S)]
    for i, s in enumerate(case.pm):
        for j, name in enumerate(fams):
            f = fams[name]
            if s.genotypes:
                ev[i][j].append("autosomal")
            if s.mtdna is not None:   # the mother is the maternal-line reference
                c = mc.compare(s.mtdna, f.mtdna["MO"])
                fr = mc.frequencies(mc.MtPanel.from_haplotypes([s.mtdna]), mt_db)
                lr = {"match": float(fr.lr[0]), "inconclusive": 1.0, "exclusion": 0.0}[c.verdict]
                llr[i, j] += math.log(lr) if lr > 0 else -math.inf
                exc[i, j] += c.verdict == "exclusion"
                ev[i][j].append("mtdna")
            if s.ystr is not None:    # the paternal uncle, 3 meioses away
                c = ystr.compare(f.ystr["UNC"], s.ystr, meioses=3)
                q = ystr.YPanel.from_haplotypes([s.ystr], y_db.loci)
                _, _, ub = ystr.count_frequencies(q, y_db)
                llr[i, j] += math.log(c.likelihood / ub[0]) if c.likelihood > 0 else -math.inf
                exc[i, j] += c.likelihood == 0
                ev[i][j].append("ystr")
    return llr, exc, ev


def test_mixed_case_multiplies_autosomal_and_lineage_lrs(tmp_path: Path) -> None:
    case = read_case_folder(mixed_case(tmp_path / "mixed"))
    assert len(case.ystr_database) == 60 and len(case.mtdna_database) == 83
    both = blind_search(case)
    auto = blind_search(_without_lineage(case))
    assert both.log_lr is not None and auto.log_lr is not None and both.exclusions is not None
    llr, exc, ev = _expected_lineage(case)
    finite = np.isfinite(llr)
    np.testing.assert_allclose(both.log_lr[finite], (auto.log_lr + llr)[finite], rtol=1e-12, atol=1e-12)
    assert (both.log_lr[~finite] == -np.inf).all() and (~finite).sum() >= 6
    assert (both.exclusions == auto.exclusions + exc).all()
    assert both.evidence is not None
    from dogtag.identify.lineage_search import evidence_names
    assert [[evidence_names(c) for c in row] for row in both.evidence] == ev
    # V4's Y profile has one DYS385 copy: a Y exclusion against every uncle
    assert (both.log_lr[3] == -np.inf).all() and (both.exclusions[3] >= 1).all()
    # the joint identification finds V1, V2, V3 as the MPs of F2, F1, F3
    out = run_dvi(case).to_json()
    post = out["posterior"]
    best = {smp: post["columns"][int(np.argmax(p))] for smp, p in zip(post["samples"], post["p"], strict=True)}
    assert best == {"V1": "F2:MP", "V2": "F1:MP", "V3": "F3:MP", "V4": "*"}
    assert out["lr_matrix"]["evidence"][0][1] == ["autosomal", "mtdna", "ystr"]


def test_top_candidates_carry_their_evidence(tmp_path: Path) -> None:
    case = read_case_folder(mixed_case(tmp_path / "mixed"))
    full = blind_search(case)
    top = blind_search(case, top=1)
    assert full.log_lr is not None and full.evidence is not None and full.exclusions is not None
    for i, sid in enumerate(top.samples):
        (j, _llr, exc), = top.candidates[sid]
        assert top.candidate_evidence[sid] == [int(full.evidence[i, j])]
        assert exc == full.exclusions[i, j]          # lineage exclusions counted in the top-K path too
    out = run_dvi(case, top=2, joint=False).to_json(top=2)
    assert out["candidates"]["V1"][0]["evidence"] == ["autosomal", "mtdna", "ystr"]


def test_several_missing_in_a_family_multiply_lineage_per_placement(tmp_path: Path) -> None:
    folder = tmp_path / "brothers"
    folder.mkdir()
    rows = ["pm,,V1,,,male,false", "pm,,V2,,,male,false",
            "am,B,FA,,,male,false", "am,B,MO,,,female,false",
            "am,B,MP1,FA,MO,male,true", "am,B,MP2,FA,MO,male,true"]
    _write(folder / "pedigrees.csv", "role,family,id,father,mother,sex,missing", rows)
    _write(folder / "frequencies.csv", "marker,allele,frequency", [f"M1,{a},0.25" for a in range(10, 14)])
    _write(folder / "genotypes.csv", "family,id,marker,allele1,allele2",
           ["B,MO,M1,10,11", ",V1,M1,10,12", ",V2,M1,11,13"])
    _write(folder / "mito.csv", "family,id,range,variants",
           [f"B,MO,{CR},{MITO['F1']}", f",V1,{CR},{MITO['F1']}", f",V2,{CR},{MITO['F1']}"])
    _mito_db(folder)
    case = read_case_folder(folder)
    s = blind_search(case)
    assert s.lineage_log_lr is not None
    lin = float(math.log(1 / mc.clopper_pearson_upper(1, 83)))
    np.testing.assert_allclose(s.lineage_log_lr, np.full((2, 2), lin), rtol=1e-12)
    auto, joint = FamilyLoglik(case), FamilyLoglik(case, s.lineage_log_lr)
    placed = {"MP1": "V1", "MP2": "V2"}
    assert joint("B", placed) == pytest.approx(auto("B", placed) + 2 * lin, rel=1e-12)
    res = run_dvi(case)
    assert res.joint is not None
    # the brothers are exchangeable; the joint term of a full placement includes both lineage LRs
    p = res.joint.posterior
    assert p[0, 0] == pytest.approx(p[0, 1], rel=1e-9)
    full = [a for a in res.joint.assignments if "*" not in a.pairs.values()]
    assert full and all(a.loglik == pytest.approx(joint("B", {m: v for v, m in a.pairs.items()}), rel=1e-12)
                        for a in full)


def test_case_folder_lineage_errors_name_file_and_line(tmp_path: Path) -> None:
    folder = mtdna_only_case(tmp_path / "bad")
    text = (folder / "mito.csv").read_text().splitlines()
    text[3] = f"F3,MO,{CR},16311Q 263G"
    (folder / "mito.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError) as err:
        read_case_folder(folder)
    assert err.value.line == 4 and "mito.csv" in str(err.value) and "16311Q" in str(err.value)
    text[3] = f"F9,MO,{CR},263G"
    (folder / "mito.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match="F9") as err:
        read_case_folder(folder)
    assert err.value.line == 4
    _write(folder / "ystr.csv", "family,id,marker,alleles", ["F1,UNC,DYS19,14", "F1,UNC,XYZ1,3"])
    text[3] = f"F3,MO,{CR},263G"
    (folder / "mito.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError, match="XYZ1") as err:
        read_case_folder(folder)
    assert err.value.line == 3 and "ystr.csv" in str(err.value)


def test_dvi_cli_json_has_the_evidence_matrix(tmp_path: Path) -> None:
    folder = mtdna_only_case(tmp_path / "mito")
    r = CliRunner().invoke(cli, ["dvi", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    ev, lr = out["lr_matrix"]["evidence"], out["lr_matrix"]["lr"]
    assert len(ev) == len(lr) and all(len(a) == len(b) for a, b in zip(ev, lr, strict=True))
    assert ev[0][2] == ["mtdna"]


def test_json_case_takes_lineage_profiles_too(tmp_path: Path) -> None:
    from dogtag.io.pedsuite_json import read_dvi_json

    csv_case = read_case_folder(mtdna_only_case(tmp_path / "mito"))
    sexes = {"male": 1, "female": 2}
    fams = [{"family": t, "missing": ["MP"],
             "pedigree": [{"id": i, "fid": f or None, "mid": m or None, "sex": sexes[sx]} for i, f, m, sx in MEMBERS],
             "mtdna": {"MO": {"range": CR, "variants": v}, "INLAW": {"range": CR, "variants": STRANGER}}}
            for t, v in MITO.items()]
    pm = [{"id": s.id, "sex": 1, "mtdna": {"range": str(s.mtdna.range), "variants": " ".join(s.mtdna.variants)}}
          for s in csv_case.pm if s.mtdna is not None]
    obj = {"markers": [{"name": "M1", "alleles": ["1", "2"], "freqs": [0.5, 0.5]}], "pm": pm, "am": fams,
           "mtdna_database": [{"id": h.id, "range": str(h.range), "variants": " ".join(h.variants)}
                              for h in csv_case.mtdna_database]}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(obj, indent=1))
    js = blind_search(read_dvi_json(path))
    ref = blind_search(csv_case)
    assert js.log_lr is not None and ref.log_lr is not None
    np.testing.assert_allclose(js.log_lr, ref.log_lr, rtol=1e-12)
    obj["pm"][0]["mtdna"]["variants"] = "16311Q"
    path.write_text(json.dumps(obj, indent=1))
    with pytest.raises(DataFormatError, match="16311Q"):
        read_dvi_json(path)
