"""The demo use case: scenario -> registry -> identification -> proposals -> calibration.

:func:`run_demo` simulates the Korean War scenario (:mod:`dogtag.scenario.generate`), imports it
into a fresh registry, creates one demo account per role, runs the identification
(:func:`dogtag.scenario.pipeline.identify_scenario`), stores the proposed identifications with
their analysis run (provenance) for review, and writes the calibration report. The CLI
(``dogtag demo``) adds progress bars and serves the workbench.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dogtag import __version__
from dogtag.registry.base import utcnow
from dogtag.registry.engine import make_engine, session_scope, upgrade
from dogtag.registry.identification import AnalysisRun
from dogtag.registry.imports import import_file
from dogtag.registry.people import MissingPerson
from dogtag.registry.recovery import Individual, Sample
from dogtag.registry.users import Role, User, add_user
from dogtag.registry.workflow import propose
from dogtag.scenario.calibration import Calibration, calibrate
from dogtag.scenario.generate import ScenarioParams, ScenarioSummary, simulate_scenario
from dogtag.scenario.pipeline import DEFAULT_THRESHOLD, RunResult, identify_scenario

__all__ = ["DEMO_USERS", "IMPORT_ORDER", "DemoResult", "run_demo"]

#: (kind, file) in the order of their dependencies.
IMPORT_ORDER: tuple[tuple[str, str], ...] = (
    ("incidents", "incidents.csv"), ("missing", "missing.csv"), ("operations", "operations.csv"),
    ("accessions", "accessions.csv"), ("elements", "elements.csv"), ("samples", "samples.csv"),
    ("pedigrees", "pedigrees.csv"), ("profiles", "genotypes.csv"), ("mito", "mito.csv"), ("ystr", "ystr.csv"))
#: username, role, full name: one account per role, two reviewers (technical and administrative
#: review are signed by two different people).
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "Demo Administrator"), ("analyst", "analyst", "Demo Analyst"),
    ("reviewer", "reviewer", "Demo Technical Reviewer"), ("reviewer2", "reviewer", "Demo Administrative Reviewer"),
    ("liaison", "family_liaison", "Demo Family Liaison"))

Progress = Callable[[str, int, int], None]


@dataclass
class DemoResult:
    database: str
    folder: str
    scenario: ScenarioSummary
    run: RunResult
    calibration: Calibration
    users: dict[str, tuple[str, str]]  # username -> (role, password)
    report: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the run."""
        post = sorted((p.posterior for p in self.run.proposals), reverse=True)
        bands = {"posterior >= 0.9999": sum(p >= 0.9999 for p in post),
                 "0.999 <= posterior < 0.9999": sum(0.999 <= p < 0.9999 for p in post),
                 f"{self.run.threshold:g} <= posterior < 0.999": sum(self.run.threshold <= p < 0.999 for p in post)}
        return {
            "database": self.database, "folder": self.folder,
            "missing_persons": self.scenario.counts["missing"],
            "families_with_donors": self.scenario.counts["families_with_donors"],
            "samples": self.scenario.counts["samples"],
            "individuals": len(self.run.individuals),
            "proposed_identifications": len(self.run.proposals),
            "posterior_bands": bands,
            "threshold": self.run.threshold,
            "calibration": {"true": self.calibration.true_at_threshold,
                            "false": self.calibration.false_at_threshold,
                            "outcomes": self.calibration.unidentified},
            "method": self.run.method,
            "report": self.report,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for _, name in IMPORT_ORDER:
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def run_demo(folder: str | Path, database: str, *, params: ScenarioParams | None = None,
             threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None,
             passwords: dict[str, str] | None = None) -> DemoResult:
    """Build, import, identify, propose and calibrate (see the module docstring).

    ``database`` is a SQLAlchemy URL of an empty (or absent) database; ``folder`` receives the
    scenario files, ``truth.csv`` and the calibration report (``report/``).
    """
    def tick(what: str, done: int, total: int) -> None:
        if progress is not None:
            progress(what, done, total)

    root = Path(folder)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    tick("simulate scenario", 0, 1)
    scenario = simulate_scenario(root, params)
    tick("simulate scenario", 1, 1)
    timings["simulate"] = time.perf_counter() - t0

    t = time.perf_counter()
    engine = make_engine(database)
    upgrade(engine)
    for i, (kind, name) in enumerate(IMPORT_ORDER):
        tick(f"import {kind}", i, len(IMPORT_ORDER))
        import_file(engine, kind, root / name, actor="demo@cli")
    tick("import", len(IMPORT_ORDER), len(IMPORT_ORDER))
    users: dict[str, tuple[str, str]] = {}
    with session_scope(engine, actor="demo@cli") as s:
        for username, role, full in DEMO_USERS:
            pw = (passwords or {}).get(username) or secrets.token_urlsafe(9)
            add_user(s, username, pw, Role(role), full_name=full)
            users[username] = (role, pw)
    timings["import"] = time.perf_counter() - t

    t = time.perf_counter()
    tick("sort commingled remains", 0, 1)
    sorted_into = _sort_turnover(engine, root)
    tick("sort commingled remains", 1, 1)
    timings["sort"] = time.perf_counter() - t

    t = time.perf_counter()
    run = identify_scenario(root, threshold=threshold, progress=progress,
                            element_individuals=sorted_into)
    timings["identify"] = time.perf_counter() - t

    t = time.perf_counter()
    _store(engine, root, run)
    timings["store"] = time.perf_counter() - t

    t = time.perf_counter()
    cal = calibrate(root, run)
    from dogtag.report.calibration import write_report

    report = write_report(cal, root / "report")
    timings["calibrate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    engine.dispose()
    return DemoResult(database, str(root), scenario, run, cal, users, report, timings)


def _sort_turnover(engine: Any, root: Path) -> dict[str, str]:
    """Sort the turnover's boxes into individuals (osteometrics and DNA): proposed by the demo
    analyst, applied by the demo reviewer; returns element key -> individual key."""
    from dogtag.registry.commingling import propose_sorting, review_sorting
    from dogtag.registry.recovery import Accession, Element, FieldOperation

    with session_scope(engine, actor="analyst") as s:
        boxes = list(s.scalars(select(Accession.key).join(FieldOperation)
                               .where(FieldOperation.key == "OP-K55")))
        if not boxes:
            return {}
        sid = propose_sorting(s, "analyst", accessions=boxes,
                              reference=str(root / "osteometric_reference.csv.gz")).id
    with session_scope(engine, actor="reviewer") as s:
        review_sorting(s, sid, "reviewer", apply=True,
                       note="demo: applied without inspection; conflicts stay listed for review")
    with session_scope(engine, actor="analyst") as s:
        return {e: i for e, i in s.execute(select(Element.key, Individual.key).join(Individual)
                                           .join(Accession).where(Accession.key.in_(boxes)))}


def _store(engine: Any, root: Path, run: RunResult) -> None:
    """One analysis run and a proposed identification per proposal, by the demo analyst."""
    with session_scope(engine, actor="analyst") as s:
        analyst = s.scalar(select(User).where(User.username == "analyst"))
        assert analyst is not None
        ar = AnalysisRun(software="dogtag", software_version=__version__, command="dogtag demo",
                         parameters={**run.settings, "method": run.method},
                         frequency_database=str(run.settings.get("frequency_database")),
                         inputs_digest=_digest(root), actor="analyst")
        s.add(ar)
        s.flush()
        sns = [p.service_number for p in run.proposals]
        persons = {m.service_number: m for m in s.scalars(select(MissingPerson).where(
            MissingPerson.service_number.in_(sns)))} if sns else {}
        keys = [k for p in run.proposals for k in p.samples]
        samples = {x.key: x for x in s.scalars(select(Sample).where(Sample.key.in_(keys)))} if keys else {}
        for p in run.proposals:
            ind = None
            if len(p.samples) > 1:
                ind = Individual(key=p.individual[:64],
                                 notes=f"samples {', '.join(p.samples)} grouped by the demo run "
                                       "(same element, anthropological grouping or same-source DNA)")
                s.add(ind)
                s.flush()
            evidence = [*p.evidence, {"kind": "joint", "posterior": p.posterior, "samples": list(p.samples)}]
            propose(s, analyst, persons[p.service_number], sample=samples[p.samples[0]], individual=ind,
                    reason=f"demo run: posterior {p.posterior:.6f}, combined log10 LR {p.log10_lr:.2f}",
                    log10_lr=p.log10_lr, lr=10 ** p.log10_lr if p.log10_lr < 300 else None,
                    posterior=p.posterior, evidence=evidence, run=ar)
        ar.finished_at = utcnow()
