"""A DVI case summary per missing person and per sample, as dvir's ``dviSolve()`` gives.

The pipeline of dvir 3.4.1 (Vigeland and Egeland 2021; dvir's ``dviSolve``):

1. **Exclusions.** A sample whose every remaining candidate has more than
   ``max_incomp`` (default 2) Mendelian-incompatible markers is *Excluded*
   ("``k``+ inconsistencies", ``k`` the smallest count; "No compatible pairings"
   if no candidate is left); likewise a missing person; pairings above
   ``max_incomp`` are dropped.
2. **Undisputed** identifications (:func:`find_undisputed`, threshold default
   10^4) on the remaining pairings ("Step k"). Steps 1-2 repeat until nothing
   new is undisputed.
3. **AM-driven, simple families** (one remaining missing person): the best
   remaining sample by pairwise LR; several samples above ``threshold2``
   (default ``threshold / 10``) is *Disputed* ("Also: V (LR=...)"), exactly one
   is *Probable* ("Runner-up: ..."), otherwise *Inconclusive* ("Best: V") or,
   when the best LR is below 1, *No match*.
4. **AM-driven, complex families** (several remaining missing persons): a joint
   analysis of the family against the remaining samples gives the GLR matrix
   (:class:`dogtag.identify.joint.JointResult`); a pair with ``GLR >=
   threshold`` is *Match (GLR)* ("Joint: {...}"); full siblings that no data can
   tell apart give a *Symmetric match* when the set of pairings between them is
   supported with GLR >= threshold; the rest is *Inconclusive* with the column's
   largest LR and GLR.
5. **PM-driven, remaining samples**: the best remaining missing person by LR:
   *Probable* (one above ``threshold2``), *Disputed* (several), *Inconclusive*
   (best LR >= 1: "Best: M") or *No match*.

Steps 1, 2, 3 and 5 use the pairwise table only and reproduce dvir's
conclusions on its data sets. Step 4 follows dvir's published outputs; its
texts for symmetric cases were reconstructed from them (dvir's source of that
step was not consulted). After undisputed matches in a family with several
missing persons dvir recomputes the exclusion counts with the matched samples'
profiles as family data; pass ``exclusions_given`` to do the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dogtag.identify.case import DVICase
from dogtag.identify.joint import JointProblem, solve_joint
from dogtag.identify.problem import FamilyLoglik
from dogtag.identify.undisputed import UndisputedMatch, condition_on, find_undisputed


@dataclass
class SolveRow:
    """One row of a summary (AM: one per missing person; PM: one per sample)."""

    family: str | None
    missing: str | None
    sample: str | None
    lr: float | None
    glr: float | None
    conclusion: str
    comment: str | None

    def to_dict(self) -> dict[str, object]:
        return {"family": self.family, "missing": self.missing, "sample": self.sample,
                "lr": self.lr, "glr": self.glr, "conclusion": self.conclusion,
                "comment": self.comment}


@dataclass
class SolveResult:
    """``am``: rows by family and missing person; ``pm``: rows by sample."""

    am: list[SolveRow]
    pm: list[SolveRow]
    undisputed: list[UndisputedMatch] = field(default_factory=list)
    method: str = "dviSolve (dvir 3.4.1 pipeline)"

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "am": [r.to_dict() for r in self.am],
                "pm": [r.to_dict() for r in self.pm],
                "undisputed": [u.to_dict() for u in self.undisputed]}


def full_sibling_pairs(case: DVICase) -> list[tuple[str, str]]:
    """Pairs of missing persons (by label, as :meth:`DVICase.missing_labels`) who are full siblings.

    Full siblings of one sex who share both parents and have no descendants in the
    reference pedigree are exchangeable: no data on the family can tell them apart,
    which is what a *Symmetric match* reports.
    """
    labels = iter(case.missing_labels())
    out = []
    for fam in case.am:
        ped = fam.pedigree
        lab = {m: next(labels) for m in fam.missing}
        ms = list(fam.missing)
        for k, a in enumerate(ms):
            for b in ms[k + 1:]:
                ia, ib = ped.index(a), ped.index(b)
                if ped.father[ia] >= 0 and ped.father[ia] == ped.father[ib] \
                        and ped.mother[ia] == ped.mother[ib] and ped.sex[ia] == ped.sex[ib] \
                        and not ped.children(ia) and not ped.children(ib):
                    out.append((lab[a], lab[b]))
    return out


def _fmt(x: float) -> str:
    """R's ``sprintf('%.2g')``."""
    return f"{x:.2g}"


def dvi_solve(
    problem: JointProblem,
    exclusions: NDArray[np.float64] | Sequence[Sequence[float | None]] | None = None,
    *,
    threshold: float = 1e4,
    threshold2: float | None = None,
    max_incomp: int = 2,
    full_siblings: Iterable[tuple[str, str]] = (),
    max_assign: int = 100_000,
    exclusions_given: Callable[[Mapping[str, str]], NDArray[np.float64]] | None = None,
    time_limit: float | None = None,
) -> SolveResult:
    """Conclusions per missing person and per sample (dvir's ``dviSolve``).

    Parameters
    ----------
    problem : the pairwise result (:class:`JointProblem`); a ``family_loglik`` is
        needed for families with several missing persons.
    exclusions : shape (S, M); number of Mendelian-incompatible markers per pair
        (``nan``/``None`` = not a candidate). None: no exclusion step.
    threshold : LR (and GLR) threshold for undisputed/matched, default 10^4.
    threshold2 : LR threshold for "Probable", default ``max(1, threshold / 10)``.
    max_incomp : pairings with more incompatible markers are excluded.
    full_siblings : pairs of missing-person labels who are full siblings (used to
        report symmetric matches; :func:`full_sibling_pairs` finds them in a case).
    max_assign : passed to the joint analysis of complex families.
    exclusions_given : optional; exclusion counts, shape (S, M), recomputed with the
        samples of the fixed (undisputed) pairings ``{sample: missing}`` placed in
        their families, as dvir does. Without it the counts of ``exclusions`` are
        kept (exact for families with one missing person).
    time_limit : seconds for the joint analyses of complex families (their samplers stop then;
        None: no limit). A family whose joint analysis cannot take every remaining sample (more
        than ``max_assign`` assignments or :data:`MAX_FAMILY_TERMS` joint likelihoods) is analysed
        against the samples with the largest pairwise LRs to it, at most
        :data:`MAX_FAMILY_CANDIDATES`; its comments say so.
    """
    deadline = None if time_limit is None else time.monotonic() + float(time_limit)
    thr2 = max(1.0, threshold / 10) if threshold2 is None else threshold2
    samples, missing = problem.samples, problem.missing
    fam_of = dict(zip(missing, problem.family, strict=True))
    n_s, n_m = len(samples), len(missing)
    if exclusions is None:
        excl = np.zeros((n_s, n_m))
    elif isinstance(exclusions, np.ndarray):
        excl = np.asarray(exclusions, dtype=np.float64).reshape(n_s, n_m)   # read only: no copy
    else:
        excl = np.array([[np.nan if x is None else float(x) for x in row] for row in exclusions],
                        dtype=np.float64).reshape(n_s, n_m)
    s_pos = {x: i for i, x in enumerate(samples)}
    m_pos = {x: j for j, x in enumerate(missing)}
    pairing = ~np.isnan(problem.log_lr)  # candidates (sex-consistent), LR 0 included
    sib = {frozenset(p) for p in full_siblings}
    am: dict[str, SolveRow] = {}
    pm: dict[str, SolveRow] = {}
    rem_s = list(range(n_s))
    rem_m = list(range(n_m))
    current = problem
    fixed: dict[str, str] = {}
    undisputed_all = []

    while True:
        if fixed and exclusions_given is not None:
            excl = np.asarray(exclusions_given(dict(fixed)), dtype=np.float64).reshape(n_s, n_m)
        # 1. exclusions: rows and columns judged on the same table, then removed
        low_s, low_m = _lowest_counts(excl, pairing, rem_s, rem_m)
        gone_s, gone_m = set(), set()
        for i, low in zip(rem_s, low_s.tolist(), strict=True):
            if low > max_incomp:
                pm[samples[i]] = SolveRow(None, None, samples[i], None, None, "Excluded",
                                          _excl_comment(low))
                gone_s.add(i)
        for j, low in zip(rem_m, low_m.tolist(), strict=True):
            if low > max_incomp:
                am[missing[j]] = SolveRow(fam_of[missing[j]], missing[j], None, None, None,
                                          "Excluded", _excl_comment(low))
                gone_m.add(j)
        rem_s = [i for i in rem_s if i not in gone_s]
        rem_m = [j for j in rem_m if j not in gone_m]
        with np.errstate(invalid="ignore"):
            pairing &= ~(excl > max_incomp)
        if not rem_s or not rem_m:
            break
        current = _subproblem(problem, fixed, rem_s, rem_m)
        # 2. undisputed
        mask = pairing[np.ix_(rem_s, rem_m)]
        found, _ = find_undisputed(current, threshold=threshold, allowed=mask)
        if not found:
            break
        undisputed_all.extend(found)
        for u in found:
            row = SolveRow(u.family, u.missing, u.sample, u.lr, None, "Undisputed", f"Step {u.step}")
            am[u.missing] = row
            pm[u.sample] = SolveRow(u.family, u.missing, u.sample, u.lr, None, "Undisputed",
                                    f"Step {u.step}")
            fixed[u.sample] = u.missing
        done_s = {s_pos[u.sample] for u in found}
        done_m = {m_pos[u.missing] for u in found}
        rem_s = [i for i in rem_s if i not in done_s]
        rem_m = [j for j in rem_m if j not in done_m]
        if not rem_s or not rem_m:
            break
    current = _subproblem(problem, fixed, rem_s, rem_m)

    # 3-4. AM-driven, family by family
    by_fam: dict[str, list[int]] = {}
    for j in rem_m:
        by_fam.setdefault(fam_of[missing[j]], []).append(j)
    resolved_s: set[int] = set()
    resolved_m: set[int] = set()
    rem_arr = np.array(rem_s, dtype=np.int64)
    cur_row = np.full(n_s, -1, dtype=np.int64)
    cur_row[rem_arr] = [current.sample_index[samples[i]] for i in rem_s]
    for fam, js in by_fam.items():
        if len(js) == 1:
            j = js[0]
            cand = rem_arr[pairing[rem_arr, j]]
            if not cand.size:
                continue
            vals = np.exp(current.log_lr[cur_row[cand], current.missing_index[missing[j]]])
            best_lr, best, top, runner = _ranked(vals, cand, thr2)
            if len(top) > 1:
                also = ", ".join(f"{samples[i]} (LR={_fmt(x)})" for x, i in top if i != best)
                am[missing[j]] = SolveRow(fam, missing[j], samples[best], best_lr, None,
                                          "Disputed", f"Also: {also}")
            elif len(top) == 1:
                cmt = "Runner-up: -" if runner is None else f"Runner-up: {samples[runner[1]]} (LR={_fmt(runner[0])})"
                am[missing[j]] = SolveRow(fam, missing[j], samples[best], best_lr, None,
                                          "Probable", cmt)
                pm[samples[best]] = SolveRow(fam, missing[j], samples[best], best_lr, None,
                                             "Probable", cmt)
                resolved_s.add(best)
                resolved_m.add(j)
            elif best_lr >= 1:
                am[missing[j]] = SolveRow(fam, missing[j], samples[best], best_lr, None,
                                          "Inconclusive", f"Best: {samples[best]}")
            else:
                am[missing[j]] = SolveRow(fam, missing[j], None, None, None, "No match", None)
        else:
            left = None if deadline is None else deadline - time.monotonic()
            _complex_family(current, fam, js, rem_s, pairing, threshold, sib, max_assign,
                            am, pm, resolved_s, resolved_m, samples, missing, left)

    # 5. PM-driven, remaining samples
    left_m = [j for j in rem_m if j not in resolved_m]
    left_arr = np.array(left_m, dtype=np.int64)
    left_col = np.array([current.missing_index[missing[j]] for j in left_m], dtype=np.int64)
    for i in rem_s:
        if i in resolved_s or samples[i] in pm:
            continue
        ok = pairing[i, left_arr] if left_arr.size else np.zeros(0, dtype=bool)
        if not ok.any():
            pm[samples[i]] = SolveRow(None, None, samples[i], None, None, "Excluded",
                                      "No compatible pairings")
            continue
        vals = np.exp(current.log_lr[cur_row[i], left_col[ok]])
        best_lr, best, top, runner = _ranked(vals, left_arr[ok], thr2)
        if len(top) > 1:
            also = ", ".join(f"{missing[j]} (LR={_fmt(x)})" for x, j in top if j != best)
            pm[samples[i]] = SolveRow(fam_of[missing[best]], missing[best], samples[i], best_lr,
                                      None, "Disputed", f"Also: {also}")
        elif len(top) == 1:
            cmt = "Runner-up: -" if runner is None else f"Runner-up: {missing[runner[1]]} (LR={_fmt(runner[0])})"
            pm[samples[i]] = SolveRow(fam_of[missing[best]], missing[best], samples[i], best_lr,
                                      None, "Probable", cmt)
        elif best_lr >= 1:
            pm[samples[i]] = SolveRow("", "", samples[i], best_lr, None, "Inconclusive",
                                      f"Best: {missing[best]}")
        else:
            pm[samples[i]] = SolveRow("", "", samples[i], best_lr, None, "No match", None)

    for j in rem_m:
        if missing[j] not in am:
            am[missing[j]] = SolveRow(fam_of[missing[j]], missing[j], None, None, None,
                                      "Inconclusive", None)
    fam_order = {f: k for k, f in enumerate(dict.fromkeys(problem.family))}
    am_rows = sorted(am.values(), key=lambda r: (fam_order.get(r.family or "", -1),
                                                 m_pos.get(r.missing or "", -1)))
    pm_rows = [pm[s] for s in samples if s in pm]
    return SolveResult(am_rows, pm_rows, undisputed_all)


def _ranked(vals: NDArray[np.float64], idx: NDArray[np.int64], thr2: float
            ) -> tuple[float, int, list[tuple[float, int]], tuple[float, int] | None]:
    """The best of candidates ``idx`` by LR ``vals`` (the first of equals), those above ``thr2``
    (in candidate order) and the runner-up (the best of the others; None if there are none)."""
    k = int(np.argmax(vals))
    above = np.nonzero(vals > thr2)[0]
    top = list(zip(vals[above].tolist(), idx[above].tolist(), strict=True))
    runner = None
    if vals.size > 1:
        rest = vals.copy()
        rest[k] = -1.0   # LRs are >= 0
        r = int(np.argmax(rest))
        runner = (float(vals[r]), int(idx[r]))
    return float(vals[k]), int(idx[k]), top, runner


def _lowest_counts(excl: NDArray[np.float64], pairing: NDArray[np.bool_], rem_s: list[int],
                   rem_m: list[int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The fewest incompatible markers of each remaining sample over its remaining candidate
    pairings, and of each remaining missing person (inf: no candidate), in row chunks."""
    rs, cm = np.array(rem_s, dtype=np.int64), np.array(rem_m, dtype=np.int64)
    low_s = np.full(rs.size, np.inf)
    low_m = np.full(cm.size, np.inf)
    for lo in range(0, rs.size, 1024):
        r = rs[lo:lo + 1024]
        sub = np.where(pairing[np.ix_(r, cm)], excl[np.ix_(r, cm)], np.inf)
        low_s[lo:lo + r.size] = sub.min(axis=1, initial=np.inf)
        low_m = np.minimum(low_m, sub.min(axis=0, initial=np.inf))
    return low_s, low_m


def _excl_comment(low: float) -> str:
    return "No compatible pairings" if math.isinf(low) else f"{int(low)}+ inconsistencies"


def _subproblem(problem: JointProblem, fixed: Mapping[str, str], rem_s: list[int],
                rem_m: list[int]) -> JointProblem:
    """The problem conditional on ``fixed``, restricted to the remaining samples and missing."""
    cond = condition_on(problem, fixed)
    keep_s = [cond.sample_index[problem.samples[i]] for i in rem_s]
    keep_m = [cond.missing_index[problem.missing[j]] for j in rem_m]
    if keep_s == list(range(len(cond.samples))) and keep_m == list(range(len(cond.missing))):
        return cond   # nothing more to leave out: no copy of the matrix
    return JointProblem(
        tuple(cond.samples[i] for i in keep_s), tuple(cond.missing[j] for j in keep_m),
        tuple(cond.family[j] for j in keep_m), cond.log_lr[np.ix_(keep_s, keep_m)],
        cond.loglik0_family, cond.sample_loglik[keep_s], cond.family_loglik,
    )


def _complex_family(current: JointProblem, fam: str, js: list[int], rem_s: list[int],
                    pairing: NDArray[np.bool_], threshold: float, sib: set[frozenset[str]],
                    max_assign: int, am: dict[str, SolveRow], pm: dict[str, SolveRow],
                    resolved_s: set[int], resolved_m: set[int], samples: Sequence[str],
                    missing: Sequence[str], time_limit: float | None = None) -> None:
    """Joint analysis of one family with several remaining missing persons.

    A missing person whose remaining pairings all have LR 0 takes no part in it: it is
    *Excluded* ("No compatible pairings"), as in dvir (icmp's M2).
    """
    if time_limit is not None and time_limit <= MIN_FAMILY_SECONDS:
        for j in js:
            am[missing[j]] = SolveRow(fam, missing[j], None, None, None, "Inconclusive",
                                      "Joint analysis not run: time limit reached")
        return
    cut_note = ""
    full = _table_size(current, fam, js, rem_s, pairing, samples, missing, max_assign)
    if full is None:
        # too many assignments for a joint analysis of the family against every sample: the
        # samples with the largest pairwise LRs to its missing persons, as many as fit
        rem_s, cut_note = _family_candidates(current, js, rem_s, pairing, samples, missing, max_assign)
    cs = [current.sample_index[samples[i]] for i in rem_s]
    with np.errstate(invalid="ignore"):
        lr_sub = np.exp(current.log_lr[np.ix_(np.array(cs, dtype=np.int64),
                                              np.array([current.missing_index[missing[j]] for j in js],
                                                       dtype=np.int64))])
        any_pos = np.asarray((pairing[np.ix_(rem_s, js)] & (lr_sub > 0)).any(axis=0), dtype=bool)
        positive = [bool(x) for x in any_pos]
    for j, has in zip(js, positive, strict=True):
        if not has:
            am[missing[j]] = SolveRow(fam, missing[j], None, None, None, "Excluded", "No compatible pairings")
            resolved_m.add(j)
    js = [j for j, has in zip(js, positive, strict=True) if has]
    if not js:
        return
    cm = [current.missing_index[missing[j]] for j in js]
    # samples with no possible placement in the family can only be "*" there: left out (they
    # change no assignment's likelihood and would each be a component of their own)
    placeable: list[bool] = np.asarray((pairing[np.ix_(rem_s, js)]
                                        & np.isfinite(current.log_lr[np.ix_(cs, cm)])).any(axis=1)).tolist()
    rem_s = [i for i, ok in zip(rem_s, placeable, strict=True) if ok]
    cs = [c for c, ok in zip(cs, placeable, strict=True) if ok]
    llr = current.log_lr[np.ix_(cs, cm)].copy()
    sub_pairing = pairing[np.ix_(rem_s, js)]
    llr[~sub_pairing] = np.nan
    sub = JointProblem(tuple(samples[i] for i in rem_s), tuple(missing[j] for j in js),
                       (fam,) * len(js), llr, current.loglik0_family,
                       current.sample_loglik[cs], _chained(current.family_loglik))
    res = solve_joint(sub, max_assign=max_assign, top=1, time_limit=time_limit)
    table = _full_table(sub, res, max_assign)
    glr = res.glr
    lr = np.exp(llr)
    joint_txt = "Joint: {" + ",".join(missing[j] for j in js) + "}" + cut_note
    done_m: set[int] = set()
    done_s: set[int] = set()
    # symmetric full siblings first: their individual GLRs are ~1 by symmetry
    for a in range(len(js)):
        for b in range(a + 1, len(js)):
            m1, m2 = missing[js[a]], missing[js[b]]
            if frozenset((m1, m2)) not in sib:
                continue
            hit = _symmetric(table, a, b, threshold)
            if hit is None:
                continue
            kind, vics, g = hit
            if kind == "pair":
                v1, v2 = (samples[rem_s[v]] for v in vics)
                for m in (m1, m2):
                    am[m] = SolveRow(fam, m, f"{v1}/{v2}", None, g, "Symmetric match",
                                     f"Full siblings: {{{m1}, {m2}}} = {{{v1}, {v2}}}")
                for v in vics:
                    pm[samples[rem_s[v]]] = SolveRow(
                        fam, f"{m1}/{m2}", samples[rem_s[v]], float(lr[v, a]), g,
                        "Symmetric match", f"Full siblings: {{{v1}, {v2}}} = {{{m1}, {m2}}}")
                    done_s.add(rem_s[v])
            else:
                v = vics[0]
                vname = samples[rem_s[v]]
                am[m1] = SolveRow(fam, m1, vname, float(lr[v, a]), g, "Symmetric match",
                                  f"{vname} also matches {m2} (full siblings)")
                am[m2] = SolveRow(fam, m2, vname, float(lr[v, b]), g, "Symmetric match",
                                  f"{vname} also matches {m1} (full siblings)")
                pm[vname] = SolveRow(fam, f"{m1}/{m2}", vname, float(lr[v, a]), g,
                                     "Symmetric match", f"{m1} and {m2} are full siblings")
                done_s.add(rem_s[v])
            done_m.update((js[a], js[b]))
    for b, j in enumerate(js):
        if j in done_m:
            continue
        col = glr[:, b]
        ok = [v for v in range(len(rem_s)) if np.isfinite(col[v]) and col[v] >= threshold
              and rem_s[v] not in done_s]
        if ok:
            v = max(ok, key=lambda k: col[k])
            vname = samples[rem_s[v]]
            am[missing[j]] = SolveRow(fam, missing[j], vname, float(lr[v, b]), float(col[v]),
                                      "Match (GLR)", joint_txt)
            pm[vname] = SolveRow(fam, missing[j], vname, float(lr[v, b]), float(col[v]),
                                 "Match (GLR)", joint_txt)
            done_s.add(rem_s[v])
            done_m.add(j)
        else:
            lrs = lr[:, b][np.isfinite(lr[:, b])]
            gl = col[np.isfinite(col)]
            am[missing[j]] = SolveRow(fam, missing[j], None,
                                      float(lrs.max()) if lrs.size else None,
                                      float(gl.max()) if gl.size else None, "Inconclusive", None)
    resolved_s.update(done_s)
    resolved_m.update(done_m)


class _Chain:
    """A family likelihood whose joint terms come from the chain rule only (its batched ``many``
    hidden): a two-member family's terms for k candidate samples then cost k conditional genotype
    distributions (:meth:`dogtag.identify.dvi.FamilyLoglik.prefetch_conditional`), not k (k - 1)
    pedigree likelihoods. The two are equal up to rounding."""

    def __init__(self, base: FamilyLoglik) -> None:
        self.base = base
        self.conditional_term = base.conditional_term  # type: ignore[attr-defined]
        self.prefetch_conditional = getattr(base, "prefetch_conditional", None)

    def __call__(self, family: str, placed: Mapping[str, str]) -> float:
        return float(self.base(family, placed))


def _chained(f: FamilyLoglik | None) -> FamilyLoglik | None:
    """``f`` with joint terms by the chain rule where it offers conditional terms (no theta)."""
    theta = getattr(getattr(f, "case", None), "theta", 0.0)
    if f is None or getattr(f, "conditional_term", None) is None or theta > 0:
        return f
    return _Chain(f)


#: most samples in the joint analysis of one family when not all of them fit
MAX_FAMILY_CANDIDATES = 8
#: most joint family terms (pedigree likelihoods) one family's analysis may need
MAX_FAMILY_TERMS = 2000
#: a complex family's joint analysis is not started with less time than this left (seconds)
MIN_FAMILY_SECONDS = 2.0


def _table_size(current: JointProblem, fam: str, js: list[int], rem_s: list[int], pairing: NDArray[np.bool_],
                samples: Sequence[str], missing: Sequence[str], max_assign: int) -> int | None:
    """Number of assignments of the family's joint analysis over ``rem_s`` (None: more than ``max_assign``)."""
    from dogtag.identify.components import enumerate_component, joint_terms_needed

    rows_i = np.array([current.sample_index[samples[i]] for i in rem_s], dtype=np.int64)
    cols = np.array([current.missing_index[missing[j]] for j in js], dtype=np.int64)
    ok = pairing[np.ix_(rem_s, js)] & np.isfinite(current.log_lr[np.ix_(rows_i, cols)])
    n_single = int(ok.sum())
    # every assignment placing two or more samples needs its own joint family term: stop
    # enumerating as soon as there are more of those than allowed
    cap = min(max_assign, MAX_FAMILY_TERMS + 1 + n_single)
    if len(js) == 2:
        # counted, not enumerated: nobody, one sample on either, or two different samples
        n_a, n_b = (int(x) for x in ok.sum(axis=0))
        pairs = n_a * n_b - int((ok[:, 0] & ok[:, 1]).sum())
        total = 1 + n_single + pairs
        return None if total > cap or pairs > MAX_FAMILY_TERMS else total
    options = [np.append(np.nonzero(r)[0], -1).astype(np.int64) for r in ok]
    rows = enumerate_component(options, len(js), cap)
    if rows is None:
        return None
    if joint_terms_needed(current, cols.tolist(), rows) > MAX_FAMILY_TERMS:
        return None
    return int(rows.shape[0])


def _family_candidates(current: JointProblem, js: list[int], rem_s: list[int], pairing: NDArray[np.bool_],
                       samples: Sequence[str], missing: Sequence[str], max_assign: int) -> tuple[list[int], str]:
    """The samples with the largest pairwise LRs to the family's missing persons, at most
    :data:`MAX_FAMILY_CANDIDATES` and as many as keep the analysis within ``max_assign``."""
    rows = np.array([current.sample_index[samples[i]] for i in rem_s], dtype=np.int64)
    cols = np.array([current.missing_index[missing[j]] for j in js], dtype=np.int64)
    sub = np.where(pairing[np.ix_(rem_s, js)], current.log_lr[np.ix_(rows, cols)], np.nan)
    sub = np.where(np.isnan(sub), -np.inf, sub)
    best_of = dict(zip(rem_s, sub.max(axis=1, initial=-np.inf).tolist(), strict=True))

    def best(i: int) -> float:
        return best_of[i]

    ranked = sorted(rem_s, key=lambda i: (-best(i), i))
    n = min(len(ranked), MAX_FAMILY_CANDIDATES)
    while n > 1 and _table_size(current, "", js, ranked[:n], pairing, samples, missing, max_assign) is None:
        n -= 1
    keep = sorted(ranked[:n])
    left = [best(i) for i in ranked[n:]]
    top_left = max(left) if left else -math.inf
    note = (f" (joint analysis over the {n} samples with the largest LRs; the others' LRs are at most "
            f"{_fmt(math.exp(top_left)) if top_left > -math.inf else 0})")
    return keep, note


def _full_table(sub: JointProblem, res: object, max_assign: int) -> tuple[np.ndarray, np.ndarray]:
    """All assignments of a family sub-problem with their log-likelihoods (for set GLRs)."""
    from dogtag.identify.components import enumerate_component, score_rows

    n_s, n_m = sub.log_lr.shape
    options = []
    for s in range(n_s):
        opts = [j for j in range(n_m) if np.isfinite(sub.log_lr[s, j])] + [-1]
        options.append(np.array(opts, dtype=np.int64))
    rows = enumerate_component(options, n_m, max_assign)
    if rows is None:
        raise ValueError(f"family {sub.family[0]!r}: too many assignments for the symmetric-match "
                         f"analysis (more than {max_assign})")
    return rows, score_rows(sub, list(range(n_s)), list(range(n_m)), rows)


def _symmetric(table: tuple[np.ndarray, np.ndarray], a: int, b: int,
               threshold: float) -> tuple[str, list[int], float] | None:
    """Symmetric support for missing a, b: two samples filling both, or one sample in either.

    Returns (kind, sample indices, GLR) with GLR = max likelihood of the event /
    max likelihood of its complement, when the GLR reaches ``threshold``.
    """
    rows, ll = table
    best = int(np.argmax(ll))
    on_a = rows[best] == a
    on_b = rows[best] == b
    va, vb = np.nonzero(on_a)[0], np.nonzero(on_b)[0]

    def glr(event: np.ndarray) -> float:
        if not event.any() or event.all():
            return math.nan
        return math.exp(float(ll[event].max() - ll[~event].max()))

    if va.size and vb.size:
        v1, v2 = int(va[0]), int(vb[0])
        event = (((rows[:, v1] == a) & (rows[:, v2] == b))
                 | ((rows[:, v1] == b) & (rows[:, v2] == a)))
        g = glr(event)
        if g >= threshold:
            return "pair", sorted([v1, v2]), g
    for v in (*va, *vb):
        event = (rows[:, v] == a) | (rows[:, v] == b)
        g = glr(event)
        if g >= threshold:
            return "single", [int(v)], g
    return None
