"""The Korean War scenario: generator, simulation pieces, the demo end to end, calibration."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dogtag.cli import cli
from dogtag.demo import DEFAULT_THRESHOLD
from dogtag.scenario import genetics as sg
from dogtag.scenario.generate import MEMBERS, ScenarioParams, simulate_scenario
from dogtag.scenario.incidents import BATTLES, air_losses

SMALL = ScenarioParams(seed=3, n_missing=600)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- simulation pieces: against slow obvious versions ------------------------------------------

def test_mendelian_child_takes_one_allele_from_each_parent() -> None:
    rng = np.random.default_rng(0)
    fa = rng.integers(0, 10, (500, 5, 2)).astype(np.int16)
    mo = rng.integers(10, 20, (500, 5, 2)).astype(np.int16)
    ch = sg.mendelian_child(fa, mo, rng)
    for n in range(500):
        for j in range(5):
            assert ch[n, j, 0] in fa[n, j]
            assert ch[n, j, 1] in mo[n, j]
    # each parental allele is passed with probability 1/2 (fa alleles distinct w.p. ~0.9)
    het = fa[:, :, 0] != fa[:, :, 1]
    first = (ch[:, :, 0] == fa[:, :, 0])[het]
    assert abs(first.mean() - 0.5) < 0.04


def test_founder_alleles_follow_the_population_frequencies() -> None:
    panel = sg.MarkerPanel.nist1036(("TH01", "TPOX"))
    rng = np.random.default_rng(1)
    pop = np.full(20000, sg.POPULATIONS.index("Cauc"))
    g = sg.sample_founders(panel, pop, rng)
    for j, m in enumerate(panel.markers):
        counts = np.bincount(g[:, j, :].ravel(), minlength=len(panel.alleles[m])) / g[:, j, :].size
        expected = panel.freqs[m][0]
        # 4 standard errors of a proportion from 40,000 alleles
        assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected * (1 - expected) / 40000) + 1e-9)
    # NIST Cauc TH01 9.3 = 0.345 (the shipped database's documented check)
    assert panel.freqs["TH01"][0][panel.alleles["TH01"].index("9.3")] == pytest.approx(0.345, abs=5e-4)


def test_degrade_drops_homozygotes_only_when_both_copies_drop() -> None:
    rng = np.random.default_rng(2)
    n = 40000
    g = np.zeros((n, 2, 2), dtype=np.int16)
    g[:, 1, 1] = 1  # marker 0 homozygous (0, 0), marker 1 heterozygous (0, 1)
    d = np.full(n, 0.3)
    out = sg.degrade(g, np.zeros(n), d, rng)
    homo_lost = np.mean((out[:, 0, 0] < 0) & (out[:, 0, 1] < 0))
    assert homo_lost == pytest.approx(0.3 ** 2, abs=0.01)
    assert np.all((out[:, 0, 0] < 0) == (out[:, 0, 1] < 0))  # a homozygote shows both copies or none
    het_one = np.mean(out[:, 1, 1] < 0)
    assert het_one == pytest.approx(0.3, abs=0.01)
    failed = sg.degrade(g, np.ones(n), np.zeros(n), rng)
    assert np.all(failed < 0)


def test_private_mt_adds_transitions_inside_hvs() -> None:
    rng = np.random.default_rng(4)
    base = ["16129A", "73G"]
    out = sg.private_mt(base, 3, rng)
    assert out[:2] == base and len(out) == 5
    assert all(sg.in_hvs(t) for t in out[2:])


def test_incidents_have_real_dates_places_and_sources() -> None:
    keys = {b.key for b in BATTLES}
    assert {"KW-UNSAN", "KW-CHOSIN"} <= keys
    chosin = next(b for b in BATTLES if b.key == "KW-CHOSIN")
    assert chosin.date == "1950-11-27" and 40 < (chosin.latitude or 0) < 41 and chosin.sources
    air = air_losses()
    assert len(air) == 199 and all(a.crew > 0 for a in air)
    # THOR's MIA total is 404; one mission of 1950-06-29 with 20 MIA is listed twice, counted once
    assert sum(a.crew for a in air if a.key.startswith("KW-AIR-MSN")) == 404 - 20


# --- the generator -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenario")
    simulate_scenario(folder, SMALL)
    return folder


def test_generator_is_seeded(scenario: Path, tmp_path: Path) -> None:
    simulate_scenario(tmp_path, SMALL)
    for name in ("missing.csv", "pedigrees.csv", "genotypes.csv", "mito.csv", "ystr.csv", "truth.csv"):
        assert (tmp_path / name).read_bytes() == (scenario / name).read_bytes(), name
    simulate_scenario(tmp_path, ScenarioParams(seed=4, n_missing=600))
    assert (tmp_path / "genotypes.csv").read_bytes() != (scenario / "genotypes.csv").read_bytes()


def test_generator_proportions(scenario: Path) -> None:
    info = json.loads((scenario / "scenario.json").read_text())
    c = info["counts"]
    assert c["missing"] == 600
    assert 0.88 <= c["families_with_donors"] / 600 <= 0.96
    assert c["donors_mtdna"] > c["donors_autosomal"] > 0 and c["donors_ystr"] > 0
    ped = _read(scenario / "pedigrees.csv")
    am = [r for r in ped if r["role"] == "am"]
    assert len(am) == 600 * len(MEMBERS)
    assert sum(r["missing"] == "True" for r in am) == 600
    truth = _read(scenario / "truth.csv")
    samples = _read(scenario / "samples.csv")
    assert {r["sample"] for r in truth} == {r["key"] for r in samples}
    sources = Counter(r["source"] for r in truth)
    assert set(sources) == {"turnover", "disinterment", "recovery"}
    # K55: commingled boxes (several individuals per box) and bones sampled more than once
    per_box = Counter(r["accession"] for r in truth if r["source"] == "turnover")
    inds_per_box = {b: len({r["individual"] for r in truth if r["accession"] == b}) for b in per_box}
    assert max(inds_per_box.values()) > 1
    assert any(r["key"].endswith("-S2") for r in samples)
    # many remains are mtDNA only
    auto = {r["id"] for r in _read(scenario / "genotypes.csv") if not r["family"]}
    mito = {r["id"] for r in _read(scenario / "mito.csv") if not r["family"]}
    assert len(mito - auto) > len(auto) / 2
    # a missing person's profile on remains is his family's MP genotype: a sibling donor shares alleles
    assert all(r["service_number"] == "" or r["family"] for r in truth)


# --- end to end: simulate -> import -> search -> proposals -> calibration ------------------------------

@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from dogtag.demo import run_demo

    root = tmp_path_factory.mktemp("demo")
    db = root / "demo.sqlite"
    return run_demo(root / "scenario", f"sqlite:///{db}", params=SMALL,
                    passwords={u: f"amber-lantern-{u}" for u in ("admin", "analyst", "reviewer", "reviewer2", "liaison")})


def test_demo_stores_proposals_for_review(demo_run) -> None:  # type: ignore[no-untyped-def]
    from dogtag.registry.engine import make_engine
    from dogtag.registry.identification import AnalysisRun, Identification, IdStatus
    from dogtag.registry.people import MissingPerson
    from dogtag.registry.users import User

    engine = make_engine(demo_run.database)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(MissingPerson)) == 600
        ids = conn.execute(select(Identification.status, Identification.posterior, MissingPerson.service_number,
                                  Identification.analysis_run_id).join(MissingPerson)).all()
        roles = {r for (r,) in conn.execute(select(User.role))}
        runs = conn.scalar(select(func.count()).select_from(AnalysisRun))
    engine.dispose()
    assert len(ids) == len(demo_run.run.proposals) > 0
    assert all(st == IdStatus.PROPOSED and p >= DEFAULT_THRESHOLD and run is not None for st, p, _, run in ids)
    assert {sn for *_, sn, _ in ids} == {p.service_number for p in demo_run.run.proposals}
    assert runs == 2  # the sorting of the turnover's boxes, then the identification
    assert {r.value for r in roles} == {"admin", "analyst", "reviewer", "family_liaison"}


def test_demo_sorts_the_turnover_boxes_before_identifying(demo_run) -> None:  # type: ignore[no-untyped-def]
    from dogtag.registry.commingling import Sorting, SortingStatus
    from dogtag.registry.engine import make_engine
    from dogtag.registry.recovery import Accession, Element, Individual

    root = Path(demo_run.folder)
    truth = {r["sample"]: r["individual"] for r in _read(root / "truth.csv")}
    el_truth = {r["element"]: truth[r["key"]] for r in _read(root / "samples.csv")}
    elements = [r for r in _read(root / "elements.csv") if r["accession"].startswith("K55-")]
    # real, measured long bones; no person has two of one kind and side
    codes = [c for c in elements[0] if "_" in c]
    measured = [r for r in elements if any(r[c] for c in codes)]
    assert all(r["element"] == "vertebra" for r in elements if r not in measured)
    assert len(measured) > len(elements) / 2
    kinds = Counter((el_truth[r["key"]], r["element"], r["side"]) for r in elements
                    if r["side"] in ("L", "R"))
    assert max(kinds.values()) == 1
    engine = make_engine(demo_run.database)
    with engine.connect() as conn:
        (st, by, rev, result), = conn.execute(select(Sorting.status, Sorting.proposed_by,
                                                     Sorting.reviewed_by, Sorting.result)).all()
        labels = conn.execute(select(Element.key, Individual.key).join(Individual)
                              .join(Accession).where(Accession.key.like("K55-%"))).all()
    engine.dispose()
    assert (st, by, rev) == (SortingStatus.APPLIED, "analyst", "reviewer")
    assert result["mni"] >= 2 and labels
    members: dict[str, set[str]] = {}
    for el, ind in labels:
        members.setdefault(ind, set()).add(el_truth[el])
    assert all(len(people) == 1 for people in members.values())  # no individual mixes two people


def test_calibration_no_false_identification_at_default_threshold(demo_run) -> None:  # type: ignore[no-untyped-def]
    cal = demo_run.calibration
    assert cal.threshold == DEFAULT_THRESHOLD
    assert cal.false_at_threshold == 0
    assert cal.true_at_threshold == len(demo_run.run.proposals) >= 3
    # the table is consistent: proposed = true + false, and falls as the threshold rises
    proposed = [r["proposed"] for r in cal.thresholds]
    assert all(r["proposed"] == r["true"] + r["false"] for r in cal.thresholds)
    assert proposed == sorted(proposed, reverse=True)
    # every remains individual of the truth has one outcome
    assert sum(cal.unidentified.values()) == cal.remains["individuals"]
    assert cal.unidentified["identified"] == len({demo_run.run.proposals[i].service_number
                                                  for i in range(len(demo_run.run.proposals))})
    assert cal.unidentified.get("falsely identified", 0) == 0
    assert cal.unidentified["not on the list (correctly left unidentified)"] > 0
    # recompute the reliability bins from the points, slowly
    for b in cal.reliability:
        lo, hi = b["bin"]
        pts = [ok for p, ok in cal.points if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        assert b["n"] == len(pts)
        if pts:
            assert b["fraction_true"] == pytest.approx(sum(pts) / len(pts))
    report = Path(demo_run.report["png"])
    assert report.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(demo_run.report["svg"]).read_text().lstrip().startswith(("<?xml", "<svg"))


def test_proposals_are_true_against_the_truth(demo_run) -> None:  # type: ignore[no-untyped-def]
    truth = {r["sample"]: r["service_number"] for r in _read(Path(demo_run.folder) / "truth.csv")}
    for p in demo_run.run.proposals:
        assert {truth[s] for s in p.samples} == {p.service_number}
        assert p.evidence and all(e["log10_lr"] > -np.inf for e in p.evidence)


# --- CLI ------------------------------------------------------------------------------------------

def test_simulate_cli(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["simulate", str(tmp_path / "s"), "--missing", "100", "--seed", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"]["missing"] == 100
    assert (tmp_path / "s" / "truth.csv").exists()


def test_demo_refuses_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite"
    db.write_text("")
    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--db", str(db), "--missing", "50"])
    assert res.exit_code != 0
    assert "exists" in str(res.exception) or "exists" in res.output


@pytest.mark.parametrize("command", ["simulate", "demo"])
def test_help_has_an_example(command: str) -> None:
    res = CliRunner().invoke(cli, [command, "--help"])
    # tests/test_examples.py runs the examples
    assert res.exit_code == 0 and "Example" in res.output and f"dogtag {command} " in res.output


def test_calibration_counts_by_hand(tmp_path: Path) -> None:
    """Four remains individuals with known outcomes; the numbers worked by hand."""
    from dogtag.scenario.calibration import Proposal, RunResult, calibrate

    rows = {
        "truth.csv": "sample,individual,service_number,family,source,accession\n"
                     "s1,R1,SN1,F1,turnover,A\ns2,R1,SN1,F1,turnover,A\n"   # identified (two samples)
                     "s3,R2,SN2,F2,turnover,A\n"                            # wrongly identified as SN9
                     "s4,R3,,,turnover,A\n"                                 # not on the list
                     "s5,R4,SN4,F4,recovery,B\n",                           # mtDNA only, family autosomal only
        "genotypes.csv": "family,id,marker,allele1,allele2,quality\nF1,BR,TH01,6,7,\nF4,SI,TH01,8,9,\n",
        "mito.csv": "family,id,range,variants\nF1,SI,16024-16569;1-576,16129A\nF2,SI,16024-16569;1-576,\n",
        "ystr.csv": "family,id,marker,alleles\n",
    }
    for name, text in rows.items():
        (tmp_path / name).write_text(text)
    run = RunResult(
        individuals={"I1": ("s1", "s2"), "I2": ("s3",), "I3": ("s4",), "I4": ("s5",)},
        best={"I1": ("SN1", 0.999, 6.0), "I2": ("SN9", 0.995, 5.0), "I3": ("SN7", 0.4, 1.0),
              "I4": (None, 1.0, 0.0)},
        proposals=[Proposal("I1", ("s1", "s2"), "SN1", "F1", 0.999, 6.0, []),
                   Proposal("I2", ("s3",), "SN9", "F9", 0.995, 5.0, [])],
        threshold=0.99,
        evidence_kinds={"I1": ["autosomal"], "I2": ["mtdna"], "I3": ["mtdna"], "I4": ["mtdna"]},
        candidates={"I1": 1, "I2": 1, "I3": 1, "I4": 0})
    cal = calibrate(tmp_path, run)
    assert (cal.true_at_threshold, cal.false_at_threshold) == (1, 1)
    by_t = {r["threshold"]: (r["proposed"], r["true"], r["false"]) for r in cal.thresholds}
    assert by_t[0.5] == (2, 1, 1) and by_t[0.999] == (1, 1, 0) and by_t[0.3 + 0.2] == (2, 1, 1)
    assert cal.unidentified == {"identified": 1, "falsely identified": 1,
                                "not on the list (correctly left unidentified)": 1,
                                "no family reference of a kind typed": 1}
    assert cal.remains == {"samples": 5, "individuals": 4, "run_individuals": 4}
    # I3's best pairing (SN7, 0.4) is wrong: the 0.4-0.5 bin holds one point, none true
    b = next(x for x in cal.reliability if x["bin"] == [0.4, 0.5])
    assert (b["n"], b["fraction_true"]) == (1, 0.0)


def test_demo_cli_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--db", str(db), "--missing", "120", "--seed", "5"])
    assert res.exit_code == 0, res.output
    assert "Samples grouped into" in res.output and "Demo accounts" in res.output
    assert "false identifications at the threshold" in res.output
    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--json", "--force", "--db", str(db), "--missing", "120",
                                   "--seed", "5"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["missing_persons"] == 120 and data["calibration"]["false"] == 0
    assert set(data["users"]) == {"admin", "analyst", "reviewer", "reviewer2", "liaison"}
    assert Path(data["report"]["png"]).exists()


def test_lineage_haplotypes_are_shared_along_the_lines(scenario: Path) -> None:
    truth = {r["sample"]: r for r in _read(scenario / "truth.csv")}
    # samples of one person carry one Y haplotype (loci typed in both agree)
    y: dict[str, dict[str, str]] = {}
    for r in _read(scenario / "ystr.csv"):
        y.setdefault(r["id"] if not r["family"] else f"{r['family']}:{r['id']}", {})[r["marker"]] = r["alleles"]
    by_person: dict[str, list[dict[str, str]]] = {}
    for sid, t in truth.items():
        if sid in y:
            by_person.setdefault(t["individual"], []).append(y[sid])
    pairs = [(a, b) for haps in by_person.values() for i, a in enumerate(haps) for b in haps[i + 1:]]
    for a, b in pairs:
        assert all(a[k] == b[k] for k in set(a) & set(b))
    # remains carry the HVS part of their maternal line's haplotype, as the donors of that line do
    mito = _read(scenario / "mito.csv")
    donor = {r["family"]: set(r["variants"].split()) for r in mito if r["family"]}
    checked = 0
    for r in mito:
        t = truth.get(r["id"])
        if r["family"] or t is None or t["family"] not in donor:
            continue
        hvs = {v for v in donor[t["family"]] if sg.in_hvs(v)}
        diff = hvs.symmetric_difference(r["variants"].split())
        assert len(diff) <= 1  # 2 % of donors differ from the missing person at one site
        checked += 1
    assert checked > 10


def test_calibration_leaves_out_unconverged_components(tmp_path: Path) -> None:
    from dogtag.scenario.calibration import RunResult, calibrate

    (tmp_path / "truth.csv").write_text("sample,individual,service_number,family,source,accession\n"
                                        "s1,R1,SN1,F1,turnover,A\n")
    for name, header in (("genotypes.csv", "family,id,marker,allele1,allele2"), ("mito.csv", "family,id,range,variants"),
                         ("ystr.csv", "family,id,marker,alleles")):
        (tmp_path / name).write_text(header + "\n")
    run = RunResult({"I1": ("s1",)}, {"I1": ("SN1", 0.999, 3.0)}, [], 0.99, {"I1": ["mtdna"]}, {"I1": 3},
                    unconverged={"I1"})
    cal = calibrate(tmp_path, run)
    assert all(r["proposed"] == 0 for r in cal.thresholds)
    assert cal.unidentified == {"joint identification not converged": 1}


def test_demo_removes_its_work_folder_unless_kept(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    demo_dir = tmp_path / "dogtag" / "demo"
    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--missing", "20"], env=env)
    assert res.exit_code == 0, res.output
    assert "Removed the demo's work folder" in res.output and list(demo_dir.iterdir()) == []
    res = CliRunner().invoke(cli, ["demo", "--no-serve", "--missing", "20", "--keep"], env=env)
    assert res.exit_code == 0, res.output
    (kept,) = demo_dir.iterdir()
    assert (kept / "demo.sqlite").is_file() and (kept / "demo" / "truth.csv").is_file()
    assert f"Kept the demo's work folder {kept}" in res.output
