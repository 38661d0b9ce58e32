"""The identification run on a scenario folder (the registry's import files).

Steps, each a documented method of :mod:`dogtag.identify` / :mod:`dogtag.genetics`:

1. **Individuals**: samples of one element, elements the anthropologist assigned to one
   individual, and samples whose autosomal profiles match (identity LR >= 10^4 on at least 6
   loci, :func:`dogtag.identify.samesource.group_same_source`) are one individual (union-find).
   Each individual is represented by its most complete profile of each kind.
2. **Evidence per (individual, missing person)**: the autosomal LR from the blind search
   (:func:`dogtag.identify.search.blind_search`, drop-out model of :mod:`dogtag.genetics.dropout`,
   over the families with autosomal donors), the mtDNA LR of the nearest maternal-line donor
   (:func:`dogtag.genetics.mtdna_compare.lr_matrix`) and the Y-STR LR of the nearest
   paternal-line donor (:func:`dogtag.genetics.ystr.lr_matrix`); lines of evidence multiply
   (they are independent given the pairing).
3. **Candidates**: pairs with a combined LR above ``limit`` (10; dvir's ``jointDVI(limit=)``,
   Vigeland & Egeland 2021) whose prior-weighted odds against "nobody on the list" exceed
   ``min_odds`` (0.01); the others are not candidates. A dropped pair would have taken at most
   1 % of the weight of "nobody" in its sample's posterior; keeping them all joins thousands of
   chance pairs into one component too big to solve exactly.
4. **Prior from the context** (DESIGN: non-DNA evidence enters as priors): remains recovered by
   an operation linked to loss incidents are a priori one of those incidents' missing persons
   with probability ``p_context``, someone else on the list with ``p_elsewhere``, nobody on the
   list with the rest (``star``, by kind of operation: turnovers hold non-US remains).
5. **Joint identification** on components (:func:`dogtag.identify.joint.solve_joint`): posterior
   pairing probabilities. An identification is proposed when an individual's best pairing has
   posterior >= ``threshold`` and its component was solved exactly or sampled to convergence.
"""

from __future__ import annotations

import csv
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics import mtdna, ystr
from dogtag.genetics import mtdna_compare as mtc
from dogtag.genetics.freqdb import load_database
from dogtag.genetics.lineage import MATERNAL, PATERNAL, nearest_typed
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.identify.joint import JointProblem, Prior, solve_joint
from dogtag.identify.mcmc import MCMCSettings
from dogtag.identify.samesource import group_same_source
from dogtag.identify.search import blind_search
from dogtag.scenario import genetics as sg

__all__ = ["DEFAULT_THRESHOLD", "Proposal", "RunResult", "identify_scenario"]

#: Posterior at or above which an identification is proposed (shown free of false
#: identifications on the seeded scenarios in the tests and the calibration report).
DEFAULT_THRESHOLD = 0.99
#: Prior share of remains from an operation that are not on the list, by kind of operation.
STAR_BY_KIND = {"turnover": 0.3, "disinterment": 0.05, "recovery": 0.1}

#: Sampler settings for a component too big for the exact methods: longer chains than the
#: default, so that R-hat < 1.05 is reached on the demo's scenarios.
MCMC = MCMCSettings(chains=4, iterations=6_000, burn_in=2_000, thin=4)

Progress = Callable[[str, int, int], None]


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
    """The run: individuals, every individual's best pairing, proposals, timings."""

    individuals: dict[str, tuple[str, ...]]
    best: dict[str, tuple[str | None, float, float]]  # individual -> (service number or None, posterior, log10 LR)
    proposals: list[Proposal]
    threshold: float
    evidence_kinds: dict[str, list[str]]  # individual -> kinds typed
    candidates: dict[str, int]  # individual -> number of candidate missing persons
    unconverged: set[str] = field(default_factory=set)  # individuals in a sampled, unconverged component
    timings: dict[str, float] = field(default_factory=dict)
    method: str = ""
    settings: dict[str, Any] = field(default_factory=dict)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class _UnionFind:
    def __init__(self, items: list[str]):
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def identify_scenario(folder: str | Path, *, threshold: float = DEFAULT_THRESHOLD, limit: float = 10.0, min_odds: float = 1e-2,
                      p_context: float = 0.8, p_elsewhere: float = 0.1, same_source_lr: float = 1e4,
                      max_assign: int = 100_000, seed: int = 1, progress: Progress | None = None,
                      element_individuals: dict[str, str] | None = None) -> RunResult:
    """Run the identification pipeline on a scenario folder (see the module docstring).

    Parameters
    ----------
    folder : the files written by :func:`dogtag.scenario.generate.simulate_scenario` (truth unused).
    threshold : posterior at or above which an identification is proposed.
    limit : pairs with combined LR <= ``limit`` are not candidates. Such pairs would add at most
        ``limit`` x their prior weight each to the normaliser of a posterior; keeping them joins
        the weak pairs of thousands of samples and families into one component too big to solve
        exactly.
    min_odds : pairs whose prior-weighted odds against "nobody on the list", LR x w / w_star, are
        at most ``min_odds`` are not candidates either: each would move a posterior by at most
        that much.
    element_individuals : element key -> individual, from a sorting of commingled remains
        (:mod:`dogtag.registry.commingling`); it takes the place of the file's individual label.
    p_context, p_elsewhere : prior probabilities (before the one-to-one constraint) that remains
        are one of the missing of the operation's incidents, or another missing person.
    """
    def tick(what: str, done: int, total: int) -> None:
        if progress is not None:
            progress(what, done, total)

    def add_evidence(kind: str, units: list[str], cols: list[int], block: NDArray[np.float64]) -> None:
        """Add one kind of evidence (log LR, units x columns) to the combined matrix."""
        ri = np.array([unit_pos[u] for u in units])
        ci = np.array(cols)
        full = np.zeros((U, M))
        full[np.ix_(ri, ci)] = block
        log_lr[np.ix_(ri, ci)] += block
        n_lines[np.ix_(ri, ci)] += 1
        per_kind[kind] = full

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    root = Path(folder)
    ped = _read(root / "pedigrees.csv")
    geno = _read(root / "genotypes.csv")
    mito = _read(root / "mito.csv")
    yrows = _read(root / "ystr.csv")
    elements = {r["key"]: r for r in _read(root / "elements.csv")}
    samples_reg = _read(root / "samples.csv")
    accessions = {r["key"]: r for r in _read(root / "accessions.csv")}
    operations = {r["key"]: r for r in _read(root / "operations.csv")}
    missing = {r["SERVICE_NUMBER"]: r for r in _read(root / "missing.csv")}

    # --- families -----------------------------------------------------------------------------
    fam_rows: dict[str, list[dict[str, str]]] = {}
    pm_ids: list[str] = []
    for r in ped:
        if r["role"] == "pm":
            pm_ids.append(r["id"])
        else:
            fam_rows.setdefault(r["family"], []).append(r)
    fam_mp: dict[str, tuple[str, str]] = {}  # family -> (missing member, service number)
    pedigrees: dict[str, Pedigree] = {}
    for fam, rows in fam_rows.items():
        mp = next(r for r in rows if r["missing"].lower() in ("true", "1"))
        fam_mp[fam] = (mp["id"], mp["service_number"])
        pedigrees[fam] = Pedigree.from_table([r["id"] for r in rows],
                                             [None if r["father"] in ("", "0") else r["father"] for r in rows],
                                             [None if r["mother"] in ("", "0") else r["mother"] for r in rows],
                                             [int(r["sex"]) for r in rows])
    families = sorted(fam_mp)

    # --- profiles -----------------------------------------------------------------------------
    auto: dict[tuple[str, str], dict[str, tuple[str | None, str | None]]] = {}
    quality: dict[str, float] = {}
    for r in geno:
        owner = (r["family"], r["id"])
        auto.setdefault(owner, {})[r["marker"]] = (r["allele1"] or None, r["allele2"] or None)
        if not r["family"] and r.get("quality"):
            quality[r["id"]] = float(r["quality"])
    mt_by: dict[tuple[str, str], tuple[str, str]] = {(r["family"], r["id"]): (r["range"], r["variants"]) for r in mito}
    y_by: dict[tuple[str, str], dict[str, str]] = {}
    for r in yrows:
        y_by.setdefault((r["family"], r["id"]), {})[r["marker"]] = r["alleles"]
    timings["read"] = time.perf_counter() - t0

    # --- 1. individuals -----------------------------------------------------------------------
    t = time.perf_counter()
    uf = _UnionFind(pm_ids)
    sample_el = {r["key"]: r["element"] for r in samples_reg}
    sample_acc = {r["key"]: r["accession"] for r in samples_reg}
    by_group: dict[str, str] = {}
    for sid in pm_ids:
        el = elements.get(sample_el.get(sid, ""))
        label = el and ((element_individuals or {}).get(el["key"]) or el["individual"])
        for key in (f"el:{sample_el.get(sid)}", f"ind:{label}" if label else None):
            if key is None or key == "el:None":
                continue
            if key in by_group:
                uf.union(sid, by_group[key])
            else:
                by_group[key] = sid
    marker_names = list(sg.STR_MARKERS)
    observed: dict[str, set[str]] = {}
    for g in auto.values():
        for m, (a, b) in g.items():
            observed.setdefault(m, set()).update(x for x in (a, b) if x)
    with warnings.catch_warnings():  # rare alleles of other populations get the missing-allele rule
        warnings.simplefilter("ignore", UserWarning)
        markers = load_database("nist1036-Cauc").markers(marker_names,
                                                         observed={k: sorted(v) for k, v in observed.items()})
    auto_samples = [Sample(sid, 0, auto[("", sid)], dropout=quality.get(sid, 0.0)) for sid in pm_ids
                    if ("", sid) in auto]
    for grp in group_same_source(auto_samples, markers, threshold=same_source_lr, min_markers=6):
        for other in grp.samples[1:]:
            uf.union(grp.samples[0], other)
    members: dict[str, list[str]] = {}
    for sid in pm_ids:
        members.setdefault(uf.find(sid), []).append(sid)
    units = sorted(members)
    individuals = {f"I-{u}": tuple(members[u]) for u in units}
    unit_ids = list(individuals)
    unit_pos = {u: k for k, u in enumerate(unit_ids)}
    timings["individuals"] = time.perf_counter() - t
    tick("individuals", 1, 1)

    def best_of(sids: tuple[str, ...], table: dict[tuple[str, str], Any]) -> str | None:
        have = [s for s in sids if ("", s) in table]
        return max(have, key=lambda s: len(table[("", s)])) if have else None

    rep_auto = {u: best_of(individuals[u], auto) for u in unit_ids}
    rep_mt = {u: best_of(individuals[u], mt_by) for u in unit_ids}
    rep_y = {u: best_of(individuals[u], y_by) for u in unit_ids}
    kinds = {u: [k for k, rep in (("autosomal", rep_auto[u]), ("mtdna", rep_mt[u]), ("ystr", rep_y[u]))
                 if rep is not None] for u in unit_ids}

    U, M = len(unit_ids), len(families)
    col = {f: j for j, f in enumerate(families)}
    log_lr = np.zeros((U, M))
    n_lines = np.zeros((U, M), dtype=np.int8)
    per_kind: dict[str, NDArray[np.float64]] = {}

    # --- 2a. autosomal blind search -------------------------------------------------------------
    t = time.perf_counter()
    am = []
    fam_auto: dict[str, dict[str, dict[str, tuple[str | None, str | None]]]] = {}
    for (f, m), g in auto.items():
        if f:
            fam_auto.setdefault(f, {})[m] = g
    for fam in families:
        if fam in fam_auto:
            am.append(Family(fam, pedigrees[fam], (fam_mp[fam][0],), fam_auto[fam]))
    pm = [Sample(u, 0, auto[("", rep)], dropout=quality.get(rep, 0.0))
          for u in unit_ids if (rep := rep_auto[u]) is not None]
    if am and pm:
        res = blind_search(DVICase(markers, pm, am, "scenario"), refine=0,
                           progress=lambda d, n, w: tick("autosomal search", d, n))
        assert res.log_lr is not None
        add_evidence("autosomal", [s.id for s in pm], [col[f.name] for f in am],
                     np.nan_to_num(res.log_lr, nan=-np.inf))
    timings["autosomal"] = time.perf_counter() - t

    # --- 2b. mtDNA -------------------------------------------------------------------------------
    t = time.perf_counter()
    refs, ref_cols = [], []
    fam_mt: dict[str, list[str]] = {}
    for (f, m) in mt_by:
        if f:
            fam_mt.setdefault(f, []).append(m)
    for fam, donors in fam_mt.items():
        d = nearest_typed(pedigrees[fam], fam_mp[fam][0], donors, MATERNAL)
        if d is not None:
            rng_txt, var = mt_by[(fam, d.id)]
            refs.append(mtdna.haplotype(var.split(), range=rng_txt, id=f"{fam}:{d.id}"))
            ref_cols.append(col[fam])
    mt_units = [u for u in unit_ids if rep_mt[u] is not None]
    if refs and mt_units:
        qs = []
        for u in mt_units:
            rng_txt, var = mt_by[("", str(rep_mt[u]))]
            qs.append(mtdna.haplotype(var.split(), range=rng_txt, id=u))
        db_haps = [mtdna.haplotype(v, range=sg.CONTROL_REGION, id=f"db{i}")
                   for i, v in enumerate(t for ts in sg.load_mt_haplotypes().values() for t in ts)]
        lr, _v = mtc.lr_matrix(mtc.MtPanel.from_haplotypes(qs), mtc.MtPanel.from_haplotypes(refs),
                               mtc.MtPanel.from_haplotypes(db_haps))
        with np.errstate(divide="ignore"):
            add_evidence("mtdna", mt_units, ref_cols, np.log(lr))
    timings["mtdna"] = time.perf_counter() - t
    tick("mtDNA", 1, 1)

    # --- 2c. Y-STR -------------------------------------------------------------------------------
    t = time.perf_counter()
    y_loci, y_db = sg.load_y_haplotypes()
    fam_y: dict[str, list[str]] = {}
    for (f, m) in y_by:
        if f:
            fam_y.setdefault(f, []).append(m)
    yrefs, ycols, meioses = [], [], []
    for fam, donors in fam_y.items():
        d = nearest_typed(pedigrees[fam], fam_mp[fam][0], donors, PATERNAL)
        if d is not None:
            yrefs.append(ystr.YHaplotype.parse(y_by[(fam, d.id)], id=f"{fam}:{d.id}"))
            ycols.append(col[fam])
            meioses.append(d.meioses)
    y_units = [u for u in unit_ids if rep_y[u] is not None]
    if yrefs and y_units:
        yq = [ystr.YHaplotype.parse(y_by[("", str(rep_y[u]))], id=u) for u in y_units]
        dbh = [ystr.YHaplotype.parse(dict(zip(y_loci, r, strict=True)), id=f"db{i}")
               for i, r in enumerate(r for rs in y_db.values() for r in rs)]
        loci = tuple(ystr.canonical_locus(x) for x in y_loci)
        ylr = ystr.lr_matrix(ystr.YPanel.from_haplotypes(yq, loci), ystr.YPanel.from_haplotypes(yrefs, loci),
                             np.array(meioses), ystr.YPanel.from_haplotypes(dbh, loci))
        with np.errstate(divide="ignore"):
            add_evidence("ystr", y_units, ycols, np.log(ylr))
    timings["ystr"] = time.perf_counter() - t
    tick("Y-STR", 1, 1)

    # --- 3-5. candidates, prior, joint ------------------------------------------------------------
    t = time.perf_counter()
    # context prior over all missing persons, then the candidates
    inc_members: dict[str, int] = {}
    for r in missing.values():
        inc_members[r["LOSS_INCIDENT"]] = inc_members.get(r["LOSS_INCIDENT"], 0) + 1
    fam_inc = np.array([missing[fam_mp[f][1]]["LOSS_INCIDENT"] for f in families])
    w_all = np.full((U, M), p_elsewhere / len(missing))
    star = np.zeros(U)
    for i, u in enumerate(unit_ids):
        acc = accessions.get(sample_acc.get(individuals[u][0], ""), {})
        op = operations.get(acc.get("operation", ""), {})
        incs = sorted({x for x in op.get("incidents", "").split(";") if x})
        n_ctx = sum(inc_members.get(k, 0) for k in incs)
        star[i] = STAR_BY_KIND.get(op.get("kind", ""), 0.1)
        if n_ctx:
            w_all[i, np.isin(fam_inc, incs)] += p_context / n_ctx
    with np.errstate(divide="ignore"):
        odds = log_lr + np.log(w_all) - np.log(star)[:, None]
    cand = (n_lines > 0) & (log_lr > math.log(limit)) & (odds > math.log(min_odds))
    keep = np.flatnonzero(cand.any(axis=0))
    sub = np.where(cand[:, keep], log_lr[:, keep], np.nan)
    fam_keep = [families[j] for j in keep]
    labels = [fam_mp[f][1] for f in fam_keep]
    w = w_all[:, keep]
    problem = JointProblem(tuple(unit_ids), tuple(labels), tuple(fam_keep), sub, {f: 0.0 for f in fam_keep},
                           np.zeros(U))
    joint = solve_joint(problem, prior=Prior.pairs(w, star, name="context"), max_assign=max_assign, top=1,
                        seed=seed, mcmc=MCMC)
    timings["joint"] = time.perf_counter() - t
    # a component sampled by MCMC that did not converge gives no proposal (its posteriors are rough)
    unconverged = {unit_ids[i] for c in joint.components
                   if c.method == "mcmc" and not (c.diagnostics or {}).get("converged") for i in c.samples}
    tick("joint identification", 1, 1)

    best: dict[str, tuple[str | None, float, float]] = {}
    proposals: list[Proposal] = []
    post = joint.posterior
    for i, u in enumerate(unit_ids):
        if not len(keep) or not np.any(post[i, :-1] > 0):
            best[u] = (None, float(post[i, -1]), 0.0)
            continue
        j = int(np.argmax(post[i, :-1]))
        sn, p_ij = labels[j], float(post[i, j])
        l10 = float(sub[i, j] / math.log(10))
        best[u] = (sn, p_ij, l10)
        if p_ij >= threshold and u not in unconverged:
            fcol = col[fam_keep[j]]
            ev = [{"kind": k, "log10_lr": float(per_kind[k][i, fcol] / math.log(10))}
                  for k in per_kind if per_kind[k][i, fcol] != 0.0]
            proposals.append(Proposal(u, individuals[u], sn, fam_keep[j], p_ij, l10, ev))
    timings["total"] = time.perf_counter() - t0
    return RunResult(individuals, best, proposals, threshold, kinds,
                     {u: int(cand[i].sum()) for i, u in enumerate(unit_ids)}, unconverged, timings, joint.method,
                     {"threshold": threshold, "limit": limit, "min_odds": min_odds, "p_context": p_context, "p_elsewhere": p_elsewhere,
                      "star": STAR_BY_KIND, "same_source_lr": same_source_lr, "frequency_database": "nist1036-Cauc",
                      "max_assign": max_assign, "seed": seed})
