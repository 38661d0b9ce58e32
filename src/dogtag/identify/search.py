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
from dogtag.genetics.dropout import hardy_weinberg, observation_vector
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch, same_shape_batch
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family, Sample

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

    @property
    def lr(self) -> NDArray[np.float64]:
        if self.log_lr is None:
            raise ValueError("the full matrix was not kept (top-K search)")
        return np.exp(self.log_lr)


# ---------------------------------------------------------------------------
# Families: conditional genotype distributions of each missing person
# ---------------------------------------------------------------------------

@dataclass
class _Shape:
    """Families (or missing persons) of one shape at one marker: one engine batch."""

    ped: Pedigree
    typed: tuple[int, ...]
    target: int
    owners: list[int] = field(default_factory=list)      # column (MP) or family index
    alleles: list[list[tuple[int, int]]] = field(default_factory=list)


#: per family, per marker: (typed members, their allele-index pairs), or None if some member is half-typed
_Encoded = list[list[tuple[tuple[int, ...], tuple[tuple[int, int], ...]] | None]]


def _encode_families(case: DVICase, markers: list[Marker]) -> _Encoded:
    out: _Encoded = []
    for fam in case.am:
        ped = fam.pedigree
        rows = sorted((ped.index(member), row) for member, row in fam.genotypes.items())
        per_marker: list[tuple[tuple[int, ...], tuple[tuple[int, int], ...]] | None] = []
        for m in markers:
            name, index = m.name, m._index
            typed: list[int] = []
            pairs: list[tuple[int, int]] = []
            for k, row in rows:
                g = row.get(name)
                if g is None:
                    continue
                if g[0] is None or g[1] is None:
                    typed = []
                    break
                typed.append(k)
                pairs.append((index[g[0]], index[g[1]]))
            else:
                per_marker.append((tuple(typed), tuple(pairs)))
                continue
            per_marker.append(None)
        out.append(per_marker)
    return out


def _shapes(case: DVICase, enc: _Encoded, n_markers: int, *, per_missing: bool) -> tuple[
        list[dict[tuple, _Shape]], list[tuple[int, int, Family, int]]]:
    """Group (missing person or family, marker) items by shape for :func:`same_shape_batch`.

    Returns, per marker, shape key -> _Shape, and the irregular items (half-typed
    members) as (marker index, owner, family, target) for the general engine.
    """
    groups: list[dict[tuple, _Shape]] = [{} for _ in range(n_markers)]
    irregular: list[tuple[int, int, Family, int]] = []
    col = 0
    for fi, fam in enumerate(case.am):
        ped = fam.pedigree
        struct = (tuple(int(x) for x in ped.father), tuple(int(x) for x in ped.mother))
        targets = [ped.index(mp) for mp in fam.missing] if per_missing else [-1]
        for t_i, target in enumerate(targets):
            owner = col + t_i if per_missing else fi
            for j, e in enumerate(enc[fi]):
                if e is None:
                    irregular.append((j, owner, fam, target))
                    continue
                typed, pairs = e
                if target in typed:
                    keep = [x for x in range(len(typed)) if typed[x] != target]
                    typed, pairs = tuple(typed[x] for x in keep), tuple(pairs[x] for x in keep)
                key = (struct, typed, target)
                shape = groups[j].get(key)
                if shape is None:
                    shape = groups[j][key] = _Shape(ped, typed, target)
                shape.owners.append(owner)
                shape.alleles.append(list(pairs))
        col += len(fam.missing)
    return groups, irregular


def _conditionals(case: DVICase, markers: list[Marker], enc: _Encoded, progress: Progress | None = None
                  ) -> tuple[list[NDArray[np.float64]], list[NDArray[np.bool_]]]:
    """Per marker: P(G_MP = g | family), shape (G_k, M), for every missing person (columns),
    and its support without mutation (genotypes that are Mendelian-compatible)."""
    n_m = sum(len(f.missing) for f in case.am)
    cond = [np.zeros((m.n_alleles * (m.n_alleles + 1) // 2, n_m)) for m in markers]
    support = [np.zeros(c.shape, dtype=bool) for c in cond]
    groups, irregular = _shapes(case, enc, len(markers), per_missing=True)
    total = sum(len(s.owners) for g in groups for s in g.values()) + len(irregular)
    done = 0
    for j, g in enumerate(groups):
        m = markers[j]
        for shape in g.values():
            arr = np.array(shape.alleles, dtype=np.intp).reshape(len(shape.owners), len(shape.typed), 2)
            res = same_shape_batch(shape.ped, m, shape.typed, arr, target=shape.target, max_floats=_BATCH_FLOATS)
            cond[j][:, shape.owners] = res.T
            if m.has_mutation:
                res = same_shape_batch(shape.ped, m, shape.typed, arr, target=shape.target, mutation=False,
                                       max_floats=_BATCH_FLOATS)
            support[j][:, shape.owners] = res.T > 0
            done += len(shape.owners)
            if progress:
                progress(done, total, "families")
    for j, owner, fam, target in irregular:
        d = encode(fam.pedigree, markers[j], fam.genotypes)
        typed = {p: g for p, g in d.typed.items() if p != target}
        for mut in (True, False):
            dist = loglik_batch([fam.pedigree], [MarkerData(markers[j], typed)], target=[target], mutation=mut)
            assert isinstance(dist, list)
            if mut:
                cond[j][:, owner] = dist[0]
            support[j][:, owner] = dist[0] > 0
    return cond, support


def family_logliks(case: DVICase, enc: _Encoded | None = None) -> dict[str, float]:
    """Null log-likelihood of each family (its reference data alone), natural log."""
    total = np.zeros(len(case.am))
    if enc is None:
        enc = _encode_families(case, case.markers)
    groups, irregular = _shapes(case, enc, len(case.markers), per_missing=False)
    for j, g in enumerate(groups):
        for shape in g.values():
            arr = np.array(shape.alleles, dtype=np.intp).reshape(len(shape.owners), len(shape.typed), 2)
            total[shape.owners] += same_shape_batch(shape.ped, case.markers[j], shape.typed, arr,
                                                    max_floats=_BATCH_FLOATS)
    for j, owner, fam, _target in irregular:
        ll = loglik_batch([fam.pedigree], [encode(fam.pedigree, case.markers[j], fam.genotypes)])
        assert isinstance(ll, np.ndarray)
        total[owner] += float(ll[0])
    return {f.name: float(v) for f, v in zip(case.am, total, strict=True)}


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
        name, index = m.name, m._index
        a1s = np.full(S, -1, dtype=np.intp)
        a2s = np.full(S, -1, dtype=np.intp)
        for s, sample in enumerate(case.pm):
            g = sample.genotypes.get(name)
            if g is None:
                continue
            clean_call = sample.dropout == 0 and sample.dropin == 0 and g[0] is not None and g[1] is not None
            if clean_call and g[0] in index and g[1] in index:
                a1s[s], a2s[s] = index[g[0]], index[g[1]]
                continue
            o = sample_observation(sample, m)  # degraded, half-typed, or an unknown allele (raises)
            if o is None:
                continue
            typed[s] = True
            if isinstance(o, tuple):
                a1s[s], a2s[s] = o
                continue
            soft_rows.append(s)
            soft_vecs.append(o)
            val = float(o @ hw)
            log_hw[s] = math.log(val) if val > 0 else -math.inf
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

    enc = _encode_families(case, markers)
    cond, support = _conditionals(case, markers, enc, progress)
    with np.errstate(divide="ignore"):
        logp = [np.log(c) for c in cond]
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

    keep_full = top is None

    def block(lo: int, hi: int) -> tuple[NDArray[np.float64], NDArray[np.int64] | None, NDArray[np.int64] | None]:
        """log LR of samples lo..hi against every MP; exclusion and marker counts when the
        full matrix is kept (a top-K search counts them for the kept pairs only)."""
        acc = np.zeros((hi - lo, M))
        exc = np.zeros((hi - lo, M), dtype=np.int64) if keep_full else None
        used = np.zeros((hi - lo, M), dtype=np.int64) if keep_full else None
        for j, v in enumerate(views):
            g = v.clean_g[lo:hi]
            rows = np.nonzero(g >= 0)[0]
            if rows.size:
                acc[rows] += logp[j][g[rows]]
                if exc is not None:
                    exc[rows] += ~support[j][g[rows]]
            if v.soft is not None:
                sel = (v.soft_rows >= lo) & (v.soft_rows < hi)
                if sel.any():
                    o = v.soft[np.nonzero(sel)[0]]
                    r = v.soft_rows[sel] - lo
                    with np.errstate(divide="ignore"):
                        acc[r] += np.log(np.asarray(o @ cond[j]))
                    if exc is not None:
                        exc[r] += np.asarray(o @ support[j].astype(np.float64)) == 0
            typed = v.typed[lo:hi]
            acc[typed] -= v.log_hw[lo:hi][typed, None]
            if used is not None:
                used += np.outer(typed, fam_typed[j])
        bad = (ssex[lo:hi, None] != 0) & (msex[None, :] != 0) & (ssex[lo:hi, None] != msex[None, :])
        acc[bad] = np.nan
        acc[np.isnan(acc) & ~bad] = -np.inf  # impossible family data: LR 0
        return acc, exc, used

    def pair_exclusions(s_idx: NDArray[np.intp], c_idx: NDArray[np.intp]) -> NDArray[np.int64]:
        """Exclusion counts of (sample, MP column) pairs."""
        out = np.zeros(len(s_idx), dtype=np.int64)
        for j, v in enumerate(views):
            g = v.clean_g[s_idx]
            ok = g >= 0
            out[ok] += ~support[j][g[ok], c_idx[ok]]
            if v.soft is not None and v.soft_rows.size:
                pos = {int(r): q for q, r in enumerate(v.soft_rows)}
                for t in np.nonzero(~ok)[0]:
                    q = pos.get(int(s_idx[t]))
                    if q is not None:
                        o = v.soft[q].toarray()[0]
                        out[t] += float(o @ support[j][:, c_idx[t]]) == 0
        return out

    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    log_lr = np.empty((S, M)) if keep_full else None
    exclusions = np.empty((S, M), dtype=np.int64) if keep_full else None
    used_all = np.empty((S, M), dtype=np.int64) if keep_full else None
    candidates: dict[str, list[tuple[int, float, int]]] = {}
    min_log = -math.inf if min_lr is None else math.log(min_lr) if min_lr > 0 else -math.inf

    def run(b: tuple[int, int]) -> tuple[int, int, tuple[NDArray[np.float64], NDArray[np.int64] | None,
                                                          NDArray[np.int64] | None]]:
        return b[0], b[1], block(*b)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for lo, hi, (acc, exc, used) in pool.map(run, blocks):
            if keep_full:
                assert log_lr is not None and exclusions is not None and used_all is not None
                assert exc is not None and used is not None
                log_lr[lo:hi], exclusions[lo:hi], used_all[lo:hi] = acc, exc, used
            else:
                k = min(int(top or 0), M)
                keyed = np.where(np.isnan(acc), -np.inf, acc)
                best = np.argpartition(-keyed, k - 1, axis=1)[:, :k] if k else np.zeros((hi - lo, 0), dtype=np.intp)
                rows_c: list[list[int]] = []
                for r in range(hi - lo):
                    chosen = set(best[r].tolist())
                    if min_lr is not None:
                        chosen |= set(np.nonzero(keyed[r] >= min_log)[0].tolist())
                    rows_c.append([c for c in chosen if not np.isnan(acc[r, c])])
                s_idx = np.array([lo + r for r, cs in enumerate(rows_c) for _ in cs], dtype=np.intp)
                c_idx = np.array([c for cs in rows_c for c in cs], dtype=np.intp)
                excl = pair_exclusions(s_idx, c_idx)
                q = 0
                for r, cs in enumerate(rows_c):
                    trip = [(c, float(acc[r, c]), int(excl[q + t])) for t, c in enumerate(cs)]
                    q += len(cs)
                    candidates[case.pm[lo + r].id] = heapq.nlargest(len(trip), trip, key=lambda x: x[1])
            done += hi - lo
            if progress:
                progress(done, S, "samples")
    fam_ll = family_logliks(case, enc)
    method = "conditional genotype distributions x observation vectors (exact)"
    if log_lr is not None:
        pairs = np.argwhere(np.isfinite(log_lr))
        if 0 < len(pairs) * len(markers) <= refine:
            log_lr[pairs[:, 0], pairs[:, 1]] = _direct_pairs(case, pairs, fam_ll, sample_ll)
            method = "direct pedigree likelihoods per candidate pair (exact)"
    return SearchResult(
        [s.id for s in case.pm], labels, family, msex, log_lr, exclusions, used_all,
        sample_ll, fam_ll, candidates, method,
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
