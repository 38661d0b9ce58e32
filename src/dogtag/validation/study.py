"""The validation study: false identifications measured where the model is wrong.

Each **scenario** is the Korean War scenario (:mod:`dogtag.scenario.generate`) with one departure
from the identification model switched on (:data:`SCENARIOS`; ``all`` switches them all on), run
over several seeds. For each (scenario, seed) the study does what a lab would: simulate, import
into a fresh SQLite registry, sort the turnover's boxes (:func:`dogtag.demo.sort_turnover`), run
the registry pipeline (:func:`dogtag.analysis.search.search_registry`, the same as
``dogtag search``, default settings), and compares with the truth kept apart.

Figures, per scenario and threshold:

- **proposed identifications** at the default threshold (what ``dogtag search`` proposes), judged
  true when every sample of the individual is the proposed missing person;
- at each threshold of a grid, the individuals whose best pairing reaches it (true / false,
  judged as a proposal is: true when every sample of the individual is that missing person);
- the **false rate** false / proposed with its exact 95% upper bound (Clopper-Pearson, two-sided
  interval's upper end, :func:`dogtag.validation.stats.clopper_pearson`);
- **sensitivity** = true identifications / remains individuals who are on the list;
- **reliability** of the best posteriors, binned, each bin's share right with its 95% interval;
  per scenario and pooled (the baseline, the single departures together, ``all``), drawn by
  :func:`dogtag.report.validation.reliability_plot`.

The seeds are split: the threshold is **chosen** on the tuning seeds (the smallest of the grid
and the default with no false identification in any scenario there) and **reported** on the other seeds, with the
default threshold beside it.
"""

from __future__ import annotations

import csv
import secrets
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from dogtag.analysis.decide import DecisionOptions
from dogtag.analysis.search import SearchOptions, search_registry
from dogtag.scenario.calibration import THRESHOLDS, RunResult
from dogtag.scenario.generate import ScenarioParams, simulate_scenario
from dogtag.validation.stats import clopper_pearson, reliability

__all__ = ["DEFAULT_THRESHOLD", "SCENARIOS", "CaseResult", "StudySettings", "run_case", "run_study", "summarise"]

#: ``dogtag search``'s default posterior for proposing an identification.
DEFAULT_THRESHOLD = DecisionOptions().min_posterior


def _relatives(n: int) -> int:
    return max(6, n // 20)


def _pairs(n: int) -> int:
    return max(3, n // 100)


#: Scenario name -> (what departs from the model, ScenarioParams overrides; callables get n_missing).
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "baseline": ("the demo's scenario (turnover 40% not on the list, prior 50%)", {}),
    "relatives": ("half-brothers, uncles and cousins of the missing among the remains, not on the list",
                  {"n_relatives": _relatives}),
    "foreign-afam": ("foreign remains of another population (NIST 1036 African American), searched with the "
                     "registry's Caucasian database", {"unlisted_population": "AfAm", "k55_unlisted": 0.6}),
    "mixed-families": ("families from several populations (40% not Caucasian), one database",
                       {"population_mix": (0.6, 0.2, 0.15, 0.05)}),
    "nonpaternity": ("missing persons fathered by another man than the family's father (10%)",
                     {"p_nonpaternity": 0.1}),
    "wrong-donor": ("a family's first donor unrelated to the missing person (5%)", {"p_wrong_donor": 0.05}),
    "swapped-reference": ("a family's first donor's samples swapped with another family's (5%)",
                          {"p_swapped_reference": 0.05}),
    "typing": ("STR mutation 0.01 per allele, drop-out up to 0.6 (reported at most 0.3), drop-in 0.05",
               {"str_mutation_rate": 0.01, "dropout_max": 0.6, "dropin": 0.05}),
    "contamination": ("10% of samples carry a lab worker's DNA", {"p_contaminated": 0.1}),
    "far": ("half the field recoveries also hold someone lost at another incident", {"p_far": 0.5}),
    "merged-labels": ("two people of one casket or site given one individual label", {"p_merged_labels": 1.0}),
    "brothers": ("full brothers missing together (one incident), both on the list and both among the remains",
                 {"n_brothers": _pairs}),
    "father-son": ("a father and his son missing together (one incident), both on the list and among the remains",
                   {"n_father_son": _pairs}),
}


def scenario_params(name: str, seed: int, n_missing: int) -> ScenarioParams:
    """The parameters of scenario ``name`` (or ``all``: every departure together)."""
    names = [n for n in SCENARIOS if n != "baseline"] if name == "all" else [name]
    over: dict[str, Any] = {}
    for n in names:
        if n not in SCENARIOS:
            raise ValueError(f"unknown scenario {n!r}; expected one of {[*SCENARIOS, 'all']}")
        over.update({k: v(n_missing) if callable(v) else v for k, v in SCENARIOS[n][1].items()})
    return replace(ScenarioParams(seed=seed, n_missing=n_missing), **over)


@dataclass
class CaseResult:
    """One (scenario, seed): what was proposed and how it compares with the truth."""

    scenario: str
    seed: int
    proposed_true: int
    proposed_false: int
    on_list: int                      # remains individuals (truth) who are on the list
    individuals: int                  # remains individuals (truth)
    points: list[tuple[float, bool]]  # best posterior of each run individual, right?
    false_proposals: list[dict[str, Any]] = field(default_factory=list)
    unconverged: int = 0
    conflicts: int = 0                # individuals held for review (grouping conflicts): never proposed
    conflicts_mixed: int = 0          # of them, those whose samples are of two or more people (truth)
    error: str | None = None          # the case could not be run (reported, never counted as a result)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run_case(scenario: str, seed: int, n_missing: int, folder: str | Path) -> CaseResult:
    """Simulate, import into a fresh SQLite registry, sort, search, compare (module docstring)."""
    from dogtag.demo import IMPORT_ORDER, lineage_databases, sort_turnover
    from dogtag.registry.engine import make_engine, session_scope, upgrade
    from dogtag.registry.imports import import_file
    from dogtag.registry.users import Role, add_user

    root = Path(folder)
    simulate_scenario(root, scenario_params(scenario, seed, n_missing))
    engine = make_engine(f"sqlite:///{root / 'registry.sqlite'}")
    try:
        upgrade(engine)
        for kind, name in IMPORT_ORDER:
            import_file(engine, kind, root / name, actor="validate@cli")
        with session_scope(engine, actor="validate@cli") as s:
            add_user(s, "analyst", secrets.token_urlsafe(15), Role.ANALYST)
            add_user(s, "reviewer", secrets.token_urlsafe(15), Role.REVIEWER)
        sort_turnover(engine, root)
        mt_db, y_db = lineage_databases(root)
        report = search_registry(engine, actor="analyst", command="dogtag validate",
                                 options=SearchOptions(mtdna_database=mt_db, ystr_database=y_db))
    finally:
        engine.dispose()
    run = RunResult.from_report(report)
    truth = {r["sample"]: r for r in _read(root / "truth.csv")}

    def is_right(samples: Sequence[str], sn: str) -> bool:
        return {truth[s]["service_number"] for s in samples} == {sn}

    # every run individual's best pairing, judged as a proposal is (every sample that person);
    # individuals never proposed whatever the threshold (an unconverged component, a grouping
    # conflict held for review) are left out and counted apart
    held = {u["individual"] for u in report.individuals if u.get("conflicts")}
    points = [(float(p), is_right(run.individuals[u], sn)) for u, (sn, p, _l) in run.best.items()
              if sn is not None and u not in run.unconverged and u not in held]
    right = 0
    wrong: list[dict[str, Any]] = []
    for p in run.proposals:
        if is_right(p.samples, p.service_number):
            right += 1
        else:
            wrong.append({"individual": p.individual, "missing_person": p.service_number,
                          "posterior": p.posterior, "log10_lr": p.log10_lr,
                          "truth": sorted({truth[s]["service_number"] or "not on the list" for s in p.samples}),
                          "notes": sorted({truth[s]["note"] for s in p.samples if truth[s]["note"]})})
    people = {r["individual"]: r["service_number"] for r in truth.values()}
    return CaseResult(scenario, seed, right, len(wrong), sum(1 for sn in people.values() if sn), len(people),
                      points, wrong, len(run.unconverged), len(held),
                      sum(len({truth[s]["individual"] for s in run.individuals[u]}) > 1 for u in held))


@dataclass
class StudySettings:
    """The study's size: scenarios, tuning and reporting seeds, missing persons per scenario."""

    scenarios: Sequence[str] = (*SCENARIOS, "all")
    tune_seeds: Sequence[int] = (1,)
    report_seeds: Sequence[int] = (2, 3, 4)
    n_missing: int = 800
    workers: int = 2
    thresholds: Sequence[float] = (*THRESHOLDS, 0.9999)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _case(args: tuple[str, int, int, str]) -> CaseResult:
    """One case; a failure is reported as such (the study goes on, the case counts nothing)."""
    scenario, seed, n, base = args
    try:
        return run_case(scenario, seed, n, Path(base) / f"{scenario}-seed{seed}")
    except Exception as exc:  # any failure of one case is reported, not hidden
        return CaseResult(scenario, seed, 0, 0, 0, 0, [], error=f"{type(exc).__name__}: {exc}")


def _at(cases: Sequence[CaseResult], t: float) -> tuple[int, int]:
    pts = [ok for c in cases for p, ok in c.points if p >= t]
    return sum(pts), len(pts) - sum(pts)


def summarise(cases: Sequence[CaseResult], thresholds: Sequence[float], chosen: float) -> dict[str, Any]:
    """Figures of the cases of one scenario (see the module docstring)."""
    failed = [{"seed": c.seed, "error": c.error} for c in cases if c.error]
    cases = [c for c in cases if not c.error]
    true, false = sum(c.proposed_true for c in cases), sum(c.proposed_false for c in cases)
    on_list = sum(c.on_list for c in cases)
    rows = []
    for t in sorted({*thresholds, chosen, DEFAULT_THRESHOLD}):
        tt, ff = _at(cases, t)
        rows.append({"threshold": t, "true": tt, "false": ff, "false_rate_upper_95": round(
            clopper_pearson(ff, tt + ff)[1], 4), "sensitivity": round(tt / on_list, 4) if on_list else None})
    return {"seeds": [c.seed for c in cases], "remains_individuals": sum(c.individuals for c in cases),
            "on_list": on_list, "true": true, "false": false,
            "false_rate_upper_95": round(clopper_pearson(false, true + false)[1], 4),
            "sensitivity": round(true / on_list, 4) if on_list else None,
            "thresholds": rows, "reliability": reliability([pt for c in cases for pt in c.points]),
            "false_proposals": [{"seed": c.seed, **w} for c in cases for w in c.false_proposals],
            "unconverged": sum(c.unconverged for c in cases), "conflicts": sum(c.conflicts for c in cases),
            "conflicts_mixed": sum(c.conflicts_mixed for c in cases), "failed": failed}


def run_study(settings: StudySettings | None = None, *, folder: str | Path | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Run every (scenario, seed) of ``settings`` and return the study's figures (JSON-ready)."""
    st = settings or StudySettings()
    for name in st.scenarios:
        if name != "all":
            scenario_params(name, 1, st.n_missing)  # an unknown name fails before any work
    if set(st.tune_seeds) & set(st.report_seeds):
        raise ValueError("the tuning and reporting seeds must differ")
    base = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="dogtag-validate-"))
    jobs = [(s, seed, st.n_missing, str(base)) for s in st.scenarios for seed in (*st.tune_seeds, *st.report_seeds)]
    results: list[CaseResult] = []
    if progress:
        progress(0, len(jobs), "")
    if st.workers > 1:
        with ProcessPoolExecutor(st.workers) as pool:
            for r in pool.map(_case, jobs):
                results.append(r)
                if progress:
                    progress(len(results), len(jobs), f"{r.scenario} seed {r.seed}")
    else:
        for job in jobs:
            results.append(_case(job))
            if progress:
                progress(len(results), len(jobs), f"{job[0]} seed {job[1]}")
    tune = [r for r in results if r.seed in st.tune_seeds and not r.error]
    grid = sorted({*st.thresholds, DEFAULT_THRESHOLD})
    ok = [t for t in grid if all(_at([r for r in tune if r.scenario == s], t)[1] == 0
                                                   for s in st.scenarios)]
    chosen = ok[0] if ok else grid[-1]
    scen: dict[str, Any] = {}
    for s in st.scenarios:
        rep = [r for r in results if r.scenario == s and r.seed in st.report_seeds]
        scen[s] = {"departure": SCENARIOS[s][0] if s in SCENARIOS else "every departure above together",
                   **summarise(rep, st.thresholds, chosen)}
    groups = {"baseline": ["baseline"], "one departure at a time": [s for s in st.scenarios if s in SCENARIOS
                                                                     and s != "baseline"], "all together": ["all"]}
    pooled = {g: reliability([pt for r in results if r.scenario in names and r.seed in st.report_seeds
                              and not r.error for pt in r.points])
              for g, names in groups.items() if set(names) & set(st.scenarios)}
    return {"settings": st.to_dict(), "default_threshold": DEFAULT_THRESHOLD,
            "chosen_threshold": chosen, "chosen_on": "tune_seeds", "reported_on": "report_seeds",
            "chosen_threshold_has_no_false_on_tuning": bool(ok),
            "tuning": {s: [{"threshold": t, "false": _at([r for r in tune if r.scenario == s], t)[1]}
                           for t in grid] for s in st.scenarios},
            "scenarios": scen, "reliability_pooled": pooled, "folder": str(base)}
