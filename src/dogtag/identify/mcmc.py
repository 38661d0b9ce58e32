"""Metropolis sampling of assignments for components too big to enumerate.

State: an assignment of the component's samples (each to one allowed missing
person or ``"*"``, each missing person used at most once). Target: the posterior
``prior(a) * L(a)`` of :mod:`dogtag.identify.joint`. Proposal (:class:`_Proposal`): pick a
sample ``s`` uniformly and a new value ``v`` among its other allowed values, with probability
following the pairwise LRs times the prior (mixed with a uniform share, so every value keeps
being proposed); if ``v`` is a missing person held by another sample ``t``, ``t`` takes ``s``'s
old value (a swap that resolves the conflict; rejected if that value is not allowed for ``t``).
The Metropolis-Hastings acceptance counts every proposal route to the new state and back. It is
delayed (Christen, J. A. and Fox, C. (2005) *J. Comput. Graph. Stat.* 14:795-810): a move is
first accepted or rejected on the pairwise LRs alone, and only if it passes, on the ratio of the
joint family terms of families with several missing persons to their pairwise LRs; the product
of the two acceptances is in detailed balance with the posterior, and the costly joint terms
are computed only for moves that the pairwise evidence already favours. The sampler so leaves
the posterior invariant (Metropolis, N. et al. (1953) *J. Chem. Phys.* 21:1087;
Hastings, W. K. (1970) *Biometrika* 57:97-109; Gelman, A. et al. (2013) *Bayesian Data
Analysis*, 3rd ed., ch. 11).

Starts: the first chain starts from the most probable assignment under the pairwise LRs, found
exactly by the Hungarian algorithm (a maximum-weight bipartite matching; Kuhn, H. W. (1955)
*Naval Res. Logist. Q.* 2:83-97; for a component whose families each have one missing person
there it is the most probable assignment, and therefore always among the reported ones); the
other chains start over-dispersed but sensibly: a random maximum bipartite matching for samples
that may not be ``"*"``, and for the others, in random order, a value drawn like the proposals
among those still free.

Diagnostics (Gelman et al. 2013, ch. 11.4-11.5): several chains from
over-dispersed starts; the
potential scale reduction factor R-hat of the log-likelihood and of every
pairing indicator that varies, and the effective sample size of the
log-likelihood (autocorrelations summed over Geyer's initial positive
sequence). ``converged`` is ``max R-hat < settings.rhat_ok``.

Estimates: pairing probabilities are visit frequencies pooled over chains after
burn-in; the GLR is taken over the visited assignments (a lower-bound search,
flagged approximate); the top assignments are the best visited ones, with
posterior ``w(a) / Z`` where ``Z = w(T) / f(T)`` is estimated from the set ``T`` of
the (up to) 100 best visited assignments and their pooled visit frequency ``f(T)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.identify.components import Component
from dogtag.identify.problem import JointProblem


@dataclass(frozen=True)
class MCMCSettings:
    """Sampler settings.

    Converged means R-hat below ``rhat_ok`` and an effective sample size of the log-likelihood of at
    least ``ess_ok``, within the time given. ``iterations`` states are recorded per chain after
    ``burn_in`` discarded ones;
    between two recorded states the sampler makes ``thin * max(1, n_samples // 20)``
    Metropolis steps (about ``thin / 20`` of a sweep over the component's samples).
    """

    chains: int = 4
    iterations: int = 4_000
    burn_in: int = 1_000
    thin: int = 1
    rhat_ok: float = 1.05
    ess_ok: float = 100.0

    def __post_init__(self) -> None:
        if self.chains < 2:
            raise ValueError(f"`chains` must be >= 2 for R-hat, got {self.chains}")
        if self.iterations < 10 or self.burn_in < 0 or self.thin < 1:
            raise ValueError("`iterations` >= 10, `burn_in` >= 0 and `thin` >= 1 are required")


def rhat(chains: NDArray[np.float64]) -> float:
    """Gelman-Rubin potential scale reduction, chains of shape (m, n). nan if constant."""
    _m, n = chains.shape
    means = chains.mean(axis=1)
    w = chains.var(axis=1, ddof=1).mean()
    b = n * means.var(ddof=1)
    if w <= 0:
        return math.nan if b <= 0 else math.inf
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w))


def effective_sample_size(chains: NDArray[np.float64]) -> float:
    """ESS of chains (m, n), autocorrelation summed over Geyer's initial positive sequence."""
    m, n = chains.shape
    x = chains - chains.mean(axis=1, keepdims=True)
    var = (x * x).mean()
    if var <= 0:
        return float(m * n)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, nfft, axis=1)
    acov = np.fft.irfft(f * np.conj(f), nfft, axis=1)[:, :n].mean(axis=0) / n
    rho = acov / acov[0]
    s = 0.0
    for t in range(1, n - 1, 2):
        pair = rho[t] + rho[t + 1]
        if pair <= 0:
            break
        s += pair
    tau = 1.0 + 2.0 * s - 0.0
    return float(m * n / max(tau, 1e-12))


class _State:
    """An assignment and its log posterior weight, with local updates."""

    def __init__(self, problem: JointProblem, samples: Sequence[int], missing: Sequence[int],
                 logprior: NDArray[np.float64]):
        self.p = problem
        self.samples = list(samples)
        self.missing = list(missing)
        self.nm = len(missing)
        self.logprior = logprior
        self.fam_of = [problem.family[m] for m in missing]
        counts: dict[str, int] = {}
        for f in self.fam_of:
            counts[f] = counts.get(f, 0) + 1
        self.multi = {j for j, f in enumerate(self.fam_of) if counts[f] >= 2}
        self.members: dict[str, list[int]] = {}
        for j, f in enumerate(self.fam_of):
            self.members.setdefault(f, []).append(j)
        self.llr = problem.log_lr[np.ix_(self.samples, self.missing)]

    def family_term(self, f: str, owner: list[int]) -> float:
        placed = [(self.missing[j], self.samples[owner[j]]) for j in self.members[f] if owner[j] >= 0]
        return self.p.family_term(f, placed)

    def loglr(self, a: list[int], owner: list[int]) -> float:
        total = 0.0
        for s, j in enumerate(a):
            if j >= 0 and j not in self.multi:
                total += float(self.llr[s, j])
        for f, js in self.members.items():
            if len(js) >= 2:
                total += self.family_term(f, owner)
        return total

    def families_of(self, *values: int) -> list[str]:
        """Families with several missing persons touched by these missing indices."""
        return sorted({self.fam_of[j] for j in values if j >= 0 and j in self.multi})

    def coupling(self, fams: list[str], owner: list[int]) -> float:
        """Joint family terms of ``fams`` minus the pairwise log LRs of their placements (0 for a
        family with at most one placement)."""
        total = 0.0
        for f in fams:
            placed = [j for j in self.members[f] if owner[j] >= 0]
            if len(placed) >= 2:
                total += self.family_term(f, owner) - sum(float(self.llr[owner[j], j]) for j in placed)
        return total

    def pair_delta(self, s: int, old: int, new: int) -> tuple[float, float]:
        """Changes of (pairwise log LR, log prior) when sample s goes from old to new (the
        pairwise LR of every missing person, also of families with several)."""
        dp = float(self.logprior[s, self.nm if new < 0 else new]
                   - self.logprior[s, self.nm if old < 0 else old])
        d = 0.0
        if new >= 0:
            d += float(self.llr[s, new])
        if old >= 0:
            d -= float(self.llr[s, old])
        return d, dp

    def logprior_of(self, a: list[int]) -> float:
        return float(sum(self.logprior[s, self.nm if j < 0 else j] for s, j in enumerate(a)))


#: share of a proposal drawn uniformly among a sample's other values (the rest follows the LRs)
UNIFORM_SHARE = 0.2


class _Proposal:
    """LR-informed proposals and the starts of the chains.

    Sample ``s`` proposes value ``v`` (not its current ``u``) with probability
    ``q_s(v | u) = q_s(v) / (1 - q_s(u))``, where ``q_s = (1 - UNIFORM_SHARE) pi_s + UNIFORM_SHARE /
    k_s`` mixes ``pi_s``, proportional to the pairwise LR times the prior of each value, with the
    uniform distribution over its ``k_s`` values (so that every value keeps being proposed, and
    ``1 - q_s(u)`` never underflows). A move of ``s`` onto a missing person held by ``t`` is a
    swap (``t`` takes ``u``); the same swap is also reached by ``t`` proposing ``u`` (when ``u`` is
    a missing person), hence the Hastings factor :meth:`log_hastings`.
    """

    def __init__(self, st: _State, opts: list[list[int]]):
        self.opts = opts
        self.q: list[NDArray[np.float64]] = []
        self.cum: list[NDArray[np.float64]] = []
        self.pos: list[dict[int, int]] = []
        nm = self.nm = st.nm
        for s, op in enumerate(opts):
            lw = np.array([float(st.logprior[s, nm]) if j < 0 else float(st.llr[s, j] + st.logprior[s, j])
                           for j in op])
            lw = np.where(np.isfinite(lw), lw, -np.inf)
            mx = lw.max() if lw.size else 0.0
            pi = np.exp(lw - mx) if np.isfinite(mx) else np.ones(lw.size)
            pi /= pi.sum()
            q = (1.0 - UNIFORM_SHARE) * pi + UNIFORM_SHARE / max(len(op), 1)
            self.q.append(q)
            self.cum.append(np.cumsum(q))
            self.pos.append({j: k for k, j in enumerate(op)})

    def draw(self, s: int, u: int, rng: np.random.Generator) -> int:
        """A value for sample ``s`` other than its current ``u``, drawn from ``q_s(. | u)``."""
        k = self.pos[s][u]
        q, cum = self.q[s], self.cum[s]
        r = rng.random() * (1.0 - q[k])
        if r >= cum[k] - q[k]:
            r += q[k]
        i = min(int(np.searchsorted(cum, r, side="right")), len(q) - 1)
        if i == k:  # rounding at the edge of u's interval
            i = k - 1 if k > 0 else k + 1
        return self.opts[s][i]

    def _log_q(self, s: int, v: int, u: int) -> float:
        q = self.q[s]
        return math.log(q[self.pos[s][v]]) - math.log(1.0 - q[self.pos[s][u]])

    def log_hastings(self, s: int, t: int, old: int, new: int) -> float:
        """log of P(reverse proposal) / P(forward proposal) for ``s: old -> new`` (``t`` the
        holder of ``new`` who takes ``old``, or -1). Every route to the same state is counted: a
        swap of two missing persons is proposed by either sample; a swap that sends ``t`` to
        ``"*"`` only by ``s``, and its reverse only by ``t``."""
        if t < 0:
            return self._log_q(s, old, new) - self._log_q(s, new, old)
        if old < 0:
            return self._log_q(t, new, old) - self._log_q(s, new, old)
        fwd = np.logaddexp(self._log_q(s, new, old), self._log_q(t, old, new))
        rev = np.logaddexp(self._log_q(s, old, new), self._log_q(t, new, old))
        return float(rev - fwd)

    def start(self, rng: np.random.Generator) -> tuple[list[int], list[int]]:
        """An over-dispersed but sensible start: samples that may not be ``"*"`` get a random
        maximum matching (:func:`_start`); the others, in random order, draw a value from
        ``pi_s`` among those still free."""
        a, owner = _start(self.opts, self.nm, rng, greedy=True, fill=False)
        for s in rng.permutation(len(self.opts)).tolist():
            op = self.opts[s]
            if a[s] >= 0 or -1 not in self.pos[s]:
                continue
            free = np.array([j < 0 or owner[j] < 0 for j in op])
            p = np.where(free, self.q[s], 0.0)
            j = op[int(rng.choice(len(op), p=p / p.sum()))]
            a[s] = j
            if j >= 0:
                owner[j] = s
        return a, owner


def sample_component(
    problem: JointProblem,
    samples: list[int],
    missing: list[int],
    options: list[NDArray[np.int64]],
    logprior: NDArray[np.float64],
    *,
    top: int,
    settings: MCMCSettings,
    seed: int,
    deadline: float | None = None,
) -> Component:
    """Metropolis sampling of one component until its diagnostics pass, within ``deadline``;
    returns a ``Component`` with method "mcmc".

    A run that does not converge is repeated with twice as many steps between recorded states
    (``thin`` doubled: the same number of records, each further apart) while the time left
    allows the longer run (estimated from the last one's duration); the last run is reported,
    with the number of runs (``diagnostics["runs"]``). Without a deadline: one run.
    """
    import dataclasses
    import time

    runs = 0
    while True:
        runs += 1
        t0 = time.monotonic()
        comp = _sample_once(problem, samples, missing, options, logprior, top, settings, seed, deadline)
        took = time.monotonic() - t0
        d = comp.diagnostics
        d["runs"] = runs
        if d.get("converged") or deadline is None or d.get("stopped") \
                or deadline - time.monotonic() < 2.5 * took:
            return comp
        settings = dataclasses.replace(settings, thin=settings.thin * 2)


def _sample_once(problem: JointProblem, samples: list[int], missing: list[int], options: list[NDArray[np.int64]],
                 logprior: NDArray[np.float64], top: int, settings: MCMCSettings, seed: int,
                 deadline: float | None) -> Component:
    """One run of the sampler; returns a ``Component`` with method "mcmc".

    ``deadline`` (``time.monotonic()``): each chain gets an equal share of the time left and
    stops early when it is spent; the chains are then cut to the shortest one, and a run cut
    short is never reported as converged (``diagnostics["stopped"]``).
    """
    import time

    rng = np.random.default_rng(seed)
    st = _State(problem, samples, missing, logprior)
    ns, nm = len(samples), len(missing)
    opt_sets = [set(int(o) for o in opts) for opts in options]
    opt_lists = [list(int(o) for o in opts) for opts in options]
    n_keep = settings.iterations
    ll_trace = np.empty((settings.chains, n_keep))
    counts = np.zeros((settings.chains, ns, nm + 1))
    ind_traces: dict[tuple[int, int], NDArray[np.float64]] = {}
    all_cols: list[NDArray[np.int64]] = []
    kept_per_chain: list[int] = []
    stopped = False
    visited: dict[tuple[int, ...], tuple[float, int]] = {}
    acc_total = 0

    steps = settings.thin * max(1, ns // 20)  # Metropolis steps between recorded states
    prop = _Proposal(st, opt_lists)
    map_start = _map_assignment(st, opt_lists)
    for c in range(settings.chains):
        if c == 0 and map_start is not None:
            a, owner = map_start
            a, owner = list(a), list(owner)
        else:
            a, owner = prop.start(rng)
        cur_lr = st.loglr(a, owner)
        chain_cols = np.empty((n_keep, ns), dtype=np.int64)
        kept = 0
        n_acc = 0
        chain_end = None
        if deadline is not None:
            chain_end = time.monotonic() + (deadline - time.monotonic()) / (settings.chains - c)
        for it in range((settings.burn_in + n_keep) * steps):
            if chain_end is not None and it % 2048 == 0 and time.monotonic() > chain_end:
                stopped = True
                break
            s = int(rng.integers(ns))
            if len(opt_lists[s]) > 1:
                old = a[s]
                new = prop.draw(s, old, rng)
                t = owner[new] if new >= 0 else -1
                if t < 0 or old in opt_sets[t]:
                    # delayed acceptance: first on the pairwise LRs, then the joint family terms
                    dlr, dlp = st.pair_delta(s, old, new)
                    if t >= 0:
                        d2, p2 = st.pair_delta(t, new, old)
                        dlr += d2
                        dlp += p2
                    log_acc = dlr + dlp + prop.log_hastings(s, t, old, new)
                    if log_acc >= 0 or rng.random() < math.exp(log_acc):
                        fams = st.families_of(old, new)
                        ok = True
                        if fams:
                            before = st.coupling(fams, owner)
                            _apply(a, owner, s, t, old, new)
                            d_couple = st.coupling(fams, owner) - before
                            dlr += d_couple
                            ok = d_couple >= 0 or rng.random() < math.exp(d_couple)
                            if not ok:
                                _apply(a, owner, s, t, new, old)  # undo
                        else:
                            _apply(a, owner, s, t, old, new)
                        if ok:
                            cur_lr += dlr
                            acc_total += 1
                            n_acc += 1
                            if n_acc % 1000 == 0:  # refresh: no drift from accumulated deltas
                                cur_lr = st.loglr(a, owner)
            if (it + 1) % steps == 0 and (it + 1) // steps > settings.burn_in:
                ll_trace[c, kept] = cur_lr
                chain_cols[kept] = [nm if j < 0 else j for j in a]
                key = tuple(a)
                prev = visited.get(key)
                if prev is None:
                    visited[key] = (cur_lr, 1)  # sums of exact deltas, refreshed every 1000 moves
                else:
                    visited[key] = (prev[0], prev[1] + 1)
                kept += 1
        all_cols.append(chain_cols)
        kept_per_chain.append(kept)
    n_use = min(kept_per_chain)
    if n_use < 2:
        n_use = 0
    ll_trace = ll_trace[:, :n_use]
    for c, chain_cols in enumerate(all_cols):
        chain_cols = chain_cols[:n_use]
        for s in range(ns):
            counts[c, s] = np.bincount(chain_cols[:, s], minlength=nm + 1)
            for j in np.unique(chain_cols[:, s]):
                ind_traces.setdefault((s, int(j)), np.zeros((settings.chains, n_use)))
    for c, chain_cols in enumerate(all_cols):
        for (s, j), tr in ind_traces.items():
            tr[c] = chain_cols[:n_use, s] == j

    if n_use < 10 or not visited:
        return _unfinished(problem, st, samples, missing, opt_lists, rng, seed, settings)
    n_total = settings.chains * n_use
    marg = counts.sum(axis=0) / n_total
    rhats = [rhat(ll_trace)]
    for tr in ind_traces.values():
        m = tr.mean()
        if 0.0 < m < 1.0:
            rhats.append(rhat(tr))
    finite = [r for r in rhats if not math.isnan(r)]
    max_rhat = max(finite) if finite else math.nan
    ess = effective_sample_size(ll_trace)

    keys = list(visited)
    rows = np.array(keys, dtype=np.int64).reshape(len(keys), ns)
    loglr = np.array([visited[k][0] for k in keys])
    freq = np.array([visited[k][1] for k in keys], dtype=np.float64) / sum(kept_per_chain)
    cols = np.where(rows < 0, nm, rows)
    logw = loglr + logprior[np.arange(ns)[None, :], cols].sum(axis=1)
    order = np.lexsort((np.arange(len(keys)), -logw))
    ref = order[: min(100, len(keys))]
    mx = float(logw[ref].max())
    logz = mx + math.log(float(np.exp(logw[ref] - mx).sum())) - math.log(float(freq[ref].sum()))
    keep = order[: max(top, 1)]

    glr = np.full((ns, nm), np.nan)
    for s in range(ns):
        gmax = np.full(nm + 1, -np.inf)
        np.maximum.at(gmax, cols[:, s], loglr)
        present = np.isfinite(gmax) | (np.bincount(cols[:, s], minlength=nm + 1) > 0)
        if present.sum() < 2:
            continue
        o = np.argsort(-gmax)
        for j in range(nm):
            if present[j]:
                glr[s, j] = gmax[j] - (gmax[o[1]] if j == o[0] else gmax[o[0]])

    converged = bool(not stopped and not math.isnan(max_rhat) and max_rhat < settings.rhat_ok
                     and ess >= settings.ess_ok)
    diagnostics: dict[str, object] = {
        "seed": seed,
        "chains": settings.chains,
        "iterations": settings.iterations,
        "burn_in": settings.burn_in,
        "thin": settings.thin,
        "steps_per_record": steps,
        "map_start": map_start is not None,
        "acceptance_rate": acc_total / max(1, settings.chains * (settings.burn_in + settings.iterations) * steps),
        "recorded_per_chain": n_use,
        "max_rhat": None if math.isnan(max_rhat) else round(max_rhat, 4),
        "ess_loglik": round(ess, 1),
        "converged": converged,
        "status": "resolved" if converged else "unresolved",
        "distinct_assignments_visited": len(keys),
        "glr": "approximate (maximum over visited assignments)",
    }
    if stopped:
        diagnostics["stopped"] = "time limit"
    if not converged:
        diagnostics["would_resolve"] = WOULD_RESOLVE
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), "mcmc",
                     None, rows[keep], loglr[keep], logw[keep] - logz, marg, glr, diagnostics)


WOULD_RESOLVE = ("more time (--time-limit) or iterations for the sampler, or more references for the "
                 "families involved (their pairings are too uncertain to separate)")


def _unfinished(problem: JointProblem, st: _State, samples: list[int], missing: list[int],
                opts: list[list[int]], rng: np.random.Generator, seed: int, settings: MCMCSettings) -> Component:
    """A component the sampler could not run long enough on: unresolved, no estimates."""
    ns, nm = len(samples), len(missing)
    start = _map_assignment(st, opts)
    a, owner = start if start is not None else _start(opts, nm, rng, greedy=False)
    row = np.array([a], dtype=np.int64)
    cols = np.where(row < 0, nm, row)
    lr = st.loglr(list(a), list(owner))
    lw = lr + float(st.logprior[np.arange(ns), cols[0]].sum())
    diagnostics: dict[str, object] = {
        "seed": seed, "chains": settings.chains, "iterations": settings.iterations,
        "converged": False, "status": "unresolved", "stopped": "time limit",
        "would_resolve": WOULD_RESOLVE,
    }
    return Component(np.array(samples, dtype=np.int64), np.array(missing, dtype=np.int64), "mcmc", None,
                     row, np.array([lr]), np.array([lw - lw]), np.full((ns, nm + 1), np.nan),
                     np.full((ns, nm), np.nan), diagnostics)


def _start(opts: list[list[int]], nm: int, rng: np.random.Generator,
           *, greedy: bool, fill: bool = True) -> tuple[list[int], list[int]]:
    """A valid starting assignment.

    Samples that may not be ``"*"`` (closed incident, fixed pairs) get a maximum
    bipartite matching (Hopcroft-Karp, on randomly permuted labels when
    ``greedy``); the others start at ``"*"``, or, when ``greedy``, take a random
    free candidate with probability 1/2 (over-dispersed starts for R-hat).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    ns = len(opts)
    a = [-1] * ns
    owner = [-1] * nm
    need = [s for s in range(ns) if -1 not in opts[s]]
    if need:
        perm = rng.permutation(nm) if greedy else np.arange(nm)
        inv = np.argsort(perm)
        rows, cols = [], []
        for r, s in enumerate(need):
            for j in opts[s]:
                rows.append(r)
                cols.append(int(perm[j]))
        graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(need), max(nm, 1)))
        match = maximum_bipartite_matching(graph, perm_type="column")
        if np.any(match < 0):
            raise InconsistentCaseError(
                "no assignment gives every sample that must be identified (closed incident or "
                "fixed pairs) its own missing person"
            )
        for r, s in enumerate(need):
            j = int(inv[match[r]])
            a[s] = j
            owner[j] = s
    if greedy and fill:
        for s in rng.permutation(ns):
            s = int(s)
            if s in need:
                continue
            pick = [j for j in opts[s] if j >= 0 and owner[j] < 0]
            if pick and rng.random() < 0.5:
                j = pick[int(rng.integers(len(pick)))]
                a[s] = j
                owner[j] = s
    return a, owner


def _apply(a: list[int], owner: list[int], s: int, t: int, old: int, new: int) -> None:
    """Move s from old to new; t (the holder of new, or -1) takes old."""
    a[s] = new
    if old >= 0:
        owner[old] = -1
    if new >= 0:
        owner[new] = s
    if t >= 0:
        a[t] = old
        if old >= 0:
            owner[old] = t


def _map_assignment(st: _State, opts: list[list[int]]) -> tuple[list[int], list[int]] | None:
    """Most probable assignment of an additive component (Hungarian algorithm).

    Columns: the missing persons, then one private "*" column per sample; the
    weight of a pair is its log LR plus log prior. None if no valid assignment.
    """
    from scipy.optimize import linear_sum_assignment

    ns, nm = len(opts), st.nm
    big = 1e15
    cost = np.full((ns, nm + ns), big)
    for s, op in enumerate(opts):
        for j in op:
            if j >= 0:
                cost[s, j] = -(float(st.llr[s, j]) + float(st.logprior[s, j]))
            else:
                cost[s, nm + s] = -float(st.logprior[s, nm])
    rows, cols = linear_sum_assignment(cost)
    if np.any(cost[rows, cols] >= big):
        return None
    a = [-1] * ns
    owner = [-1] * nm
    for s, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if j < nm:
            a[s] = j
            owner[j] = s
    return a, owner
