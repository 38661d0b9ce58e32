"""The demo use case: scenario -> registry -> identification -> proposals -> calibration.

:func:`run_demo` simulates the Korean War scenario (:mod:`dogtag.scenario.generate`), imports it
into a fresh registry, creates one demo account per role, sorts the turnover's commingled boxes
into individuals (:mod:`dogtag.registry.commingling`, applied in the registry), runs the library's identification
pipeline on the registry as the demo analyst (:func:`dogtag.analysis.search.search_registry`, the
same as ``dogtag search``: individuals, evidence, open-world priors, joint identification, proposed
identifications with their analysis run), and writes the calibration report against the truth.
The lab's lineage databases are the scenario's population haplotypes, written beside the import
files (``mtdna_database.csv``, ``ystr_database.csv``). The CLI (``dogtag demo``) adds progress bars
and serves the workbench.
"""

from __future__ import annotations

import csv
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dogtag.analysis.decide import DecisionOptions
from dogtag.analysis.search import SearchOptions, SearchReport, search_registry
from dogtag.registry.engine import make_engine, session_scope, upgrade
from dogtag.registry.imports import import_file
from dogtag.registry.recovery import Individual
from dogtag.registry.users import Role, add_user
from dogtag.scenario import genetics as sg
from dogtag.scenario.calibration import Calibration, RunResult, calibrate
from dogtag.scenario.generate import ScenarioParams, ScenarioSummary, simulate_scenario

#: Posterior at or above which an identification is proposed (``dogtag search``'s default).
DEFAULT_THRESHOLD = DecisionOptions().min_posterior

__all__ = ["DEMO_USERS", "IMPORT_ORDER", "DemoResult", "lineage_databases", "run_demo", "sort_turnover"]

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
    search: SearchReport | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the run."""
        post = sorted((p.posterior for p in self.run.proposals), reverse=True)
        edges = sorted({self.run.threshold, *(e for e in (0.999, 0.9999) if e > self.run.threshold)}, reverse=True)
        bands = {f"posterior >= {hi:g}" if lo is None else f"{hi:g} <= posterior < {lo:g}":
                 sum(hi <= p and (lo is None or p < lo) for p in post)
                 for hi, lo in zip(edges, (None, *edges[:-1]), strict=True)}
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
            "not_proposed": self.search.not_proposed if self.search is not None else {},
            "settings": self.search.settings if self.search is not None else {},
            "report": self.report,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def lineage_databases(folder: Path) -> tuple[str, str]:
    """The scenario's population haplotypes as the lab's mtDNA and Y-STR databases (CSV files)."""
    mt_path, y_path = folder / "mtdna_database.csv", folder / "ystr_database.csv"
    with mt_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "range", "variants"])
        for i, tokens in enumerate(t for ts in sg.load_mt_haplotypes().values() for t in ts):
            w.writerow([f"db{i}", sg.CONTROL_REGION, " ".join(tokens)])
    loci, y = sg.load_y_haplotypes()
    with y_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *loci])
        w.writerows([f"db{i}", *r] for i, r in enumerate(r for rs in y.values() for r in rs))
    return str(mt_path), str(y_path)


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
            pw = (passwords or {}).get(username) or secrets.token_urlsafe(15)
            add_user(s, username, pw, Role(role), full_name=full)
            users[username] = (role, pw)
    timings["import"] = time.perf_counter() - t

    t = time.perf_counter()
    tick("sort commingled remains", 0, 1)
    sort_turnover(engine, root)
    tick("sort commingled remains", 1, 1)
    timings["sort"] = time.perf_counter() - t

    t = time.perf_counter()
    mt_db, y_db = lineage_databases(root)
    options = SearchOptions(decision=DecisionOptions(min_posterior=threshold), mtdna_database=mt_db,
                            ystr_database=y_db)
    report = search_registry(engine, actor="analyst", options=options, command="dogtag demo",
                             progress=lambda done, total, what: tick(f"search ({what})", done, total))
    run = RunResult.from_report(report)
    timings["identify"] = time.perf_counter() - t

    t = time.perf_counter()
    cal = calibrate(root, run)
    from dogtag.report.calibration import write_report

    files = write_report(cal, root / "report")
    timings["calibrate"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    engine.dispose()
    return DemoResult(database, str(root), scenario, run, cal, users, files, report, timings)


def sort_turnover(engine: Any, root: Path) -> dict[str, str]:
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
