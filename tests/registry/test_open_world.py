"""The registry-wide pipeline in an open world: priors from the size of the list and from context,
individuals not samples, lineage evidence against database size, one identification per remains.

The registry lists N = 1,500 missing persons (1,497 lost at Chosin, 3 at a small air loss, AIRLOSS);
four have a family with references:

- SN0 (Chosin): mother typed at a few loci; sample V0 (SN0's remains) typed at as many loci as
  give a mother-child LR between 10^4 and 10^5. V0 has no context.
- SN1 (AIRLOSS): the same kind of evidence for sample V1, recovered by an operation linked to
  AIRLOSS (3 missing persons): the context makes the same LR enough.
- SN2 (Chosin): mother typed at 15 loci; two samples W1, W2 of two elements (no registry
  individual) are SN2 (W2 a partial profile): one individual.
- SN3 (Chosin): only an mtDNA reference (the mother); sample X3 matches it, also recovered at
  AIRLOSS: a haplotype unseen in the database is not proof.

Every LR is worked by hand (mother-child LR without mutation; mtDNA 1 / Clopper-Pearson bound)
and so is every posterior of the open-world prior (docs/priors.md).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from dogtag.analysis.decide import DecisionOptions
from dogtag.analysis.priors import PriorSettings
from dogtag.analysis.search import SearchOptions, search_registry
from dogtag.genetics.freqdb import load_database
from dogtag.genetics.mtdna_compare import clopper_pearson_upper
from dogtag.registry import workflow
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.imports import import_file
from dogtag.registry.models import Element, Identification, Individual, MissingPerson, Sample

N = 1500
MARKERS = ["D3S1358", "vWA", "FGA", "D8S1179", "D21S11", "D18S51", "D5S818", "D13S317", "D7S820",
           "CSF1PO", "TPOX", "TH01", "D16S539", "D2S1338", "D19S433"]
CR = "16024-16569;1-576"
MT3 = "16093C 16189C 16311C 263G 315.1C"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> str:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _freqs(marker: str) -> dict[str, float]:
    loc = load_database("nist1036-Cauc").locus(marker)
    total = float(sum(loc.freqs))
    return {str(a): float(f) / total for a, f in zip(loc.alleles, loc.freqs, strict=True)}


def _common(marker: str, k: int) -> str:
    """The k-th most frequent allele (counting round)."""
    f = _freqs(marker)
    return sorted(f, key=lambda a: -f[a])[k % len(f)]


def mother_child_lr(mother: tuple[str, str], child: tuple[str, str], p: dict[str, float]) -> float:
    """P(child | mother) / P(child), father untyped, no mutation (worked by hand)."""
    c1, c2 = child

    def t(m: str) -> float:   # the child has the mother's allele m and takes the other from the father
        if c1 == c2:
            return p[c1] if m == c1 else 0.0
        return (p[c2] if m == c1 else 0.0) + (p[c1] if m == c2 else 0.0)

    given = 0.5 * (t(mother[0]) + t(mother[1]))
    return given / (p[c1] ** 2 if c1 == c2 else 2 * p[c1] * p[c2])


def trio(offset: int) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """A mother and her son over MARKERS: son = (the mother's second, rarer allele, another one);
    the three trios use different alleles, so a son is excluded from the other mothers."""
    mo, son = {}, {}
    for m in MARKERS:
        a, b, c = _common(m, offset), _common(m, 6 + offset), _common(m, 3 + offset)
        mo[m], son[m] = (a, b), (b, c)
    return mo, son


def loci_for(mo: dict[str, tuple[str, str]], son: dict[str, tuple[str, str]], lo: float, hi: float) -> list[str]:
    """Markers (in order, skipping any that would overshoot) giving a mother-child log10 LR in [lo, hi)."""
    total, used = 0.0, []
    for m in MARKERS:
        x = math.log10(mother_child_lr(mo[m], son[m], _freqs(m)))
        if total + x < hi:
            total += x
            used.append(m)
        if total >= lo:
            return used
    raise AssertionError("no set of the markers gives an LR in range")


def hand_lr(mo: dict[str, tuple[str, str]], son: dict[str, tuple[str, str]], markers: list[str]) -> float:
    return math.prod(mother_child_lr(mo[m], son[m], _freqs(m)) for m in markers)


def build(engine: Engine, tmp: Path) -> dict[str, float]:
    """The registry of the module docstring; returns the hand-worked LRs."""
    _write(tmp / "inc.csv", ["key", "conflict", "date", "place", "latitude", "longitude"],
           [["CHOSIN", "Korean War", "1950-11-27", "Chosin Reservoir", "40.4", "127.2"],
            ["AIRLOSS", "Korean War", "1951-03-02", "B-29 loss", "39.0", "125.7"]])
    rows = [[f"SN{k}", f"DOE{k}", "ARMY", "M", "Korean War", "AIRLOSS" if k in (1, 4, 5) else "CHOSIN"]
            for k in range(N)]
    _write(tmp / "mp.csv", ["SERVICE_NUMBER", "LAST_NAME", "BRANCH", "SEX", "CONFLICT", "LOSS_INCIDENT"], rows)
    _write(tmp / "op.csv", ["key", "kind", "site", "start_date", "incidents"],
           [["OP-AIR", "recovery", "B-29 crash site", "2019-05-01", "AIRLOSS"]])
    _write(tmp / "acc.csv", ["key", "operation", "received_date"], [["CIL-2019-1", "OP-AIR", "2019-07-01"],
                                                                   ["BOX-1", "", "2019-07-01"]])
    _write(tmp / "el.csv", ["key", "accession", "element"],
           [["E-V1", "CIL-2019-1", "femur"], ["E-X3", "CIL-2019-1", "tooth"], ["E-W1", "BOX-1", "humerus"],
            ["E-W2", "BOX-1", "tibia"]])
    _write(tmp / "s.csv", ["key", "element", "sex"],
           [["V0", "", "1"], ["V1", "E-V1", "1"], ["W1", "E-W1", "1"], ["W2", "E-W2", "1"], ["X3", "E-X3", "1"]])
    ped = []
    for k in range(4):
        f = f"F{k}"
        ped += [[f, "FA", "", "", "male", "false", ""], [f, "MO", "", "", "female", "false", ""],
                [f, "MP", "FA", "MO", "male", "true", f"SN{k}"]]
    _write(tmp / "ped.csv", ["family", "id", "father", "mother", "sex", "missing", "service_number"], ped)
    lrs, geno = {}, []
    for k, s in ((0, "V0"), (1, "V1")):
        mo, son = trio(k)
        used = loci_for(mo, son, 4.0, 5.0)
        lrs[s] = hand_lr(mo, son, used)
        geno += [[f"F{k}", "MO", m, *mo[m]] for m in used] + [["", s, m, *son[m]] for m in used]
    mo, son = trio(2)
    geno += [["F2", "MO", m, *mo[m]] for m in MARKERS] + [["", "W1", m, *son[m]] for m in MARKERS]
    geno += [["", "W2", m, *son[m]] for m in MARKERS[:9]]
    lrs["W"] = hand_lr(mo, son, MARKERS)
    _write(tmp / "g.csv", ["family", "id", "marker", "allele1", "allele2"], geno)
    _write(tmp / "mt.csv", ["family", "id", "range", "variants"], [["F3", "MO", CR, MT3], ["", "X3", CR, MT3]])
    for kind, name in (("incidents", "inc.csv"), ("missing", "mp.csv"), ("operations", "op.csv"),
                       ("accessions", "acc.csv"), ("elements", "el.csv"), ("samples", "s.csv"),
                       ("pedigrees", "ped.csv"), ("profiles", "g.csv"), ("mito", "mt.csv")):
        import_file(engine, kind, str(tmp / name), actor="ann")
    # an mtDNA database of 299 profiles that lack MT3: LR = 1 / (95 % upper bound of 0 in 299)
    db = [[f"d{i}", CR, "263G 315.1C"] for i in range(299)]
    _write(tmp / "mtdb.csv", ["id", "range", "variants"], db)
    lrs["X3"] = 1.0 / float(clopper_pearson_upper(0, 299))
    return lrs


def options(tmp: Path, **kw: object) -> SearchOptions:
    return SearchOptions(mtdna_database=str(tmp / "mtdb.csv"), **kw)  # type: ignore[arg-type]


def by_individual(rep) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {u["individual"]: u for u in rep.individuals}


def test_a_lone_lr_of_ten_thousand_among_many_is_not_proposed(engine: Engine, tmp_path: Path) -> None:
    lrs = build(engine, tmp_path)
    rep = search_registry(engine, options=options(tmp_path))
    units = by_individual(rep)
    assert rep.n_missing == 4 and rep.n_individuals == 4          # W1 and W2 are one individual
    # V0: no context; prior 0.8 / N for each missing person (p_off 0.2 for remains of unknown origin)
    v0 = units["V0"]
    best = v0["candidates"][0]
    assert best["missing_person"] == "SN0"
    assert 10 ** best["log10_lr"] == pytest.approx(lrs["V0"], rel=1e-6)
    assert 4 <= best["log10_lr"] < 5
    w = 0.8 / N
    assert best["prior"] == pytest.approx(w, rel=1e-12)
    others = units["V0"]["posterior_none"] / best["posterior"] * lrs["V0"] * w   # weight of "*"
    # p_off, the N - 4 persons without references (LR 1), the other 3 families (LR < 10 each)
    floor = 0.2 + 0.8 * (N - 4) / N
    assert floor <= others * (1 + 1e-9) <= floor + 3 * 10 * w
    assert best["posterior"] == pytest.approx(lrs["V0"] * w / (lrs["V0"] * w + others), rel=1e-9)
    assert best["posterior"] < 0.99 and not v0["proposed"]
    assert any(r.startswith("posterior") for r in v0["reasons"])
    # V1: the same size of LR, but recovered at the site of a loss of 3 listed persons
    v1 = units["V1"]
    b1 = v1["candidates"][0]
    assert b1["missing_person"] == "SN1" and 4 <= b1["log10_lr"] < 5
    w1 = 0.9 * (0.8 / 3 + 0.2 / N)                                   # p_off 0.1 for a field recovery
    assert b1["prior"] == pytest.approx(w1, rel=1e-12)
    assert b1["posterior"] > 0.999 and v1["proposed"]
    # without context V1's posterior is V0's kind again
    assert b1["posterior_alternative_prior"] < 0.99
    assert {p["individual"]: p["missing_person"] for p in rep.proposals} == {"V1": "SN1", "W1": "SN2"}


def test_two_samples_of_one_individual_are_one_proposal(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    rep = search_registry(engine, options=options(tmp_path))
    w = by_individual(rep)["W1"]
    assert w["samples"] == ["W1", "W2"] and w["proposed"]
    assert w["candidates"][0]["posterior"] > 0.9999        # not split 0.5 / 0.5 between two samples
    (p,) = [p for p in rep.proposals if p["missing_person"] == "SN2"]
    assert p["registry_individual"] == "DNA-W1" and p["samples"] == ["W1", "W2"]
    with sessions(engine)() as s:
        ind = s.scalars(select(Individual).where(Individual.key == "DNA-W1")).one()
        assert {e.key for e in s.scalars(select(Element).where(Element.individual_id == ind.id))} == {"E-W1", "E-W2"}
        ident = s.get(Identification, p["identification"])
        assert ident.individual_id == ind.id and ident.evidence[-1]["samples"] == ["W1", "W2"]


def test_a_sample_and_its_individual_cannot_be_two_people(engine: Engine, tmp_path: Path, users: None) -> None:
    build(engine, tmp_path)
    search_registry(engine, options=options(tmp_path))          # W1 + W2 (individual DNA-W1) = SN2
    with session_scope(engine, "ann") as s:
        ann = workflow_user(s, "ann")
        w2 = s.scalars(select(Sample).where(Sample.key == "W2")).one()
        sn0 = s.scalars(select(MissingPerson).where(MissingPerson.service_number == "SN0")).one()
        with pytest.raises(workflow.WorkflowError, match="same remains already have identification"):
            workflow.propose(s, ann, sn0, sample=w2, reason="W2 looks like SN0")
    # the search itself never proposes them again, and says why
    rep = search_registry(engine, options=options(tmp_path))
    assert rep.proposals == []
    assert any("already proposed as SN2" in r for r in by_individual(rep)["W1"]["reasons"])


def workflow_user(s, name):  # type: ignore[no-untyped-def]
    from dogtag.registry.users import get_user

    return get_user(s, name)


def test_mtdna_only_family_is_weighed_against_the_database(engine: Engine, tmp_path: Path) -> None:
    lrs = build(engine, tmp_path)
    rep = search_registry(engine, options=options(tmp_path))
    x3 = by_individual(rep)["X3"]
    best = x3["candidates"][0]
    assert best["missing_person"] == "SN3" and best["evidence"] == ["mtdna"]
    assert 10 ** best["log10_lr"] == pytest.approx(lrs["X3"], rel=1e-9)   # about 100, not "unseen: proof"
    assert not x3["proposed"] and any(r.startswith("LR 10^") for r in x3["reasons"])
    # a brother of SN3 would match as well: said to the reviewer
    assert len(x3["caveats"]) == 1 and "maternal-line relatives (a brother)" in x3["caveats"][0]
    assert by_individual(rep)["V0"]["caveats"] == [] == by_individual(rep)["W1"]["caveats"]
    # without a database the match weighs LR 1 and is no candidate at all
    rep = search_registry(engine, options=SearchOptions())
    assert by_individual(rep)["X3"]["candidates"] == []
    assert any("no mtDNA database" in n for n in rep.notes)


def test_rerun_with_new_data_proposes_what_became_certain(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    first = search_registry(engine, options=options(tmp_path))
    assert "V0" not in {p["individual"] for p in first.proposals}
    # the lab types the rest of V0's loci and of its mother's
    mo, son = trio(0)
    rows = [["F0", "MO", m, *mo[m]] for m in MARKERS] + [["", "V0", m, *son[m]] for m in MARKERS]
    import_file(engine, "profiles", _write(tmp_path / "g2.csv", ["family", "id", "marker", "allele1", "allele2"],
                                           rows), actor="ann")
    again = search_registry(engine, options=options(tmp_path))
    assert (again.recomputed_individuals, again.recomputed_families) == (1, 1)
    assert {p["individual"]: p["missing_person"] for p in again.proposals} == {"V0": "SN0"}, by_individual(again)["V0"]
    v0 = by_individual(again)["V0"]["candidates"][0]
    assert 10 ** v0["log10_lr"] == pytest.approx(hand_lr(mo, son, MARKERS), rel=1e-6)


def test_prior_settings_are_recorded_and_overridable(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    # a lab that gives no weight to context: V1 is no longer proposed
    opts = options(tmp_path, prior=PriorSettings(p_context=0.0), decision=DecisionOptions(min_posterior=0.99))
    rep = search_registry(engine, options=opts)
    assert {p["individual"] for p in rep.proposals} == {"W1"}
    assert rep.settings["prior"]["p_context"] == 0.0 and rep.settings["prior"]["p_off"]["turnover"] == 0.5
    with sessions(engine)() as s:
        ident = s.scalars(select(Identification)).one()
        assert ident.run.parameters["prior"] == rep.settings["prior"]
        assert ident.evidence[-1]["prior_settings"]["p_context"] == 0.0


def test_an_individuals_typings_are_weighed_together(engine: Engine, tmp_path: Path) -> None:
    """Two samples of one bone, typed at different loci: each alone is below the minimum LR; the
    individual's evidence is both (their LRs multiply: disjoint loci, by hand) and is proposed."""
    build(engine, tmp_path)
    mo, son = trio(3)
    x = {m: math.log10(mother_child_lr(mo[m], son[m], _freqs(m))) for m in MARKERS}
    first, second = [], []
    for m in MARKERS:                      # two disjoint sets of loci, each with log10 LR in [3, 4)
        for part in (first, second):
            if sum(x[k] for k in part) < 3 and sum(x[k] for k in part) + x[m] < 4:
                part.append(m)
                break
    assert all(3 <= sum(x[k] for k in part) < 4 for part in (first, second))
    _write(tmp_path / "el2.csv", ["key", "accession", "element"], [["E-Z", "BOX-1", "femur"]])
    _write(tmp_path / "s2.csv", ["key", "element", "sex"], [["Z1", "E-Z", "1"], ["Z2", "E-Z", "1"]])
    _write(tmp_path / "ped2.csv", ["family", "id", "father", "mother", "sex", "missing", "service_number"],
           [["F4", "FA", "", "", "male", "false", ""], ["F4", "MO", "", "", "female", "false", ""],
            ["F4", "MP", "FA", "MO", "male", "true", "SN4"]])
    geno = [["F4", "MO", m, *mo[m]] for m in MARKERS] + [["", "Z1", m, *son[m]] for m in first]
    geno += [["", "Z2", m, *son[m]] for m in second]
    _write(tmp_path / "g2.csv", ["family", "id", "marker", "allele1", "allele2"], geno)
    for kind, name in (("elements", "el2.csv"), ("samples", "s2.csv"), ("pedigrees", "ped2.csv"),
                       ("profiles", "g2.csv")):
        import_file(engine, kind, str(tmp_path / name), actor="ann")
    rep = search_registry(engine, options=options(tmp_path))
    z = by_individual(rep)["Z1"]
    assert z["samples"] == ["Z1", "Z2"]
    best = z["candidates"][0]
    assert best["missing_person"] == "SN4"
    assert 10 ** best["log10_lr"] == pytest.approx(hand_lr(mo, son, first + second), rel=1e-6)
    assert best["log10_lr"] >= 6 and z["proposed"], z


def test_the_command_and_the_library_share_the_decision_defaults() -> None:
    """`dogtag search`'s thresholds are the library's (ICMP's posterior 0.9995, LR 10^4), so the demo,
    the workbench and the command decide alike."""
    from dogtag.cli.search import search
    from dogtag.demo import DEFAULT_THRESHOLD

    defaults = {p.name: p.default for p in search.params}
    d = DecisionOptions()
    assert d.min_posterior == 0.9995 == DEFAULT_THRESHOLD
    assert (defaults["min_posterior"], defaults["min_lr"], defaults["candidate_lr"]) == (
        d.min_posterior, d.min_lr, d.candidate_lr)
