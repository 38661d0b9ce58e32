"""``dogtag search`` on registry data: proposals with provenance, incremental reruns, SIGKILL safety.

The registry holds three families (MP with a typed mother MO: autosomal and mtDNA; a paternal
uncle UNC: Y-STR) and four samples: V1 is F2's MP (autosomal, mtDNA, Y), V2 is F1's MP
(autosomal, mtDNA), V3 is F3's MP (mtDNA only, too weak alone for a proposal), V4 nobody.
Stored LRs are checked against a full blind search of the same case.
"""

from __future__ import annotations

import csv
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from dogtag.analysis.search import SYSTEM_USER, SearchOptions, load_case, search_registry
from dogtag.cli import cli
from dogtag.genetics.freqdb import load_database
from dogtag.identify.search import blind_search
from dogtag.registry import ledger
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.imports import import_file
from dogtag.registry.models import (
    AnalysisRun,
    Conflict,
    Identification,
    IdentificationEvent,
    IdStatus,
    MissingPerson,
    SearchPair,
)

from .factories import kill_after_write

ROOT = Path(__file__).resolve().parents[2]
CR = "16024-16569;1-576"
MITO = {"F1": "16093C 16189C 263G 315.1C", "F2": "16129A 16223T 73G 263G 315.1C",
        "F3": "16311C 263G 309.1C 315.1C"}
YS = {"F1": {"DYS19": "14", "DYS390": "24", "DYS385": "11,14"},
      "F2": {"DYS19": "15", "DYS390": "23", "DYS385": "13,16"},
      "F3": {"DYS19": "13", "DYS390": "22", "DYS385": "12,12"}}
MARKERS = ["D3S1358", "vWA", "FGA", "D8S1179", "D21S11", "D18S51", "D5S818", "D13S317", "D7S820",
           "CSF1PO", "TPOX", "TH01", "D16S539", "D2S1338", "D19S433"]
PN = {"F1": "SN1", "F2": "SN2", "F3": "SN3"}


def write(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _draw(rng: np.random.Generator, marker: str) -> str:
    loc = load_database("nist1036-Cauc").locus(marker)
    return str(loc.alleles[int(rng.choice(len(loc.alleles), p=np.asarray(loc.freqs) / np.sum(loc.freqs)))])


def profiles(seed: int = 7) -> dict[str, dict[str, list[str]]]:
    """Autosomal profiles: owner ("F1:MO" or "V1") -> marker -> two alleles."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, list[str]]] = {}
    for f in MITO:
        out[f"{f}:MO"] = {m: [_draw(rng, m), _draw(rng, m)] for m in MARKERS}
    for v, f in (("V1", "F2"), ("V2", "F1"), ("V5", "F3")):
        out[v] = {m: [out[f"{f}:MO"][m][int(rng.integers(2))], _draw(rng, m)] for m in MARKERS}
    out["V4"] = {m: [_draw(rng, m), _draw(rng, m)] for m in MARKERS}
    return out


def build(engine: Engine, tmp: Path) -> dict[str, dict[str, list[str]]]:
    with session_scope(engine, "setup") as s:
        war = Conflict(name="Korean War")
        s.add(war)
        for sn in PN.values():
            s.add(MissingPerson(service_number=sn, conflict=war, last_name=f"DOE{sn}", sex=1))
    import_file(engine, "samples", write(tmp / "s.csv", ["key", "sex"], [[v, "1"] for v in ("V1", "V2", "V3", "V4")]),
                actor="ann")
    ped = []
    for f in MITO:
        ped += [[f, "GF", "", "", "male", "false", ""], [f, "GM", "", "", "female", "false", ""],
                [f, "FA", "GF", "GM", "male", "false", ""], [f, "UNC", "GF", "GM", "male", "false", ""],
                [f, "MO", "", "", "female", "false", ""], [f, "MP", "FA", "MO", "male", "true", PN[f]],
                [f, "SIS", "FA", "MO", "female", "false", ""]]
    import_file(engine, "pedigrees", write(tmp / "p.csv", ["family", "id", "father", "mother", "sex", "missing",
                                                           "service_number"], ped), actor="ann")
    prof = profiles()
    geno = [[o.split(":")[0] if ":" in o else "", o.split(":")[-1], m, *g]
            for o, t in prof.items() if o != "V5" for m, g in t.items()]
    import_file(engine, "profiles", write(tmp / "g.csv", ["family", "id", "marker", "allele1", "allele2"], geno),
                actor="ann")
    mito = [[f, "MO", CR, v] for f, v in MITO.items()]
    mito += [["", "V1", CR, MITO["F2"]], ["", "V2", CR, MITO["F1"]], ["", "V3", CR, MITO["F3"]]]
    import_file(engine, "mito", write(tmp / "m.csv", ["family", "id", "range", "variants"], mito), actor="ann")
    y = [[f, "UNC", k, v] for f, hap in YS.items() for k, v in hap.items()]
    y += [["", "V1", k, v] for k, v in {**YS["F2"], "DYS19": "16"}.items()]
    import_file(engine, "ystr", write(tmp / "y.csv", ["family", "id", "marker", "alleles"], y), actor="ann")
    return prof


def mito_db(tmp: Path) -> str:
    rows = [[f"d{i}", CR, "263G 315.1C"] for i in range(80)] + [[f"e{t}", CR, v] for t, v in MITO.items()]
    return write(tmp / "mitodb.csv", ["id", "range", "variants"], rows)


def stored(engine: Engine) -> dict[tuple[str, str], tuple[float | None, list[str], int]]:
    from dogtag.registry.models import Sample
    with engine.connect() as conn:
        return {(k, sn): (l10, ev, run) for k, sn, l10, ev, run in conn.execute(
            select(Sample.key, MissingPerson.service_number, SearchPair.log10_lr, SearchPair.evidence,
                   SearchPair.run_id).join(Sample, Sample.id == SearchPair.sample_id)
            .join(MissingPerson, MissingPerson.id == SearchPair.missing_person_id))}


def check_against_full_search(engine: Engine, options: SearchOptions) -> None:
    """Every stored pair has the LR of a full blind search, and each sample's best K are stored."""
    with sessions(engine)() as s:
        rc = load_case(s, options)
    full = blind_search(rc.case)
    assert full.log_lr is not None
    sn = {c: pid for c, pid in enumerate(rc.person_id)}
    with sessions(engine)() as s:
        names = {i: n for i, n in s.execute(select(MissingPerson.id, MissingPerson.service_number))}
    got = stored(engine)
    for i, smp in enumerate(rc.case.pm):
        row = np.where(np.isnan(full.log_lr[i]), -np.inf, full.log_lr[i])
        for c in np.argsort(-row)[:options.top]:
            if np.isnan(full.log_lr[i, c]):
                continue
            l10, _ev, _run = got[(smp.id, names[sn[int(c)]])]
            want = full.log_lr[i, c] / math.log(10)
            assert (l10 is None and want == -np.inf) or l10 == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_search_proposes_with_provenance_and_stores_the_pairs(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    opts = SearchOptions(top=2, mtdna_database=mito_db(tmp_path))
    rep = search_registry(engine, options=opts, command="dogtag search")
    assert (rep.n_samples, rep.n_families, rep.n_missing) == (4, 3, 3)
    assert {(p["individual"], p["missing_person"]) for p in rep.proposals} == {("V1", "SN2"), ("V2", "SN1")}
    assert {p["individual"]: p["evidence"] for p in rep.proposals} == {"V1": ["autosomal", "mtdna", "ystr"],
                                                                   "V2": ["autosomal", "mtdna"]}
    check_against_full_search(engine, opts)
    got = stored(engine)
    # V3 (mtDNA only): one match among 83 -> LR = 1 / CP bound; stored, but too weak to propose
    from dogtag.genetics.mtdna_compare import clopper_pearson_upper
    l10, ev, _ = got[("V3", "SN3")]
    assert ev == ["mtdna"] and l10 == pytest.approx(-math.log10(float(clopper_pearson_upper(1, 83))), rel=1e-12)
    with sessions(engine)() as s:
        run = s.scalars(select(AnalysisRun)).one()
        assert run.id == rep.run_id and run.frequency_database == "nist1036-Cauc"
        assert run.software_version and run.parameters["decision"]["min_lr"] == 1e4 and run.finished_at is not None
        assert run.actor == SYSTEM_USER and run.command == "dogtag search"
        ids = s.scalars(select(Identification)).all()
        assert {i.status for i in ids} == {IdStatus.PROPOSED} and {i.proposed_by for i in ids} == {SYSTEM_USER}
        assert all(i.analysis_run_id == run.id and i.posterior is not None and i.posterior >= 0.5 for i in ids)
        assert s.scalar(select(func.count()).select_from(IdentificationEvent)) == 2
    with engine.connect() as conn:
        assert all(r.ok for r in ledger.verify_all(conn))


def test_rerun_recomputes_only_what_changed(engine: Engine, tmp_path: Path) -> None:
    prof = build(engine, tmp_path)
    opts = SearchOptions(top=2, mtdna_database=mito_db(tmp_path))
    first = search_registry(engine, options=opts)
    before = stored(engine)
    again = search_registry(engine, options=opts)
    assert (again.recomputed_individuals, again.recomputed_families, again.pairs_computed) == (0, 0, 0)
    assert again.proposals == [] and stored(engine) == before   # kept pairs keep their run too
    # new data: a sample (V5, F3's MP, autosomal and mtDNA) and a new donor profile in F1 (the sister)
    import_file(engine, "samples", write(tmp_path / "s2.csv", ["key", "sex"], [["V5", "1"]]), actor="ann")
    rows = [["", "V5", m, *g] for m, g in prof["V5"].items()]
    rows += [["F1", "SIS", m, *prof["V2"][m]] for m in MARKERS[:3]]
    import_file(engine, "profiles", write(tmp_path / "g2.csv", ["family", "id", "marker", "allele1", "allele2"],
                                          rows), actor="ann")
    import_file(engine, "mito", write(tmp_path / "m2.csv", ["family", "id", "range", "variants"],
                                      [["", "V5", CR, MITO["F3"]]]), actor="ann")
    third = search_registry(engine, options=opts)
    assert (third.recomputed_individuals, third.recomputed_families) == (1, 1)
    assert third.pairs_computed == 2 + 4     # V5 x its best 2 MPs; 4 old samples x F1's MP
    after = stored(engine)
    for (smp, sn), val in before.items():
        if smp != "V5" and sn != "SN1" and (smp, sn) in after:
            assert after[(smp, sn)] == val                      # unchanged pairs untouched
    assert after[("V2", "SN1")][2] == third.run_id              # F1 changed: recomputed
    assert {(p["individual"], p["missing_person"]) for p in third.proposals} == {("V5", "SN3")}
    check_against_full_search(engine, opts)
    # other parameters: everything is recomputed
    fourth = search_registry(engine, options=SearchOptions(top=3, mtdna_database=opts.mtdna_database))
    assert (fourth.recomputed_individuals, fourth.recomputed_families) == (5, 3) and fourth.proposals == []
    assert first.run_id < third.run_id < fourth.run_id


def test_search_with_theta_records_it_and_stores_its_lrs(engine: Engine, tmp_path: Path, users: None) -> None:
    # theta: each stored LR is the blind search's with the joint subpopulation correction,
    # theta is in the run's parameters and the report, and a change of theta recomputes every pair
    build(engine, tmp_path)
    db = mito_db(tmp_path)
    plain = search_registry(engine, options=SearchOptions(top=2, mtdna_database=db))
    before = stored(engine)
    opts = SearchOptions(top=2, mtdna_database=db, theta=0.02)
    rep = search_registry(engine, options=opts)
    assert rep.settings["theta"] == 0.02 and plain.settings["theta"] == 0.0
    assert (rep.recomputed_individuals, rep.recomputed_families) == (4, 3)
    check_against_full_search(engine, opts)
    after = stored(engine)
    auto = [k for k, (l10, ev, _) in after.items() if "autosomal" in ev and l10 is not None and k in before]
    assert auto and all(after[k][0] != pytest.approx(before[k][0], rel=1e-6) for k in auto)
    with sessions(engine)() as s:
        runs = s.scalars(select(AnalysisRun).order_by(AnalysisRun.id)).all()
        assert [r.parameters["theta"] for r in runs] == [0.0, 0.02]
    with pytest.raises(ValueError, match="theta"):
        SearchOptions(theta=1.0)
    url = engine.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(cli, ["search", "--database", url, "--top", "2", "--mito-db", db, "--theta", "0.02",
                                 "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["settings"]["theta"] == 0.02 and out["recomputed_individuals"] == 0
    r = CliRunner().invoke(cli, ["search", "--database", url, "--theta", "-0.1"])
    assert r.exit_code == 2 and "theta" in r.output and "Traceback" not in r.output


CHILD = textwrap.dedent("""
    import sys, time
    import dogtag.analysis.search as sr
    real = sr._propose
    def stall(*args, **kwargs):
        out = real(*args, **kwargs)
        print("WRITTEN", flush=True)   # run, pairs, digests and proposals are in the open transaction
        time.sleep(120)
        return out
    sr._propose = stall
    from dogtag.registry.engine import make_engine
    sr.search_registry(make_engine(sys.argv[1]), options=sr.SearchOptions(top=2, mtdna_database=sys.argv[2]))
""")


def test_sigkill_during_the_search_write_leaves_a_consistent_database(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    db = mito_db(tmp_path)
    kill_after_write(engine, CHILD, tmp_path, db)
    rep = search_registry(engine, options=SearchOptions(top=2, mtdna_database=db))
    assert len(rep.proposals) == 2 and rep.recomputed_individuals == 4
    with engine.connect() as conn:
        assert all(r.ok for r in ledger.verify_all(conn))


def test_cli_search_json_and_errors(engine: Engine, tmp_path: Path, users: None) -> None:
    build(engine, tmp_path)
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    r = runner.invoke(cli, ["search", "--database", url, "--top", "2", "--mito-db", mito_db(tmp_path),
                            "--as", "ann", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert len(out["proposals"]) == 2 and set(out["seconds"]) == {"read", "search", "engine", "write"}
    with sessions(engine)() as s:
        assert {i.proposed_by for i in s.scalars(select(Identification))} == {"ann"}
    r = runner.invoke(cli, ["search", "--database", url, "--min-posterior", "2"])
    assert r.exit_code != 0 and "min_posterior" in r.output
    r = runner.invoke(cli, ["search", "--database", url, "--p-off", "turnover"])
    assert r.exit_code != 0 and "KIND=PROBABILITY" in r.output
    r = runner.invoke(cli, ["search", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_approved_identification_takes_sample_and_person_out_of_the_search(
        engine: Engine, tmp_path: Path, users: None) -> None:
    from dogtag.registry import workflow
    from dogtag.registry.models import Status
    from dogtag.registry.users import get_user

    build(engine, tmp_path)
    opts = SearchOptions(top=2, mtdna_database=mito_db(tmp_path))
    first = search_registry(engine, options=opts)
    (v1,) = [p for p in first.proposals if p["individual"] == "V1"]
    with session_scope(engine, "ann") as s:
        ident = s.get(Identification, v1["identification"])
        assert ident is not None
        workflow.submit(s, ident, get_user(s, "ann"), "for review")
        workflow.technical_review(s, ident, get_user(s, "rita"), "LR and posterior checked")
        workflow.approve(s, ident, get_user(s, "rob"), "approved")
        person = s.get(MissingPerson, ident.missing_person_id)
        assert person is not None and person.status == Status.IDENTIFIED
    rep = search_registry(engine, options=opts)
    # V1 is identified and F2's only missing person accounted for: both leave the search
    assert (rep.n_samples, rep.n_families) == (3, 2)
    assert (rep.recomputed_individuals, rep.recomputed_families, rep.pairs_computed) == (0, 0, 0)
    got = stored(engine)
    assert not any(k[0] == "V1" or k[1] == "SN2" for k in got) and ("V2", "SN1") in got
    assert rep.proposals == []      # V2 = SN1 is proposed already
    with engine.connect() as conn:
        assert all(r.ok for r in ledger.verify_all(conn))
