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

Lineage markers (mtDNA, Y-STR) of the samples and families multiply in their LRs per
pair, as independent evidence (:mod:`dogtag.identify.lineage_search` states the
assumption); an mtDNA or Y exclusion adds one to the pair's exclusion count and makes
its LR 0. ``evidence`` says which kinds of data each pair's LR rests on.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.dropout import genotype_index, hardy_weinberg, observation_vector
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch
from dogtag.genetics.markers import Marker
from dogtag.identify.case import DVICase, Sample
from dogtag.identify.lineage_search import AUTOSOMAL, LineageEvidence

__all__ = ["SearchResult", "blind_search", "family_logliks", "sample_logliks"]

Progress = Callable[[int, int, str], None]

#: floats of the largest elimination intermediate allowed per batch of families
_BATCH_FLOATS = 24_000_000


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

    @property
    def lr(self) -> NDArray[np.float64]:
        if self.log_lr is None:
            raise ValueError("the full matrix was not kept (top-K search)")
        return np.exp(self.log_lr)


# ---------------------------------------------------------------------------
# Families: conditional genotype distributions of each missing person
# ---------------------------------------------------------------------------

def _family_items(case: DVICase, markers: list[Marker]):
    """(pedigree, MarkerData, target index, missing column, marker index) for every MP and marker."""
    col = 0
    for fam in case.am:
        data = [encode(fam.pedigree, m, fam.genotypes) for m in markers]
        for mp in fam.missing:
            k = fam.pedigree.index(mp)
            for j, d in enumerate(data):
                typed = d.typed if k not in d.typed else {p: g for p, g in d.typed.items() if p != k}
                yield fam.pedigree, MarkerData(d.marker, typed), k, col, j
            col += 1


def _conditionals(case: DVICase, markers: list[Marker], *, mutation: bool,
                  progress: Progress | None = None) -> list[NDArray[np.float64]]:
    """Per marker: P(G_MP = g | family), shape (G_k, M), for every missing person (columns)."""
    n_m = sum(len(f.missing) for f in case.am)
    out = [np.zeros((m.n_alleles * (m.n_alleles + 1) // 2, n_m)) for m in markers]
    items = list(_family_items(case, markers))
    # batch by marker (so each batch has one allele count) and bound the work per batch
    by_marker: dict[int, list[int]] = {}
    for i, it in enumerate(items):
        by_marker.setdefault(it[4], []).append(i)
    done = 0
    for j, idx in by_marker.items():
        n = markers[j].n_alleles
        step = max(1, _BATCH_FLOATS // (4 * (n + 1) ** 3))
        for lo in range(0, len(idx), step):
            chunk = [items[i] for i in idx[lo:lo + step]]
            dists = loglik_batch([c[0] for c in chunk], [c[1] for c in chunk],
                                 target=[c[2] for c in chunk], mutation=mutation)
            assert isinstance(dists, list)
            cols = [c[3] for c in chunk]
            out[j][:, cols] = np.stack(dists, axis=1)
            done += len(chunk)
            if progress:
                progress(done, len(items), "families")
    return out


def family_logliks(case: DVICase) -> dict[str, float]:
    """Null log-likelihood of each family (its reference data alone), natural log."""
    peds, data, owner = [], [], []
    for fam in case.am:
        for m in case.markers:
            peds.append(fam.pedigree)
            data.append(encode(fam.pedigree, m, fam.genotypes))
            owner.append(fam.name)
    out: dict[str, float] = {fam.name: 0.0 for fam in case.am}  # 0 with no autosomal markers
    if not peds:
        return out
    ll = loglik_batch(peds, data)
    assert isinstance(ll, np.ndarray)
    for name, v in zip(owner, ll, strict=True):
        out[name] = out.get(name, 0.0) + float(v)
    return out


# ---------------------------------------------------------------------------
# Samples: observation vectors
# ---------------------------------------------------------------------------

@dataclass
class _SampleMarker:
    """One marker's view of all samples."""

    typed: NDArray[np.bool_]            # (S,)
    clean_g: NDArray[np.intp]           # (S,) genotype index of clean typed samples, else -1
    soft_rows: NDArray[np.intp]         # samples with a degraded observation here
    soft: sp.csr_matrix | None          # (len(soft_rows), G) observation vectors
    log_hw: NDArray[np.float64]         # (S,) log sum_g o(g) P_HW(g), 0 where untyped


def sample_observation(sample: Sample, m: Marker) -> tuple[int, int] | NDArray[np.float64] | None:
    """A sample at one marker: an allele-index pair (clean call), an observation
    vector over genotypes (drop-out / drop-in, or a half-typed call), or None (untyped)."""
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


def _sample_view(case: DVICase, markers: list[Marker]) -> list[_SampleMarker]:
    views = []
    for m in markers:
        n = m.n_alleles
        hw = hardy_weinberg(m.freqs)
        S = len(case.pm)
        typed = np.zeros(S, dtype=bool)
        clean = np.full(S, -1, dtype=np.intp)
        soft_rows: list[int] = []
        soft_vecs: list[NDArray[np.float64]] = []
        log_hw = np.zeros(S)
        for s, sample in enumerate(case.pm):
            o = sample_observation(sample, m)
            if o is None:
                continue
            typed[s] = True
            if isinstance(o, tuple):
                gi = genotype_index(o[0], o[1], n)
                clean[s] = gi
                val = hw[gi]
            else:
                soft_rows.append(s)
                soft_vecs.append(o)
                val = float(o @ hw)
            log_hw[s] = math.log(val) if val > 0 else -math.inf
        soft = sp.csr_matrix(np.array(soft_vecs)) if soft_vecs else None
        views.append(_SampleMarker(typed, clean, np.array(soft_rows, dtype=np.intp), soft, log_hw))
    return views


def sample_logliks(case: DVICase) -> NDArray[np.float64]:
    """Each sample's log-likelihood under Hardy-Weinberg, shape (S,)."""
    views = _sample_view(case, case.markers)
    return np.sum([v.log_hw for v in views], axis=0) if views else np.zeros(len(case.pm))


# ---------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------

def _check_case(case: DVICase) -> None:
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
        extra = set(s.genotypes) - names
        if extra:
            raise InconsistentCaseError(
                f"sample {s.id}: typed at markers with no frequencies: {', '.join(sorted(extra))}")


def blind_search(
    case: DVICase,
    *,
    top: int | None = None,
    min_lr: float | None = None,
    chunk: int = 512,
    workers: int = 1,
    refine: int = 200_000,
    progress: Progress | None = None,
) -> SearchResult:
    """LR of every sample against every missing person (H1: the sample is MP; H2: unrelated).

    Parameters
    ----------
    case : the DVI case.
    top : keep only the ``top`` best candidates per sample (the full matrix is not kept).
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
    """
    _check_case(case)
    markers = case.markers
    labels = case.missing_labels()
    family = [f.name for f in case.am for _ in f.missing]
    msex = np.array([f.pedigree.sex[f.pedigree.index(m)] for f in case.am for m in f.missing], dtype=np.int8)
    S, M = len(case.pm), len(labels)

    cond = _conditionals(case, markers, mutation=True, progress=progress)
    with np.errstate(divide="ignore"):
        logp = [np.log(c) for c in cond]
    support = []
    for m, c in zip(markers, cond, strict=True):
        if m.has_mutation:
            nm = _conditionals(case, [m], mutation=False)[0]
            support.append(nm > 0)
        else:
            support.append(c > 0)
    # markers at which each family has at least one typed member
    fam_typed = np.zeros((len(markers), M), dtype=np.int64)
    col = 0
    for fam in case.am:
        for _mp in fam.missing:
            for j, m in enumerate(markers):
                fam_typed[j, col] = any(m.name in row for row in fam.genotypes.values())
            col += 1
    views = _sample_view(case, markers)
    sample_ll = np.sum([v.log_hw for v in views], axis=0) if views else np.zeros(S)
    ssex = np.array([s.sex for s in case.pm], dtype=np.int8)
    lin = LineageEvidence(case) if case.has_lineage else None
    if lin is not None and not lin.active:
        lin = None

    Block = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int8],
                  NDArray[np.float64] | None]

    def block(lo: int, hi: int) -> Block:
        acc = np.zeros((hi - lo, M))
        exc = np.zeros((hi - lo, M), dtype=np.int64)
        used = np.zeros((hi - lo, M), dtype=np.int64)
        for j, v in enumerate(views):
            g = v.clean_g[lo:hi]
            rows = np.nonzero(g >= 0)[0]
            if rows.size:
                acc[rows] += logp[j][g[rows]]
                exc[rows] += ~support[j][g[rows]]
            if v.soft is not None:
                sel = (v.soft_rows >= lo) & (v.soft_rows < hi)
                if sel.any():
                    o = v.soft[np.nonzero(sel)[0]]
                    r = v.soft_rows[sel] - lo
                    with np.errstate(divide="ignore"):
                        acc[r] += np.log(np.asarray(o @ cond[j]))
                    exc[r] += np.asarray(o @ support[j].astype(np.float64)) == 0
            typed = v.typed[lo:hi]
            acc[typed] -= v.log_hw[lo:hi][typed, None]
            used += np.outer(typed, fam_typed[j])
        ev = np.where(used > 0, AUTOSOMAL, 0).astype(np.int8)
        lin_llr = None
        if lin is not None:
            lin_llr, lin_exc, lin_ev = lin.block(lo, hi)
            acc += lin_llr
            exc += lin_exc
            ev |= lin_ev
        bad = (ssex[lo:hi, None] != 0) & (msex[None, :] != 0) & (ssex[lo:hi, None] != msex[None, :])
        acc[bad] = np.nan
        acc[np.isnan(acc) & ~bad] = -np.inf  # impossible family data: LR 0
        return acc, exc, used, ev, lin_llr

    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    keep_full = top is None
    log_lr = np.empty((S, M)) if keep_full else None
    exclusions = np.empty((S, M), dtype=np.int64) if keep_full else None
    used_all = np.empty((S, M), dtype=np.int64) if keep_full else None
    ev_all = np.empty((S, M), dtype=np.int8) if keep_full else None
    lin_all = np.zeros((S, M)) if keep_full and lin is not None else None
    candidates: dict[str, list[tuple[int, float, int]]] = {}
    cand_ev: dict[str, list[int]] = {}
    min_log = -math.inf if min_lr is None else math.log(min_lr) if min_lr > 0 else -math.inf

    def run(b: tuple[int, int]) -> tuple[int, int, Block]:
        return b[0], b[1], block(*b)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for lo, hi, (acc, exc, used, ev, lin_llr) in pool.map(run, blocks):
            if keep_full:
                assert log_lr is not None and exclusions is not None and used_all is not None
                assert ev_all is not None
                log_lr[lo:hi], exclusions[lo:hi], used_all[lo:hi], ev_all[lo:hi] = acc, exc, used, ev
                if lin_all is not None and lin_llr is not None:
                    lin_all[lo:hi] = lin_llr
            else:
                k = min(int(top or 0), M)
                keyed = np.where(np.isnan(acc), -np.inf, acc)
                for r in range(hi - lo):
                    row = keyed[r]
                    best = set(np.argpartition(-row, k - 1)[:k].tolist()) if k else set()
                    if min_lr is not None:
                        best |= set(np.nonzero(row >= min_log)[0].tolist())
                    chosen = [int(c) for c in best if not np.isnan(acc[r, c])]
                    cands = heapq.nlargest(len(chosen), ((int(c), float(acc[r, c]), int(exc[r, c])) for c in chosen),
                                           key=lambda t: t[1])
                    candidates[case.pm[lo + r].id] = cands
                    cand_ev[case.pm[lo + r].id] = [int(ev[r, c]) for c, _, _ in cands]
            done += hi - lo
            if progress:
                progress(done, S, "samples")
    fam_ll = family_logliks(case)
    method = "conditional genotype distributions x observation vectors (exact)"
    if log_lr is not None:
        pairs = np.argwhere(np.isfinite(log_lr))
        if 0 < len(pairs) * len(markers) <= refine:
            direct = _direct_pairs(case, pairs, fam_ll, sample_ll)
            if lin_all is not None:  # the direct form is autosomal only
                direct = direct + lin_all[pairs[:, 0], pairs[:, 1]]
            log_lr[pairs[:, 0], pairs[:, 1]] = direct
            method = "direct pedigree likelihoods per candidate pair (exact)"
    if lin is not None:
        method += "; x mtDNA and Y-STR lineage LRs (independent evidence)"
    return SearchResult(
        [s.id for s in case.pm], labels, family, msex, log_lr, exclusions, used_all,
        sample_ll, fam_ll, candidates, method, ev_all, lin_all, cand_ev,
    )


def _direct_pairs(case: DVICase, pairs: NDArray[np.intp], fam_ll: dict[str, float],
                  sample_ll: NDArray[np.float64]) -> NDArray[np.float64]:
    """log LR of (sample, missing column) pairs from direct likelihoods."""
    where = [(fam, mp) for fam in case.am for mp in fam.missing]
    base = {fam.name: [encode(fam.pedigree, m, fam.genotypes) for m in case.markers] for fam in case.am}
    peds, data, owner = [], [], []
    for k, (s, c) in enumerate(pairs):
        fam, mp = where[c]
        sample = case.pm[s]
        target = fam.pedigree.index(mp)
        for j, m in enumerate(case.markers):
            d = base[fam.name][j]
            typed = {p: g for p, g in d.typed.items() if p != target}
            o = sample_observation(sample, m)
            soft = None
            if isinstance(o, tuple):
                typed[target] = o
            elif o is not None:
                soft = {target: o}
            peds.append(fam.pedigree)
            data.append(MarkerData(m, typed, soft))
            owner.append(k)
    ll = loglik_batch(peds, data)
    assert isinstance(ll, np.ndarray)
    total = np.zeros(len(pairs))
    np.add.at(total, np.array(owner, dtype=np.intp), ll)
    fams = np.array([fam_ll[where[c][0].name] for c in pairs[:, 1]])
    out = total - fams - sample_ll[pairs[:, 0]]
    out[np.isnan(out)] = -np.inf
    return out
