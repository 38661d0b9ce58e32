"""Blind search: the LR of every pm sample against every missing person.

For a reference family and its missing person MP, the conditional genotype
distribution ``P(G_MP = g | family data)`` is computed once per marker
(:mod:`dogtag.genetics.likelihood`, batched over families of one shape). A sample
enters only through its observation vector ``o(g) = P(profile | g)``
(:mod:`dogtag.genetics.dropout`), so

    LR(sample, MP) = prod_markers  sum_g o(g) P(g | family) / sum_g o(g) P_HW(g),

which equals dvir's ``pairwiseLR`` (L(family with the sample placed on MP) over
L(family) L(sample)). For a clean profile ``o`` is an indicator and the numerator
is a row lookup; for a degraded one it is a (sparse) matrix product. The whole
samples x missing matrix is therefore, per marker, a gather or a product of a
(samples x genotypes) by a (genotypes x missing) matrix, summed in log space
over markers, in chunks of samples so that memory stays bounded.

The exclusion count of a pair is the number of markers at which the sample is
impossible as MP without mutation (dvir's ``exclusionMatrix``).

With the subpopulation correction theta (:mod:`dogtag.genetics.theta`) the sample, as
an unrelated person, shares the subpopulation with the family's founders, so the
denominator depends on the family too: per family and marker a second vector
``P(G_U = g | family)`` of an unrelated person U added to the family's pedigree, and

    LR(sample, MP) = prod_markers  sum_g o(g) P(G_MP = g | family) / sum_g o(g) P(G_U = g | family),

the LR of "the sample is MP" against "the sample is unrelated to the family", both
with all founder alleles drawn jointly (what ``dogtag lr`` gives on those two pedigrees).

Lineage markers (mtDNA, Y-STR) of the samples and families multiply in their LRs per
pair, as independent evidence (:mod:`dogtag.identify.lineage_search` states the
assumption); an mtDNA or Y exclusion adds one to the pair's exclusion count and makes
its LR 0. ``evidence`` says which kinds of data each pair's LR rests on.

The search is cut into pieces that a second backend (:mod:`dogtag.scale`) runs on a
cluster: :func:`family_batch` (conditionals of a batch of families), :func:`sample_batch`
(observation vectors of a chunk of samples), :func:`tile` (a block of the matrix) or
:func:`tile_top` (a block reduced to its top candidates), :func:`merge` and
:func:`finish`. Every piece is a function of its own rows or columns only, so any cut
gives the same result, bit for bit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.dropout import hardy_weinberg, observation_vector
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch
from dogtag.genetics.markers import Marker
from dogtag.genetics.theta import check_theta
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.identify.families import (
    UNRELATED,
    Conditionals,
    Encoded,
    conditionals,
    encode_families,
    family_totals,
    with_unrelated,
)
from dogtag.identify.lineage_search import AUTOSOMAL, LineageEvidence

__all__ = [
    "UNRELATED", "Candidates", "FamilyBatch", "Lineage", "SampleBatch", "SearchResult", "Tile", "blind_search", "check_case",
    "family_batch", "family_batch_logliks", "family_logliks", "finish", "merge", "pair_exclusions", "pair_used",
    "sample_batch", "sample_logliks", "sample_observation", "select", "tile", "tile_top",
]

Progress = Callable[[int, int, str], None]


@dataclass
class SearchResult:
    """The blind-search result.

    Attributes
    ----------
    samples : pm sample ids, shape (S,).
    missing : missing-person labels (``family:id`` where ids repeat), shape (M,).
    family : the family of each missing person, shape (M,).
    log_lr : ndarray, float64, shape (S, M), or None when only the top candidates were kept:
        natural-log LR; ``nan`` = not a candidate (sex), ``-inf`` = excluded (LR 0).
    exclusions : ndarray, int, shape (S, M) (or None): Mendelian-incompatible markers, mutation ignored.
    markers_used : ndarray, int, shape (S, M) (or None): markers typed in both the sample and the family.
    sample_loglik : ndarray, float64, shape (S,): each sample's log-likelihood (Hardy-Weinberg).
    family_loglik : null log-likelihood of each family (its reference data alone).
    candidates : with ``top``: per sample, the best (missing index, log LR, exclusions) first.
    method : how the matrix was computed.
    evidence : ndarray, int8, shape (S, M) (or None): bits of the evidence each LR rests on
        (:data:`dogtag.identify.lineage_search.EVIDENCE`: 1 autosomal, 2 mtDNA, 4 Y-STR).
    lineage_log_lr : ndarray, float64, shape (S, M), or None when the case has no lineage
        profiles (or only the top candidates were kept): the lineage part of ``log_lr``.
    candidate_evidence : with ``top``: the evidence code of each entry of ``candidates``.
    theta : the subpopulation correction the LRs were computed with (0 = none).
    """

    samples: list[str]
    missing: list[str]
    family: list[str]
    missing_sex: NDArray[np.int8]
    log_lr: NDArray[np.float64] | None
    exclusions: NDArray[np.int64] | None
    markers_used: NDArray[np.int64] | None
    sample_loglik: NDArray[np.float64]
    family_loglik: dict[str, float]
    candidates: dict[str, list[tuple[int, float, int]]] = field(default_factory=dict)
    method: str = "conditional genotype distributions x observation vectors (exact)"
    evidence: NDArray[np.int8] | None = None
    lineage_log_lr: NDArray[np.float64] | None = None
    candidate_evidence: dict[str, list[int]] = field(default_factory=dict)
    theta: float = 0.0

    @property
    def lr(self) -> NDArray[np.float64]:
        if self.log_lr is None:
            raise ValueError("the full matrix was not kept (top-K search)")
        return np.exp(self.log_lr)


# ---------------------------------------------------------------------------
# Families: conditional genotype distributions of each missing person
# ---------------------------------------------------------------------------

@dataclass
class FamilyBatch:
    """What the matrix needs of a batch of reference families: one column per missing person.

    Attributes
    ----------
    cond : per marker j, ndarray, float64, shape (G_j, m): P(G_MP = g | family), G_j the
        number of unordered genotypes of marker j, m the missing persons of the batch.
    logp : per marker, ndarray, float64, shape (G_j + 1, m): the natural log of ``cond``
        (``-inf`` where 0) and a last row of zeros, which untyped samples (genotype
        index -1) pick up.
    support : per marker, ndarray, bool, shape (G_j + 1, m): genotypes possible without
        mutation, and a last row of True for untyped samples.
    typed : ndarray, int, shape (J, m): 1 where the family has a typed member at marker j.
    sex : ndarray, int8, shape (m,): sex of each missing person (0 unknown).
    cond_unrelated, logp_unrelated : with theta > 0, per marker, like ``cond`` and ``logp``
        for an unrelated person of the family's subpopulation, P(G_U = g | family), the
        LR's denominator; None without theta (the denominator is Hardy-Weinberg).
    """

    cond: list[NDArray[np.float64]]
    logp: list[NDArray[np.float64]]
    support: list[NDArray[np.bool_]]
    typed: NDArray[np.int64]
    sex: NDArray[np.int8]
    cond_unrelated: list[NDArray[np.float64]] | None = None
    logp_unrelated: list[NDArray[np.float64]] | None = None

    @property
    def n_missing(self) -> int:
        return int(self.sex.shape[0])

    def __getstate__(self) -> dict:
        # without the kernel's stacked tables (:func:`_stacked`), which pickle would send beside
        # the per-marker views of them: a batch travels (Dask) once, and is stacked where it lands
        state = dict(self.__dict__)
        state.pop("_stack", None)
        return state


def _log_rows(cond: list[NDArray[np.float64]], out: list[NDArray[np.float64]] | None = None
              ) -> list[NDArray[np.float64]]:
    """The natural log of each ``cond`` array and a last row of zeros (for untyped samples),
    written into ``out`` (arrays of shape (G_j + 1, m), e.g. views of a :func:`_stack`) when given."""
    if out is None:
        out = [np.empty((c.shape[0] + 1, c.shape[1])) for c in cond]
    for c, lp in zip(cond, out, strict=True):
        lp[-1] = 0.0
        with np.errstate(divide="ignore"):
            np.log(c, out=lp[:-1])
    return out


#: the kernel's tables of a batch: numerators and denominators (theta; else shape (0, m)) stacked
#: marker on marker, shape (sum_j (G_j + 1), m), and each marker's first row, shape (J + 1,)
Stack = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]


def _stack(markers: Sequence[Marker], m: int, theta: float) -> Stack:
    """Empty stacked tables for ``m`` missing persons (see :func:`_stacked`)."""
    offsets = np.cumsum([0] + [mk.n_alleles * (mk.n_alleles + 1) // 2 + 1 for mk in markers]).astype(np.int64)
    return np.empty((int(offsets[-1]), m)), np.empty((int(offsets[-1]) if theta > 0 else 0, m)), offsets


def _views(st: NDArray[np.float64], offsets: NDArray[np.int64], js: Sequence[int]) -> list[NDArray[np.float64]]:
    return [st[offsets[j]:offsets[j + 1]] for j in js]


def _batch(enc: Encoded, js: Sequence[int], theta: float, progress: Progress | None = None,
           stack: Stack | None = None, into: FamilyBatch | None = None, col: int = 0
           ) -> tuple[FamilyBatch, NDArray[np.float64]]:
    """The batch's columns at markers ``js`` and the families' null log-likelihoods there, (F, len(js)).

    ``stack``: the log tables are written into its rows of markers ``js`` (:func:`_stack`), not
    into arrays of their own. ``into``: the batch's columns are written into columns
    ``col:col + enc.n_missing`` of its arrays (all markers; ``stack``, when given, is its)."""
    c = conditionals(enc, js, theta=theta, progress=progress, col=col, into=None if into is None else
                     Conditionals(into.cond, into.support, into.cond_unrelated, np.zeros((0, 0))))
    num = den = None
    if stack is not None:
        num, den = _views(stack[0], stack[2], js), _views(stack[1], stack[2], js)
    elif into is not None:
        num, den = into.logp, into.logp_unrelated
    if into is not None:
        num = None if num is None else [t[:, col:col + enc.n_missing] for t in num]
        den = None if den is None else [t[:, col:col + enc.n_missing] for t in den]
    fb = FamilyBatch(c.cond, _log_rows(c.cond, num), c.support, np.ascontiguousarray(enc.typed[list(js)]), enc.sex,
                     c.unrelated, None if c.unrelated is None else _log_rows(c.unrelated, den))
    return fb, c.null


def family_batch(families: Sequence[Family], markers: list[Marker], *, enc: Encoded | None = None,
                 progress: Progress | None = None, theta: float = 0.0) -> FamilyBatch:
    """Conditional genotype distributions of the missing persons of ``families`` (a batch).

    See :mod:`dogtag.identify.families`: the (missing person, marker) items are grouped by
    shape (pedigree structure, typed members, target), each group's distinct allele rows are
    one engine call whose rows are computed independently of each other, so any split of the
    families into batches gives the same columns, bit for bit. The support without mutation
    is the exact lumped computation of the same engine.

    Parameters
    ----------
    families : the batch.
    markers : the case's markers.
    enc : the families read into arrays (:func:`~dogtag.identify.families.encode_families`), when already made.
    progress : callback (done, total, "families").
    theta : the joint subpopulation correction; > 0 adds the unrelated person's
        distributions (the LR's denominator).
    """
    return family_batch_logliks(families, markers, enc=enc, progress=progress, theta=theta)[0]


def family_batch_logliks(families: Sequence[Family], markers: list[Marker], *, enc: Encoded | None = None,
                         progress: Progress | None = None, theta: float = 0.0
                         ) -> tuple[FamilyBatch, dict[str, float]]:
    """:func:`family_batch` and the null log-likelihood of each family (:func:`family_logliks`),
    from the same engine runs."""
    if enc is None:
        enc = encode_families(families, markers)
    fb, null = _batch(enc, range(len(markers)), theta, progress)
    return fb, _named(families, null)


def _named(families: Sequence[Family], null: NDArray[np.float64]) -> dict[str, float]:
    return {f.name: float(v) for f, v in zip(families, family_totals(null), strict=True)}


def _family_logliks(families: Sequence[Family], markers: list[Marker],
                    enc: Encoded | None = None, theta: float = 0.0) -> dict[str, float]:
    """Null log-likelihood of each of ``families``; each family's sum does not depend on the others.

    Computed as in :func:`family_batch_logliks` (the normaliser of the first missing
    person's distribution where that is the likelihood), so the two agree bit for bit.
    """
    return family_batch_logliks(families, markers, enc=enc, theta=theta)[1]


def family_logliks(case: DVICase, enc: Encoded | None = None, theta: float = 0.0) -> dict[str, float]:
    """Null log-likelihood of each family (its reference data alone), natural log."""
    return _family_logliks(case.am, case.markers, enc, theta)

# ---------------------------------------------------------------------------
# Samples: observation vectors
# ---------------------------------------------------------------------------

@dataclass
class _SampleMarker:
    """One marker's view of a batch of samples."""

    typed: NDArray[np.bool_]            # (S,)
    clean_g: NDArray[np.intp]           # (S,) genotype index of clean typed samples, else -1
    soft_rows: NDArray[np.intp]         # samples with a degraded observation here
    soft: sp.csr_matrix | None          # (len(soft_rows), G) observation vectors
    log_hw: NDArray[np.float64]         # (S,) log sum_g o(g) P_HW(g), 0 where untyped


def sample_observation(sample: Sample, m: Marker) -> tuple[int, int] | NDArray[np.float64] | None:
    """A sample at one marker: an allele-index pair (clean call), an observation
    vector over genotypes (drop-out / drop-in, or a half-typed call), or None (untyped).

    A sample with ``replicates``: the product of its typings' observation vectors (None if
    none typed the marker); typings that exclude each other raise :class:`InconsistentCaseError`.
    """
    if not sample.replicates:
        return _one_observation(sample, m)
    out: NDArray[np.float64] | None = None
    for s in (sample, *sample.replicates):
        o = _one_observation(s, m)
        if o is None:
            continue
        if isinstance(o, tuple):
            o = observation_vector(sorted({o[0], o[1]}), m.freqs)
        out = o.copy() if out is None else out * o
    if out is not None and not out.any():
        raise InconsistentCaseError(f"sample {sample.id}: its typings exclude each other at {m.name}")
    return out


def _one_observation(sample: Sample, m: Marker) -> tuple[int, int] | NDArray[np.float64] | None:
    g = sample.genotypes.get(m.name)
    if g is None or (g[0] is None and g[1] is None):
        return None
    obs = []
    for a in g:
        if a is not None:
            if not m.has_allele(a):
                raise InconsistentCaseError(
                    f"sample {sample.id}: allele {a!r} at {m.name} is not in the frequency database")
            obs.append(m.index(a))
    if sample.dropout > 0 or sample.dropin > 0:
        return observation_vector(obs, m.freqs, dropout=sample.dropout, dropin=sample.dropin)
    if len(obs) == 1:
        # a half-typed call: one allele seen, the other unknown
        return (observation_vector(obs, m.freqs, dropout=0.5) > 0).astype(np.float64)
    return obs[0], obs[1]


def _sample_view(samples: Sequence[Sample], markers: list[Marker], theta: float = 0.0) -> list[_SampleMarker]:
    views = []
    for m in markers:
        n = m.n_alleles
        hw = hardy_weinberg(m.freqs)
        if theta > 0:  # one person alone: p_a (theta + (1 - theta) p_a), 2 (1 - theta) p_a p_b
            i, j = np.triu_indices(n)
            hw = (1 - theta) * hw + np.where(i == j, theta * m.freqs[i], 0.0)
        S = len(samples)
        typed = np.zeros(S, dtype=bool)
        clean = np.full(S, -1, dtype=np.intp)
        soft_rows: list[int] = []
        soft_vecs: list[NDArray[np.float64]] = []
        log_hw = np.zeros(S)
        name, index = m.name, m._index
        a1s = np.full(S, -1, dtype=np.intp)
        a2s = np.full(S, -1, dtype=np.intp)
        # a degraded or half-typed observation's vector and log-likelihood, per (call, drop-out,
        # drop-in): samples typed alike share them (made once, read only)
        seen: dict[tuple, tuple[NDArray[np.float64] | tuple[int, int] | None, float]] = {}
        for s, sample in enumerate(samples):
            key: tuple | None = None
            if not sample.replicates:
                g = sample.genotypes.get(name)
                if g is None:
                    continue
                clean_call = sample.dropout == 0 and sample.dropin == 0 and g[0] is not None and g[1] is not None
                if clean_call and g[0] in index and g[1] in index:
                    a1s[s], a2s[s] = index[g[0]], index[g[1]]
                    continue
                key = (g, sample.dropout, sample.dropin)
            got = seen.get(key) if key is not None else None
            if got is None:
                o = sample_observation(sample, m)  # degraded, half-typed, replicated or an unknown allele (raises)
                val = float(o @ hw) if isinstance(o, np.ndarray) else 1.0
                got = (o, math.log(val) if val > 0 else -math.inf)
                if key is not None:
                    seen[key] = got
            o = got[0]
            if o is None:
                continue
            typed[s] = True
            if isinstance(o, tuple):
                a1s[s], a2s[s] = o
                continue
            soft_rows.append(s)
            soft_vecs.append(o)
            log_hw[s] = got[1]
        ok = a1s >= 0
        lo_a, hi_a = np.minimum(a1s[ok], a2s[ok]), np.maximum(a1s[ok], a2s[ok])
        gi = lo_a * n - lo_a * (lo_a - 1) // 2 + (hi_a - lo_a)    # genotype_index, vectorised
        typed[ok] = True
        clean[ok] = gi
        with np.errstate(divide="ignore"):
            log_hw[ok] = np.log(hw[gi])
        soft = sp.csr_matrix(np.array(soft_vecs)) if soft_vecs else None
        views.append(_SampleMarker(typed, clean, np.array(soft_rows, dtype=np.intp), soft, log_hw))
    return views



@dataclass
class SampleBatch:
    """What the matrix needs of a batch of pm samples (rows).

    Attributes
    ----------
    views : per marker, the samples' observations (clean genotype index or a sparse
        observation vector) and their Hardy-Weinberg log-likelihood.
    sex : ndarray, int8, shape (s,).
    loglik : ndarray, float64, shape (s,): each sample's log-likelihood (Hardy-Weinberg).
    """

    views: list[_SampleMarker]
    sex: NDArray[np.int8]
    loglik: NDArray[np.float64]

    @property
    def n_samples(self) -> int:
        return int(self.sex.shape[0])


def sample_batch(samples: Sequence[Sample], markers: list[Marker], theta: float = 0.0) -> SampleBatch:
    """Observation vectors of a batch of samples (rows of the matrix).

    Every quantity is per sample, so any split of the samples into batches gives the
    same rows. ``theta``: each sample's own log-likelihood is that of one person with
    the subpopulation correction.
    """
    views = _sample_view(samples, markers, theta)
    ll = np.sum([v.log_hw for v in views], axis=0) if views else np.zeros(len(samples))
    return SampleBatch(views, np.array([s.sex for s in samples], dtype=np.int8), ll)


def sample_rows(samples: SampleBatch, lo: int, hi: int) -> SampleBatch:
    """Rows ``lo:hi`` of a batch: what :func:`sample_batch` gives for those samples alone."""
    views = []
    for v in samples.views:
        at = np.flatnonzero((v.soft_rows >= lo) & (v.soft_rows < hi))
        soft = v.soft[at] if v.soft is not None and at.size else None
        views.append(_SampleMarker(v.typed[lo:hi], v.clean_g[lo:hi], v.soft_rows[at] - lo, soft, v.log_hw[lo:hi]))
    return SampleBatch(views, samples.sex[lo:hi], samples.loglik[lo:hi])


def sample_logliks(case: DVICase) -> NDArray[np.float64]:
    """Each sample's log-likelihood under Hardy-Weinberg, shape (S,)."""
    return sample_batch(case.pm, case.markers).loglik


# ---------------------------------------------------------------------------
# Tiles of the matrix and what is kept of them
# ---------------------------------------------------------------------------

#: (log LR, exclusions, markers used) of a tile, each of shape (samples, missing persons)
Tile = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]


#: lineage part of a tile (:meth:`dogtag.identify.lineage_search.LineageEvidence.block`):
#: natural-log LR, exclusions and ``MTDNA | YSTR`` evidence bits, each of shape (s, m)
Lineage = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int8]]


def _tile_log_lr(samples: SampleBatch, families: FamilyBatch, exc: NDArray[np.int64] | None,
                 lineage: Lineage | None = None) -> NDArray[np.float64]:
    """log LR of a tile; adds the exclusion counts into ``exc`` when given."""
    s, m = samples.n_samples, families.n_missing
    acc = np.zeros((s, m))
    # gathers go to two reused buffers (fresh temporaries cost page faults where the
    # allocator returns freed memory to the system, as Dask workers are set up to do)
    buf = np.empty((s, m))
    bbuf = np.empty((s, m), dtype=bool) if exc is not None else None
    den = families.logp_unrelated
    for j, v in enumerate(samples.views):
        # clean calls gather their genotype's row; untyped and degraded samples (index -1)
        # gather the last row (0 and True): adding 0.0 leaves a float unchanged
        np.take(families.logp[j], v.clean_g, axis=0, out=buf, mode="wrap")
        acc += buf
        if den is not None:
            np.take(den[j], v.clean_g, axis=0, out=buf, mode="wrap")
            with np.errstate(invalid="ignore"):   # -inf - -inf: impossible family data, LR 0 below
                acc -= buf
        if exc is not None:
            assert bbuf is not None
            np.take(families.support[j], v.clean_g, axis=0, out=bbuf, mode="wrap")
            np.invert(bbuf, out=bbuf)
            exc += bbuf
        if v.soft is not None:
            r = v.soft_rows
            with np.errstate(divide="ignore"):
                acc[r] += np.log(np.asarray(v.soft @ families.cond[j]))
                if families.cond_unrelated is not None:
                    acc[r] -= np.log(np.asarray(v.soft @ families.cond_unrelated[j]))
            if exc is not None:
                exc[r] += np.asarray(v.soft @ families.support[j][:-1].astype(np.float64)) == 0
        if den is None:
            acc -= v.log_hw[:, None]  # 0 where untyped
    if lineage is not None:
        acc += lineage[0]
        if exc is not None:
            exc += lineage[1]
    ssex, msex = samples.sex[:, None], families.sex[None, :]
    bad = (ssex != 0) & (msex != 0) & (ssex != msex)
    acc[bad] = np.nan
    acc[np.isnan(acc) & ~bad] = -np.inf  # impossible family data: LR 0
    return acc


def log_lr_given(samples: SampleBatch, cond: Sequence[NDArray[np.float64]], sex: int) -> NDArray[np.float64]:
    """Natural-log LR of every sample of ``samples`` as a person whose genotype distribution at
    marker j is ``cond[j]`` (shape (G_j,), e.g. a missing person's given the family and samples
    already placed on it), against unrelated (Hardy-Weinberg): shape (s,); nan where the sexes
    differ (``sex``: 1 male, 2 female, 0 unknown). With ``cond[j]`` of shape (G_j, n), n such
    persons at once: shape (s, n)."""
    one = np.ndim(cond[0]) == 1 if len(cond) else True
    cols = [np.asarray(c, dtype=np.float64).reshape(np.shape(c)[0], -1) for c in cond]
    n = cols[0].shape[1] if cols else 1
    fb = FamilyBatch(cols, _log_rows(cols), [], np.zeros((len(cols), n), dtype=np.int64),
                     np.full(n, sex, dtype=np.int8))
    out = _tile_log_lr(samples, fb, None)
    return out[:, 0] if one else out


#: columns of a tile: with a few hundred columns, a block of samples' running sums (and the
#: gather buffer) stay in the processor's cache across the markers; a tile of 10,000 columns
#: runs 3-4 times slower, limited by memory bandwidth
BLOCK_COLUMNS = 512


def column_blocks(families: FamilyBatch, width: int | None = None, *, consume: bool = False
                  ) -> list[tuple[int, FamilyBatch]]:
    """``families`` cut into blocks of ``width`` columns (missing persons), each with its own
    contiguous arrays: (first column, block); ``width`` defaults to :data:`BLOCK_COLUMNS`. A
    block's columns are those of ``families``, so tiles over the blocks give what tiles over the
    whole batch give, bit for bit.

    ``consume``: each marker's arrays of ``families`` are dropped once cut (its lists are
    emptied), so that memory holds the batch and one marker's copy, not two batches.
    """
    m = families.n_missing
    width = BLOCK_COLUMNS if width is None else width
    if m <= width:
        return [(0, families)]
    f = families
    spans = [(lo, min(m, lo + width)) for lo in range(0, m, width)]
    kinds: list[list[NDArray]] = [f.cond, f.logp, f.support, f.cond_unrelated or [],
                                  f.logp_unrelated or []]
    cut: list[list[list[NDArray]]] = [[[] for _ in kinds] for _ in spans]
    for k, arrays in enumerate(kinds):
        for j in range(len(arrays)):
            for b, (lo, hi) in enumerate(spans):
                cut[b][k].append(np.ascontiguousarray(arrays[j][:, lo:hi]))
            if consume:
                arrays[j] = np.empty((0, 0), dtype=arrays[j].dtype)   # not a view, which would keep it
    if consume:
        for arrays in kinds:
            arrays.clear()
    return [(lo, FamilyBatch(c[0], c[1], c[2], np.ascontiguousarray(f.typed[:, lo:hi]), f.sex[lo:hi].copy(),
                             c[3] if f.cond_unrelated is not None else None,
                             c[4] if f.logp_unrelated is not None else None))
            for (lo, hi), c in zip(spans, cut, strict=True)]


def _lineage_columns(part: Lineage | None, lo: int, hi: int) -> Lineage | None:
    return None if part is None else (part[0][:, lo:hi], part[1][:, lo:hi], part[2][:, lo:hi])


def tile(samples: SampleBatch, families: FamilyBatch, lineage: Lineage | None = None) -> Tile:
    """One tile of the matrix: rows = ``samples``, columns = the missing persons of ``families``.

    ``lineage``: the tile's lineage part, multiplied in (exclusions added).

    Returns
    -------
    log_lr : ndarray, float64, shape (s, m): natural-log LR; ``nan`` = not a candidate
        (sex), ``-inf`` = LR 0.
    exclusions : ndarray, int, shape (s, m): markers incompatible without mutation.
    markers_used : ndarray, int, shape (s, m): markers typed in both.
    """
    s, m = samples.n_samples, families.n_missing
    exc = np.zeros((s, m), dtype=np.int64)
    acc = _tile_log_lr(samples, families, exc, lineage)
    # markers typed in both: a (s x J) @ (J x m) product of 0/1 matrices, exact in float64
    typed = np.stack([v.typed for v in samples.views], axis=1).astype(np.float64) \
        if samples.views else np.zeros((s, 0))
    used = (typed @ families.typed.astype(np.float64)).astype(np.int64)
    return acc, exc, used


def pair_exclusions(samples: SampleBatch, families: FamilyBatch, rows: NDArray[np.int64],
                    cols: NDArray[np.int64]) -> NDArray[np.int64]:
    """Exclusion counts of the (row, column) pairs of a tile, shape (n,); equal to
    :func:`tile`'s at those pairs, at the cost of the pairs rather than the tile."""
    out = np.zeros(rows.size, dtype=np.int64)
    if not rows.size:
        return out
    for j, v in enumerate(samples.views):
        sup = families.support[j]
        out += ~sup[v.clean_g[rows], cols]   # index -1 (untyped, degraded): the last row, True
        if v.soft is not None:
            pos = np.full(samples.n_samples, -1, dtype=np.intp)
            pos[v.soft_rows] = np.arange(v.soft_rows.size)
            q = pos[rows]
            t = np.nonzero(q >= 0)[0]
            if t.size:   # excluded: no genotype the observation allows is possible without mutation
                o = v.soft[q[t]]
                nnz = np.diff(o.indptr)
                hit = sup[o.indices, np.repeat(cols[t], nnz)] & (o.data != 0)
                out[t] += np.bincount(np.repeat(np.arange(t.size), nnz), weights=hit, minlength=t.size) == 0
    return out


def pair_used(samples: SampleBatch, families: FamilyBatch, rows: NDArray[np.int64],
              cols: NDArray[np.int64]) -> NDArray[np.int64]:
    """Markers typed in both the sample and the family, per (row, column) pair of a tile."""
    out = np.zeros(rows.size, dtype=np.int64)
    for j, v in enumerate(samples.views):
        out += v.typed[rows] & (families.typed[j, cols] > 0)
    return out


@dataclass
class Candidates:
    """Kept pairs of a block of rows, sorted by row, then log LR descending, then column.

    All arrays have shape (n,): ``row`` and ``col`` are global sample and
    missing-person indices, ``log_lr`` the natural-log LR, ``exclusions`` the count,
    ``evidence`` the evidence bits (:mod:`dogtag.identify.lineage_search`).
    """

    row: NDArray[np.int64]
    col: NDArray[np.int64]
    log_lr: NDArray[np.float64]
    exclusions: NDArray[np.int64]
    evidence: NDArray[np.int8]

    _FIELDS = ("row", "col", "log_lr", "exclusions", "evidence")


def _keep(c: Candidates, top: int, min_log: float) -> Candidates:
    """Per row: the ``top`` best pairs (ties by column) and every pair with log LR >= ``min_log``."""
    order = np.lexsort((c.col, -c.log_lr, c.row))
    row = c.row[order]
    rank = np.arange(row.size) - np.searchsorted(row, row, side="left")
    keep = order[(rank < top) | (c.log_lr[order] >= min_log)]
    return Candidates(*(getattr(c, f)[keep] for f in Candidates._FIELDS))


def select(acc: NDArray[np.float64], exc: NDArray[np.int64] | None, *, row0: int, col0: int,
           top: int, min_log: float) -> Candidates:
    """The kept pairs of one tile (see :func:`merge`): ``top`` best per row and all >= ``min_log``.

    The order is total (log LR descending, then column), so keeping per tile and then
    merging the tiles of a row gives what keeping over the whole row gives. Without
    ``exc`` the exclusion counts are left 0 (see :func:`tile_top`); evidence bits are 0.
    """
    ok = ~np.isnan(acc)
    mask = ok & (acc >= min_log)
    k = min(top, acc.shape[1])
    if k > 0:
        keyed = np.where(ok, acc, -np.inf)
        kth = np.partition(keyed, acc.shape[1] - k, axis=1)[:, acc.shape[1] - k]
        mask |= ok & (keyed >= kth[:, None])
    r, c = np.nonzero(mask)
    e = exc[r, c] if exc is not None else np.zeros(r.size, dtype=np.int64)
    return _keep(Candidates(r.astype(np.int64) + row0, c.astype(np.int64) + col0, acc[r, c], e,
                            np.zeros(r.size, dtype=np.int8)), top, min_log)


#: the compiled kernel (:mod:`dogtag.identify.tilekernel`) for :func:`tile_top`; False: the
#: NumPy path everywhere (the reference the tests compare the kernel with)
COMPILED = True

@functools.cache
def _have_numba() -> bool:
    """Whether numba (a dependency) imports; without it (an install that skipped it) the
    NumPy path gives the same results, slower."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _stacked(fb: FamilyBatch) -> Stack:
    """The batch's log tables stacked marker on marker, shape (sum_j (G_j + 1), m), the
    unrelated person's with theta (else shape (0, m)), and each marker's first row.

    Made once per batch and kept on it (or written there by the families in the first place:
    :func:`_family_work`); ``logp`` (and ``logp_unrelated``) become views of the stack, so the
    batch holds one copy of its tables."""
    got = getattr(fb, "_stack", None)
    if got is not None:
        return got
    m = fb.n_missing
    offsets = np.cumsum([0] + [t.shape[0] for t in fb.logp]).astype(np.int64)
    stacks = []
    for tables in (fb.logp, fb.logp_unrelated):
        if tables is None:
            stacks.append(np.zeros((0, m)))
            continue
        st = np.empty((int(offsets[-1]), m))
        for j, t in enumerate(tables):
            st[offsets[j]:offsets[j + 1]] = t
            tables[j] = st[offsets[j]:offsets[j + 1]]
        stacks.append(st)
    got = (stacks[0], stacks[1], offsets)
    fb._stack = got  # type: ignore[attr-defined]
    return got


def tile_top(samples: SampleBatch, families: FamilyBatch | Sequence[tuple[int, FamilyBatch]], *, row0: int,
             col0: int, top: int, min_log: float, lineage: Lineage | None = None,
             compiled: bool | None = None) -> Candidates:
    """A tile reduced to its kept pairs (:func:`select`); exclusions and evidence are
    worked out for those pairs only (:func:`pair_exclusions`, :func:`pair_used`).

    ``families``: a batch, or a batch cut into :func:`column_blocks` (then ``col0`` is the
    batch's first column); the same pairs either way.

    ``compiled`` (default :data:`COMPILED`): the kept pairs by the compiled kernel
    (:mod:`dogtag.identify.tilekernel`), which never makes the tile's matrix; else by the
    NumPy path (:func:`select` of :func:`_tile_log_lr`). Both give the same pairs and log
    LRs, bit for bit.
    """
    blocks = [(0, families)] if isinstance(families, FamilyBatch) else list(families)
    kept = None
    if (COMPILED if compiled is None else compiled) and min_log > -math.inf and _have_numba():
        from dogtag.identify.tilekernel import kernel_top

        pairs = kernel_top(samples, [(c, fb, _stacked(fb)) for c, fb in blocks], col0=col0, top=top,
                           min_log=min_log, lineage=lineage)
        if pairs is not None:
            r, c, v = pairs
            n = r.size
            kept = _keep(Candidates(r + row0, c, v, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int8)),
                         top, min_log)
    if kept is None:
        parts = [select(_tile_log_lr(samples, fb, None, _lineage_columns(lineage, c, c + fb.n_missing)), None,
                        row0=row0, col0=col0 + c, top=top, min_log=min_log) for c, fb in blocks]
        kept = parts[0] if len(parts) == 1 else merge(parts, top=top, min_log=min_log)
    return _pair_details(kept, samples, blocks, row0=row0, col0=col0, lineage=lineage)


def _pair_details(kept: Candidates, samples: SampleBatch, blocks: Sequence[tuple[int, FamilyBatch]], *, row0: int,
                  col0: int, lineage: Lineage | None) -> Candidates:
    """``kept`` (pairs of a tile) with their exclusion counts and evidence bits (in place)."""
    r, c = kept.row - row0, kept.col - col0
    for lo, fb in blocks:
        at = np.flatnonzero((c >= lo) & (c < lo + fb.n_missing))
        kept.exclusions[at] = pair_exclusions(samples, fb, r[at], c[at] - lo)
        kept.evidence[at] = np.where(pair_used(samples, fb, r[at], c[at] - lo) > 0, AUTOSOMAL, 0)
    if lineage is not None:
        kept.exclusions += lineage[1][r, c]
        kept.evidence |= lineage[2][r, c]
    return kept


def merge(parts: Sequence[Candidates], *, top: int, min_log: float) -> Candidates:
    """Kept pairs of several tiles (of the same or of different rows)."""
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return Candidates(e, e, np.zeros(0), e, np.zeros(0, dtype=np.int8))
    cat = Candidates(*(np.concatenate([getattr(p, f) for p in parts]) for f in Candidates._FIELDS))
    return _keep(cat, top, min_log)


def _min_log(min_lr: float | None) -> float:
    if min_lr is None or min_lr <= 0:
        return math.inf if min_lr is None else -math.inf
    return math.log(min_lr)


def candidate_lists(case: DVICase, kept: Candidates) -> tuple[
        dict[str, list[tuple[int, float, int]]], dict[str, list[int]]]:
    """Per sample id: its kept (missing index, log LR, exclusions), best first, and their evidence codes."""
    out: dict[str, list[tuple[int, float, int]]] = {s.id: [] for s in case.pm}
    ev: dict[str, list[int]] = {s.id: [] for s in case.pm}
    for r, c, llr, e, b in zip(kept.row.tolist(), kept.col.tolist(), kept.log_lr.tolist(),
                               kept.exclusions.tolist(), kept.evidence.tolist(), strict=True):
        out[case.pm[r].id].append((c, llr, e))
        ev[case.pm[r].id].append(b)
    return out, ev


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------

def check_case(case: DVICase) -> None:
    """Raise :class:`InconsistentCaseError` for a case the search cannot run on."""
    names = {m.name for m in case.markers}
    seen: dict[str, str] = {}
    for fam in case.am:
        for mp in fam.missing:
            if mp not in fam.pedigree:
                raise InconsistentCaseError(f"family {fam.name}: missing person {mp!r} is not in its pedigree")
        for member, row in fam.genotypes.items():
            extra = set(row) - names
            if extra:
                raise InconsistentCaseError(
                    f"family {fam.name}: {member} is typed at markers with no frequencies: {', '.join(sorted(extra))}")
    for s in case.pm:
        if s.id in seen:
            raise InconsistentCaseError(f"sample {s.id!r} appears twice")
        seen[s.id] = s.id
        extra = set(s.genotypes).union(*(r.genotypes for r in s.replicates)) - names
        if extra:
            raise InconsistentCaseError(
                f"sample {s.id}: typed at markers with no frequencies: {', '.join(sorted(extra))}")



def finish(case: DVICase, *, msex: NDArray[np.int8], sample_ll: NDArray[np.float64],
           fam_ll: dict[str, float], full: Tile | None, kept: Candidates | None,
           refine: int, lineage: bool = False, lineage_full: Lineage | None = None,
           theta: float = 0.0) -> SearchResult:
    """The :class:`SearchResult` from the reduced matrix (both backends end here).

    ``lineage``: whether lineage LRs are multiplied in; ``lineage_full``: with ``full``,
    the lineage part of the whole matrix (its log LR is kept apart and added to the
    refined autosomal LRs; its evidence bits join the autosomal one).
    """
    labels = case.missing_labels()
    family = [f.name for f in case.am for _ in f.missing]
    method = "conditional genotype distributions x observation vectors (exact)"
    log_lr = exclusions = used = evidence = lin_all = None
    if full is not None:
        log_lr, exclusions, used = full
        evidence = np.where(used > 0, AUTOSOMAL, 0).astype(np.int8)
        if lineage_full is not None:
            lin_all = lineage_full[0]
            evidence |= lineage_full[2]
        pairs = np.argwhere(np.isfinite(log_lr))
        if 0 < len(pairs) * len(case.markers) <= refine:
            direct = _direct_pairs(case, pairs, fam_ll, sample_ll, theta)
            if lin_all is not None:  # the direct form is autosomal only
                direct = direct + lin_all[pairs[:, 0], pairs[:, 1]]
            log_lr[pairs[:, 0], pairs[:, 1]] = direct
            method = "direct pedigree likelihoods per candidate pair (exact)"
    if theta > 0:
        method += (f"; theta = {theta:g} (joint Balding-Nichols correction: the sample as MP against "
                   "the sample unrelated, with the family's founders)")
    if lineage:
        method += "; x mtDNA and Y-STR lineage LRs (independent evidence)"
    candidates, cand_ev = candidate_lists(case, kept) if kept is not None else ({}, {})
    return SearchResult(
        [s.id for s in case.pm], labels, family, msex, log_lr, exclusions, used,
        sample_ll, fam_ll, candidates, method, evidence, lin_all, cand_ev, theta,
    )


def blind_search(
    case: DVICase,
    *,
    top: int | None = None,
    min_lr: float | None = None,
    chunk: int = 512,
    workers: int = 1,
    refine: int = 200_000,
    progress: Progress | None = None,
    theta: float | None = None,
) -> SearchResult:
    """LR of every sample against every missing person (H1: the sample is MP; H2: unrelated).

    Parameters
    ----------
    case : the DVI case.
    top : keep only the ``top`` best candidates per sample (the full matrix is not kept);
        ties are broken by missing-person index, pairs that are not candidates (sex) are
        never kept; exclusions are counted for the kept pairs only.
    min_lr : with ``top``, also keep every pair with LR >= ``min_lr``.
    chunk : samples per block of the matrix (bounds memory: chunk x M floats).
    workers : threads for the matrix blocks.
    refine : when the full matrix is kept and (candidate pairs x markers) is at most this,
        each candidate pair's LR is recomputed from direct pedigree likelihoods,
        L(family with the sample on MP) / (L(family) L(sample)). The two are equal in
        exact arithmetic; the direct form also follows pedprobr's convention for
        frequency databases that sum to 1 only to ~1e-10 (see
        :func:`dogtag.genetics.likelihood._lumped_freqs`), so small cases agree with
        dvir to 1e-12 rather than 1e-9.
    progress : callback (done, total, what).
    theta : the subpopulation correction (default: the case's ``theta``), see the module docstring.

    The work is cut into the pieces :mod:`dogtag.scale.blindsearch` runs on a cluster:
    :func:`family_batch` (here one batch of all families), :func:`sample_batch` per
    ``chunk`` of samples, :func:`tile` or :func:`tile_top` per block, :func:`merge`
    and :func:`finish`; both backends give the same result, bit for bit.
    """
    check_case(case)
    theta = check_theta(case.theta if theta is None else theta)
    markers = case.markers
    S = len(case.pm)
    keep_full = top is None
    k = int(top or 0)
    min_log = _min_log(min_lr)
    lin = LineageEvidence(case) if case.has_lineage else None
    if lin is not None and not lin.active:
        lin = None
    if not keep_full and COMPILED and min_log > -math.inf and _have_numba():
        from dogtag.identify.topsearch import search_top

        rows = sample_batch(case.pm, markers, theta)
        fams, fam_ll = _family_work(case, theta, workers, progress, stacked=True)
        kept_all = search_top(rows, fams, top=k, min_log=min_log, lineage=lin, workers=workers, chunk=chunk,
                              progress=progress)
        return finish(case, msex=fams.sex, sample_ll=rows.loglik, fam_ll=fam_ll, full=None, kept=kept_all,
                      refine=refine, lineage=lin is not None, theta=theta)
    fams, fam_ll = _family_work(case, theta, workers, progress)
    M = fams.n_missing
    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    log_lr = np.empty((S, M)) if keep_full else None
    exclusions = np.empty((S, M), dtype=np.int64) if keep_full else None
    used_all = np.empty((S, M), dtype=np.int64) if keep_full else None
    sample_ll = np.empty(S)
    kept: list[Candidates] = []
    lin_full: Lineage | None = None
    if keep_full and lin is not None:
        lin_full = (np.zeros((S, M)), np.zeros((S, M), dtype=np.int64), np.zeros((S, M), dtype=np.int8))

    msex = fams.sex
    if keep_full or not COMPILED:
        cols = column_blocks(fams, consume=True)
    else:  # the kernel works through the columns in cache blocks itself
        _stacked(fams)
        cols = [(0, fams)]
    del fams  # the blocks hold copies of its columns

    def run(b: tuple[int, int]) -> tuple[int, int, SampleBatch, Tile | Candidates, Lineage | None]:
        rows = sample_batch(case.pm[b[0]:b[1]], markers, theta)
        part = lin.block(*b) if lin is not None else None
        if keep_full:
            tiles = [tile(rows, fb, _lineage_columns(part, c0, c0 + fb.n_missing)) for c0, fb in cols]
            out = [np.concatenate([t[i] for t in tiles], axis=1) for i in range(3)]
            return b[0], b[1], rows, (out[0], out[1], out[2]), part
        return b[0], b[1], rows, tile_top(rows, cols, row0=b[0], col0=0, top=k, min_log=min_log,
                                          lineage=part), part

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for lo, hi, rows, res, part in pool.map(run, blocks):
            sample_ll[lo:hi] = rows.loglik
            if isinstance(res, Candidates):
                kept.append(res)
            else:
                assert log_lr is not None and exclusions is not None and used_all is not None
                log_lr[lo:hi], exclusions[lo:hi], used_all[lo:hi] = res
                if lin_full is not None and part is not None:
                    lin_full[0][lo:hi], lin_full[1][lo:hi], lin_full[2][lo:hi] = part
            done += hi - lo
            if progress:
                progress(done, S, "samples")
    full: Tile | None = None
    if keep_full:
        assert log_lr is not None and exclusions is not None and used_all is not None
        full = (log_lr, exclusions, used_all)
    return finish(case, msex=msex, sample_ll=sample_ll, fam_ll=fam_ll, full=full,
                  kept=None if keep_full else merge(kept, top=k, min_log=min_log), refine=refine,
                  lineage=lin is not None, lineage_full=lin_full, theta=theta)


def _family_work(case: DVICase, theta: float, workers: int, progress: Progress | None, *, stacked: bool = False
                 ) -> tuple[FamilyBatch, dict[str, float]]:
    """The families' conditionals and null log-likelihoods (from the same engine runs); with
    ``workers`` > 1 in threads, the families cut into that many parts, each written into its
    columns of the batch (a family's columns do not depend on the others of its batch, so the
    batch is the same, bit for bit; cutting by markers left one thread with the costliest).

    ``stacked``: the log tables are written straight into the kernel's stacked tables
    (:func:`_stacked` then returns them without a copy)."""
    markers = case.markers
    J, F = len(markers), len(case.am)
    js = range(J)
    workers = min(workers, F)
    if workers <= 1:
        enc = encode_families(case.am, markers)
        stack = _stack(markers, enc.n_missing, theta) if stacked else None
        fb, null = _batch(enc, js, theta, progress, stack)
        if stack is not None:
            fb._stack = stack  # type: ignore[attr-defined]
        return fb, _named(case.am, null)
    cuts = [F * k // workers for k in range(workers + 1)]
    firsts = np.cumsum([0] + [sum(len(f.missing) for f in case.am[a:b]) for a, b in pairwise(cuts)])
    M = int(firsts[-1])
    sizes = [mk.n_alleles * (mk.n_alleles + 1) // 2 for mk in markers]
    stack = _stack(markers, M, theta) if stacked else None
    logp = _views(stack[0], stack[2], js) if stack is not None else [np.empty((g + 1, M)) for g in sizes]
    into = FamilyBatch([np.empty((g, M)) for g in sizes], logp, [np.empty((g + 1, M), dtype=bool) for g in sizes],
                       np.zeros((J, M), dtype=np.int64), np.zeros(M, dtype=np.int8))
    if theta > 0:
        into.cond_unrelated = [np.empty((g, M)) for g in sizes]
        into.logp_unrelated = _views(stack[1], stack[2], js) if stack is not None else \
            [np.empty((g + 1, M)) for g in sizes]

    def part(k: int) -> tuple[FamilyBatch, NDArray[np.float64]]:
        enc = encode_families(case.am[cuts[k]:cuts[k + 1]], markers)
        return _batch(enc, js, theta, progress if k == 0 else None, into=into, col=int(firsts[k]))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(part, range(workers)))
    into.typed = np.concatenate([p.typed for p, _ in parts], axis=1)
    into.sex = np.concatenate([p.sex for p, _ in parts])
    if stack is not None:
        into._stack = stack  # type: ignore[attr-defined]
    return into, _named(case.am, np.concatenate([null for _, null in parts], axis=0))


def _direct_pairs(case: DVICase, pairs: NDArray[np.intp], fam_ll: dict[str, float],
                  sample_ll: NDArray[np.float64], theta: float = 0.0) -> NDArray[np.float64]:
    """log LR of (sample, missing column) pairs from direct likelihoods.

    With theta the denominator is the family with the sample as an unrelated member
    (:func:`with_unrelated`), not the family's and the sample's likelihoods apart.
    """
    where = [(fam, mp) for fam in case.am for mp in fam.missing]
    base = {fam.name: [encode(fam.pedigree, m, fam.genotypes) for m in case.markers] for fam in case.am}
    aug = {fam.name: with_unrelated(fam.pedigree) for fam in case.am} if theta > 0 else {}
    peds, data, owner, sign = [], [], [], []
    for k, (s, c) in enumerate(pairs):
        fam, mp = where[c]
        sample = case.pm[s]
        target = fam.pedigree.index(mp)
        # the sample on MP; with theta also the sample unrelated, in the same subpopulation
        places = [(fam.pedigree, target, 1.0)]
        if theta > 0:
            places.append((aug[fam.name], len(fam.pedigree), -1.0))
        for j, m in enumerate(case.markers):
            d = base[fam.name][j]
            o = sample_observation(sample, m)
            for ped, at, sg in places:
                typed = {p: g for p, g in d.typed.items() if p != target}
                soft = None
                if isinstance(o, tuple):
                    typed[at] = o
                elif o is not None:
                    soft = {at: o}
                peds.append(ped)
                data.append(MarkerData(m, typed, soft))
                owner.append(k)
                sign.append(sg)
    ll = loglik_batch(peds, data, theta=theta)
    assert isinstance(ll, np.ndarray)
    total = np.zeros(len(pairs))
    with np.errstate(invalid="ignore"):
        np.add.at(total, np.array(owner, dtype=np.intp), ll * np.array(sign))
    if theta > 0:
        out = total
    else:
        fams = np.array([fam_ll[where[c][0].name] for c in pairs[:, 1]])
        out = total - fams - sample_ll[pairs[:, 0]]
    out[np.isnan(out)] = -np.inf
    return out
