"""CSV imports: one transaction per file, every bad row reported, idempotent, SIGKILL-safe."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from dogtag.errors import DataFormatError
from dogtag.registry import ledger
from dogtag.registry.base import Base
from dogtag.registry.imports import ImportRejected, import_file
from dogtag.registry.models import (
    FamilyMember,
    LossIncident,
    MissingPerson,
    Profile,
    ProfileKind,
    Sample,
    Status,
)

from .factories import kill_after_write, snapshot

DATA = Path(__file__).resolve().parents[1] / "data"


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


MISSING_HEADER = ["SERVICE_NUMBER", "LAST_NAME", "FIRST_NAME", "RANK", "BRANCH", "DIVISION", "BIRTH_YEAR",
                  "INCIDENT_DATE", "HOME_STATE", "SEX", "CONFLICT", "FATALITY"]


def missing_rows(n: int) -> list[list[object]]:
    states = ["OHIO", "TEXAS", "CALIFORNIA"]
    return [[f"RA{10_000_000 + k}", f"LAST{k}", f"FIRST{k}", "PFC", ["ARMY", "USMC"][k % 2], "7 INF DIV",
             1925 + k % 8, f"1950{11 + k % 2:02d}{1 + k % 28:02d}", states[k % 3], "M", "Korean War",
             "19501128"] for k in range(n)]


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table, but the import history (which grows with every attempt, on purpose)."""
    with engine.connect() as conn:
        return {name: conn.scalar(select(func.count()).select_from(t)) for name, t in Base.metadata.tables.items()
                if name != "import_log"}


def test_missing_persons_dcas_layout(engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "m.csv", MISSING_HEADER, missing_rows(30))
    res = import_file(engine, "missing", f, actor="ann")
    assert (res.rows, res.inserted, res.updated, res.unchanged) == (30, 30, 0, 0)
    with engine.connect() as conn:
        p = conn.execute(select(MissingPerson.__table__).where(MissingPerson.service_number == "RA10000001")).one()
        assert (p.branch, p.unit, p.birth_year, p.sex, p.status) == ("USMC", "7 INF DIV", 1926, 1, Status.MISSING)
        assert str(p.loss_date) == "1950-12-02" and p.attributes == {"fatality": "19501128"}
    with engine.connect() as conn:
        assert ledger.verify_chain(conn, "audit").entries == 31  # the conflict and 30 persons


def test_reimport_changes_nothing_and_an_edit_is_one_audited_update(engine: Engine, tmp_path: Path) -> None:
    rows = missing_rows(20)
    f = write(tmp_path / "m.csv", MISSING_HEADER, rows)
    import_file(engine, "missing", f, actor="ann")
    before = snapshot(engine)
    res = import_file(engine, "missing", f, actor="ann")
    assert (res.inserted, res.updated, res.unchanged) == (0, 0, 20)
    assert snapshot(engine) == before
    rows[7][8] = "IOWA"
    res = import_file(engine, "missing", write(tmp_path / "m2.csv", MISSING_HEADER, rows), actor="abe")
    assert (res.inserted, res.updated, res.unchanged) == (0, 1, 19)
    with engine.connect() as conn:
        e = conn.execute(select(ledger.AuditEntry.__table__).order_by(ledger.AuditEntry.seq.desc()).limit(1)).one()
        assert (e.actor, e.action, e.row_key) == ("abe", "update", "RA10000007")
        assert '"home_state":"TEXAS"' in e.before and '"home_state":"IOWA"' in e.after
        assert conn.scalar(select(MissingPerson.version).where(MissingPerson.service_number == "RA10000007")) == 1


def test_bad_rows_deep_in_a_file_leave_the_database_untouched(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, "missing", write(tmp_path / "a.csv", MISSING_HEADER, missing_rows(5)), actor="ann")
    before = snapshot(engine)
    rows = missing_rows(3000)
    rows[2990][6] = "nineteen"          # line 2992
    rows[2995][7] = "19501345"          # line 2997
    rows[2998][0] = rows[10][0]         # line 3000: duplicate key
    rows.append(["", "X", *rows[0][2:]])  # line 3002: empty key
    with pytest.raises(ImportRejected) as err:
        import_file(engine, "missing", write(tmp_path / "b.csv", MISSING_HEADER, rows), actor="ann")
    assert [(e.line, e.column) for e in err.value.errors] == [
        (2992, "BIRTH_YEAR"), (2997, "INCIDENT_DATE"), (3000, "SERVICE_NUMBER"), (3002, "SERVICE_NUMBER")]
    assert "duplicate" in err.value.errors[2].reason and str(err.value).startswith(str(tmp_path / "b.csv"))
    assert snapshot(engine) == before


def test_status_is_not_changed_by_imports(engine: Engine, tmp_path: Path) -> None:
    header = [*MISSING_HEADER, "STATUS"]
    rows = [[*r, "missing_in_action"] for r in missing_rows(3)]
    import_file(engine, "missing", write(tmp_path / "a.csv", header, rows), actor="ann")
    rows[1][-1] = "presumed_dead"
    rows[2][-1] = "identified"
    with pytest.raises(ImportRejected) as err:
        import_file(engine, "missing", write(tmp_path / "b.csv", header, rows), actor="ann")
    assert [(e.line, e.column) for e in err.value.errors] == [(3, "STATUS"), (4, "STATUS"), (4, "STATUS")]


def _recovery_files(tmp: Path) -> list[tuple[str, Path]]:
    return [
        ("incidents", write(tmp / "i.csv", ["key", "conflict", "date", "place", "latitude", "longitude"],
                            [["KW-1", "Korean War", "1950-11-28", "Chosin", 40.45, 127.15]])),
        ("missing", write(tmp / "m.csv", ["SERVICE_NUMBER", "SEX", "LOSS_INCIDENT"], [["RA1", "M", "KW-1"]])),
        ("operations", write(tmp / "o.csv", ["key", "kind", "site", "incidents"],
                             [["K55", "turnover", "Wonsan", "KW-1"], ["DIS-1", "disinterment", "Punchbowl", ""]])),
        ("accessions", write(tmp / "a.csv", ["key", "operation", "description"],
                             [["K55-01", "K55", "box 1"], ["X-100", "DIS-1", "casket"]])),
        ("elements", write(tmp / "e.csv", ["key", "accession", "element", "side", "individual", "Fem_01", "Hum_01"],
                           [["E1", "K55-01", "femur", "L", "IND-1", "467.5", ""],
                            ["E2", "K55-01", "humerus", "R", "IND-1", "", "333.6"]])),
        ("samples", write(tmp / "s.csv", ["key", "element", "accession", "taken_date", "sex"],
                          [["S1", "E1", "", "2019-01-05", "M"], ["S2", "", "X-100", "", ""]])),
    ]


def test_recovery_kinds_and_reimport(engine: Engine, tmp_path: Path) -> None:
    files = _recovery_files(tmp_path)
    for kind, f in files:
        assert import_file(engine, kind, f, actor="ann").inserted > 0
    before, n = snapshot(engine), counts(engine)
    for kind, f in files:
        res = import_file(engine, kind, f, actor="ann")
        assert res.inserted == res.updated == 0, kind
    assert snapshot(engine) == before and counts(engine) == n
    assert n["individual"] == 1 and n["operation_incident"] == 1
    with engine.connect() as conn:
        m = conn.execute(text("select measurements from element where key = 'E1'")).scalar()
        assert _json(m) == {"fem_01": 467.5}


def test_dvi_case_folder_with_lineage_profiles(engine: Engine, tmp_path: Path) -> None:
    peds = DATA / "dvi-cases" / "example2_pedigrees.csv"
    with open(peds) as fh:
        ped_rows = list(csv.DictReader(fh))
    pm = [r["id"] for r in ped_rows if r["role"].lower().startswith("pm")]
    import_file(engine, "samples", write(tmp_path / "s.csv", ["key"], [[p] for p in pm]), actor="ann")
    assert import_file(engine, "pedigrees", peds, actor="ann").inserted == len(ped_rows) - len(pm)
    toy = DATA / "dvi-cases" / "example2_genotypes.csv"
    with pytest.raises(ImportRejected) as err:  # dvir's toy marker L1 is in no frequency database
        import_file(engine, "profiles", toy, actor="ann")
    assert (err.value.errors[0].line, err.value.errors[0].column) == (2, "marker")
    assert "'L1' is not a known autosomal STR marker" in err.value.errors[0].reason
    geno = tmp_path / "genotypes.csv"
    geno.write_text(toy.read_text().replace('"L1"', '"TH01"'))
    res = import_file(engine, "profiles", geno, actor="ann")
    with open(geno) as fh:
        people = {(r["family"], r["id"]) for r in csv.DictReader(fh)}
    assert res.inserted == len(people)
    fam = pm_fam = None
    for r in ped_rows:
        if r["role"].lower().startswith("am") and r["missing_person"] == "FALSE":
            fam, pm_fam = r["family"], r["id"]
            break
    mito = write(tmp_path / "mito.csv", ["family", "id", "range", "variants"],
                 [[fam, pm_fam, "16024-16569;1-576", "16093C  263G 315.1C"], ["", pm[0], "16024-16365", "16093C"]])
    ystr = write(tmp_path / "ystr.csv", ["family", "id", "marker", "alleles"],
                 [["", pm[0], "DYS19", "14"], ["", pm[0], "DYS385", "11, 14"]])
    import_file(engine, "mito", mito, actor="ann")
    import_file(engine, "ystr", ystr, actor="ann")
    with engine.connect() as conn:
        variants = {_json(d)["variants"] for k, d in conn.execute(select(Profile.kind, Profile.data))
                    if k == ProfileKind.MTDNA}
        assert variants == {"16093C 263G 315.1C", "16093C"}
        y = conn.execute(select(Profile.data).join(Sample).where(Profile.kind == ProfileKind.YSTR)).scalar_one()
        assert _json(y) == {"DYS19": "14", "DYS385": "11,14"}
    before = snapshot(engine)
    for kind, f in [("pedigrees", peds), ("profiles", geno), ("mito", mito), ("ystr", ystr)]:
        assert import_file(engine, kind, f, actor="ann").inserted == 0
    assert snapshot(engine) == before


def test_pedigree_errors_name_family_and_line(engine: Engine, tmp_path: Path) -> None:
    rows = [["am", "F1", "FA", "", "", "male", "false"], ["am", "F1", "MP", "FA", "MO", "male", "true"],
            ["am", "F2", "A", "", "", "male", "false"], ["pm", "V9", "V9", "", "", "male", "false"],
            ["am", "F3", "B", "", "", "male", "maybe"]]
    with pytest.raises(ImportRejected) as err:
        import_file(engine, "pedigrees", write(tmp_path / "p.csv",
                    ["role", "family", "id", "father", "mother", "sex", "missing"], rows), actor="ann")
    got = [(e.line, e.column) for e in err.value.errors]
    assert got == [(2, "family"), (5, "id"), (6, "missing")]
    assert "MO" in err.value.errors[0].reason
    assert counts(engine)["family_member"] == 0


def test_maternal_and_paternal_roots(engine: Engine, tmp_path: Path) -> None:
    rows = [["GF", "", "", "male"], ["GM", "", "", "female"], ["FA", "GF", "GM", "male"], ["MO", "", "", "female"],
            ["MP", "FA", "MO", "male"], ["SIS", "FA", "MO", "female"], ["AUNT", "GF", "GM", "female"]]
    import_file(engine, "pedigrees", write(tmp_path / "p.csv", ["family", "id", "father", "mother", "sex"],
                                           [["F1", *r] for r in rows]), actor="ann")
    with engine.connect() as conn:
        roots = {m: (mr, pr) for m, mr, pr in conn.execute(
            select(FamilyMember.member, FamilyMember.maternal_root, FamilyMember.paternal_root))}
    assert roots["MP"] == ("MO", "GF") and roots["SIS"] == ("MO", "GF") and roots["AUNT"] == ("GM", "GF")


CHILD = textwrap.dedent("""
    import sys, time
    import dogtag.registry.imports.core as core
    real = core.write_audit
    def stall(*args, **kwargs):
        real(*args, **kwargs)
        print("WRITTEN", flush=True)   # rows and audit entries are in the open transaction
        time.sleep(120)
    core.write_audit = stall
    from dogtag.registry.engine import make_engine
    from dogtag.registry.imports import import_file
    import_file(make_engine(sys.argv[1]), "missing", sys.argv[2], actor="doomed")
""")


def test_sigkill_during_import_leaves_a_consistent_database(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, "missing", write(tmp_path / "a.csv", MISSING_HEADER, missing_rows(10)), actor="ann")
    big = write(tmp_path / "big.csv", MISSING_HEADER, missing_rows(5000))
    kill_after_write(engine, CHILD, tmp_path, str(big))
    res = import_file(engine, "missing", big, actor="ann")
    assert (res.inserted, res.unchanged) == (4990, 10)
    with engine.connect() as conn:
        assert all(r.ok for r in ledger.verify_all(conn))


def test_the_csv_templates_import_in_order_into_an_empty_registry(engine: Engine, tmp_path: Path) -> None:
    """Each kind's template (header and worked example) is a valid file of that kind, and the
    examples refer to each other: imported in the order of KINDS, every row lands and links up."""
    from dogtag.registry.imports import KINDS, template
    from dogtag.registry.models import Accession, Element, FieldOperation, LossIncident

    for kind in KINDS:
        text_ = template(kind)
        assert text_.count("\n") >= 2, kind  # a header and at least one example row
        res = import_file(engine, kind, write_text(tmp_path / f"{kind}.csv", text_), actor="ann")
        assert res.inserted >= 1 and res.updated == 0, (kind, res)
    with engine.connect() as conn:
        mp = conn.execute(select(MissingPerson.__table__)).one()
        inc = conn.execute(select(LossIncident.__table__)).one()
        assert mp.incident_id == inc.id and mp.home_state == "OHIO"
        assert conn.scalar(select(func.count()).select_from(FieldOperation)) == 1
        assert conn.scalar(select(func.count()).select_from(Accession)) == 1
        assert conn.scalar(select(func.count()).select_from(Element)) == 2  # elements and inventory
        sample = conn.execute(select(Sample.__table__)).one()
        kinds = set(conn.scalars(select(Profile.kind).where(Profile.sample_id == sample.id)))
        assert kinds == {ProfileKind.AUTOSOMAL, ProfileKind.MTDNA, ProfileKind.YSTR}
        donor = conn.execute(select(FamilyMember.__table__).where(FamilyMember.member == "SIS")).one()
        assert conn.scalar(select(func.count()).select_from(Profile).where(Profile.family_member_id == donor.id)) == 2
        linked = conn.scalar(select(FamilyMember.missing_person_id).where(FamilyMember.member == "MP"))
        assert linked == mp.id
    with pytest.raises(ValueError, match="kind"):
        template("nonsense")


def write_text(path: Path, text_: str) -> Path:
    path.write_text(text_, encoding="utf-8")
    return path


def test_the_import_history_records_accepted_and_rejected_files(engine: Engine, tmp_path: Path) -> None:
    """Who imported which file, when, with its counts; a rejected file with its errors (and no data)."""
    from dogtag.registry.import_log import ImportRecord

    good = write(tmp_path / "incidents.csv", ["key", "date"], [["I-1", "1951-02-28"], ["I-2", ""]])
    bad = write(tmp_path / "bad incidents.csv", ["key", "date", "latitude"],
                [["I-3", "1951-02-30", "10"], ["I-4", "", "95"], ["I-5", "", ""]])
    import_file(engine, "incidents", good, actor="ann")
    import_file(engine, "incidents", good, actor="abe")  # again: all unchanged
    with pytest.raises(ImportRejected):
        import_file(engine, "incidents", bad, actor="ann")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError):
        import_file(engine, "missing", empty, actor="ada")
    with engine.connect() as conn:
        rows = conn.execute(select(ImportRecord.__table__).order_by(ImportRecord.id)).all()
        assert conn.scalar(select(func.count()).select_from(LossIncident)) == 2  # the bad file wrote no incident
    assert [(r.actor, r.kind, r.file_name, r.accepted) for r in rows] == [
        ("ann", "incidents", "incidents.csv", True), ("abe", "incidents", "incidents.csv", True),
        ("ann", "incidents", "bad incidents.csv", False), ("ada", "missing", "empty.csv", False)]
    assert (rows[0].rows, rows[0].inserted, rows[0].updated, rows[0].unchanged, rows[0].n_errors) == (2, 2, 0, 0, 0)
    assert (rows[1].inserted, rows[1].unchanged) == (0, 2) and rows[0].sha256 == rows[1].sha256
    assert rows[2].n_errors == 2 and rows[2].inserted is None
    assert {(e["line"], e["column"]) for e in _json(rows[2].errors)} == {(2, "date"), (3, "latitude")}
    assert rows[3].n_errors == 1 and "empty file" in _json(rows[3].errors)[0]["reason"]
    assert rows[0].at <= rows[1].at <= rows[2].at <= rows[3].at
