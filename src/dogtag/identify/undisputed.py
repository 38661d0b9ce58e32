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


#: above this many samples a conditioned family's pairwise LRs come from its conditional genotype
#: distribution (chain rule) when ``family_loglik`` offers ``conditional_term`` (no theta)
VECTOR_SAMPLES = 200


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
    makes the conditional LR exact. With more than :data:`VECTOR_SAMPLES` samples and a
    ``conditional_term`` (no theta) the same LRs come from the chain rule, one conditional genotype
    distribution per missing person instead of one pedigree likelihood per sample.
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
        conditional = getattr(cond, "conditional_term", None)
        for k in cols:
            m = problem.missing[keep_m[k]]
            finite = np.isfinite(problem.log_lr[keep_s, keep_m[k]])
            if conditional is not None and len(keep_s) > VECTOR_SAMPLES:
                # the chain rule: the log LR of each sample given the fixed ones, from the
                # conditional genotype distribution (one pedigree computation, not one per sample)
                vals = [conditional(fam, {}, m, problem.samples[i]) for i in np.array(keep_s)[finite].tolist()]
                if all(v is not None for v in vals):
                    llr[np.nonzero(finite)[0], k] = np.array(vals, dtype=np.float64)
                    continue
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


def _top2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the largest value, its column, and the largest of the others (-inf if none)."""
    if x.shape[1] == 0:
        z = np.full(x.shape[0], -np.inf)
        return z, np.zeros(x.shape[0], dtype=np.int64), z
    n = x.shape[0]
    top, arg, nxt = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n)
    for lo in range(0, n, 1024):
        rest = np.array(x[lo:lo + 1024])
        rows = np.arange(rest.shape[0])
        a = np.argmax(rest, axis=1)
        arg[lo:lo + rows.size] = a
        top[lo:lo + rows.size] = rest[rows, a]
        rest[rows, a] = -np.inf
        nxt[lo:lo + rows.size] = rest.max(axis=1, initial=-np.inf)
    return top, arg, nxt


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
    mask = None if allowed is None else np.asarray(allowed, dtype=bool)
    step = 0
    while current.samples and current.missing:
        step += 1
        lr = np.nan_to_num(np.exp(current.log_lr), nan=0.0)
        if mask is not None:
            rows = np.array([problem.sample_index[x] for x in current.samples], dtype=np.int64)
            cols = np.array([problem.missing_index[x] for x in current.missing], dtype=np.int64)
            lr[~mask[np.ix_(rows, cols)]] = 0.0
        hi_c, hi_r = np.nonzero(threshold < lr.T)  # column-major order, as R's which()
        # the largest other LR in each hit's row and column: the largest, or the second largest
        # where the hit itself is the largest
        row_top, row_arg, row_next = _top2(lr)
        col_top, col_arg, col_next = _top2(lr.T)
        new: dict[str, str] = {}
        for i, j in zip(hi_r.tolist(), hi_c.tolist(), strict=True):
            other = max(row_next[i] if row_arg[i] == j else row_top[i],
                        col_next[j] if col_arg[j] == i else col_top[j])
            limit = 1.0 if strict else lr[i, j] / threshold
            if other <= limit:
                s, m = current.samples[i], current.missing[j]
                new[s] = m
                found.append(UndisputedMatch(s, m, current.family[j], float(lr[i, j]), step))
        if not new:
            break
        current = condition_on(current, new)
    return found, current
