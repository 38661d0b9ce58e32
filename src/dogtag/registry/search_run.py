"""``dogtag search``: the blind search and the joint identification on registry data.

Three phases:

1. **Read** (one read-only transaction): every *unidentified* sample with a profile (no approved
   or notified identification of the sample, or of the individual its element belongs to)
   and every family with an *unaccounted-for* missing person (linked to a registered person
   whose status is not accounted for) and at least one typed donor. Profiles become a
   :class:`~dogtag.identify.case.DVICase` (autosomal markers from the named frequency database,
   mtDNA and Y haplotypes, lineage databases if given).
2. **Compute** (no database access): the blind search with the top ``top`` candidates per sample
   and every pair at or above ``threshold``, then the joint identification of the samples and
   families joined by pairs at or above the threshold.
3. **Write** (one transaction, all or nothing): an :class:`AnalysisRun` with the provenance
   (software version, parameters, frequency database, time), the stored pairs and digests
   (:mod:`dogtag.registry.search_cache`), and the new proposed identifications, made through
   :func:`dogtag.registry.workflow.propose` by the invoking user or the system user
   ``dogtag-search``. A process killed at any point leaves the database as it was before
   the write transaction, and the search can simply be run again.

**What is recomputed.** Each sample's digest is the SHA-256 of its sex and profiles; each
family's digest covers its pedigree rows, its members' profiles and which of its missing
persons are still unaccounted for; one more digest covers the parameters (frequency and lineage
databases, threshold, top, software version). A sample or family whose digest changed (or is
new) is *changed*. The search then computes changed samples x all families and unchanged
samples x changed families; stored pairs of unchanged samples with unchanged families keep
their stored LRs. A change of the parameters recomputes everything. Stored pairs of samples or
families that left the search (identified, accounted for, deleted) are dropped. Every pair at or
above the threshold is always stored; a sample's below-threshold top ``top`` is exact after a
full run, but after an incremental one it may hold fewer than ``top`` of them when a family among
its old best changed (the next-best unchanged family was never stored).

**Joint identification** runs (unless nothing changed since the last run) on each group of
samples and families connected by pairs at or above the threshold, with the exact LRs of all
the group's pairs; pairs below the threshold with samples outside the group are left out (an
approximation: such a sample could take at most a small share of the posterior). A pair is
proposed when its LR is at least ``threshold`` and its posterior at least ``min_posterior``,
unless an identification of that
sample (or its individual) as that person exists already in any status but withdrawn.
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
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from dogtag import __version__
from dogtag.errors import DogtagError
from dogtag.genetics import mtdna as mt
from dogtag.genetics import ystr
from dogtag.genetics.freqdb import load_database, observed_alleles
from dogtag.genetics.names import match_marker_names
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase
from dogtag.identify.case import Family as CaseFamily
from dogtag.identify.case import Sample as CaseSample
from dogtag.identify.joint import JointProblem, Prior, solve_joint
from dogtag.identify.lineage_search import evidence_names
from dogtag.identify.search import SearchResult, blind_search
from dogtag.registry import ledger
from dogtag.registry.base import table_of, utcnow
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.families import Family, FamilyMember
from dogtag.registry.identification import AnalysisRun, Identification, IdStatus
from dogtag.registry.people import ACCOUNTED_FOR, MissingPerson
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import Element, Individual, Sample
from dogtag.registry.search_cache import SearchPair, SearchState
from dogtag.registry.users import Role, User

__all__ = ["SYSTEM_USER", "SearchOptions", "SearchReport", "load_case", "search_registry"]

SYSTEM_USER = "dogtag-search"
Progress = Callable[[int, int, str], None]
_LN10 = math.log(10)


@dataclass(frozen=True)
class SearchOptions:
    """Parameters of a registry search (all recorded in the analysis run)."""

    threshold: float = 1e4
    top: int = 5
    frequencies: str = "nist1036-Cauc"
    min_posterior: float = 0.5
    mtdna_database: str | None = None     # HSD or CSV file of population haplotypes
    ystr_database: str | None = None      # wide Y-STR table
    ystr_method: str = "counting"
    max_assign: int = 100_000
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise ValueError(f"`threshold` must be > 0, got {self.threshold}")
        if self.top < 1:
            raise ValueError(f"`top` must be >= 1, got {self.top}")
        if not 0 <= self.min_posterior <= 1:
            raise ValueError(f"`min_posterior` must be in [0, 1], got {self.min_posterior}")


@dataclass
class RegistryCase:
    """The case read from the registry, with the registry ids behind each row and column."""

    case: DVICase
    sample_id: list[int]                 # per case sample
    individual_id: list[int | None]      # per case sample
    family_id: dict[str, int]            # family name -> id
    person_id: list[int]                 # per case missing-person column
    sample_digest: dict[str, str]        # sample key -> digest
    family_digest: dict[str, str]        # family name -> digest
    parameters_digest: str
    notes: list[str] = field(default_factory=list)


@dataclass
class SearchReport:
    run_id: int
    n_samples: int
    n_families: int
    n_missing: int
    recomputed_samples: int
    recomputed_families: int
    pairs_computed: int
    pairs_kept: int
    pairs_stored: int
    proposals: list[dict[str, Any]]
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


def load_case(session: Session, options: SearchOptions) -> RegistryCase:
    """Build the DVI case of the registry's open work (see the module docstring)."""
    notes: list[str] = []
    done_s, done_i = _identified(session)
    rows = session.execute(
        select(Sample.id, Sample.key, Sample.sex, Element.individual_id, Profile.kind, Profile.data)
        .join(Profile, Profile.sample_id == Sample.id).outerjoin(Element, Sample.element_id == Element.id)
        .order_by(Sample.key)).all()
    s_prof: dict[int, dict[str, Any]] = {}
    s_info: dict[int, tuple[str, int, int | None]] = {}
    for sid, key, sex, ind, kind, data in rows:
        if sid in done_s or (ind is not None and ind in done_i):
            continue
        s_info[sid] = (key, sex, ind)
        s_prof.setdefault(sid, {})[kind.value] = data
    persons = {pid: status for pid, status in session.execute(select(MissingPerson.id, MissingPerson.status))}
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
    # --- families with an unaccounted-for, linked missing person and a typed donor
    eligible: dict[str, list[Any]] = {}
    for name, rs in fams.items():
        open_mp = [r for r in rs if r.missing and r.missing_person_id is not None
                   and persons.get(r.missing_person_id) not in ACCOUNTED_FOR]
        typed = [r for r in rs if r[0] in m_prof and not r.missing]
        if open_mp and typed:
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

    def lineage(p: dict[str, Any], pid: str) -> tuple[mt.MtHaplotype | None, ystr.YHaplotype | None]:
        m = p.get(ProfileKind.MTDNA.value)
        y = p.get(ProfileKind.YSTR.value)
        try:
            return (_mt(m, pid) if m else None), (ystr.YHaplotype.parse(y, id=pid) if y else None)
        except ValueError as exc:
            raise DogtagError(f"stored lineage profile of {pid}: {exc}") from None

    pm: list[CaseSample] = []
    sample_id, individual_id, s_digest = [], [], {}
    for sid, (key, sex, ind) in s_info.items():
        p = s_prof[sid]
        mth, yh = lineage(p, key)
        g = genotypes(p)
        if not g and mth is None and yh is None:
            continue
        pm.append(CaseSample(key, int(sex or 0), g, mtdna=mth, ystr=yh))
        sample_id.append(sid)
        individual_id.append(ind)
        s_digest[key] = _digest({"sex": sex, "profiles": p})
    am: list[CaseFamily] = []
    person_id: list[int] = []
    f_digest: dict[str, str] = {}
    for name, rs in eligible.items():
        ped = Pedigree.from_table([r.member for r in rs], [r.father for r in rs], [r.mother for r in rs],
                                  [r.sex for r in rs])
        missing = [r for r in rs if r.missing and r.missing_person_id is not None
                   and persons.get(r.missing_person_id) not in ACCOUNTED_FOR]
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
    case = DVICase(markers, pm, am, name="registry", source="registry", mtdna_database=mt_db,
                   ystr_database=y_db, ystr_method=options.ystr_method)
    params = _parameters(options)
    return RegistryCase(case, sample_id, individual_id, {n: fam_ids[n] for n in eligible}, person_id,
                        s_digest, f_digest, _digest(params), notes)


def _parameters(options: SearchOptions) -> dict[str, Any]:
    return {"software_version": __version__, "frequencies": options.frequencies, "threshold": options.threshold,
            "top": options.top, "mtdna_database": _file_digest(options.mtdna_database),
            "ystr_database": _file_digest(options.ystr_database), "ystr_method": options.ystr_method}


# --- compute -----------------------------------------------------------------------------

@dataclass
class _Pair:
    sample: int          # case sample index
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


def _trim(pairs: list[_Pair], top: int, threshold: float) -> list[_Pair]:
    """Per sample: the ``top`` best pairs and every pair at or above the threshold."""
    by: dict[int, list[_Pair]] = {}
    for p in pairs:
        by.setdefault(p.sample, []).append(p)
    out = []
    lt = math.log(threshold)
    for ps in by.values():
        ps.sort(key=lambda p: -p.log_lr)
        out += [p for k, p in enumerate(ps) if k < top or p.log_lr >= lt]
    return out


def _hit_groups(hits: list[tuple[int, str]]) -> list[tuple[list[int], list[str]]]:
    """Connected groups of samples and families joined by hit pairs (sample index, family)."""
    parent: dict[tuple[str, object], tuple[str, object]] = {}

    def find(x: tuple[str, object]) -> tuple[str, object]:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for smp, fam in hits:
        a, b = find(("s", smp)), find(("f", fam))
        if a != b:
            parent[a] = b
    groups: dict[tuple[str, object], tuple[list[int], list[str]]] = {}
    for node in list(parent):
        g = groups.setdefault(find(node), ([], []))
        if node[0] == "s":
            g[0].append(int(node[1]))  # type: ignore[call-overload]
        else:
            g[1].append(str(node[1]))
    return list(groups.values())


def _joint(case: DVICase, hits: list[_Pair], options: SearchOptions, family_of: list[str]
           ) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], _Pair], list[str]]:
    """Posterior of each hit pair, from the joint identification of its group.

    One blind search over all samples and families that take part in a hit (the full matrix
    of those); then, per group of samples and families connected by hits, the joint
    identification (:func:`~dogtag.identify.joint.solve_joint`) with every pair of the group.
    """
    from dogtag.identify.dvi import FamilyLoglik

    post: dict[tuple[int, int], float] = {}
    exact: dict[tuple[int, int], _Pair] = {}
    if not hits:
        return post, exact, []
    sub, s_idx, cols = _subcase(case, {p.sample for p in hits}, {family_of[p.column] for p in hits})
    res = blind_search(sub, refine=0, workers=options.workers)
    assert res.log_lr is not None and res.exclusions is not None and res.markers_used is not None
    row_of = {si: i for i, si in enumerate(s_idx)}
    callback = FamilyLoglik(sub, res.lineage_log_lr)
    notes: list[str] = []
    for rows_s, fams in _hit_groups([(row_of[p.sample], family_of[p.column]) for p in hits]):
        rows = np.array(sorted(rows_s), dtype=np.intp)
        fset = set(fams)
        cj = np.array([j for j, f in enumerate(res.family) if f in fset], dtype=np.intp)
        problem = JointProblem(tuple(res.samples[i] for i in rows), tuple(res.missing[j] for j in cj),
                               tuple(res.family[j] for j in cj), res.log_lr[np.ix_(rows, cj)],
                               {f: res.family_loglik[f] for f in fset}, res.sample_loglik[rows], callback)
        jr = solve_joint(problem, prior=Prior.flat(), max_assign=options.max_assign, top=1, seed=1)
        notes += [n for n in jr.notes if n not in notes]
        for a, i in enumerate(rows):
            for b, j in enumerate(cj):
                if math.isnan(res.log_lr[i, j]):
                    continue
                key = (s_idx[i], cols[j])
                post[key] = min(1.0, max(0.0, float(jr.posterior[a, b])))  # summation noise: 1 + 2e-15
                ev = evidence_names(res.evidence[i, j]) if res.evidence is not None else []
                exact[key] = _Pair(key[0], key[1], float(res.log_lr[i, j]), int(res.exclusions[i, j]),
                                   int(res.markers_used[i, j]), ev)
    return post, exact, notes


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


def search_registry(engine: Engine, *, actor: str | None = None, options: SearchOptions | None = None,
                    command: str | None = None, progress: Progress | None = None,
                    search_fn: Callable[..., SearchResult] = blind_search) -> SearchReport:
    """Search the registry's open work and store the results (see the module docstring).

    ``actor`` is a registered analyst or admin who proposes the identifications; None: the
    system user ``dogtag-search``. ``search_fn`` is the blind search (the Dask backend of
    :mod:`dogtag.scale` passes its own, with the same signature and results).
    """
    options = options or SearchOptions()
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
        existing = {(s, i, p) for s, i, p, st in session.execute(
            select(Identification.sample_id, Identification.individual_id, Identification.missing_person_id,
                   Identification.status)) if st != IdStatus.WITHDRAWN}
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
        res = search_fn(sub, top=options.top, min_lr=options.threshold, workers=options.workers,
                           progress=progress)
        computed += _pairs_from(res, s_idx, cols)
    # stored pairs of unchanged samples with unchanged families
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
    pairs = _trim(computed + kept, options.top, options.threshold)
    hits = [p for p in pairs if p.log_lr >= math.log(options.threshold)]
    # nothing changed and nothing left: the joint identification would repeat the last run's
    post, exact, joint_notes = ({}, {}, []) if not (ch_s or ch_f or len(kept) < len(stored)) else _joint(
        case, hits, options, family_of)
    t_engine = time.perf_counter() - t1
    # --- write
    t2 = time.perf_counter()
    who = actor or SYSTEM_USER
    with session_scope(engine, who) as session:
        user = _system_user(session) if actor is None else session.scalar(select(User).where(User.username == actor))
        if user is None:
            raise DogtagError(f"no user named {actor!r}")
        run = AnalysisRun(software="dogtag", software_version=__version__, command=command,
                          parameters={**_parameters(options), "min_posterior": options.min_posterior,
                                      "max_assign": options.max_assign, "prior": "flat",
                                      "mtdna_database_file": options.mtdna_database,
                                      "ystr_database_file": options.ystr_database},
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
            q = exact.get((p.sample, p.column), p)
            new_rows.append({"sample_id": rc.sample_id[p.sample], "missing_person_id": rc.person_id[p.column],
                             "family_id": rc.family_id[family_of[p.column]],
                             "log10_lr": q.log_lr / _LN10 if math.isfinite(q.log_lr) else None,
                             "exclusions": q.exclusions, "markers_used": max(q.markers_used, 0),
                             "evidence": q.evidence, "run_id": run.id})
        if new_rows:
            conn.execute(insert(table_of(SearchPair)), new_rows)
        conn.execute(delete(table_of(SearchState)))
        states = [{"kind": "parameters", "key": "search", "digest": rc.parameters_digest, "run_id": run.id}]
        states += [{"kind": "sample", "key": k, "digest": d, "run_id": run.id} for k, d in rc.sample_digest.items()]
        states += [{"kind": "family", "key": k, "digest": d, "run_id": run.id} for k, d in rc.family_digest.items()]
        conn.execute(insert(table_of(SearchState)), states)
        ledger.append(conn, "audit", ledger.audit_entries(who, "replace", "search_pair", [(
            str(run.id), None, {"deleted": len(stale), "inserted": len(new_rows), "kept": len(kept_ids)})]))
        proposals = _propose(session, user, run, rc, hits, post, exact, family_of, existing, options)
        run.finished_at = utcnow()
        session.flush()
        run_id = run.id
    t_write = time.perf_counter() - t2
    return SearchReport(run_id, len(case.pm), len(case.am), len(rc.person_id), len(ch_s), len(ch_f),
                        len(computed), len(kept), len(pairs), proposals,
                        {"read": round(t_read, 3), "engine": round(t_engine, 3), "write": round(t_write, 3)},
                        rc.notes + joint_notes)


def _propose(session: Session, user: User, run: AnalysisRun, rc: RegistryCase, hits: list[_Pair],
             post: dict[tuple[int, int], float], exact: dict[tuple[int, int], _Pair], family_of: list[str],
             existing: set[tuple[int | None, int | None, int]], options: SearchOptions) -> list[dict[str, Any]]:
    from dogtag.registry.workflow import propose

    out = []
    case = rc.case
    for p in sorted(hits, key=lambda p: (p.sample, p.column)):
        q = exact.get((p.sample, p.column), p)
        pr = post.get((p.sample, p.column), 0.0)
        if q.log_lr < math.log(options.threshold) or pr < options.min_posterior:
            continue
        sid, ind, pid = rc.sample_id[p.sample], rc.individual_id[p.sample], rc.person_id[p.column]
        if (sid, ind, pid) in existing or (sid, None, pid) in existing or (
                ind is not None and (None, ind, pid) in existing):
            continue
        person = session.get(MissingPerson, pid)
        assert person is not None
        sample = session.get(Sample, sid)
        individual = session.get(Individual, ind) if ind is not None else None
        log10 = q.log_lr / _LN10
        evidence: list[dict[str, Any]] = [{"kind": k} for k in q.evidence]
        evidence.append({"kind": "search", "lines": q.evidence, "log10_lr": log10, "exclusions": q.exclusions,
                         "markers_used": q.markers_used, "family": family_of[p.column],
                         "posterior": pr, "method": "blind search x joint identification (flat prior)"})
        ident = propose(session, user, person, sample=sample, individual=individual, lr=10 ** log10 if log10 < 300 else None,
                        log10_lr=log10, posterior=pr, evidence=evidence, run=run,
                        reason=f"dogtag search run {run.id}: LR 10^{log10:.2f} ({'+'.join(q.evidence)}), "
                               f"posterior {pr:.4f}")
        out.append({"identification": ident.id, "sample": case.pm[p.sample].id,
                    "missing_person": person.service_number, "family": family_of[p.column],
                    "log10_lr": log10, "posterior": pr, "evidence": q.evidence})
    return out
