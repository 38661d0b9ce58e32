"""From pairwise LRs to proposals: candidates, the open-world joint identification, decisions.

For each individual ``u`` (a row of the case) and missing person ``m`` (a column):

1. **Candidates.** A pair is a candidate when its LR is at least ``candidate_lr`` (10, dvir's
   ``limit``) and its prior odds against "nobody on the list", LR x P(u = m) / p_off, are at least
   ``min_odds`` (0.01). Every other pair is lumped into ``"*"`` ("nobody on the list, or someone
   on it but none of the candidates"), whose weight is therefore ``p_off`` + the sum of prior x LR
   over the pairs left out (their exact LRs, against every family) + the prior of the missing
   persons with no references (whose LR is 1). Leaving the weak pairs out of the one-to-one
   assignment keeps components small; their weight is not dropped.
2. **Joint identification** (:func:`dogtag.identify.joint.solve_joint`) of the candidates with
   the per-pair prior of :mod:`dogtag.analysis.priors` and that lumped weight for ``"*"``: one
   remains per person, one person per remains. Run twice: with the prior settings and with the
   alternative ones (by default the same open world without context), so a reviewer sees what
   the context contributed.
3. **Decision.** The best pairing of an individual is proposed when its posterior reaches
   ``min_posterior``, its LR reaches ``min_lr``, its component was solved exactly or sampled to
   convergence, and nothing blocks it (grouping conflicts, identifications already made: the
   caller's ``blocked``). Otherwise every reason that held is given. A best pairing on lineage
   markers alone carries a caveat: every maternal (mtDNA) or paternal (Y) relative of the missing
   person, a brother for one, would match as well.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dogtag.analysis.priors import Origin, PriorTable
from dogtag.identify.case import DVICase
from dogtag.identify.joint import JointProblem, JointResult, Prior, solve_joint
from dogtag.identify.lineage_search import evidence_names
from dogtag.identify.mcmc import MCMCSettings
from dogtag.identify.search import blind_search

__all__ = ["MCMC", "Candidate", "Decision", "DecisionOptions", "decide"]

_LN10 = math.log(10)

#: Sampler settings for a component too big for the exact methods: long enough that R-hat < 1.05
#: is reached on the demo's scenarios.
MCMC = MCMCSettings(chains=4, iterations=6_000, burn_in=2_000, thin=4)


@dataclass(frozen=True)
class DecisionOptions:
    """Thresholds of a proposal and of the candidate screen (recorded with every run).

    ``min_posterior`` is ICMP's 99.95 % (Parsons et al. 2019, *Forensic Sci. Int. Genet.* 38:236).
    At 0.99 a posterior is wrong about once in a hundred by its own account, and a registry-wide
    search makes dozens of proposals: the default demo (7,500 missing persons) proposed an
    unrelated man against a single-brother reference at posterior 0.991 (docs/priors.md).
    """

    min_posterior: float = 0.9995
    min_lr: float = 1e4
    candidate_lr: float = 10.0
    min_odds: float = 0.01
    max_assign: int = 100_000
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.min_posterior <= 1:
            raise ValueError(f"`min_posterior` must be in (0, 1], got {self.min_posterior}")
        if not self.min_lr >= 1:
            raise ValueError(f"`min_lr` must be >= 1, got {self.min_lr}")
        if not self.candidate_lr >= 1:
            raise ValueError(f"`candidate_lr` must be >= 1, got {self.candidate_lr}")
        if not self.min_odds >= 0:
            raise ValueError(f"`min_odds` must be >= 0, got {self.min_odds}")

    def as_dict(self) -> dict[str, Any]:
        return {"min_posterior": self.min_posterior, "min_lr": self.min_lr, "candidate_lr": self.candidate_lr,
                "min_odds": self.min_odds, "max_assign": self.max_assign, "seed": self.seed}


@dataclass
class Candidate:
    column: int
    log10_lr: float
    evidence: list[str]
    prior: float
    posterior: float
    posterior_alt: float
    lines: list[dict[str, Any]] = field(default_factory=list)   # log10 LR of each line of evidence


def _lines(evidence: list[str], log_lr: float, lineage: float) -> list[dict[str, Any]]:
    """The pair's log10 LR split into its autosomal and lineage (mtDNA and Y together) parts."""
    lin = [k for k in evidence if k != "autosomal"]
    out = []
    if "autosomal" in evidence:
        out.append({"kind": "autosomal", "log10_lr": (log_lr - lineage) / _LN10})
    if lin:
        out.append({"kind": "+".join(lin), "log10_lr": lineage / _LN10})
    return out


@dataclass
class Decision:
    """One individual: its best candidates (best posterior first) and whether it is proposed."""

    row: int
    candidates: list[Candidate] = field(default_factory=list)
    p_none: float = 1.0          # posterior of "none of the candidates"
    proposed: bool = False
    reasons: list[str] = field(default_factory=list)
    method: str = ""
    caveats: list[str] = field(default_factory=list)   # for the reviewer; they do not block

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _candidates(pairs: Sequence[tuple[int, int, float]], prior_of: Mapping[int, NDArray[np.float64]],
                col_person: NDArray[np.intp], p_off: Mapping[int, float], options: DecisionOptions
                ) -> list[tuple[int, int]]:
    lo = math.log(options.candidate_lr)
    lo_odds = math.log(options.min_odds) if options.min_odds > 0 else -math.inf
    out = set()
    for r, c, llr in pairs:
        if not llr >= lo:
            continue
        w = float(prior_of[r][col_person[c]])
        if w <= 0:
            continue
        po = p_off[r]
        if po > 0 and llr + math.log(w) - math.log(po) < lo_odds:
            continue
        out.add((r, c))
    return sorted(out)


def _left_out(case: DVICase, rows: list[int], cand: list[tuple[int, int]], origins: Sequence[Origin],
              col_person: NDArray[np.intp], table: PriorTable, workers: int, chunk: int = 256
              ) -> NDArray[np.float64]:
    """Weight of "none of the candidates" per row: p_off, plus prior x LR of every pair left out
    (all families, exact LRs), plus the prior of the missing persons without references (LR 1)."""
    cols_of: dict[int, set[int]] = {}
    for r, c in cand:
        cols_of.setdefault(r, set()).add(c)
    cp = np.asarray(col_person)
    out = np.empty(len(rows))
    for lo in range(0, len(rows), chunk):
        part = rows[lo:lo + chunk]
        sub = dataclasses.replace(case, pm=[case.pm[r] for r in part])
        res = blind_search(sub, refine=0, workers=workers)
        assert res.log_lr is not None
        with np.errstate(over="ignore"):
            lr = np.exp(np.nan_to_num(res.log_lr, nan=-np.inf))
        for k, r in enumerate(part):
            v = table.vector(origins[r])
            w = v[cp].copy()
            w[list(cols_of.get(r, ()))] = 0.0
            no_refs = np.ones(len(v), dtype=bool)
            no_refs[cp] = False
            out[lo + k] = table.p_off(origins[r]) + float(w @ lr[k]) + float(v[no_refs].sum())
    return out


def decide(case: DVICase, pairs: Sequence[tuple[int, int, float]], *, origins: Sequence[Origin],
           col_person: NDArray[np.intp], prior: PriorTable, alt_prior: PriorTable,
           options: DecisionOptions | None = None, blocked: Mapping[int, list[str]] | None = None,
           workers: int = 1, top: int = 3) -> tuple[list[Decision], list[str]]:
    """Decide every individual of ``case`` (see the module docstring).

    Parameters
    ----------
    case : the case whose pm rows are the individuals (one profile of each kind).
    pairs : (row, column, natural log LR) of the blind search: at least every pair with LR >=
        ``candidate_lr``.
    origins : per row, where the remains came from.
    col_person : ndarray, int, shape (M,): the index in the prior's persons of each column.
    prior, alt_prior : the prior and the alternative one (same persons).
    blocked : per row, reasons it must not be proposed whatever the numbers say.
    top : candidates reported per individual.

    Returns
    -------
    One :class:`Decision` per row, and notes for the reviewer.
    """
    options = options or DecisionOptions()
    blocked = blocked or {}
    n_rows = len(case.pm)
    rows_used = sorted({r for r, _, _ in pairs})
    prior_of = {r: prior.vector(origins[r]) for r in rows_used}
    p_off = {r: prior.p_off(origins[r]) for r in rows_used}
    cand = _candidates(pairs, prior_of, col_person, p_off, options)
    decisions = [Decision(r) for r in range(n_rows)]
    notes: list[str] = []
    if cand:
        fam_of_col = [f.name for f in case.am for _ in f.missing]
        c_rows = sorted({r for r, _ in cand})
        c_fams = sorted({fam_of_col[c] for _, c in cand})
        sub_am = [f for f in case.am if f.name in set(c_fams)]
        sub = DVICase(case.markers, [case.pm[r] for r in c_rows], sub_am, name=case.name, source=case.source,
                      mtdna_database=case.mtdna_database, ystr_database=case.ystr_database,
                      ystr_method=case.ystr_method, theta=case.theta)
        res = blind_search(sub, refine=0, workers=workers)
        assert res.log_lr is not None
        cols = [c for c, f in enumerate(fam_of_col) if f in set(c_fams)]   # case column of each sub column
        r_at = {r: i for i, r in enumerate(c_rows)}
        s_at = {c: j for j, c in enumerate(cols)}
        mask = np.zeros(res.log_lr.shape, dtype=bool)
        for r, c in cand:
            mask[r_at[r], s_at[c]] = True
        llr = np.where(mask, res.log_lr, np.nan)
        from dogtag.identify.dvi import FamilyLoglik

        problem = JointProblem(tuple(res.samples), tuple(res.missing), tuple(res.family), llr,
                               dict(res.family_loglik), res.sample_loglik,
                               FamilyLoglik(sub, res.lineage_log_lr, (res.family_loglik, res.sample_loglik)))
        persons = np.asarray(col_person)[cols]
        results: list[JointResult] = []
        for table in (prior, alt_prior):
            w = np.array([table.vector(origins[r])[persons] for r in c_rows]) * mask
            star = _left_out(case, c_rows, cand, origins, col_person, table, workers)
            results.append(solve_joint(problem, prior=Prior.pairs(w, star, name=table.settings.name),
                                       max_assign=options.max_assign, top=1, seed=options.seed, mcmc=MCMC))
        main, alt = results
        notes += main.notes
        unconverged = {int(i) for comp in main.components if comp.method == "mcmc"
                       and not (comp.diagnostics or {}).get("converged") for i in comp.samples}
        method_of = {int(i): comp.method for comp in main.components for i in comp.samples}
        w_main = np.array([prior.vector(origins[r])[persons] for r in c_rows])
        ev = res.evidence
        lin = res.lineage_log_lr if res.lineage_log_lr is not None else np.zeros_like(res.log_lr)
        for i, r in enumerate(c_rows):
            d = decisions[r]
            post = main.posterior[i]
            js = [j for j in np.argsort(-post[:-1], kind="stable") if mask[i, j]][:top]
            names = [evidence_names(int(ev[i, j])) if ev is not None else [] for j in js]
            d.candidates = [Candidate(cols[j], float(llr[i, j] / _LN10), nm,
                                      float(w_main[i, j]), float(min(1.0, max(0.0, post[j]))),
                                      float(min(1.0, max(0.0, alt.posterior[i, j]))),
                                      _lines(nm, float(llr[i, j]), float(lin[i, j])))
                            for j, nm in zip(js, names, strict=True)]
            d.p_none = float(post[-1])
            d.method = method_of.get(i, "")
            if i in unconverged:
                d.reasons.append("joint identification sampled by MCMC did not converge (R-hat)")
    for d in decisions:
        b = d.best
        if b is None:
            d.reasons.insert(0, f"no candidate: no missing person with references has LR >= "
                                f"{options.candidate_lr:g} and prior odds >= {options.min_odds:g}")
        else:
            if b.posterior < options.min_posterior:
                d.reasons.append(f"posterior {b.posterior:.4f} < {options.min_posterior:g}")
            if b.log10_lr < math.log10(options.min_lr):
                d.reasons.append(f"LR 10^{b.log10_lr:.2f} < {options.min_lr:g}")
            lines = [k for k in b.evidence if k != "autosomal"]
            if lines and "autosomal" not in b.evidence:
                who = " and ".join(x for k, x in (("mtdna", "maternal-line"), ("ystr", "paternal-line"))
                                   if k in lines)
                d.caveats.append(f"lineage markers only: the missing person's {who} relatives (a brother) "
                                 "match equally; corroborate with other evidence")
        d.reasons += blocked.get(d.row, [])
        d.proposed = b is not None and not d.reasons
    return decisions, notes
