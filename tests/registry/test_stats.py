"""Accounting statistics: SQL aggregates against a slow, obvious Python count over the ORM objects."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from dogtag.cli import cli
from dogtag.registry import stats as st
from dogtag.registry import workflow as wf
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.imports import import_file
from dogtag.registry.models import (
    Accession,
    Conflict,
    Element,
    Family,
    FamilyMember,
    FieldOperation,
    Identification,
    Individual,
    LossIncident,
    MissingPerson,
    OperationKind,
    Profile,
    ProfileKind,
    Sample,
    Status,
    User,
)

N = 60


def _user(s, name: str) -> User:
    return s.scalars(select(User).where(User.username == name)).one()


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def registry(engine: Engine, users: None, tmp_path: Path) -> Engine:
    rng = random.Random(7)
    with session_scope(engine, "setup") as s:
        wars = [Conflict(name="Korean War"), Conflict(name="Vietnam War")]
        incs = [LossIncident(key=f"INC-{k}", conflict=wars[k % 2]) for k in range(4)]
        for k in range(N):
            s.add(MissingPerson(
                service_number=f"SN{k:03d}", conflict=rng.choice([*wars, None]), incident=rng.choice([*incs, None]),
                branch=rng.choice(["ARMY", "NAVY", None]), home_state=rng.choice(["OHIO", "IOWA", None]),
                loss_date=rng.choice([dt.date(1950, 7, 1), dt.date(1951, 2, 3), dt.date(1952, 5, 6), None]),
                sex=rng.choice([1, 1, 2, 0])))
        ops = {kind: FieldOperation(key=kind.value, kind=kind) for kind in OperationKind}
        accs = {kind: Accession(key=f"A-{kind.value}", operation=op) for kind, op in ops.items()}
        ind = Individual(key="IND-1")
        for k, kind in enumerate(OperationKind):
            el = Element(key=f"E{k}", accession=accs[kind], element="femur",
                         individual=ind if kind == OperationKind.DISINTERMENT else None)
            s.add(Sample(key=f"S{k}", element=el))
        s.add(Sample(key="S-loose", accession_id=None))
        s.add_all([*wars, *incs, *ops.values(), *accs.values(), ind])
    # approved identifications: samples from a turnover and a recovery, an individual from a disinterment
    plan = [("SN001", "S0", None), ("SN002", "S3", None), ("SN003", None, "IND-1"), ("SN004", "S1", None)]
    for k, (sn, skey, ikey) in enumerate(plan):
        with session_scope(engine, "ann") as s:
            p = s.scalars(select(MissingPerson).where(MissingPerson.service_number == sn)).one()
            smp = s.scalars(select(Sample).where(Sample.key == skey)).one() if skey else None
            ind = s.scalars(select(Individual).where(Individual.key == ikey)).one() if ikey else None
            ident = wf.propose(s, _user(s, "ann"), p, sample=smp, individual=ind, reason="search")
            i = ident.id
        for who, step in [("ann", "technical_review"), ("rita", "administrative_review")] + (
                [("rob", "approved")] if k < 3 else []):
            with session_scope(engine, who) as s:
                wf.transition(s, s.get(Identification, i), step, _user(s, who), "ok")
    with session_scope(engine, "ada") as s:
        p = s.scalars(select(MissingPerson).where(MissingPerson.service_number == "SN005")).one()
        wf.change_status(s, p, Status.RETURNED_ALIVE, _user(s, "ada"), "repatriated 1953")
    # families for a third of the persons: FA, MO, MP, a brother and the mother's sister
    ped, geno, mito, ystr = [], [], [], []
    for k in range(0, N, 3):
        fam = f"F{k}"
        ped += [[fam, "GM", "", "", "female", "false", ""], [fam, "GF", "", "", "male", "false", ""],
                [fam, "FA", "", "", "male", "false", ""], [fam, "MO", "GF", "GM", "female", "false", ""],
                [fam, "AUNT", "GF", "GM", "female", "false", ""],
                [fam, "MP", "FA", "MO", "male", "true", f"SN{k:03d}"],
                [fam, "BRO", "FA", "MO", "male", "false", ""]]
        donors = rng.sample(["FA", "MO", "AUNT", "BRO"], rng.randint(0, 4))
        geno += [[fam, d, "TH01", "6", "9.3"] for d in donors]
        mito += [[fam, d, "16024-16569", "16093C"] for d in donors if d != "FA" and rng.random() < 0.5]
        ystr += [[fam, d, "DYS19", "14"] for d in donors if d in ("FA", "BRO") and rng.random() < 0.5]
    for kind, header, rows in [("pedigrees", ["family", "id", "father", "mother", "sex", "missing", "service_number"], ped),
                               ("profiles", ["family", "id", "marker", "allele1", "allele2"], geno),
                               ("mito", ["family", "id", "range", "variants"], mito),
                               ("ystr", ["family", "id", "marker", "alleles"], ystr)]:
        import_file(engine, kind, _write(tmp_path / f"{kind}.csv", header, rows), actor="ann")
    return engine


def _naive_accounting(s) -> dict[str, Counter]:
    out: dict[str, Counter] = {k: Counter() for k in ("conflict", "branch", "home_state", "year_of_loss", "loss_incident")}
    for p in s.scalars(select(MissingPerson)):
        keys = {"conflict": p.conflict.name if p.conflict else None, "branch": p.branch, "home_state": p.home_state,
                "year_of_loss": p.loss_date.year if p.loss_date else None,
                "loss_incident": p.incident.key if p.incident else None}
        for dim, key in keys.items():
            out[dim][(key, "accounted" if p.status.accounted_for else "unaccounted")] += 1
    return out


def test_accounting_matches_a_naive_count(registry: Engine) -> None:
    with registry.connect() as conn:
        got = st.accounting(conn)
    with sessions(registry)() as s:
        want = _naive_accounting(s)
    for dim, counter in want.items():
        rows = got[f"by_{dim}"]
        assert sum(r["total"] for r in rows) == N
        flat = Counter()
        for r in rows:
            flat[(r[dim], "accounted")] += r["accounted"]
            flat[(r[dim], "unaccounted")] += r["unaccounted"]
        assert +flat == +counter, dim
    assert sum(r["accounted"] for r in got["by_branch"]) == 4  # 3 identified + 1 returned alive


def test_identifications_by_year_and_source(registry: Engine) -> None:
    with registry.connect() as conn:
        got = st.identifications(conn)
    year = dt.datetime.now(dt.UTC).year
    assert got["by_year"] == [{"year": year, "identifications": 3}]
    assert got["by_source"] == [{"source": "disinterment", "identifications": 1},
                                {"source": "investigation", "identifications": 1},
                                {"source": "turnover", "identifications": 1}]


def _chain(members: dict[str, FamilyMember], m: str, attr: str) -> set[str]:
    out = {m}
    while getattr(members[m], attr):
        m = getattr(members[m], attr)
        out.add(m)
    return out


def test_coverage_matches_a_naive_walk_of_the_pedigrees(registry: Engine) -> None:
    with registry.connect() as conn:
        got = {r["service_number"]: r for r in st.coverage(conn)}
    with sessions(registry)() as s:
        persons = {p.id: p for p in s.scalars(select(MissingPerson))}
        kinds: dict[int, set[ProfileKind]] = {}
        for prof in s.scalars(select(Profile)):
            if prof.family_member_id:
                kinds.setdefault(prof.family_member_id, set()).add(prof.kind)
        want = {p.service_number: (0, 0, 0) for p in persons.values() if not p.status.accounted_for}
        for fam in s.scalars(select(Family)):
            members = {m.member: m for m in fam.members}
            for mp in (m for m in members.values() if m.missing):
                person = persons[mp.missing_person_id]
                if person.status.accounted_for:
                    continue
                mat = pat = aut = 0
                for d in members.values():
                    if d is mp or d.missing:
                        continue
                    k = kinds.get(d.id, set())
                    mat += ProfileKind.MTDNA in k and bool(_chain(members, d.member, "mother") & _chain(members, mp.member, "mother"))
                    pat += (ProfileKind.YSTR in k and d.sex == 1
                            and bool(_chain(members, d.member, "father") & _chain(members, mp.member, "father")))
                    aut += ProfileKind.AUTOSOMAL in k
                want[person.service_number] = (mat, pat, aut)
    assert {sn: (r["maternal_line"], r["paternal_line"], r["autosomal"]) for sn, r in got.items()} == want
    assert any(v[0] > 0 for v in want.values()) and any(v[1] > 0 for v in want.values())
    # SN004 has no reference family: nothing covers it, and mtDNA is what to ask for first
    assert got["SN004"] == {"service_number": "SN004", "maternal_line": 0, "paternal_line": 0, "autosomal": 0,
                            "most_useful_next": "maternal-line relative (mtDNA)"}
    assert "SN001" not in got  # accounted for


def test_stats_cli_json_and_csv(registry: Engine, tmp_path: Path) -> None:
    url = registry.url.render_as_string(False)
    res = CliRunner().invoke(cli, ["stats", "--json", "--per-person", "--csv", str(tmp_path / "s.csv"),
                                   "--database", url])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["totals"] == {"missing_persons": N, "accounted": 4, "unaccounted": N - 4}
    assert len(data["coverage"]["per_person"]) == N - 4
    with open(tmp_path / "s.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"table": "totals", "key": "", "measure": "accounted", "value": "4"} in rows
    text_out = CliRunner().invoke(cli, ["stats", "--database", url]).output
    assert f"missing persons: {N}  accounted for: 4" in text_out
