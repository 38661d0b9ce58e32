"""The joint identification problem: what every solver of :mod:`dogtag.identify` starts from.

:class:`JointProblem` holds the pairwise result of the blind search (log LRs, null
log-likelihoods) and the joint family terms of families with several missing persons;
:class:`Prior` the prior over assignments (flat, closed, open, per pair). The solvers
(:mod:`~dogtag.identify.components`, :mod:`~dogtag.identify.frontier`,
:mod:`~dogtag.identify.matching`, :mod:`~dogtag.identify.mcmc`, :mod:`~dogtag.identify.prune`)
import this module; :mod:`dogtag.identify.joint` drives them (see its docstring for the model).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["STAR", "FamilyLoglik", "JointProblem", "Prior"]

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
    _seen: set[tuple[str, int, int, int]] = field(default_factory=set, init=False, repr=False)

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

    @functools.cached_property
    def sample_index(self) -> dict[str, int]:
        """Row of each sample id."""
        return {x: i for i, x in enumerate(self.samples)}

    @functools.cached_property
    def missing_index(self) -> dict[str, int]:
        """Column of each missing-person label."""
        return {x: j for j, x in enumerate(self.missing)}

    @property
    def loglik0(self) -> float:
        """Null log-likelihood: all families and all samples alone."""
        fams = dict.fromkeys(self.family)
        return float(sum(self.loglik0_family[f] for f in fams) + self.sample_loglik.sum())

    @property
    def lr(self) -> NDArray[np.float64]:
        """Pairwise LR matrix, shape (S, M); nan = not a candidate."""
        return np.exp(self.log_lr)

    def prefetch(self, fam: str, placements: Sequence[Sequence[tuple[int, int]]]) -> None:
        """Compute many joint family terms in one call, when ``family_loglik`` offers
        a batched ``many(family, [placements])`` (the pedigree engine batches them)."""
        many = getattr(self.family_loglik, "many", None)
        if many is None:
            return
        todo = [sorted(p) for p in placements if len(p) >= 2 and (fam, tuple(sorted(p))) not in self._cache]
        if not todo:
            return
        lls = many(fam, [{self.missing[m]: self.samples[s] for m, s in p} for p in todo])
        for p, ll in zip(todo, lls, strict=True):
            term = float(ll) - self.loglik0_family[fam] - float(sum(self.sample_loglik[s] for _, s in p))
            self._cache[(fam, tuple(p))] = -math.inf if math.isnan(term) else term

    def upper_log_lr(self, cols: Sequence[int]) -> NDArray[np.float64] | None:
        """Proven upper bounds of the log LR of each sample on each missing person ``cols``,
        shape (S, len(cols)), given ANY placement of the other missing persons of its family:
        the pairwise log LR for a missing person alone in its family; for one of several,
        ``family_loglik.upper_term(family, missing, samples)`` (at least the pairwise log LR; see
        :meth:`dogtag.identify.dvi.FamilyLoglik.upper_term`). A joint family term is at most the
        sum of these over its placements (the chain rule). None when ``family_loglik`` offers no
        such bound (e.g. with theta). ``nan`` and ``-inf`` entries of :attr:`log_lr` are kept.
        """
        size: dict[str, int] = {}
        for f in self.family:
            size[f] = size.get(f, 0) + 1
        out = self.log_lr[:, list(cols)].copy()
        upper = getattr(self.family_loglik, "upper_term", None)
        multi = [(k, m) for k, m in enumerate(cols) if size[self.family[m]] > 1]
        if not multi:
            return out
        if upper is None:
            return None
        for k, m in multi:
            vec = upper(self.family[m], self.missing[m], self.samples)
            if vec is None:
                return None
            col = out[:, k]
            ok = np.isfinite(col)
            # at least the pairwise log LR (mathematically so; guards the last bit)
            col[ok] = np.maximum(np.asarray(vec, dtype=np.float64)[ok], col[ok])
        return out

    def prefetch_tables(self, cols: Sequence[int]) -> None:
        """Let ``family_loglik`` compute the genotype tables behind :meth:`upper_log_lr` and
        :meth:`partner_log_sums` for the missing persons ``cols`` in one batch, when it offers
        ``prefetch_tables`` (:meth:`dogtag.identify.dvi.FamilyLoglik.prefetch_tables`)."""
        fn = getattr(self.family_loglik, "prefetch_tables", None)
        if fn is not None:
            fn([(self.family[m], self.missing[m]) for m in cols])

    def partner_log_sums(self, target: int, partner: int, rows: Sequence[int],
                         log_c: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """For each sample ``s`` of ``rows`` placed on missing person ``target``: ``log sum_{r != s}
        c_r LR(r on partner | s on target)`` over all samples ``r`` (log weights ``log_c``, shape (S,),
        ``-inf`` = left out), ``partner`` of the same family; ``LR(s, target)`` times the conditional
        LR is the family's joint LR of the two placements. From ``family_loglik.partner_sums``
        (:meth:`dogtag.identify.dvi.FamilyLoglik.partner_sums`); None when it offers none."""
        fn = getattr(self.family_loglik, "partner_sums", None)
        if fn is None:
            return None
        out = fn(self.family[target], self.missing[target], self.missing[partner],
                 [self.samples[s] for s in rows], self.samples, log_c)
        return None if out is None else np.asarray(out, dtype=np.float64)

    #: samples whose conditional LR vectors are computed in one batch (:meth:`family_term`)
    CONDITIONAL_BATCH = 16

    def _prefetch_conditional(self, fam: str, first: tuple[int, int], target: int) -> None:
        """Conditional LR vectors at ``target`` given each of the likeliest samples (by pairwise
        LR, with ``first``'s) on ``first``'s missing person, in one batch."""
        m, s = first
        prefetch = getattr(self.family_loglik, "prefetch_conditional", None)
        if prefetch is None or ("cond", m, s, target) in self._seen:
            return
        col = np.where(np.isnan(self.log_lr[:, m]), -np.inf, self.log_lr[:, m])
        top = np.argsort(-col, kind="stable")[: self.CONDITIONAL_BATCH]
        batch = [int(x) for x in top if np.isfinite(col[x]) and ("cond", m, int(x), target) not in self._seen]
        if s not in batch:
            batch.append(s)
        for x in batch:
            self._seen.add(("cond", m, x, target))
        prefetch(fam, [{self.missing[m]: self.samples[x]} for x in batch], self.missing[target])

    def family_term(self, fam: str, placed: Sequence[tuple[int, int]]) -> float:
        """log LR of family ``fam`` with placements ``(missing index, sample index)``.

        One placement gives the pairwise log LR; several call ``family_loglik``
        (cached), minus the null family and sample log-likelihoods, or, when it offers
        ``conditional_term(family, placed, target, sample)`` (:class:`dogtag.identify.dvi.FamilyLoglik`
        without theta), the chain rule: the term of all placements but the last (by missing index)
        plus the last sample's log LR given them, from conditional genotype distributions.
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
        conditional = getattr(self.family_loglik, "conditional_term", None)
        rest, (m_last, s_last) = list(key[1][:-1]), key[1][-1]
        if conditional is not None and len(rest) == 1:
            self._prefetch_conditional(fam, rest[0], m_last)
        cond = None if conditional is None else conditional(
            fam, {self.missing[m]: self.samples[s] for m, s in rest}, self.missing[m_last], self.samples[s_last])
        if cond is not None:
            # chain rule: the family with the other placements, then the last one given them
            term = self.family_term(fam, rest) + float(cond)
        else:
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
    (the last column) for ``"*"``. ``None`` = flat (all 1, dvir's default). The weights may be a
    read-only broadcast view (:meth:`open`: one row for all samples); so are the log weights then.
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
    def open(cls, n_samples: int, n_missing: int, p_listed: float) -> Prior:
        """Open incident: each sample is one of the listed missing with probability ``p_listed``.

        Before the one-sample-per-missing constraint, a sample is on the list with
        probability ``p_listed`` and then equally likely any listed person; the prior
        over consistent assignments is this product, renormalised.
        """
        if not 0.0 < p_listed < 1.0:
            raise ValueError(f"`p_listed` must be in (0, 1), got {p_listed!r}")
        row = np.full(n_missing + 1, p_listed / max(n_missing, 1))
        row[-1] = 1.0 - p_listed
        # one row for every sample: a read-only view, no (S, M + 1) array
        return cls(np.broadcast_to(row, (n_samples, n_missing + 1)), f"open(p_listed={p_listed})")

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
            if w.ndim == 2 and w.shape[0] > 1 and w.strides[0] == 0:
                return np.broadcast_to(np.log(w[0]), w.shape)   # the same row for every sample
            return np.log(w)
