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
assignments (dvir's default is the flat prior: all weights 1). A *closed*
incident sets ``w[s, "*"] = 0`` (every sample is one of the missing persons); an
*open* incident keeps it; per-pair priors (from non-DNA evidence) are any other
weights. Because neither the likelihood nor such a prior couples samples that
share no candidate, the problem splits into independent connected components of
the bipartite graph of non-excluded pairs (the missing persons of one family are
joined to each other). Each component is enumerated exactly (up to
``max_assign`` assignments) or, when too big, sampled by Metropolis MCMC
(:mod:`dogtag.identify.mcmc`). Posterior pairing probabilities are per-component
marginals; the top assignments of the whole case are the k best of the product,
found by a heap merge.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError

#: Joint log-likelihood of one family with some samples placed on its missing
#: persons: ``family_loglik(family, {missing: sample, ...})`` (natural log; the
#: samples' data included, the family's own reference data included).
FamilyLoglik = Callable[[str, Mapping[str, str]], float]

STAR = "*"


@dataclass(frozen=True, eq=False)
class JointProblem:
    """The pairwise result a joint identification starts from.

    Attributes
    ----------
    samples : pm sample ids, shape (S,).
    missing : missing-person labels, shape (M,), unique.
    family : family name of each missing person, shape (M,).
    log_lr : ndarray, float64, shape (S, M); pairwise natural-log LR of sample s
        placed on missing m vs unrelated. ``nan`` = not a candidate (e.g. sex),
        ``-inf`` = excluded (LR 0).
    loglik0_family : null log-likelihood of each family (reference data alone).
    sample_loglik : ndarray, float64, shape (S,); each sample's own log-likelihood
        (Hardy-Weinberg).
    family_loglik : joint log-likelihood of a family with several placements;
        needed only when a family with several missing persons can receive two or
        more samples at once.
    """

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    family: tuple[str, ...]
    log_lr: NDArray[np.float64]
    loglik0_family: Mapping[str, float]
    sample_loglik: NDArray[np.float64]
    family_loglik: FamilyLoglik | None = None
    _cache: dict[tuple[str, tuple[tuple[int, int], ...]], float] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(str(s) for s in self.samples))
        object.__setattr__(self, "missing", tuple(str(m) for m in self.missing))
        object.__setattr__(self, "family", tuple(str(f) for f in self.family))
        llr = np.asarray(self.log_lr, dtype=np.float64)
        vll = np.asarray(self.sample_loglik, dtype=np.float64)
        s, m = len(self.samples), len(self.missing)
        if llr.shape != (s, m):
            raise ValueError(f"`log_lr` has shape {llr.shape}, expected ({s}, {m})")
        if vll.shape != (s,):
            raise ValueError(f"`sample_loglik` has shape {vll.shape}, expected ({s},)")
        if len(self.family) != m:
            raise ValueError("`family` must give one family per missing person")
        if len(set(self.missing)) != m:
            raise ValueError("missing-person labels must be unique (use family:id)")
        if len(set(self.samples)) != s:
            raise ValueError("sample ids must be unique")
        if np.any(llr == np.inf):
            raise ValueError("`log_lr` has +inf entries")
        absent = sorted(set(self.family) - set(self.loglik0_family))
        if absent:
            raise ValueError(f"`loglik0_family` lacks families: {', '.join(absent)}")
        object.__setattr__(self, "log_lr", llr)
        object.__setattr__(self, "sample_loglik", vll)

    @classmethod
    def from_lr(
        cls,
        samples: Sequence[str],
        missing: Sequence[str],
        family: Sequence[str],
        lr: NDArray[np.float64] | Sequence[Sequence[float | None]],
        loglik0_family: Mapping[str, float],
        sample_loglik: Sequence[float] | NDArray[np.float64],
        family_loglik: FamilyLoglik | None = None,
    ) -> JointProblem:
        """Build from a pairwise LR matrix (``None``/``nan`` = not a candidate, 0 = excluded)."""
        arr = np.array(
            [[np.nan if x is None else float(x) for x in row] for row in lr], dtype=np.float64
        ).reshape(len(samples), len(missing))
        with np.errstate(divide="ignore"):
            llr = np.log(arr)
        return cls(tuple(samples), tuple(missing), tuple(family), llr, dict(loglik0_family),
                   np.asarray(sample_loglik, dtype=np.float64), family_loglik)

    @property
    def loglik0(self) -> float:
        """Null log-likelihood: all families and all samples alone."""
        fams = dict.fromkeys(self.family)
        return float(sum(self.loglik0_family[f] for f in fams) + self.sample_loglik.sum())

    @property
    def lr(self) -> NDArray[np.float64]:
        """Pairwise LR matrix, shape (S, M); nan = not a candidate."""
        return np.exp(self.log_lr)

    def family_term(self, fam: str, placed: Sequence[tuple[int, int]]) -> float:
        """log LR of family ``fam`` with placements ``(missing index, sample index)``.

        One placement gives the pairwise log LR; several call ``family_loglik``
        (cached), minus the null family and sample log-likelihoods.
        """
        if not placed:
            return 0.0
        if len(placed) == 1:
            m, s = placed[0]
            return float(self.log_lr[s, m])
        key = (fam, tuple(sorted(placed)))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self.family_loglik is None:
            raise ValueError(
                f"family {fam!r} has several missing persons placed at once; "
                "joint identification needs `family_loglik`"
            )
        ll = float(self.family_loglik(fam, {self.missing[m]: self.samples[s] for m, s in placed}))
        term = ll - self.loglik0_family[fam] - float(sum(self.sample_loglik[s] for _, s in placed))
        if math.isnan(term):
            term = -math.inf
        self._cache[key] = term
        return term


@dataclass(frozen=True)
class Prior:
    """Prior over assignments: a product of per-sample weights.

    ``weights[s, m]`` for pairing sample s with missing m and ``weights[s, M]``
    (the last column) for ``"*"``. ``None`` = flat (all 1, dvir's default).
    """

    weights: NDArray[np.float64] | None = None
    name: str = "flat"

    @classmethod
    def flat(cls) -> Prior:
        return cls(None, "flat")

    @classmethod
    def closed(cls, n_samples: int, n_missing: int) -> Prior:
        """Closed incident: every sample is one of the missing persons (no ``"*"``)."""
        w = np.ones((n_samples, n_missing + 1))
        w[:, -1] = 0.0
        return cls(w, "closed")

    @classmethod
    def pairs(cls, weights: NDArray[np.float64], star: float | NDArray[np.float64] = 1.0,
              *, name: str = "per-pair") -> Prior:
        """Per-pair prior weights, shape (S, M), and the weight of ``"*"`` per sample."""
        w = np.asarray(weights, dtype=np.float64)
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("prior weights must be finite and >= 0")
        st = np.broadcast_to(np.asarray(star, dtype=np.float64), (w.shape[0],))
        return cls(np.column_stack([w, st]), name)

    def log_weights(self, n_samples: int, n_missing: int) -> NDArray[np.float64]:
        if self.weights is None:
            return np.zeros((n_samples, n_missing + 1))
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (n_samples, n_missing + 1):
            raise ValueError(f"prior weights have shape {w.shape}, expected "
                             f"({n_samples}, {n_missing + 1})")
        with np.errstate(divide="ignore"):
            return np.log(w)


@dataclass
class Component:
    """One independent part of the problem and its solution.

    ``rows`` are the best assignments of the component (local missing index per
    local sample, -1 = ``"*"``), best first, with their log LR (``loglr``, sum of
    family terms) and log posterior within the component (``logpost``).
    """

    samples: NDArray[np.int64]
    missing: NDArray[np.int64]
    method: str
    n_assignments: int | None
    rows: NDArray[np.int64]
    loglr: NDArray[np.float64]
    logpost: NDArray[np.float64]
    marginals: NDArray[np.float64]  # (n local samples, n local missing + 1)
    glr: NDArray[np.float64]  # (n local samples, n local missing), log GLR, nan = undefined
    diagnostics: dict[str, object] = field(default_factory=dict)


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
        return {"assignment": self.pairs, "loglik": self.loglik, "lr": self.lr,
                "log10_lr": self.log_lr / math.log(10), "posterior": self.posterior}


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
                          "p": self.posterior.tolist()},
            "assignments": [a.to_dict() for a in self.assignments],
            "components": [
                {"samples": [self.samples[i] for i in c.samples],
                 "missing": [self.missing[j] for j in c.missing],
                 "method": c.method, "n_assignments": c.n_assignments,
                 **({"diagnostics": c.diagnostics} if c.diagnostics else {})}
                for c in self.components
            ],
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------
# components


def _components(problem: JointProblem, allowed: NDArray[np.bool_]) -> list[tuple[list[int], list[int]]]:
    """Connected components (samples, missing) of the graph of allowed pairs.

    Missing persons of one family are joined; samples with no allowed pair are
    singleton components. Missing persons without allowed pairs are left out.
    """
    n_s, n_m = allowed.shape
    parent = list(range(n_s + n_m))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    for s, m in zip(*np.nonzero(allowed), strict=True):
        union(int(s), n_s + int(m))
    active_m = np.nonzero(allowed.any(axis=0))[0]
    first: dict[str, int] = {}
    for m in active_m:
        f = problem.family[m]
        if f in first:
            union(n_s + int(m), n_s + first[f])
        else:
            first[f] = int(m)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for s in range(n_s):
        groups.setdefault(find(s), ([], []))[0].append(s)
    for m in active_m:
        r = find(n_s + int(m))
        if r in groups:
            groups[r][1].append(int(m))
    return list(groups.values())


def _enumerate(options: list[NDArray[np.int64]], n_missing: int, cap: int) -> NDArray[np.int64] | None:
    """All assignments: row k, column s = option of local sample s (-1 = "*").

    ``options[s]`` lists the allowed local missing indices (and -1 if "*" is
    allowed). Returns None if there would be more than ``cap`` rows (the count
    never shrinks from one sample to the next while "*" is allowed, so the check
    is exact then; with "*" forbidden it is conservative).
    """
    rows = np.zeros((1, 0), dtype=np.int64)
    used = np.zeros((1, n_missing), dtype=bool)
    for opts in options:
        new_rows, new_used = [], []
        total = 0
        for o in opts:
            keep = np.ones(rows.shape[0], dtype=bool) if o < 0 else ~used[:, o]
            r = rows[keep]
            u = used[keep]
            if o >= 0:
                u = u.copy()
                u[:, o] = True
            new_rows.append(np.column_stack([r, np.full(r.shape[0], o, dtype=np.int64)]))
            new_used.append(u)
            total += r.shape[0]
        if total > cap:
            return None
        rows = np.concatenate(new_rows) if new_rows else np.zeros((0, rows.shape[1] + 1), np.int64)
        used = np.concatenate(new_used) if new_used else np.zeros((0, n_missing), bool)
    return rows


def _score_rows(problem: JointProblem, samples: Sequence[int], missing: Sequence[int],
                rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """log LR of each assignment row of a component (sum of family terms)."""
    ns, nm = len(samples), len(missing)
    llr = np.zeros((ns, nm + 1))
    llr[:, :nm] = problem.log_lr[np.ix_(samples, missing)]
    cols = np.where(rows < 0, nm, rows)
    with np.errstate(invalid="ignore"):
        total = llr[np.arange(ns)[None, :], cols].sum(axis=1) if ns else np.zeros(rows.shape[0])
    # families with several missing persons in this component: joint terms
    by_fam: dict[str, list[int]] = {}
    for j, m in enumerate(missing):
        by_fam.setdefault(problem.family[m], []).append(j)
    multi = {f: js for f, js in by_fam.items() if len(js) >= 2}
    if not multi or rows.shape[0] == 0:
        return total
    inv = np.full((rows.shape[0], nm), -1, dtype=np.int64)
    r_idx, s_idx = np.nonzero(rows >= 0)
    inv[r_idx, rows[r_idx, s_idx]] = s_idx
    for fam, js in multi.items():
        sub = inv[:, js]
        n_placed = (sub >= 0).sum(axis=1)
        sel = np.nonzero(n_placed >= 2)[0]
        if sel.size == 0:
            continue
        combos, back = np.unique(sub[sel], axis=0, return_inverse=True)
        terms = np.empty(combos.shape[0])
        pair_sums = np.empty(combos.shape[0])
        for k, combo in enumerate(combos):
            placed = [(missing[js[t]], samples[int(combo[t])]) for t in range(len(js)) if combo[t] >= 0]
            terms[k] = problem.family_term(fam, placed)
            pair_sums[k] = sum(problem.log_lr[s, m] for m, s in placed)
        total[sel] += terms[back.ravel()] - pair_sums[back.ravel()]
    return total


def _logsumexp(x: NDArray[np.float64]) -> float:
    if x.size == 0:
        return -math.inf
    mx = float(np.max(x))
    if mx == -math.inf:
        return -math.inf
    return mx + math.log(float(np.exp(x - mx).sum()))


def _group_max(values: NDArray[np.float64], groups: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    out = np.full(n, -np.inf)
    np.maximum.at(out, groups, values)
    return out


def _exact_component(problem: JointProblem, samples: list[int], missing: list[int],
                     rows: NDArray[np.int64], logprior: NDArray[np.float64], top: int) -> Component:
    ns, nm = len(samples), len(missing)
    loglr = _score_rows(problem, samples, missing, rows)
    cols = np.where(rows < 0, nm, rows)
    lp = logprior[np.arange(ns)[None, :], cols].sum(axis=1) if ns else np.zeros(rows.shape[0])
    logw = loglr + lp
    logz = _logsumexp(logw)
    if logz == -math.inf:
        names = ", ".join(problem.samples[s] for s in samples)
        raise InconsistentCaseError(
            f"no assignment of samples {names} has positive probability under the prior and data"
        )
    logpost = logw - logz
    post = np.exp(logpost)
    marg = np.zeros((ns, nm + 1))
    for s in range(ns):
        marg[s] = np.bincount(cols[:, s], weights=post, minlength=nm + 1)
    # generalised LR (dvir's GLR): max loglik with s = m over max loglik with s != m
    glr = np.full((ns, nm), np.nan)
    for s in range(ns):
        gmax = _group_max(loglr, cols[:, s], nm + 1)
        present = np.bincount(cols[:, s], minlength=nm + 1) > 0
        if present.sum() < 2:
            continue
        order = np.argsort(-gmax)
        best, second = order[0], order[1]
        for j in range(nm):
            if not present[j]:
                continue
            den = gmax[second] if j == best else gmax[best]
            glr[s, j] = gmax[j] - den
    order = np.lexsort((np.arange(rows.shape[0]), -logw))[: max(top, 1)]
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), "exact",
                     int(rows.shape[0]), rows[order], loglr[order], logpost[order], marg, glr)


# ---------------------------------------------------------------------------
# merging the components: k best of a product


def _kbest_sum(a: NDArray[np.float64], b: NDArray[np.float64], k: int) -> list[tuple[int, int]]:
    """Index pairs (i, j) of the k largest a[i] + b[j]; a and b sorted descending."""
    if a.size == 0 or b.size == 0:
        return []
    heap = [(-(a[0] + b[0]), 0, 0)]
    seen = {(0, 0)}
    out: list[tuple[int, int]] = []
    while heap and len(out) < k:
        _, i, j = heapq.heappop(heap)
        out.append((i, j))
        for ii, jj in ((i + 1, j), (i, j + 1)):
            if ii < a.size and jj < b.size and (ii, jj) not in seen:
                seen.add((ii, jj))
                heapq.heappush(heap, (-(a[ii] + b[jj]), ii, jj))
    return out


def _merge_top(components: list[Component], top: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Best ``top`` combinations: (log posterior sums, choice of row per component)."""
    scores = np.zeros(1)
    choice = np.zeros((1, len(components)), dtype=np.int64)
    for c_idx, comp in enumerate(components):
        if comp.logpost.size == 1:
            scores = scores + comp.logpost[0]
            continue
        pairs = _kbest_sum(scores, comp.logpost, top)
        ia = np.array([p[0] for p in pairs], dtype=np.int64)
        ib = np.array([p[1] for p in pairs], dtype=np.int64)
        scores = scores[ia] + comp.logpost[ib]
        choice = choice[ia]
        choice[:, c_idx] = ib
    return scores, choice


# ---------------------------------------------------------------------------
# the driver


@dataclass
class JointPlan:
    """A joint identification split into independent components (see :func:`plan_joint`).

    ``allowed`` (S, M) are the pairs that may be placed, ``star_ok`` (S,) the
    samples that may be ``"*"``, ``logprior`` (S, M + 1) the log prior weights;
    ``components`` lists (samples, missing) index lists, in the order they are solved.
    """

    allowed: NDArray[np.bool_]
    star_ok: NDArray[np.bool_]
    logprior: NDArray[np.float64]
    components: list[tuple[list[int], list[int]]]
    prior: str
    fixed: dict[str, str]
    max_assign: int
    top: int
    mcmc: object | None
    seed: int


def plan_joint(
    problem: JointProblem,
    *,
    prior: Prior | None = None,
    max_assign: int = 100_000,
    top: int = 200,
    fixed: Mapping[str, str] | None = None,
    mcmc: object | None = None,
    seed: int = 1,
) -> JointPlan:
    """Check the arguments of :func:`solve_joint` and split the problem into components."""
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
    return JointPlan(allowed, star_ok, logprior, _components(problem, allowed), prior.name, fixed,
                     max_assign, top, mcmc, seed)


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
    mcmc: object | None,
    seed: int,
) -> tuple[Component, str | None]:
    """Solve one component: enumerate, dynamic programming, or MCMC with ``seed``.

    ``allowed`` (S, M), ``star_ok`` (S,) and ``logprior`` (S, M + 1) are indexed like
    ``problem``. Returns the component and a note for the reviewer (or None).
    """
    from dogtag.identify.matching import dp_component, dp_feasible
    from dogtag.identify.mcmc import MCMCSettings, sample_component

    settings = mcmc if isinstance(mcmc, MCMCSettings) else MCMCSettings()
    n_m = problem.log_lr.shape[1]
    local = {m: j for j, m in enumerate(missing)}
    options = []
    for s in samples:
        opts = [local[int(m)] for m in np.nonzero(allowed[s])[0]]
        if star_ok[s]:
            opts.append(-1)
        options.append(np.array(opts, dtype=np.int64))
    # most constrained first keeps the partial enumeration small
    order = sorted(range(len(samples)), key=lambda k: len(options[k]))
    samples = [samples[k] for k in order]
    options = [options[k] for k in order]
    rows = _enumerate(options, len(missing), max_assign)
    lp = logprior[np.ix_(samples, [*missing, n_m])]
    if rows is not None:
        return _exact_component(problem, samples, missing, rows, lp, top), None
    if dp_feasible(problem, missing, len(samples)):
        comp = dp_component(problem, samples, missing, options, lp, top=top)
        return comp, (
            f"component with {len(samples)} samples and {len(missing)} missing persons has "
            f"{comp.n_assignments} assignments (more than max_assign = {max_assign}): "
            "solved exactly by dynamic programming over subsets, not enumerated"
        )
    comp = sample_component(problem, samples, missing, options, lp, top=top,
                            settings=settings, seed=seed)
    return comp, (
        f"component with {len(samples)} samples and {len(missing)} missing persons has "
        f"more than {max_assign} assignments: sampled by MCMC "
        f"({settings.chains} chains x {settings.iterations} iterations, seed "
        f"{seed}; max R-hat {comp.diagnostics.get('max_rhat')})"
    )


def solve_joint(
    problem: JointProblem,
    *,
    prior: Prior | None = None,
    max_assign: int = 100_000,
    top: int = 200,
    fixed: Mapping[str, str] | None = None,
    mcmc: object | None = None,
    seed: int = 1,
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
    seed : seed of the MCMC sampler (component k uses ``seed + k``; recorded in the result).

    Returns
    -------
    :class:`JointResult`.
    """
    plan = plan_joint(problem, prior=prior, max_assign=max_assign, top=top, fixed=fixed,
                      mcmc=mcmc, seed=seed)
    solved = [
        solve_component(problem, samples, missing, plan.allowed, plan.star_ok, plan.logprior,
                        max_assign=max_assign, top=top, mcmc=mcmc, seed=seed + k)
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

    posterior = np.zeros((n_s, n_m + 1))
    glr = np.full((n_s, n_m), np.nan)
    for c in comps:
        cols = np.append(c.missing, n_m)
        posterior[np.ix_(c.samples, cols)] = c.marginals
        glr[np.ix_(c.samples, c.missing)] = c.glr
    with np.errstate(over="ignore"):
        glr = np.exp(glr)

    scores, choice = _merge_top(comps, top)
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
        assignments.append(Assignment(pairs, loglik0 + loglr, loglr, float(math.exp(scores[k]))))

    exact = all(c.method in ("exact", "exact-dp") for c in comps)
    nontrivial = sum(1 for c in comps if (c.n_assignments or 2) > 1)
    n_total: int | None = None
    if exact:
        n_total = 1
        for c in comps:
            n_total *= int(c.n_assignments or 1)
    method = ("exact" if nontrivial <= 1 else "exact-by-component") if exact else "mcmc"
    return JointResult(problem.samples, problem.missing, posterior, glr, assignments, loglik0,
                       n_total, method, comps, plan.prior, plan.fixed, notes)
