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

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from dogtag.errors import InconsistentCaseError
from dogtag.genetics.dropout import genotype_index, hardy_weinberg, observation_vector
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch
from dogtag.genetics.markers import Marker
from dogtag.identify.case import DVICase, Family, Sample

__all__ = [
    "Candidates", "FamilyBatch", "SampleBatch", "SearchResult", "blind_search", "check_case",
    "family_batch", "family_logliks", "finish", "merge", "sample_batch", "sample_logliks", "select", "tile",
]

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

def _family_items(families: Sequence[Family], markers: list[Marker]):
    """(pedigree, MarkerData, target index, missing column, marker index) for every MP and marker."""
    col = 0
    for fam in families:
        data = [encode(fam.pedigree, m, fam.genotypes) for m in markers]
        for mp in fam.missing:
            k = fam.pedigree.index(mp)
            for j, d in enumerate(data):
                typed = d.typed if k not in d.typed else {p: g for p, g in d.typed.items() if p != k}
                yield fam.pedigree, MarkerData(d.marker, typed), k, col, j
            col += 1


def _conditionals(families: Sequence[Family], markers: list[Marker], *, mutation: bool,
                  progress: Progress | None = None) -> list[NDArray[np.float64]]:
    """Per marker: P(G_MP = g | family), shape (G_k, M), for every missing person (columns)."""
    n_m = sum(len(f.missing) for f in families)
    out = [np.zeros((m.n_alleles * (m.n_alleles + 1) // 2, n_m)) for m in markers]
    items = list(_family_items(families, markers))
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
    """

    cond: list[NDArray[np.float64]]
    logp: list[NDArray[np.float64]]
    support: list[NDArray[np.bool_]]
    typed: NDArray[np.int64]
    sex: NDArray[np.int8]

    @property
    def n_missing(self) -> int:
        return int(self.sex.shape[0])


def family_batch(families: Sequence[Family], markers: list[Marker], *,
                 progress: Progress | None = None) -> FamilyBatch:
    """Conditional genotype distributions of the missing persons of ``families`` (a batch).

    Each family is computed alone (its conditionals do not depend on the other
    families of the batch), so any split of the families into batches gives the
    same columns.
    """
    cond = _conditionals(families, markers, mutation=True, progress=progress)
    n_cols = sum(len(f.missing) for f in families)
    with np.errstate(divide="ignore"):
        logp = [np.vstack([np.log(c), np.zeros((1, n_cols))]) for c in cond]
    mutating = [j for j, mk in enumerate(markers) if mk.has_mutation]
    plain = _conditionals(families, [markers[j] for j in mutating], mutation=False) if mutating else []
    without = dict(zip(mutating, plain, strict=True))
    support = [np.vstack([without.get(j, c) > 0, np.ones((1, n_cols), dtype=bool)])
               for j, c in enumerate(cond)]
    cols = [(fam, mp) for fam in families for mp in fam.missing]
    typed = np.zeros((len(markers), len(cols)), dtype=np.int64)
    for c, (fam, _mp) in enumerate(cols):
        for j, m in enumerate(markers):
            typed[j, c] = any(m.name in row for row in fam.genotypes.values())
    sex = np.array([fam.pedigree.sex[fam.pedigree.index(mp)] for fam, mp in cols], dtype=np.int8)
    return FamilyBatch(cond, logp, support, typed, sex)


def _family_logliks(families: Sequence[Family], markers: list[Marker]) -> dict[str, float]:
    peds, data, owner = [], [], []
    for fam in families:
        for m in markers:
            peds.append(fam.pedigree)
            data.append(encode(fam.pedigree, m, fam.genotypes))
            owner.append(fam.name)
    out: dict[str, float] = {fam.name: 0.0 for fam in families}
    if not peds:
        return out
    ll = loglik_batch(peds, data)
    assert isinstance(ll, np.ndarray)
    for name, v in zip(owner, ll, strict=True):
        out[name] += float(v)
    return out


def family_logliks(case: DVICase) -> dict[str, float]:
    """Null log-likelihood of each family (its reference data alone), natural log."""
    return _family_logliks(case.am, case.markers)


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


def _observation(sample: Sample, m: Marker) -> tuple[int, int] | NDArray[np.float64] | None:
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


def _sample_view(samples: Sequence[Sample], markers: list[Marker]) -> list[_SampleMarker]:
    views = []
    for m in markers:
        n = m.n_alleles
        hw = hardy_weinberg(m.freqs)
        S = len(samples)
        typed = np.zeros(S, dtype=bool)
        clean = np.full(S, -1, dtype=np.intp)
        soft_rows: list[int] = []
        soft_vecs: list[NDArray[np.float64]] = []
        log_hw = np.zeros(S)
        for s, sample in enumerate(samples):
            o = _observation(sample, m)
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


def sample_batch(samples: Sequence[Sample], markers: list[Marker]) -> SampleBatch:
    """Observation vectors of a batch of samples (rows of the matrix)."""
    views = _sample_view(samples, markers)
    ll = np.sum([v.log_hw for v in views], axis=0) if views else np.zeros(len(samples))
    return SampleBatch(views, np.array([s.sex for s in samples], dtype=np.int8), ll)


def sample_logliks(case: DVICase) -> NDArray[np.float64]:
    """Each sample's log-likelihood under Hardy-Weinberg, shape (S,)."""
    return sample_batch(case.pm, case.markers).loglik


# ---------------------------------------------------------------------------
# Tiles of the matrix and what is kept of them
# ---------------------------------------------------------------------------

Tile = tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]


def tile(samples: SampleBatch, families: FamilyBatch) -> Tile:
    """One tile of the matrix: rows = ``samples``, columns = the missing persons of ``families``.

    Returns
    -------
    log_lr : ndarray, float64, shape (s, m): natural-log LR; ``nan`` = not a candidate
        (sex), ``-inf`` = LR 0.
    exclusions : ndarray, int, shape (s, m): markers incompatible without mutation.
    markers_used : ndarray, int, shape (s, m): markers typed in both.
    """
    s, m = samples.n_samples, families.n_missing
    acc = np.zeros((s, m))
    exc = np.zeros((s, m), dtype=np.int64)
    # gathers go to two reused buffers (fresh temporaries cost page faults where the
    # allocator returns freed memory to the system, as Dask workers are set up to do)
    buf = np.empty((s, m))
    bbuf = np.empty((s, m), dtype=bool)
    for j, v in enumerate(samples.views):
        # clean calls gather their genotype's row; untyped and degraded samples (index -1)
        # gather the last row (0 and True): adding 0.0 leaves a float unchanged
        np.take(families.logp[j], v.clean_g, axis=0, out=buf, mode="wrap")
        acc += buf
        np.take(families.support[j], v.clean_g, axis=0, out=bbuf, mode="wrap")
        np.invert(bbuf, out=bbuf)
        exc += bbuf
        if v.soft is not None:
            r = v.soft_rows
            with np.errstate(divide="ignore"):
                acc[r] += np.log(np.asarray(v.soft @ families.cond[j]))
            exc[r] += np.asarray(v.soft @ families.support[j][:-1].astype(np.float64)) == 0
        acc -= v.log_hw[:, None]  # 0 where untyped
    # markers typed in both: a (s x J) @ (J x m) product of 0/1 matrices, exact in float64
    typed = np.stack([v.typed for v in samples.views], axis=1).astype(np.float64) \
        if samples.views else np.zeros((s, 0))
    used = (typed @ families.typed.astype(np.float64)).astype(np.int64)
    ssex, msex = samples.sex[:, None], families.sex[None, :]
    bad = (ssex != 0) & (msex != 0) & (ssex != msex)
    acc[bad] = np.nan
    acc[np.isnan(acc) & ~bad] = -np.inf  # impossible family data: LR 0
    return acc, exc, used


@dataclass
class Candidates:
    """Kept pairs of a block of rows, sorted by row, then log LR descending, then column.

    All arrays have shape (n,): ``row`` and ``col`` are global sample and
    missing-person indices, ``log_lr`` the natural-log LR, ``exclusions`` the count.
    """

    row: NDArray[np.int64]
    col: NDArray[np.int64]
    log_lr: NDArray[np.float64]
    exclusions: NDArray[np.int64]


def _keep(c: Candidates, top: int, min_log: float) -> Candidates:
    """Per row: the ``top`` best pairs (ties by column) and every pair with log LR >= ``min_log``."""
    order = np.lexsort((c.col, -c.log_lr, c.row))
    row, col, llr, exc = c.row[order], c.col[order], c.log_lr[order], c.exclusions[order]
    rank = np.arange(row.size) - np.searchsorted(row, row, side="left")
    keep = (rank < top) | (llr >= min_log)
    return Candidates(row[keep], col[keep], llr[keep], exc[keep])


def select(acc: NDArray[np.float64], exc: NDArray[np.int64], *, row0: int, col0: int,
           top: int, min_log: float) -> Candidates:
    """The kept pairs of one tile (see :func:`merge`): ``top`` best per row and all >= ``min_log``.

    The order is total (log LR descending, then column), so keeping per tile and then
    merging the tiles of a row gives what keeping over the whole row gives.
    """
    ok = ~np.isnan(acc)
    mask = ok & (acc >= min_log)
    k = min(top, acc.shape[1])
    if k > 0:
        keyed = np.where(ok, acc, -np.inf)
        kth = np.partition(keyed, acc.shape[1] - k, axis=1)[:, acc.shape[1] - k]
        mask |= ok & (keyed >= kth[:, None])
    r, c = np.nonzero(mask)
    return _keep(Candidates(r.astype(np.int64) + row0, c.astype(np.int64) + col0,
                            acc[r, c], exc[r, c]), top, min_log)


def merge(parts: Sequence[Candidates], *, top: int, min_log: float) -> Candidates:
    """Kept pairs of several tiles (of the same or of different rows)."""
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return Candidates(e, e, np.zeros(0), e)
    cat = Candidates(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("row", "col", "log_lr", "exclusions")))
    return _keep(cat, top, min_log)


def _min_log(min_lr: float | None) -> float:
    if min_lr is None or min_lr <= 0:
        return math.inf if min_lr is None else -math.inf
    return math.log(min_lr)


def candidate_lists(case: DVICase, kept: Candidates) -> dict[str, list[tuple[int, float, int]]]:
    """Per sample id: its kept (missing index, log LR, exclusions), best first."""
    out: dict[str, list[tuple[int, float, int]]] = {s.id: [] for s in case.pm}
    for r, c, llr, e in zip(kept.row.tolist(), kept.col.tolist(), kept.log_lr.tolist(),
                            kept.exclusions.tolist(), strict=True):
        out[case.pm[r].id].append((c, llr, e))
    return out


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
        extra = set(s.genotypes) - names
        if extra:
            raise InconsistentCaseError(
                f"sample {s.id}: typed at markers with no frequencies: {', '.join(sorted(extra))}")


def finish(case: DVICase, *, msex: NDArray[np.int8], sample_ll: NDArray[np.float64],
           fam_ll: dict[str, float], full: Tile | None, kept: Candidates | None,
           refine: int) -> SearchResult:
    """The :class:`SearchResult` from the reduced matrix (both backends end here)."""
    labels = case.missing_labels()
    family = [f.name for f in case.am for _ in f.missing]
    method = "conditional genotype distributions x observation vectors (exact)"
    log_lr = exclusions = used = None
    if full is not None:
        log_lr, exclusions, used = full
        pairs = np.argwhere(np.isfinite(log_lr))
        if 0 < len(pairs) * len(case.markers) <= refine:
            log_lr[pairs[:, 0], pairs[:, 1]] = _direct_pairs(case, pairs, fam_ll, sample_ll)
            method = "direct pedigree likelihoods per candidate pair (exact)"
    candidates = candidate_lists(case, kept) if kept is not None else {}
    return SearchResult(
        [s.id for s in case.pm], labels, family, msex, log_lr, exclusions, used,
        sample_ll, fam_ll, candidates, method,
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
) -> SearchResult:
    """LR of every sample against every missing person (H1: the sample is MP; H2: unrelated).

    Parameters
    ----------
    case : the DVI case.
    top : keep only the ``top`` best candidates per sample (the full matrix is not kept);
        ties are broken by missing-person index, pairs that are not candidates (sex) are
        never kept.
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
    check_case(case)
    markers = case.markers
    S = len(case.pm)
    fams = family_batch(case.am, markers, progress=progress)
    M = fams.n_missing
    blocks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    keep_full = top is None
    log_lr = np.empty((S, M)) if keep_full else None
    exclusions = np.empty((S, M), dtype=np.int64) if keep_full else None
    used_all = np.empty((S, M), dtype=np.int64) if keep_full else None
    sample_ll = np.empty(S)
    kept: list[Candidates] = []
    min_log = _min_log(min_lr)

    def run(b: tuple[int, int]) -> tuple[int, int, SampleBatch, Tile]:
        rows = sample_batch(case.pm[b[0]:b[1]], markers)
        return b[0], b[1], rows, tile(rows, fams)

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for lo, hi, rows, (acc, exc, used) in pool.map(run, blocks):
            sample_ll[lo:hi] = rows.loglik
            if keep_full:
                assert log_lr is not None and exclusions is not None and used_all is not None
                log_lr[lo:hi], exclusions[lo:hi], used_all[lo:hi] = acc, exc, used
            else:
                kept.append(select(acc, exc, row0=lo, col0=0, top=int(top or 0), min_log=min_log))
            done += hi - lo
            if progress:
                progress(done, S, "samples")
    full = (log_lr, exclusions, used_all) if keep_full else None
    return finish(case, msex=fams.sex, sample_ll=sample_ll, fam_ll=family_logliks(case),
                  full=full,  # type: ignore[arg-type]
                  kept=None if keep_full else merge(kept, top=int(top or 0), min_log=min_log),
                  refine=refine)


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
            o = _observation(sample, m)
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
