"""Undisputed identifications (dvir's ``findUndisputed``) and conditioning on fixed pairs.

A pairing ``V_i = M_j`` is *undisputed* when its pairwise LR exceeds ``threshold``
(default 10^4) and every other pairwise LR in row ``i`` and column ``j`` is at
most ``LR_ij / threshold`` (dvir's default since 3.2.1, ``strict = FALSE``); with
``strict`` the others must be at most 1. Undisputed pairs are fixed,
the sample's profile is moved into its family as the missing person's genotype,
the pairwise LRs of the remaining missing persons of that family are recomputed
conditionally, and the search repeats until no new pair qualifies ("Step 1",
"Step 2", ...). Vigeland, M. D. and Egeland, T. (2021) *Sci. Rep.* 11:13661;
dvir 3.4.1 ``findUndisputed()``. Non-candidate pairs (e.g. sex-inconsistent) count
as LR 0, as in dvir.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from dogtag.identify.joint import JointProblem


@dataclass(frozen=True)
class UndisputedMatch:
    """One undisputed identification; ``lr`` is the pairwise LR at the step it was found."""

    sample: str
    missing: str
    family: str
    lr: float
    step: int

    def to_dict(self) -> dict[str, object]:
        return {"sample": self.sample, "missing": self.missing, "family": self.family,
                "lr": self.lr, "step": self.step}


def condition_on(problem: JointProblem, fixed: Mapping[str, str]) -> JointProblem:
    """The problem left after fixing pairings ``sample -> missing``.

    Fixed samples and missing persons are removed. In a family that keeps other
    missing persons, the fixed samples become typed members: its null
    log-likelihood becomes ``family_loglik(f, fixed_f)`` and the pairwise log LR of
    each remaining pair is ``family_loglik(f, fixed_f + {m: s}) -
    family_loglik(f, fixed_f) - loglik(s)``. Families with one missing person need
    no pedigree computation. A ``family_loglik`` with a ``conditioned(fixed)`` method
    (:class:`dogtag.identify.dvi.FamilyLoglik`) supplies the conditional function
    itself: with theta the fixed samples stay placed in the LR's denominator, which
    makes the conditional LR exact.
    """
    if not fixed:
        return problem
    s_idx = {s: i for i, s in enumerate(problem.samples)}
    m_idx = {m: j for j, m in enumerate(problem.missing)}
    bad = [f"{s}={m}" for s, m in fixed.items() if s not in s_idx or m not in m_idx]
    if bad:
        raise ValueError(f"fixed pairings name unknown samples or missing persons: {', '.join(bad)}")
    fixed_by_fam: dict[str, dict[str, str]] = {}
    for s, m in fixed.items():
        fixed_by_fam.setdefault(problem.family[m_idx[m]], {})[m] = s
    keep_s = [i for i, s in enumerate(problem.samples) if s not in fixed]
    fixed_m = set(fixed.values())
    keep_m = [j for j, m in enumerate(problem.missing) if m not in fixed_m]
    llr = problem.log_lr[np.ix_(keep_s, keep_m)].copy()
    loglik0 = dict(problem.loglik0_family)
    base = problem.family_loglik
    cond: Callable[[str, Mapping[str, str]], float] | None = None
    if base is not None:
        # a family_loglik that knows how to condition (dvi.FamilyLoglik: with theta the
        # fixed samples stay placed in the denominator); otherwise the fixed placements join
        conditioned = getattr(base, "conditioned", None)
        if conditioned is not None:
            cond = conditioned(fixed_by_fam)
        else:
            plain = base

            def cond(fam: str, placements: Mapping[str, str]) -> float:
                return float(plain(fam, {**fixed_by_fam.get(fam, {}), **placements}))
    for fam, fx in fixed_by_fam.items():
        cols = [k for k, j in enumerate(keep_m) if problem.family[j] == fam]
        if not cols:
            continue
        if base is None or cond is None:
            raise ValueError(
                f"family {fam!r} keeps missing persons after fixing {sorted(fx)}: "
                "conditioning needs `family_loglik`"
            )
        ll_fixed = float(base(fam, fx))
        loglik0[fam] = ll_fixed
        for k in cols:
            m = problem.missing[keep_m[k]]
            for r, i in enumerate(keep_s):
                if not np.isfinite(problem.log_lr[i, keep_m[k]]):
                    continue  # non-candidates and exclusions stay as they are
                ll = float(cond(fam, {m: problem.samples[i]}))
                llr[r, k] = ll - ll_fixed - float(problem.sample_loglik[i])

    return JointProblem(
        tuple(problem.samples[i] for i in keep_s), tuple(problem.missing[j] for j in keep_m),
        tuple(problem.family[j] for j in keep_m), llr, loglik0, problem.sample_loglik[keep_s],
        cond,
    )


def find_undisputed(
    problem: JointProblem,
    *,
    threshold: float = 1e4,
    strict: bool = False,
    allowed: np.ndarray | None = None,
) -> tuple[list[UndisputedMatch], JointProblem]:
    """Undisputed identifications, step by step, and the reduced problem.

    Parameters
    ----------
    problem : the pairwise result.
    threshold : LR threshold (dvir default 10^4).
    strict : others at most 1 instead of at most LR / threshold.
    allowed : optional boolean mask, shape (S, M), of pairings still considered
        (e.g. after exclusions); others count as LR 0.

    Returns
    -------
    (matches, reduced problem conditional on them)
    """
    if threshold < 0:
        raise ValueError(f"`threshold` must be >= 0, got {threshold}")
    found: list[UndisputedMatch] = []
    current = problem
    mask = None if allowed is None else {
        (problem.samples[i], problem.missing[j])
        for i, j in zip(*np.nonzero(np.asarray(allowed, dtype=bool)), strict=True)
    }
    step = 0
    while current.samples and current.missing:
        step += 1
        lr = np.nan_to_num(np.exp(current.log_lr), nan=0.0)
        if mask is not None:
            for i, s in enumerate(current.samples):
                for j, m in enumerate(current.missing):
                    if (s, m) not in mask:
                        lr[i, j] = 0.0
        hi_c, hi_r = np.nonzero(threshold < lr.T)  # column-major order, as R's which()
        new: dict[str, str] = {}
        for i, j in zip(hi_r.tolist(), hi_c.tolist(), strict=True):
            others = np.concatenate([np.delete(lr[i], j), np.delete(lr[:, j], i)])
            limit = 1.0 if strict else lr[i, j] / threshold
            if np.all(others <= limit):
                s, m = current.samples[i], current.missing[j]
                new[s] = m
                found.append(UndisputedMatch(s, m, current.family[j], float(lr[i, j]), step))
        if not new:
            break
        current = condition_on(current, new)
    return found, current
