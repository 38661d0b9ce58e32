"""Calibration of an identification run against the scenario's truth.

- **Proposals**: the run's proposed identifications (posterior, minimum LR, no conflict), true
  (the right missing person) or false.
- **Thresholds**: at each posterior threshold, the individuals whose best pairing reaches it
  (whatever its LR), split into true and false.
- **Reliability**: best-pairing posteriors in bins against the share that is right; a
  calibrated posterior lies on the diagonal (DeGroot & Fienberg 1983, *The Statistician* 32:12).
- **Unidentified remains, and why**: not on the list (non-US remains), no DNA result, no family
  reference of a kind the remains were typed for, or too little power (a reference of the right
  kind exists, the posterior stays under the threshold).
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dogtag.analysis.search import SearchReport

__all__ = ["THRESHOLDS", "Calibration", "Proposal", "RunResult", "calibrate"]

THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


@dataclass
class Proposal:
    """A proposed identification of an individual (a group of samples)."""

    individual: str
    samples: tuple[str, ...]
    service_number: str
    family: str
    posterior: float
    log10_lr: float
    evidence: list[dict[str, Any]]


@dataclass
class RunResult:
    """What calibration needs of an identification run: individuals, best pairings, proposals."""

    individuals: dict[str, tuple[str, ...]]
    best: dict[str, tuple[str | None, float, float]]  # individual -> (service number or None, posterior, log10 LR)
    proposals: list[Proposal]
    threshold: float
    evidence_kinds: dict[str, list[str]]  # individual -> kinds typed
    candidates: dict[str, int]  # individual -> number of candidate missing persons
    unconverged: set[str] = field(default_factory=set)  # individuals in a sampled, unconverged component
    method: str = ""

    @classmethod
    def from_report(cls, report: SearchReport) -> RunResult:
        """The run of ``dogtag search`` (:func:`dogtag.analysis.search.search_registry`)."""
        best: dict[str, tuple[str | None, float, float]] = {}
        for u in report.individuals:
            c = u["candidates"][0] if u["candidates"] else None
            best[u["individual"]] = (None, u["posterior_none"], 0.0) if c is None else (
                c["missing_person"], c["posterior"], c["log10_lr"])
        return cls({u["individual"]: tuple(u["samples"]) for u in report.individuals}, best,
                   [Proposal(p["individual"], tuple(p["samples"]), p["missing_person"], p["family"], p["posterior"],
                             p["log10_lr"], p["lines"]) for p in report.proposals],
                   float(report.settings["decision"]["min_posterior"]),
                   {u["individual"]: u["typed"] for u in report.individuals},
                   {u["individual"]: len(u["candidates"]) for u in report.individuals},
                   {u["individual"] for u in report.individuals
                    if any("did not converge" in r for r in u["reasons"])},
                   ", ".join(sorted({u["method"] for u in report.individuals if u["method"]})))
_BINS = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0])


@dataclass
class Calibration:
    """The calibration report's numbers (JSON-ready through :meth:`to_dict`)."""

    threshold: float
    thresholds: list[dict[str, Any]]
    reliability: list[dict[str, Any]]
    unidentified: dict[str, int]
    remains: dict[str, int]
    false_at_threshold: int
    true_at_threshold: int
    mixed_individuals: int
    points: list[tuple[float, bool]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "true_at_threshold": self.true_at_threshold,
                "false_at_threshold": self.false_at_threshold, "thresholds": self.thresholds,
                "reliability": self.reliability, "unidentified": self.unidentified, "remains": self.remains,
                "mixed_individuals": self.mixed_individuals}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def calibrate(folder: str | Path, run: RunResult) -> Calibration:
    """Compare ``run`` (on the scenario ``folder``) with the scenario's ``truth.csv``."""
    root = Path(folder)
    truth = {r["sample"]: r for r in _read(root / "truth.csv")}
    # what each family can be compared on: kinds typed in donors
    fam_kinds: dict[str, set[str]] = {}
    for kind, name in (("autosomal", "genotypes.csv"), ("mtdna", "mito.csv"), ("ystr", "ystr.csv")):
        for r in _read(root / name):
            if r["family"]:
                fam_kinds.setdefault(r["family"], set()).add(kind)

    # each run individual's true identity: the majority of its samples' truth
    unit_truth: dict[str, str] = {}
    mixed = 0
    for u, sids in run.individuals.items():
        c = Counter(truth[s]["service_number"] for s in sids)
        unit_truth[u] = c.most_common(1)[0][0]
        mixed += len({truth[s]["individual"] for s in sids}) > 1

    # individuals of an unconverged (sampled) component are never proposed: they are left out of
    # the threshold table and the reliability bins, and counted apart below
    points = [(p, sn == unit_truth[u]) for u, (sn, p, _l) in run.best.items()
              if sn is not None and u not in run.unconverged]
    rows: list[dict[str, Any]] = []
    for t in sorted({*THRESHOLDS, run.threshold}):
        hits = [ok for p, ok in points if p >= t]
        rows.append({"threshold": t, "proposed": len(hits), "true": sum(hits), "false": len(hits) - sum(hits)})
    rel = []
    ps = np.array([p for p, _ in points])
    oks = np.array([ok for _, ok in points], dtype=bool)
    for lo, hi in itertools.pairwise(_BINS.tolist()):
        sel = (ps >= lo) & ((ps < hi) if hi < 1.0 else (ps <= hi))
        n = int(sel.sum())
        rel.append({"bin": [float(lo), float(hi)], "n": n,
                    "mean_posterior": float(ps[sel].mean()) if n else None,
                    "fraction_true": float(oks[sel].mean()) if n else None})
    # at the default threshold: the proposals themselves (they also need the minimum LR, no conflict)
    n_right = sum(p.service_number == unit_truth.get(p.individual) for p in run.proposals)

    # remains individuals (truth), identified or not, and why
    by_ind: dict[str, list[str]] = {}
    for sid, r in truth.items():
        by_ind.setdefault(r["individual"], []).append(sid)
    unit_of = {s: u for u, sids in run.individuals.items() for s in sids}
    proposed = {p.individual: p.service_number for p in run.proposals}
    reasons: Counter[str] = Counter()
    for _ind, members in by_ind.items():
        sids = tuple(members)
        sn, fam = truth[sids[0]]["service_number"], truth[sids[0]]["family"]
        units = {unit_of[s] for s in sids if s in unit_of}   # samples without any profile are in no unit
        if any(proposed.get(u) == sn and sn for u in units):
            reasons["identified"] += 1
            continue
        if any(proposed.get(u) for u in units):
            reasons["falsely identified"] += 1
            continue
        if not sn:
            reasons["not on the list (correctly left unidentified)"] += 1
            continue
        kinds = {k for u in units for k in run.evidence_kinds.get(u, [])}
        if units & run.unconverged:
            reasons["joint identification not converged"] += 1
        elif not kinds:
            reasons["no DNA result"] += 1
        elif not (kinds & fam_kinds.get(fam, set())):
            reasons["no family reference of a kind typed" if fam in fam_kinds else "no family reference"] += 1
        else:
            reasons["too little power"] += 1
    return Calibration(run.threshold, rows, rel, dict(reasons),
                       {"samples": len(truth), "individuals": len(by_ind), "run_individuals": len(run.individuals)},
                       len(run.proposals) - n_right, n_right, mixed, points)
