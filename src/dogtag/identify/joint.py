"""Joint identification: every assignment of pm samples to missing persons, with posteriors.

An *assignment* maps each pm sample to one missing person or to ``"*"`` (not
among the missing), using each missing person at most once. Its likelihood is
that of all the data with the samples placed in the reference pedigrees
(Egeland, T., Kling, D., Mostad, P. (2016) *Relationship Inference with Familias
and R*, ch. 4; Kling, D., Egeland, T., Tillmar, A. (2021) *Mass Identifications:
Statistical Methods in Forensic Genetics*, ch. 4; dvir's ``dviJoint()`` and
``Bmarginal()``, Vigeland, M. D. and Egeland, T. (2021) Joint DNA-based disaster
victim identification. *Sci. Rep.* 11:13661). With ``loglik0`` the null
log-likelihood (nobody placed: every family alone, every sample alone under
Hardy-Weinberg),

    loglik(a) = loglik0 + sum over families f of  log LR_f(placements of a in f)

where for a family with one placement ``s -> m`` the term is the pairwise
``log LR(s, m)`` of the blind search, and for a family with two or more placements
it is the joint family term ``family_loglik(f, placements) - loglik0_f -
sum_s loglik_s`` (not a product of pairwise LRs). Single-missing families never
need the pedigree engine again.

Priors are products of per-sample weights ``w[s, a(s)]`` over the consistent
assignments. dvir's default, and ours, is the flat prior (all weights 1: every
consistent assignment equally likely a priori); dvir has no open/closed option.
Following the ISFG DVI recommendations (Prinz, M. et al. (2007) *Forensic Sci.
Int. Genet.* 1:3-12), a *closed* incident is one with a complete list of the
people involved (a passenger list): every sample is one of the missing persons,
``w[s, "*"] = 0``. An *open* incident may hold remains of people not on the list:
the flat prior, or :meth:`Prior.open` with the prior probability that a sample is
on the list. Per-pair priors (from non-DNA evidence: sex, age, place of loss) are
any other weights. Because neither the likelihood nor such a prior couples samples that
share no candidate, the problem splits into independent connected components of
the bipartite graph of non-excluded pairs (the missing persons of one family are
joined to each other). Each component is enumerated exactly (up to
``max_assign`` assignments); a bigger one whose families each have one missing
person there is solved exactly by dynamic programming
(:mod:`dogtag.identify.frontier` for sparse components,
:mod:`dogtag.identify.matching` for dense ones with up to 20 missing persons);
a big one is pruned with a proven error bound (:mod:`dogtag.identify.prune`); an open component
(every sample may be ``"*"``) that is still too big is reported by proven lower and upper bounds
of its pairing posteriors (:mod:`dogtag.identify.bounds`); only what remains is sampled by
Metropolis MCMC (:mod:`dogtag.identify.mcmc`). Posterior pairing probabilities are per-component
marginals; the top assignments of the whole case are the k best of the product,
found by a heap merge. :func:`solve_joint` is :func:`plan_joint` (checks and
components), :func:`solve_component` per component and :func:`assemble_joint`, so
that :mod:`dogtag.scale` can solve the components on a cluster.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.bounds import PARTNER_SECONDS, bounded_component
from dogtag.identify.components import (
    Component,
    component_provenance,
    component_resolved,
    enumerate_component,
    exact_component,
    joint_terms_needed,
    merge_top,
    split_components,
)
from dogtag.identify.frontier import (
    MAX_FRONTIER,
    SMALL_FRONTIER,
    frontier_component,
    frontier_cost_ok,
    frontier_plan,
)
from dogtag.identify.matching import dp_component, dp_feasible
from dogtag.identify.mcmc import MCMCSettings, sample_component
from dogtag.identify.problem import STAR, FamilyLoglik, JointProblem, Prior
from dogtag.identify.prune import scaled_weights, solve_pruned

__all__ = ["STAR", "Assignment", "FamilyLoglik", "JointPlan", "JointProblem", "JointResult", "Prior",
           "assemble_joint", "plan_joint", "solve_component", "solve_joint"]

@dataclass(frozen=True)
class Assignment:
    """One assignment of the whole case."""

    pairs: dict[str, str]  # sample -> missing label or "*"
    loglik: float
    log_lr: float  # natural log of LR against the all-"*" assignment
    posterior: float

    @property
    def lr(self) -> float:
        return math.exp(self.log_lr) if self.log_lr < 709.0 else math.inf

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; non-finite numbers (LR beyond float range, log 0) become None."""
        return {"assignment": self.pairs, "loglik": _num(self.loglik), "lr": _num(self.lr),
                "log10_lr": _num(self.log_lr / math.log(10)), "posterior": _num(self.posterior)}


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass
class JointResult:
    """Joint identification of a whole case.

    Attributes
    ----------
    samples, missing : labels; ``columns`` = missing + ``["*"]``.
    posterior : ndarray, shape (S, M + 1); P(sample = column | data) (dvir's Bmarginal).
    glr : ndarray, shape (S, M); generalised LR of each pairing (nan = undefined).
    assignments : best assignments, best first.
    loglik0 : null log-likelihood.
    n_assignments : number of consistent assignments (None if some component was sampled).
    method : "exact", "exact-by-component" or "mcmc" (some component sampled).
    components : per-component results.
    prior : name of the prior.
    notes : remarks a reviewer should read.
    unresolved : samples of components that could not be solved (a sampler that did not
        converge within its time); their posterior rows are nan (null in JSON).
    posterior_upper : ndarray, shape (S, M + 1), or None; when some component is bounded
        (method "bounds": its ``posterior`` entries are proven lower bounds), the proven upper
        bounds there and the posterior elsewhere.
    """

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    posterior: NDArray[np.float64]
    glr: NDArray[np.float64]
    assignments: list[Assignment]
    loglik0: float
    n_assignments: int | None
    method: str
    components: list[Component]
    prior: str
    fixed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    posterior_upper: NDArray[np.float64] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.missing, STAR)

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "prior": self.prior,
            "n_assignments": self.n_assignments,
            "loglik0": self.loglik0,
            "fixed": self.fixed,
            "posterior": {"samples": list(self.samples), "columns": list(self.columns),
                          "p": [[_num(float(x)) for x in row] for row in self.posterior]},
            "glr": {"samples": list(self.samples), "missing": list(self.missing),
                    "glr": [[_num(float(x)) for x in row] for row in self.glr]},
            "assignments": [a.to_dict() for a in self.assignments],
            "components": [
                {"samples": [self.samples[i] for i in c.samples],
                 "missing": [self.missing[j] for j in c.missing],
                 **component_provenance(c), "n_assignments": c.n_assignments,
                 **({"diagnostics": c.diagnostics} if c.diagnostics else {})}
                for c in self.components
            ],
            "unresolved": self.unresolved,
            "notes": self.notes,
            **({} if self.posterior_upper is None else {"posterior_upper": {
                "samples": list(self.samples), "columns": list(self.columns),
                "p": [[_num(float(x)) for x in row] for row in self.posterior_upper]}}),
        }


# ---------------------------------------------------------------------------
# the driver


@dataclass
class JointPlan:
    """A joint identification split into independent components (see :func:`plan_joint`).

    ``allowed`` (S, M) are the pairs that may be placed, ``star_ok`` (S,) the
    samples that may be ``"*"``, ``logprior`` (S, M + 1) the log prior weights;
    ``components`` lists (samples, missing) index lists, in the order they are solved
    (component ``k`` is sampled, if it must be, with seed ``seed + k``).
    """

    allowed: NDArray[np.bool_]
    star_ok: NDArray[np.bool_]
    logprior: NDArray[np.float64]
    components: list[tuple[list[int], list[int]]]
    prior: str
    fixed: dict[str, str]
    max_assign: int
    top: int
    mcmc: MCMCSettings | None
    seed: int
    dp: str


def plan_joint(
    problem: JointProblem,
    *,
    prior: Prior | None = None,
    max_assign: int = 100_000,
    top: int = 200,
    fixed: Mapping[str, str] | None = None,
    mcmc: MCMCSettings | None = None,
    seed: int = 1,
    dp: str = "auto",
) -> JointPlan:
    """Check the arguments of :func:`solve_joint` and split the problem into components
    (:func:`dogtag.identify.components.split_components`)."""
    if dp not in ("auto", "frontier", "subset", "prune", "bounds", "none"):
        raise ValueError(f"`dp` must be auto, frontier, subset, prune, bounds or none, got {dp!r}")
    if max_assign < 1:
        raise ValueError(f"`max_assign` must be >= 1, got {max_assign}")
    if top < 1:
        raise ValueError(f"`top` must be >= 1, got {top}")
    prior = prior or Prior.flat()
    n_s, n_m = problem.log_lr.shape
    logprior = prior.log_weights(n_s, n_m)
    allowed = np.isfinite(problem.log_lr) & np.isfinite(logprior[:, :n_m])
    star_ok = np.isfinite(logprior[:, n_m])
    fixed = dict(fixed or {})
    s_index = {s: i for i, s in enumerate(problem.samples)}
    m_index = {m: j for j, m in enumerate(problem.missing)}
    for s_lab, m_lab in fixed.items():
        if s_lab not in s_index or m_lab not in m_index:
            raise ValueError(f"`fixed` pairing {s_lab}={m_lab} names an unknown sample or missing")
        s, m = s_index[s_lab], m_index[m_lab]
        if not allowed[s, m]:
            raise ValueError(f"`fixed` pairing {s_lab}={m_lab} is excluded or not a candidate")
        allowed[s, :] = False
        allowed[:, m] = False
        allowed[s, m] = True
        star_ok = star_ok.copy()
        star_ok[s] = False
    no_option = [problem.samples[s] for s in range(n_s) if not star_ok[s] and not allowed[s].any()]
    if no_option:
        raise InconsistentCaseError(
            f"samples with no possible pairing under the prior: {', '.join(no_option)}"
        )
    return JointPlan(allowed, star_ok, logprior, split_components(problem, allowed), prior.name, fixed,
                     max_assign, top, mcmc, seed, dp)


def solve_component(
    problem: JointProblem,
    samples: list[int],
    missing: list[int],
    allowed: NDArray[np.bool_],
    star_ok: NDArray[np.bool_],
    logprior: NDArray[np.float64],
    *,
    max_assign: int,
    top: int,
    mcmc: MCMCSettings | None,
    seed: int,
    dp: str = "auto",
    pruned: NDArray[np.float64] | None = None,
    deadline: float | None = None,
) -> tuple[Component, str | None]:
    """Solve one component: enumeration, dynamic programming (frontier or subsets), exact
    solution of the kept parts after pruning with a proven bound (:mod:`dogtag.identify.prune`),
    or MCMC with ``seed``.

    ``allowed`` (S, M), ``star_ok`` (S,) and ``logprior`` (S, M + 1) are indexed like
    ``problem``; ``samples`` and ``missing`` are the component's indices, ascending.
    ``pruned`` (S,): log weight of pairs already pruned per sample (by :func:`plan_joint`);
    ``deadline`` (``time.monotonic()``): when a sampler must stop.
    Returns the component and a note for the reviewer (or None).
    """
    settings = mcmc or MCMCSettings()
    n_m = problem.log_lr.shape[1]
    if (pruned is None and dp in ("auto", "bounds") and bool(star_ok[samples].all())
            and len(samples) * len(missing) > DENSE_OPEN_PAIRS):
        # a huge open component: no exact method reaches it, and its options are not even listed
        sub = allowed[np.ix_(samples, missing)]
        if int(sub.sum()) > DENSE_OPEN_PAIRS:
            return _bounded(problem, samples, missing, sub, logprior, deadline)
    local = {m: j for j, m in enumerate(missing)}
    options = []
    for s in samples:
        opts = [local[int(m)] for m in np.nonzero(allowed[s])[0]]
        if star_ok[s]:
            opts.append(-1)
        options.append(np.array(opts, dtype=np.int64))
    lp = logprior[np.ix_(samples, [*missing, n_m])]
    extra = None if pruned is None else pruned[samples]
    if dp not in ("prune", "bounds") and (extra is None or not np.any(np.isfinite(extra))):
        solved = _solve_exact(problem, samples, missing, options, lp, max_assign=max_assign, top=top, dp=dp,
                              max_family_terms=_family_term_budget(deadline))
        if solved is not None:
            return solved
    # an open component (every sample may be "*") is bounded rather than sampled
    open_ = bool(star_ok[samples].all()) and extra is None and dp != "none"
    if open_ and dp == "bounds":
        return _bounded(problem, samples, missing, options, lp, deadline)
    # with dp="auto" an open component is bounded where a part would have to be sampled
    open_ = open_ and dp == "auto"
    if dp != "none":
        k_seed = [seed]

        def part(ps: list[int], pm: list[int], po: list[NDArray[np.int64]],
                 plp: NDArray[np.float64]) -> tuple[Component, float | None]:
            order = sorted(range(len(ps)), key=lambda t: len(po[t]))
            ps, po, plp = [ps[t] for t in order], [po[t] for t in order], plp[order]
            ex = None
            if deadline is None or time.monotonic() < deadline:
                ex = _solve_exact(problem, ps, pm, po, plp, max_assign=max_assign, top=top,
                                  dp="auto" if dp == "prune" else dp,
                                  max_family_terms=_family_term_budget(deadline))
            if ex is not None:
                return ex[0], _log_normaliser(ex[0], plp)
            if open_ and len(ps) > MAX_SAMPLED_OPEN:
                raise _Unaffordable
            k_seed[0] += 1
            comp = sample_component(problem, ps, pm, po, plp, top=top, settings=settings, seed=k_seed[0],
                                    deadline=deadline)
            return comp, None

        try:
            comp = solve_pruned(problem, samples, missing, options, lp, top=top, solve_part=part, pruned=extra)
        except _Unaffordable:
            return _bounded(problem, samples, missing, options, lp, deadline)
        if open_ and not component_resolved(comp):
            return _bounded(problem, samples, missing, options, lp, deadline)
        d = comp.diagnostics
        return comp, (
            f"component with {len(samples)} samples and {len(missing)} missing persons: most probable "
            f"assignment by linear assignment; {d['pruned_pairs']} pairs pruned, the {d['parts']} kept parts "
            f"(largest {d['largest_part']} samples) solved "
            + ("exactly" if comp.method == "exact-pruned" else "exactly or by MCMC")
            + ("; posterior error at most {:.2g} (total variation)".format(float(str(d["error_bound"])))
               if d["error_bound"] is not None else "; no proven error bound (" + str(d["bound_note"]) + ")")
        )
    order = sorted(range(len(samples)), key=lambda k: len(options[k]))
    samples = [samples[k] for k in order]
    options = [options[k] for k in order]
    comp = sample_component(problem, samples, missing, options, lp[order], top=top,
                            settings=settings, seed=seed, deadline=deadline)
    return comp, (
        f"component with {len(samples)} samples and {len(missing)} missing persons has "
        f"more than {max_assign} assignments: sampled by MCMC "
        f"({settings.chains} chains x {settings.iterations} iterations, seed "
        f"{seed}; max R-hat {comp.diagnostics.get('max_rhat')})"
    )


#: an open component's pruned part with more samples than this is not sampled: the component is bounded
MAX_SAMPLED_OPEN = 100
#: an open component with more candidate pairs than this is bounded at once (dp "auto" or "bounds")
DENSE_OPEN_PAIRS = 5_000_000


class _Unaffordable(Exception):
    """A kept part of an open component is too big to solve exactly: bound the component instead."""


def _bounded(problem: JointProblem, samples: list[int], missing: list[int],
             options: list[NDArray[np.int64]] | NDArray[np.bool_], lp: NDArray[np.float64],
             deadline: float | None = None) -> tuple[Component, str]:
    """An open component reported by proven bounds on its posteriors (:mod:`dogtag.identify.bounds`);
    ``options`` per sample with ``lp`` its (S, k + 1) log prior, or the allowed pairs as a boolean
    matrix (S, k) with ``lp`` the whole problem's (S_all, M + 1) log prior."""
    if isinstance(options, np.ndarray):
        # ``lp`` is the whole problem's (S, M + 1) log prior here: the weights are built in row
        # chunks, with no (S, k) temporaries beside them
        k, n_m = len(missing), problem.log_lr.shape[1]
        rows, cols = np.asarray(samples, dtype=np.int64), np.asarray(missing, dtype=np.int64)
        every = cols.size == n_m and bool(np.all(cols == np.arange(n_m)))
        w = np.empty((rows.size, k))
        for lo in range(0, rows.size, 1024):
            r = rows[lo:lo + 1024]
            llr, pri = problem.log_lr[r], lp[r, :n_m]
            if not every:
                llr, pri = llr[:, cols], pri[:, cols]
            with np.errstate(invalid="ignore"):
                w[lo:lo + r.size] = np.where(options[lo:lo + r.size], llr + pri, -np.inf)
        wstar = np.array(lp[rows, n_m], dtype=np.float64)
    else:
        w, wstar = scaled_weights(problem, samples, missing, options, lp)
    seconds = PARTNER_SECONDS if deadline is None else min(PARTNER_SECONDS, max(0.0, deadline - time.monotonic()))
    comp = bounded_component(problem, samples, missing, w, wstar, seconds=seconds)
    d = comp.diagnostics
    return comp, (
        f"component with {len(samples)} samples and {len(missing)} missing persons is too big to solve "
        "exactly: every sample may be nobody on the list, so each pairing's posterior is reported by a "
        "proven lower bound (upper bound beside it; widest interval at a sample's best option "
        f"{d['widest_interval_at_best']:.2g}); {d['lower_ge_0.99']} pairings have lower bound >= 0.99"
        + ("; " + str(d["bound_note"]) if "bound_note" in d else ""))


#: seconds one joint family term (a pedigree likelihood over all markers) is budgeted at
FAMILY_TERM_SECONDS = 0.03


def _family_term_budget(deadline: float | None) -> int | None:
    """How many joint family terms fit in the time left (None: no limit)."""
    if deadline is None:
        return None
    return max(0, int((deadline - time.monotonic()) / FAMILY_TERM_SECONDS))


def _log_normaliser(comp: Component, lp: NDArray[np.float64]) -> float:
    """log Z of an exactly solved component from its best row (``lp`` in the component's sample order)."""
    r0 = comp.rows[0]
    k = lp.shape[1] - 1
    cols = np.where(r0 < 0, k, r0)
    return float(comp.loglr[0] + lp[np.arange(r0.size), cols].sum() - comp.logpost[0])


def _solve_exact(problem: JointProblem, samples: list[int], missing: list[int],
                 options: list[NDArray[np.int64]], lp: NDArray[np.float64], *, max_assign: int, top: int,
                 dp: str, max_family_terms: int | None = None) -> tuple[Component, str | None] | None:
    """Enumeration, or frontier / subset dynamic programming when affordable; None otherwise.

    ``max_family_terms``: enumerate only if it needs at most this many joint family terms
    (pedigree likelihoods of families with several placements)."""
    # most constrained first keeps the partial enumeration small
    order = sorted(range(len(samples)), key=lambda k: len(options[k]))
    samples = [samples[k] for k in order]
    options = [options[k] for k in order]
    lp = lp[order]
    rows = enumerate_component(options, len(missing), max_assign)
    if rows is not None and (max_family_terms is None
                             or joint_terms_needed(problem, missing, rows) <= max_family_terms):
        return exact_component(problem, samples, missing, rows, lp, top), None
    additive = len({problem.family[m] for m in missing}) == len(missing)
    plain = [[int(o) for o in op if o >= 0] for op in options]
    width = -1
    if additive and dp != "none":
        width = frontier_plan(plain)[2] if frontier_cost_ok(plain) else MAX_FRONTIER + 1
    subset_ok = dp in ("auto", "subset") and dp_feasible(problem, missing, len(samples))
    use_frontier = additive and (dp == "frontier" or (
        dp == "auto" and (width <= SMALL_FRONTIER or (not subset_ok and width <= MAX_FRONTIER))))
    if use_frontier:
        comp = frontier_component(problem, samples, missing, options, lp, top=top)
        return comp, (
            f"component with {len(samples)} samples and {len(missing)} missing persons has "
            f"{comp.n_assignments} assignments (more than max_assign = {max_assign}): "
            "solved exactly by dynamic programming over a frontier of "
            f"{comp.diagnostics['frontier']} missing persons, not enumerated"
        )
    if subset_ok:
        comp = dp_component(problem, samples, missing, options, lp, top=top)
        return comp, (
            f"component with {len(samples)} samples and {len(missing)} missing persons has "
            f"{comp.n_assignments} assignments (more than max_assign = {max_assign}): "
            "solved exactly by dynamic programming over subsets, not enumerated"
        )
    return None


def solve_joint(
    problem: JointProblem,
    *,
    prior: Prior | None = None,
    max_assign: int = 100_000,
    top: int = 200,
    fixed: Mapping[str, str] | None = None,
    mcmc: MCMCSettings | None = None,
    seed: int = 1,
    dp: str = "auto",
    time_limit: float | None = None,
) -> JointResult:
    """Joint identification of a case.

    Parameters
    ----------
    problem : the pairwise result (:class:`JointProblem`).
    prior : :class:`Prior`; default flat (dvir's ``Bmarginal`` default).
    max_assign : largest component enumerated exactly; bigger components are
        sampled by MCMC (:func:`dogtag.identify.mcmc.sample_component`).
    top : number of best assignments reported.
    fixed : pairings fixed beforehand (sample -> missing label), e.g. the undisputed
        identifications; the result is conditional on them.
    mcmc : :class:`dogtag.identify.mcmc.MCMCSettings` (default settings if None).
    seed : seed of the MCMC sampler (component ``k`` uses ``seed + k``; recorded in the result).
    dp : exact dynamic programming for components too big to enumerate: "auto"
        (frontier DP when the frontier is small, else subset DP when it fits, else
        frontier DP up to a frontier of 14),
        "frontier" or "subset" (only that one), "prune" (always the pruned decomposition of
        :mod:`dogtag.identify.prune`, used by default for additive components too big for
        the dynamic programming), "bounds" (proven posterior bounds,
        :mod:`dogtag.identify.bounds`, for every open component too big to enumerate; "auto"
        uses them for an open component when a pruned part of more than
        :data:`MAX_SAMPLED_OPEN` samples would otherwise be sampled, or when the pruned solution
        is unresolved: a sampler that did not converge, or no proven pruning bound), "none"
        (sample them by MCMC).

    time_limit : seconds the whole solution may take (None: no limit). Exact methods run
        only where they fit in the time left; a sampler stops when it is spent. What could
        not be solved in time is reported unresolved (:attr:`JointResult.unresolved`), never
        as an answer.

    Returns
    -------
    :class:`JointResult`.
    """
    deadline = None if time_limit is None else time.monotonic() + float(time_limit)
    plan = plan_joint(problem, prior=prior, max_assign=max_assign, top=top, fixed=fixed,
                      mcmc=mcmc, seed=seed, dp=dp)
    solved = [
        solve_component(problem, samples, missing, plan.allowed, plan.star_ok, plan.logprior,
                        max_assign=max_assign, top=top, mcmc=mcmc, seed=seed + k, dp=dp, deadline=deadline)
        for k, (samples, missing) in enumerate(plan.components)
    ]
    return assemble_joint(problem, plan, solved)


def assemble_joint(problem: JointProblem, plan: JointPlan,
                   solved: Sequence[tuple[Component, str | None]]) -> JointResult:
    """The :class:`JointResult` from the solved components, in the plan's order."""
    comps = [c for c, _ in solved]
    notes = [n for _, n in solved if n is not None]
    top = plan.top
    n_s, n_m = problem.log_lr.shape

    whole = (len(comps) == 1 and comps[0].method == "bounds" and np.array_equal(comps[0].samples, np.arange(n_s))
             and np.array_equal(comps[0].missing, np.arange(n_m)))
    # one bounded component in the problem's order (a huge open incident): its arrays are the result's
    posterior = comps[0].marginals if whole else np.zeros((n_s, n_m + 1))
    glr = comps[0].glr if whole else np.full((n_s, n_m), np.nan)
    unresolved: list[str] = []
    for c in comps:
        cols = np.append(c.missing, n_m)
        if not whole:
            posterior[np.ix_(c.samples, cols)] = c.marginals
            glr[np.ix_(c.samples, c.missing)] = c.glr
        if not component_resolved(c):
            # no conclusion from a sampler that did not converge: no posterior at all
            posterior[c.samples, :] = np.nan
            glr[c.samples, :] = np.nan
            unresolved += [problem.samples[i] for i in c.samples]
    if not whole:   # (a bounded component's GLRs are all nan)
        with np.errstate(over="ignore"):
            glr = np.exp(glr)
    upper = None
    if whole and comps[0].upper is not None:
        upper = comps[0].upper
    elif any(c.upper is not None for c in comps):
        upper = posterior.copy()
        for c in comps:
            if c.upper is not None:
                upper[np.ix_(c.samples, np.append(c.missing, n_m))] = c.upper

    scores, choice = merge_top(comps, top)
    loglik0 = problem.loglik0
    assignments = []
    for k in range(scores.shape[0]):
        pairs = dict.fromkeys(problem.samples, STAR)
        loglr = 0.0
        for c_idx, c in enumerate(comps):
            r = int(choice[k, c_idx])
            loglr += float(c.loglr[r])
            for s_loc, j in enumerate(c.rows[r]):
                if j >= 0:
                    pairs[problem.samples[c.samples[s_loc]]] = problem.missing[c.missing[j]]
        post = math.nan if unresolved or upper is not None else float(math.exp(scores[k]))
        assignments.append(Assignment(pairs, loglik0 + loglr, loglr, post))

    exact = all(c.method in ("exact", "exact-dp") for c in comps)
    nontrivial = sum(1 for c in comps if (c.n_assignments or 2) > 1)
    n_total: int | None = None
    if exact:
        n_total = 1
        for c in comps:
            n_total *= int(c.n_assignments or 1)
    if exact:
        method = "exact" if nontrivial <= 1 else "exact-by-component"
    else:
        method = ("mcmc" if any(c.method == "mcmc" for c in comps) else
                  "bounds" if any(c.method == "bounds" for c in comps) else "exact-pruned")
    if unresolved:
        notes.append(f"{len(unresolved)} samples unresolved (a sampler did not converge in the time "
                     f"given): {', '.join(unresolved[:20])}{' ...' if len(unresolved) > 20 else ''}; "
                     "no posterior is reported for them, and the posteriors of whole assignments are "
                     "unknown")
    if upper is not None:
        notes.append("some components are bounded (method 'bounds'): their posteriors are proven lower "
                     "bounds, with upper bounds in posterior_upper, and the posteriors of whole "
                     "assignments are unknown")
    return JointResult(problem.samples, problem.missing, posterior, glr, assignments, loglik0,
                       n_total, method, comps, plan.prior, plan.fixed, notes, sorted(set(unresolved)), upper)
