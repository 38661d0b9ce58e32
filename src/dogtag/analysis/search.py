"""The identification pipeline on registry data (``dogtag search``, ``dogtag demo``, the workbench).

Three phases:

1. **Read** (one read-only transaction): every *unidentified* sample with a profile (no approved
   or notified identification of the sample, or of the individual its element belongs to), the
   context of its remains (operation, linked loss incidents, site, custody date), every missing
   person not accounted for (the open world's list, with loss incident, date and place), and
   every family with such a missing person and a typed donor. Samples are grouped into
   individuals (:mod:`dogtag.analysis.individuals`); each individual becomes one row of a
   :class:`~dogtag.identify.case.DVICase`: its most complete autosomal profile with the other
   autosomal typings of its samples as replicates (every typing weighed, each with its own
   drop-out probability, the profile's ``quality``), and its most complete mtDNA and Y profiles.
2. **Compute** (no database access): the blind search of the individuals against the families
   (autosomal, mtDNA and Y-STR evidence; lineage haplotypes weighed by the upper confidence bound
   of their count in the lineage databases), keeping each individual's ``top`` best pairs and every
   pair with LR >= ``candidate_lr``; then :func:`dogtag.analysis.decide.decide`: candidates, the
   open-world prior of :mod:`dogtag.analysis.priors`, the joint identification under that prior
   and under the alternative one, and the decision for every individual with its reasons.
3. **Write** (one transaction, all or nothing): an :class:`AnalysisRun` with the provenance
   (software version, every parameter and prior factor, frequency database, time), the stored
   pairs and digests (:mod:`dogtag.registry.search_cache`), and the new proposed identifications,
   made through :func:`dogtag.registry.workflow.propose` (which refuses a second identification of
   the same remains or of the same person) by the invoking user or the system user
   ``dogtag-search``. Samples grouped by DNA alone become a registry individual (their elements
   linked to it, in the audit log) when that individual is proposed. A process killed at any point
   leaves the database as it was before the write transaction.

**What is recomputed.** An individual's digest is the SHA-256 of its samples' keys, sexes and
profiles; a family's covers its pedigree rows, its members' profiles and which of its missing
persons are still unaccounted for; one more digest covers the parameters of the blind search. The
blind search computes changed individuals x all families and unchanged individuals x changed
families; stored pairs of unchanged individuals with unchanged families keep their stored LRs.
The decision step always runs on the current data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from dogtag import __version__
from dogtag.analysis.decide import Decision, DecisionOptions, decide
from dogtag.analysis.individuals import SampleInfo, Unit, group_individuals
from dogtag.analysis.priors import Origin, PersonContext, PriorSettings, PriorTable
from dogtag.errors import DogtagError, InconsistentCaseError
from dogtag.genetics import mtdna as mt
from dogtag.genetics import ystr
from dogtag.genetics.freqdb import load_database, observed_alleles
from dogtag.genetics.markers import Marker
from dogtag.genetics.names import match_marker_names
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.theta import check_theta
from dogtag.identify.case import DVICase
from dogtag.identify.case import Family as CaseFamily
from dogtag.identify.case import Sample as CaseSample
from dogtag.identify.lineage_search import evidence_names
from dogtag.identify.search import SearchResult, blind_search, sample_observation
from dogtag.registry import ledger
from dogtag.registry.base import table_of, utcnow
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.families import Family, FamilyMember
from dogtag.registry.identification import AnalysisRun, Identification, IdStatus
from dogtag.registry.people import ACCOUNTED_FOR, LossIncident, MissingPerson
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import (
    Accession,
    Element,
    FieldOperation,
    Individual,
    Sample,
    operation_incident,
)
from dogtag.registry.search_cache import SearchPair, SearchState
from dogtag.registry.users import Role, User

__all__ = ["SYSTEM_USER", "RegistryCase", "SearchOptions", "SearchReport", "load_case", "search_registry"]

SYSTEM_USER = "dogtag-search"
Progress = Callable[[int, int, str], None]
_LN10 = math.log(10)
_ACTIVE = (IdStatus.PROPOSED, IdStatus.TECHNICAL_REVIEW, IdStatus.ADMINISTRATIVE_REVIEW, IdStatus.APPROVED,
           IdStatus.FAMILY_NOTIFIED)


@dataclass(frozen=True)
class SearchOptions:
    """Parameters of a registry search (all recorded in the analysis run)."""

    decision: DecisionOptions = field(default_factory=DecisionOptions)
    prior: PriorSettings = field(default_factory=PriorSettings)
    alt_prior: PriorSettings | None = None     # None: the prior without context
    top: int = 5
    frequencies: str = "nist1036-Cauc"
    mtdna_database: str | None = None     # HSD or CSV file of population haplotypes
    ystr_database: str | None = None      # wide Y-STR table
    ystr_method: str = "counting"
    same_source_lr: float = 1e4
    workers: int = 1
    theta: float = 0.0                    # subpopulation correction (dogtag.genetics.theta)

    def __post_init__(self) -> None:
        check_theta(self.theta)
        if self.top < 1:
            raise ValueError(f"`top` must be >= 1, got {self.top}")
        if not self.same_source_lr > 1:
            raise ValueError(f"`same_source_lr` must be > 1, got {self.same_source_lr}")

    @property
    def alternative(self) -> PriorSettings:
        return self.alt_prior if self.alt_prior is not None else self.prior.without_context()


@dataclass
class RegistryCase:
    """The case read from the registry, with the registry ids behind each row and column."""

    case: DVICase                        # one pm row per individual (unit)
    sample_id: list[int]                 # per row: its primary sample (the pairs are stored under it)
    individual_id: list[int | None]      # per row: its registry individual (None: none, or several)
    unit_samples: list[list[int]]        # per row: every sample id of the unit
    unit_keys: list[list[str]]           # per row: every sample key
    units: list[Unit]
    origins: list[Origin]                # per row
    family_id: dict[str, int]            # family name -> id
    person_id: list[int]                 # per case missing-person column
    persons: list[int]                   # every unaccounted-for missing person (the prior's list)
    person_context: PersonContext        # aligned with ``persons``
    sample_digest: dict[str, str]        # row key -> digest
    family_digest: dict[str, str]        # family name -> digest
    parameters_digest: str
    notes: list[str] = field(default_factory=list)

    @property
    def col_person(self) -> NDArray[np.intp]:
        at = {pid: k for k, pid in enumerate(self.persons)}
        return np.array([at[p] for p in self.person_id], dtype=np.intp)


@dataclass
class SearchReport:
    run_id: int
    n_samples: int
    n_individuals: int
    n_families: int
    n_missing: int
    recomputed_individuals: int
    recomputed_families: int
    pairs_computed: int
    pairs_kept: int
    pairs_stored: int
    proposals: list[dict[str, Any]]
    individuals: list[dict[str, Any]]
    not_proposed: dict[str, int]
    settings: dict[str, Any]
    seconds: dict[str, float]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _digest(value: Any) -> str:
    return hashlib.sha256(ledger.canonical_json(value).encode()).hexdigest()


def _file_digest(path: str | None) -> str | None:
    return None if path is None else hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- read --------------------------------------------------------------------------------

def _identified(session: Session) -> tuple[set[int], set[int]]:
    """Samples and individuals with an approved (or notified) identification."""
    done = (IdStatus.APPROVED, IdStatus.FAMILY_NOTIFIED)
    samples, individuals = set(), set()
    for sid, iid in session.execute(select(Identification.sample_id, Identification.individual_id)
                                    .where(Identification.status.in_(done))):
        if sid is not None:
            samples.add(sid)
        if iid is not None:
            individuals.add(iid)
    return samples, individuals


def _mt(data: dict[str, Any], pid: str) -> mt.MtHaplotype:
    return mt.haplotype(str(data.get("variants") or ""), range=data.get("range") or None, id=pid)


def _origins(session: Session) -> dict[int, Origin]:
    """Origin of the remains of each accession."""
    links: dict[int, list[int]] = {}
    for op, inc in session.execute(select(operation_incident.c.operation_id, operation_incident.c.incident_id)):
        links.setdefault(op, []).append(inc)
    ops = {o.id: o for o in session.scalars(select(FieldOperation))}
    out = {}
    for acc in session.scalars(select(Accession)):
        op = ops.get(acc.operation_id) if acc.operation_id is not None else None
        if op is None:
            out[acc.id] = Origin(custody_date=acc.received_date)
            continue
        out[acc.id] = Origin(op.kind.value, tuple(sorted(links.get(op.id, []))), op.latitude, op.longitude,
                             acc.received_date or op.start_date)
    return out


def _persons(session: Session) -> tuple[list[int], PersonContext, dict[int, Any]]:
    incidents = {i.id: i for i in session.scalars(select(LossIncident))}
    ids, inc, dates, places, status = [], [], [], [], {}
    for pid, st, iid, ld in session.execute(select(MissingPerson.id, MissingPerson.status, MissingPerson.incident_id,
                                                   MissingPerson.loss_date).order_by(MissingPerson.id)):
        status[pid] = st
        if st in ACCOUNTED_FOR:
            continue
        i = incidents.get(iid) if iid is not None else None
        ids.append(pid)
        inc.append(iid)
        dates.append(ld or (i.date if i is not None else None))
        places.append((i.latitude, i.longitude) if i is not None else (None, None))
    return ids, PersonContext.build(inc, dates, places), status


def load_case(session: Session, options: SearchOptions) -> RegistryCase:
    """Build the case of the registry's open work (see the module docstring)."""
    notes: list[str] = []
    done_s, done_i = _identified(session)
    rows = session.execute(
        select(Sample.id, Sample.key, Sample.sex, Sample.element_id, Element.individual_id,
               Sample.accession_id, Element.accession_id, Profile.kind, Profile.data, Profile.quality)
        .join(Profile, Profile.sample_id == Sample.id).outerjoin(Element, Sample.element_id == Element.id)
        .order_by(Sample.key)).all()
    s_prof: dict[int, dict[str, Any]] = {}
    s_quality: dict[int, float] = {}
    s_info: dict[int, tuple[str, int, int | None, int | None, int | None]] = {}
    for sid, key, sex, el, ind, acc, el_acc, kind, data, quality in rows:
        if sid in done_s or (ind is not None and ind in done_i):
            continue
        s_info[sid] = (key, sex, el, ind, acc if acc is not None else el_acc)
        s_prof.setdefault(sid, {})[kind.value] = data
        if kind == ProfileKind.AUTOSOMAL and quality is not None:
            s_quality[sid] = float(quality)
    persons, person_ctx, status = _persons(session)
    members = session.execute(
        select(FamilyMember.id, Family.id, Family.name, FamilyMember.member, FamilyMember.father,
               FamilyMember.mother, FamilyMember.sex, FamilyMember.missing, FamilyMember.missing_person_id)
        .join(Family).order_by(Family.name, FamilyMember.id)).all()
    m_prof: dict[int, dict[str, Any]] = {}
    for mid, kind, data in session.execute(select(Profile.family_member_id, Profile.kind, Profile.data)
                                           .where(Profile.family_member_id.is_not(None))):
        m_prof.setdefault(mid, {})[kind.value] = data
    fams: dict[str, list[Any]] = {}
    fam_ids: dict[str, int] = {}
    for r in members:
        fams.setdefault(r[2], []).append(r)
        fam_ids[r[2]] = r[1]

    def is_open(r: Any) -> bool:
        return bool(r.missing and r.missing_person_id is not None
                    and r.missing_person_id in status and status[r.missing_person_id] not in ACCOUNTED_FOR)

    # --- families with an unaccounted-for, linked missing person and a typed donor
    eligible: dict[str, list[Any]] = {}
    for name, rs in fams.items():
        if any(is_open(r) for r in rs) and any(r[0] in m_prof and not r.missing for r in rs):
            eligible[name] = rs
    # --- markers
    auto_tables: list[dict[str, Any]] = [p[ProfileKind.AUTOSOMAL.value] for p in s_prof.values()
                                         if ProfileKind.AUTOSOMAL.value in p]
    auto_tables += [m_prof[r[0]][ProfileKind.AUTOSOMAL.value] for rs in eligible.values() for r in rs
                    if ProfileKind.AUTOSOMAL.value in m_prof.get(r[0], {})]
    names: list[str] = sorted({m for t in auto_tables for m in t})
    db = load_database(options.frequencies)
    mapping = match_marker_names(names, db.loci)
    absent = [m for m, k in mapping.items() if k is None]
    if absent:
        notes.append(f"markers not in {options.frequencies} left out: {', '.join(absent)}")
    names = [m for m in names if mapping[m] is not None]
    keep = set(names)
    observed = observed_alleles({str(i): {m: g for m, g in t.items() if m in keep} for i, t in enumerate(auto_tables)})
    markers = db.markers(names, observed=observed) if names else []

    def genotypes(p: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
        t = p.get(ProfileKind.AUTOSOMAL.value) or {}
        return {m: (g[0], g[1]) for m, g in t.items() if m in keep}

    bad: dict[str, str] = {}

    def lineage(p: dict[str, Any], pid: str) -> tuple[mt.MtHaplotype | None, ystr.YHaplotype | None]:
        """The stored haplotypes; one that does not parse is left out (and reported), not fatal."""
        m = p.get(ProfileKind.MTDNA.value)
        y = p.get(ProfileKind.YSTR.value)
        out: list[Any] = []
        for kind, data, parse in (("mtDNA", m, lambda d: _mt(d, pid)),
                                  ("Y-STR", y, lambda d: ystr.YHaplotype.parse(d, id=pid))):
            try:
                out.append(parse(data) if data else None)
            except ValueError:   # the message quotes the haplotype: not for every reader of the notes
                bad[f"{kind} profile of {pid}"] = "not valid notation; check it with dogtag mito/ystr"
                out.append(None)
        return out[0], out[1]

    # --- samples -> individuals
    lin = {sid: lineage(s_prof[sid], s_info[sid][0]) for sid in s_info}
    gen = {sid: genotypes(s_prof[sid]) for sid in s_info}
    sids = [sid for sid in s_info if gen[sid] or lin[sid] != (None, None)]
    infos = []
    for sid in sids:
        key, sex, el, ind, _acc = s_info[sid]
        g = gen[sid]
        auto = CaseSample(key, int(sex or 0), g, dropout=s_quality.get(sid, 0.0)) if g else None
        infos.append(SampleInfo(key, el, ind, auto, lin[sid][0]))
    grouping = group_individuals(infos, markers, same_source_lr=options.same_source_lr)
    notes += grouping.notes
    origin_of = _origins(session)
    pm: list[CaseSample] = []
    sample_id, individual_id, unit_samples, unit_keys, origins = [], [], [], [], []
    s_digest: dict[str, str] = {}
    for u in grouping.units:
        ids = [sids[i] for i in u.samples]
        keys = [s_info[s][0] for s in ids]
        auto_rep = max(ids, key=lambda s: len(gen[s]))
        mt_rep = next((s for s in ids if ProfileKind.MTDNA.value in s_prof[s]), None)
        y_rep = max(ids, key=lambda s: len(s_prof[s].get(ProfileKind.YSTR.value) or {}))
        key = keys[0]
        mth = lineage(s_prof[mt_rep], key)[0] if mt_rep is not None else None
        yh = lineage(s_prof[y_rep], key)[1]
        sex = next((int(s_info[s][1]) for s in ids if s_info[s][1]), 0)
        smp = CaseSample(key, sex, gen[auto_rep], dropout=s_quality.get(auto_rep, 0.0),
                         mtdna=mth, ystr=yh)
        pm.append(_with_replicates(smp, [CaseSample(s_info[s][0], sex, g, dropout=s_quality.get(s, 0.0))
                                         for s in ids if s != auto_rep and (g := gen[s])],
                                   u, markers))
        sample_id.append(ids[0])
        individual_id.append(u.individuals[0] if len(u.individuals) == 1 else None)
        unit_samples.append(ids)
        unit_keys.append(keys)
        accs = {a for s in ids if (a := s_info[s][4]) is not None}
        origins.append(_merged_origin([origin_of[a] for a in sorted(accs)]))
        s_digest[key] = _digest({"samples": [[s_info[s][0], s_info[s][1], s_prof[s], s_quality.get(s)]
                                             for s in ids]})
    am: list[CaseFamily] = []
    person_id: list[int] = []
    f_digest: dict[str, str] = {}
    for name, rs in eligible.items():
        ped = Pedigree.from_table([r.member for r in rs], [r.father for r in rs], [r.mother for r in rs],
                                  [r.sex for r in rs])
        missing = [r for r in rs if is_open(r)]
        mps = {r.member for r in missing}
        table, mts, ys = {}, {}, {}
        for r in rs:
            mp_prof = m_prof.get(r[0])
            if not mp_prof or r.member in mps:
                continue
            g = genotypes(mp_prof)
            if g:
                table[r.member] = g
            mth, yh = lineage(mp_prof, f"{name}:{r.member}")
            if mth is not None:
                mts[r.member] = mth
            if yh is not None:
                ys[r.member] = yh
        am.append(CaseFamily(name, ped, tuple(r.member for r in missing), table, mts, ys))
        person_id += [r.missing_person_id for r in missing]
        f_digest[name] = _digest({"rows": [[r.member, r.father, r.mother, r.sex, r.missing, r.missing_person_id]
                                           for r in rs],
                                  "open": sorted(r.member for r in missing),
                                  "profiles": {r.member: m_prof.get(r[0]) for r in rs}})
    mt_db: tuple[mt.MtHaplotype, ...] = ()
    y_db: tuple[ystr.YHaplotype, ...] = ()
    if options.mtdna_database or options.ystr_database:
        from dogtag.io.lineage_tables import read_mtdna, read_ystr

        if options.mtdna_database:
            mt_db = tuple(read_mtdna(options.mtdna_database, skip_invalid=True).haplotypes)
        if options.ystr_database:
            t = read_ystr(options.ystr_database)
            y_db = tuple(h for h, n in zip(t.haplotypes, t.counts, strict=True) for _ in range(n))
    notes += [f"{what} left out: {why}" for what, why in sorted(bad.items())]
    if any(s.mtdna is not None for s in pm) and not mt_db:
        notes.append("no mtDNA database (--mito-db): an mtDNA match weighs LR 1 (its frequency is unknown)")
    if any(s.ystr is not None for s in pm) and not y_db:
        notes.append("no Y-STR database (--ystr-db): a Y-STR match weighs at most LR 1")
    case = DVICase(markers, pm, am, name="registry", source="registry", mtdna_database=mt_db,
                   ystr_database=y_db, ystr_method=options.ystr_method, theta=options.theta)
    params = _parameters(options)
    return RegistryCase(case, sample_id, individual_id, unit_samples, unit_keys, grouping.units, origins,
                        {n: fam_ids[n] for n in eligible}, person_id, persons, person_ctx, s_digest, f_digest,
                        _digest(params), notes)


def _with_replicates(smp: CaseSample, others: list[CaseSample], unit: Unit, markers: list[Marker]) -> CaseSample:
    """The individual's sample with its other autosomal typings as replicates (all its evidence,
    :class:`~dogtag.identify.case.Sample`), unless its samples conflict: then its most complete
    typing alone (it is not proposed anyway), and typings that exclude each other are a conflict."""
    if not others or unit.conflicts:
        return smp
    out = dataclasses.replace(smp, replicates=tuple(others))
    for m in markers:
        try:
            sample_observation(out, m)
        except InconsistentCaseError:
            unit.conflicts.append(f"the typings of its samples exclude each other at {m.name}: two people "
                                  "or a mislabelled sample")
            return smp
    return out


def _merged_origin(origins: list[Origin]) -> Origin:
    """The origin of an individual's samples: one accession's, or what several share (none: unknown)."""
    if len(origins) == 1:
        return origins[0]
    kinds = {o.kind for o in origins}
    incs = set.intersection(*[set(o.incidents) for o in origins]) if origins else set()
    return Origin(kinds.pop() if len(kinds) == 1 else None, tuple(sorted(incs)),
                  custody_date=min((o.custody_date for o in origins if o.custody_date), default=None))


def _parameters(options: SearchOptions) -> dict[str, Any]:
    """What the stored pairs depend on (a change recomputes every pair)."""
    return {"software_version": __version__, "frequencies": options.frequencies,
            "candidate_lr": options.decision.candidate_lr, "top": options.top,
            "same_source_lr": options.same_source_lr, "autosomal_evidence": "every typing of an individual",
            "mtdna_database": _file_digest(options.mtdna_database),
            "ystr_database": _file_digest(options.ystr_database), "ystr_method": options.ystr_method,
            "theta": options.theta}


# --- compute -----------------------------------------------------------------------------

@dataclass
class _Pair:
    sample: int          # case row (individual)
    column: int          # case missing-person column
    log_lr: float        # natural log; -inf = LR 0
    exclusions: int
    markers_used: int
    evidence: list[str]


def _subcase(case: DVICase, samples: Iterable[int], families: Iterable[str]) -> tuple[DVICase, list[int], list[int]]:
    """The case restricted to some samples and families; their sample indices and MP columns."""
    s_idx = sorted(set(samples))
    fams = set(families)
    cols, c = [], 0
    for f in case.am:
        for _ in f.missing:
            if f.name in fams:
                cols.append(c)
            c += 1
    sub = dataclasses.replace(case, pm=[case.pm[i] for i in s_idx], am=[f for f in case.am if f.name in fams])
    return sub, s_idx, cols


def _pairs_from(res: SearchResult, s_idx: list[int], cols: list[int]) -> list[_Pair]:
    out = []
    for k, sid in enumerate(res.samples):
        evs = res.candidate_evidence.get(sid, [])
        for n, (j, llr, exc) in enumerate(res.candidates.get(sid, [])):
            out.append(_Pair(s_idx[k], cols[j], llr, exc, -1, evidence_names(evs[n]) if evs else []))
    return out


def _trim(pairs: list[_Pair], top: int, min_lr: float) -> list[_Pair]:
    """Per individual: the ``top`` best pairs and every pair at or above ``min_lr``."""
    by: dict[int, list[_Pair]] = {}
    for p in pairs:
        by.setdefault(p.sample, []).append(p)
    out = []
    lt = math.log(min_lr)
    for ps in by.values():
        ps.sort(key=lambda p: -p.log_lr)
        out += [p for k, p in enumerate(ps) if k < top or p.log_lr >= lt]
    return out


# --- the whole search ----------------------------------------------------------------------

def _system_user(session: Session) -> User:
    user = session.scalar(select(User).where(User.username == SYSTEM_USER))
    if user is None:
        # "!" is no Argon2 hash: nobody can log in as the system user
        user = User(username=SYSTEM_USER, full_name="dogtag registry search", role=Role.ANALYST,
                    password_hash="!system account")
        session.add(user)
        session.flush()
    return user


def _active(session: Session) -> list[tuple[int, int | None, int | None, int, IdStatus]]:
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(Identification.id, Identification.sample_id, Identification.individual_id,
               Identification.missing_person_id, Identification.status)
        .where(Identification.status.in_(_ACTIVE)))]


def _existing_reasons(rc: RegistryCase, decisions: list[Decision],
                      active: list[tuple[int, int | None, int | None, int, IdStatus]],
                      names: dict[int, str]) -> None:
    """Units whose remains, or whose best candidate, already have an active identification."""
    by_sample: dict[int, list[Any]] = {}
    by_ind: dict[int, list[Any]] = {}
    by_person: dict[int, list[Any]] = {}
    for row in active:
        if row[1] is not None:
            by_sample.setdefault(row[1], []).append(row)
        if row[2] is not None:
            by_ind.setdefault(row[2], []).append(row)
        by_person.setdefault(row[3], []).append(row)
    for d in decisions:
        b = d.best
        if b is None:
            continue
        pid = rc.person_id[b.column]
        mine = {r[0]: r for s in rc.unit_samples[d.row] for r in by_sample.get(s, [])}
        mine.update({r[0]: r for i in rc.units[d.row].individuals for r in by_ind.get(i, [])})
        for iid, r in sorted(mine.items()):
            if r[3] == pid:
                d.reasons.append(f"already proposed as {names.get(pid, pid)} (identification {iid}, "
                                 f"{r[4].value})")
            else:
                d.reasons.append(f"remains already have identification {iid} as {names.get(r[3], r[3])} "
                                 f"({r[4].value})")
        for r in by_person.get(pid, []):
            if r[0] not in mine:
                d.reasons.append(f"{names.get(pid, pid)} already has identification {r[0]} ({r[4].value}) "
                                 "of other remains")
        d.proposed = not d.reasons


def search_registry(engine: Engine, *, actor: str | None = None, options: SearchOptions | None = None,
                    command: str | None = None, progress: Progress | None = None,
                    search_fn: Callable[..., SearchResult] = blind_search) -> SearchReport:
    """Search the registry's open work and store the results (see the module docstring).

    ``actor`` is a registered analyst or admin who proposes the identifications; None: the
    system user ``dogtag-search``. ``search_fn`` is the blind search (the Dask backend of
    :mod:`dogtag.scale` passes its own, with the same signature and results).
    """
    options = options or SearchOptions()
    dec = options.decision
    t0 = time.perf_counter()
    started = utcnow()
    # --- read
    with sessions(engine)() as session, session.begin():
        rc = load_case(session, options)
        prev = {(k, key): d for k, key, d in session.execute(select(SearchState.kind, SearchState.key,
                                                                    SearchState.digest))}
        stored = session.execute(select(SearchPair.sample_id, SearchPair.missing_person_id, SearchPair.family_id,
                                        SearchPair.log10_lr, SearchPair.exclusions, SearchPair.markers_used,
                                        SearchPair.evidence, SearchPair.id)).all()
        active = _active(session)
        names = {pid: sn for pid, sn in session.execute(select(MissingPerson.id, MissingPerson.service_number))}
    t_read = time.perf_counter() - t0
    case = rc.case
    same_params = prev.get(("parameters", "search")) == rc.parameters_digest
    ch_s = [i for i, s in enumerate(case.pm)
            if not same_params or prev.get(("sample", s.id)) != rc.sample_digest[s.id]]
    ch_f = [f.name for f in case.am if not same_params or prev.get(("family", f.name)) != rc.family_digest[f.name]]
    family_of = [f.name for f in case.am for _ in f.missing]
    # --- compute
    t1 = time.perf_counter()
    computed: list[_Pair] = []
    ch_s_set, ch_f_set = set(ch_s), set(ch_f)
    jobs = [(ch_s, [f.name for f in case.am]),
            ([i for i in range(len(case.pm)) if i not in ch_s_set], ch_f)]
    for samples, families in jobs:
        if not samples or not families:
            continue
        sub, s_idx, cols = _subcase(case, samples, families)
        res = search_fn(sub, top=options.top, min_lr=dec.candidate_lr, workers=options.workers,
                        progress=progress)
        computed += _pairs_from(res, s_idx, cols)
    # stored pairs of unchanged individuals with unchanged families
    row_of = {sid: i for i, sid in enumerate(rc.sample_id)}
    col_of = {pid: c for c, pid in enumerate(rc.person_id)}
    kept: list[_Pair] = []
    kept_ids: set[int] = set()
    for sid, pid, _fid, l10, exc, used, ev, rid in stored:
        i, c = row_of.get(sid), col_of.get(pid)
        if i is None or c is None or i in ch_s_set or family_of[c] in ch_f_set:
            continue
        kept.append(_Pair(i, c, -math.inf if l10 is None else l10 * _LN10, exc, used, list(ev)))
        kept_ids.add(rid)
    pairs = _trim(computed + kept, options.top, dec.candidate_lr)
    t_search = time.perf_counter() - t1
    blocked = {i: list(u.conflicts) for i, u in enumerate(rc.units) if u.conflicts}
    decisions, joint_notes = decide(
        case, [(p.sample, p.column, p.log_lr) for p in pairs], origins=rc.origins, col_person=rc.col_person,
        prior=PriorTable(options.prior, rc.person_context), alt_prior=PriorTable(options.alternative, rc.person_context),
        options=dec, blocked=blocked, workers=options.workers)
    _existing_reasons(rc, decisions, active, names)
    t_engine = time.perf_counter() - t1
    # --- write
    t2 = time.perf_counter()
    who = actor or SYSTEM_USER
    settings = {**_parameters(options), "decision": dec.as_dict(), "prior": options.prior.as_dict(),
                "alternative_prior": options.alternative.as_dict(),
                "mtdna_database_file": options.mtdna_database, "ystr_database_file": options.ystr_database}
    with session_scope(engine, who) as session:
        user = _system_user(session) if actor is None else session.scalar(select(User).where(User.username == actor))
        if user is None:
            raise DogtagError(f"no user named {actor!r}")
        run = AnalysisRun(software="dogtag", software_version=__version__, command=command, parameters=settings,
                          frequency_database=options.frequencies, inputs_digest=_digest(
                              [rc.parameters_digest, sorted(rc.sample_digest.items()),
                               sorted(rc.family_digest.items())]),
                          started_at=started, actor=who)
        session.add(run)
        session.flush()
        conn = session.connection()
        stale = [r[7] for r in stored if r[7] not in kept_ids]
        kept_set = {id(p) for p in kept}
        keep_rows = {(rc.sample_id[p.sample], rc.person_id[p.column]) for p in pairs if id(p) in kept_set}
        stale += [r[7] for r in stored if r[7] in kept_ids and (r[0], r[1]) not in keep_rows]
        for lo in range(0, len(stale), 500):
            conn.execute(delete(table_of(SearchPair)).where(table_of(SearchPair).c.id.in_(stale[lo:lo + 500])))
        new_rows = []
        for p in pairs:
            if id(p) in kept_set:
                continue
            new_rows.append({"sample_id": rc.sample_id[p.sample], "missing_person_id": rc.person_id[p.column],
                             "family_id": rc.family_id[family_of[p.column]],
                             "log10_lr": p.log_lr / _LN10 if math.isfinite(p.log_lr) else None,
                             "exclusions": p.exclusions, "markers_used": max(p.markers_used, 0),
                             "evidence": p.evidence, "run_id": run.id})
        if new_rows:
            conn.execute(insert(table_of(SearchPair)), new_rows)
        conn.execute(delete(table_of(SearchState)))
        states = [{"kind": "parameters", "key": "search", "digest": rc.parameters_digest, "run_id": run.id}]
        states += [{"kind": "sample", "key": k, "digest": d, "run_id": run.id} for k, d in rc.sample_digest.items()]
        states += [{"kind": "family", "key": k, "digest": d, "run_id": run.id} for k, d in rc.family_digest.items()]
        conn.execute(insert(table_of(SearchState)), states)
        ledger.append(conn, "audit", ledger.audit_entries(who, "replace", "search_pair", [(
            str(run.id), None, {"deleted": len(stale), "inserted": len(new_rows), "kept": len(kept_ids)})]))
        proposals = _propose(session, user, run, rc, decisions, names, options)
        run.finished_at = utcnow()
        session.flush()
        run_id = run.id
    t_write = time.perf_counter() - t2
    table = [_unit_dict(rc, d, names, family_of) for d in decisions]
    why: dict[str, int] = {}
    for d in decisions:
        if not d.proposed:
            k = d.reasons[0].split(":")[0] if d.reasons else "?"
            for prefix in ("posterior", "LR", "already proposed", "remains already", "joint identification"):
                if k.startswith(prefix):
                    k = prefix
            why[k] = why.get(k, 0) + 1
    return SearchReport(run_id, sum(len(s) for s in rc.unit_samples), len(case.pm), len(case.am), len(rc.person_id),
                        len(ch_s), len(ch_f), len(computed), len(kept), len(pairs), proposals,
                        table, why, settings,
                        {"read": round(t_read, 3), "search": round(t_search, 3), "engine": round(t_engine, 3),
                         "write": round(t_write, 3)},
                        rc.notes + joint_notes)


def _unit_dict(rc: RegistryCase, d: Decision, names: dict[int, str], family_of: list[str]) -> dict[str, Any]:
    smp = rc.case.pm[d.row]
    typed = [k for k, have in (("autosomal", bool(smp.genotypes)), ("mtdna", smp.mtdna is not None),
                               ("ystr", smp.ystr is not None)) if have]
    return {"individual": smp.id, "samples": rc.unit_keys[d.row], "typed": typed,
            "candidates": [{"missing_person": names.get(rc.person_id[c.column]), "family": family_of[c.column],
                            "log10_lr": c.log10_lr, "evidence": c.evidence, "prior": c.prior,
                            "posterior": c.posterior, "posterior_alternative_prior": c.posterior_alt,
                            "lines": c.lines}
                           for c in d.candidates],
            "posterior_none": d.p_none, "method": d.method, "proposed": d.proposed, "reasons": d.reasons,
            "caveats": d.caveats,
            "conflicts": rc.units[d.row].conflicts}


def _individual_for(session: Session, rc: RegistryCase, row: int, run: AnalysisRun) -> Individual | None:
    """The registry individual a proposal of ``row`` names (made for samples grouped by DNA alone)."""
    if rc.individual_id[row] is not None:
        return session.get(Individual, rc.individual_id[row])
    if len(rc.unit_samples[row]) == 1:
        return None
    key = f"DNA-{rc.unit_keys[row][0]}"[:64]
    ind = session.scalar(select(Individual).where(Individual.key == key))
    if ind is None:
        links = "; ".join(f"{a}={b} log10 LR {x:.1f}" for a, b, x in rc.units[row].dna_links[:10])
        ind = Individual(key=key, notes=f"samples {', '.join(rc.unit_keys[row])} grouped by dogtag search run "
                                        f"{run.id} (same element, anthropologist's individual or same-source "
                                        f"DNA{': ' + links if links else ''})")
        session.add(ind)
        session.flush()
    for el in session.scalars(select(Element).join(Sample, Sample.element_id == Element.id)
                              .where(Sample.id.in_(rc.unit_samples[row]), Element.individual_id.is_(None))):
        el.individual_id = ind.id
    session.flush()
    return ind


def _propose(session: Session, user: User, run: AnalysisRun, rc: RegistryCase, decisions: list[Decision],
             names: dict[int, str], options: SearchOptions) -> list[dict[str, Any]]:
    from dogtag.registry.workflow import propose

    out = []
    case = rc.case
    family_of = [f.name for f in case.am for _ in f.missing]
    for d in decisions:
        b = d.best
        if not d.proposed or b is None:
            continue
        pid = rc.person_id[b.column]
        person = session.get(MissingPerson, pid)
        assert person is not None
        sample = session.get(Sample, rc.sample_id[d.row])
        individual = _individual_for(session, rc, d.row, run)
        evidence: list[dict[str, Any]] = list(b.lines)
        evidence.append({"kind": "search", "lines": b.evidence, "log10_lr": b.log10_lr,
                         "family": family_of[b.column], "samples": rc.unit_keys[d.row],
                         "prior": b.prior, "posterior": b.posterior,
                         "posterior_alternative_prior": b.posterior_alt,
                         "prior_settings": options.prior.as_dict(), "method": d.method, "caveats": d.caveats,
                         "origin": dataclasses.asdict(rc.origins[d.row]) | {"custody_date": str(
                             rc.origins[d.row].custody_date)}})
        ident = propose(session, user, person, sample=sample, individual=individual,
                        lr=10 ** b.log10_lr if b.log10_lr < 300 else None, log10_lr=b.log10_lr,
                        posterior=b.posterior, evidence=evidence, run=run,
                        reason=f"dogtag search run {run.id}: LR 10^{b.log10_lr:.2f} ({'+'.join(b.evidence)}), "
                               f"prior {b.prior:.3g}, posterior {b.posterior:.4f} ({options.prior.name}; "
                               f"{b.posterior_alt:.4f} {options.alternative.name})")
        out.append({"identification": ident.id, "individual": case.pm[d.row].id, "samples": rc.unit_keys[d.row],
                    "registry_individual": None if individual is None else individual.key,
                    "missing_person": names.get(pid), "family": family_of[b.column],
                    "log10_lr": b.log10_lr, "prior": b.prior, "posterior": b.posterior,
                    "posterior_alternative_prior": b.posterior_alt, "evidence": b.evidence, "lines": b.lines,
                    "caveats": d.caveats})
    return out
