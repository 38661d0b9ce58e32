"""Comparing mtDNA haplotypes: verdicts, difference counts, frequencies and LRs.

Two haplotypes are compared over the positions both cover. Each *site* (a
position, or an inserted base ``p.k``) where they carry incompatible bases is a
difference; a heteroplasmy (IUPAC code) is compatible with either of its bases;
indels in the C-stretches 16184-16193 and 303-315 (length heteroplasmy) are
ignored by default, and so is 3107 (a placeholder N in the rCRS: ``3107d`` is
the rCRS convention, not a difference). Verdicts follow the SWGDAM mtDNA interpretation guidelines
(2019): 0 differences *match*, 1 *inconclusive*, 2 or more *exclusion*.

The weight of a match is the frequency by counting in a database, over the
compared range: x matching haplotypes among the n that cover the range, with the
one-sided 95% Clopper-Pearson upper bound (Clopper & Pearson 1934, *Biometrika*
26:404; for x = 0 it is 1 - 0.05^(1/n), SWGDAM 2019); LR = 1 / upper bound.

Many-against-many comparison uses :class:`MtPanel`, a flat (CSR) store of
variant codes. :func:`screen` finds every pair with at most one difference
without forming the full matrix: each haplotype is hashed as the sum of
64-bit hashes of its variants (splitmix64), so the hash of the haplotype less one
variant is one subtraction, and pairs at distance 0 or 1 meet on equal keys
(a sort-merge join). Haplotypes with heteroplasmy fall back to the exact sparse
count of :func:`difference_matrix`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from dogtag.genetics import mtdna as mt
from dogtag.genetics.mtdna import BASE_MASK, MtHaplotype, MtRange

#: positions whose indels are ignored by default (C-stretch length heteroplasmy)
DEFAULT_IGNORE = MtRange.parse("16184-16193;303-315")
VERDICTS = ("match", "inconclusive", "exclusion")
_ABSENT = 32  # mask of "no inserted base"


@dataclass(frozen=True)
class Difference:
    """One differing site: ``site`` as ``16093`` or ``315.1``; bases as EMPOP symbols ('-' = none)."""

    site: str
    a: str
    b: str


@dataclass(frozen=True)
class MtComparison:
    verdict: str
    differences: tuple[Difference, ...]
    range: MtRange

    def as_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict, "range": str(self.range),
                "differences": [{"site": d.site, "a": d.a, "b": d.b} for d in self.differences]}


def verdict(n_differences: int) -> str:
    """SWGDAM verdict for a number of differences."""
    return VERDICTS[min(int(n_differences), 2)]


def _ref_mask(sites: NDArray[np.int64]) -> NDArray[np.uint8]:
    """Mask of the rCRS value at each site (its base, or 'no insertion')."""
    ref = _rcrs_masks()
    pos, ins = sites >> 6, sites & 63
    return np.where(ins == 0, ref[pos], _ABSENT).astype(np.uint8)


_RCRS_MASKS: NDArray[np.uint8] | None = None


def _rcrs_masks() -> NDArray[np.uint8]:
    global _RCRS_MASKS
    if _RCRS_MASKS is None:
        seq = mt.rcrs()
        m = np.zeros(mt.RCRS_LENGTH + 1, dtype=np.uint8)
        m[1:] = [BASE_MASK[mt.SYMBOLS.index(c)] for c in seq]
        _RCRS_MASKS = m
    return _RCRS_MASKS


def _keep(codes: NDArray[np.int64], rng_mask: NDArray[np.bool_], ignore_mask: NDArray[np.bool_]
          ) -> NDArray[np.bool_]:
    pos = (codes >> 10).astype(np.intp)
    ins = (codes >> 4) & 63
    indel = (ins > 0) | ((codes & 15) == mt.DELETION)
    # 3107 is a placeholder N in the rCRS: 3107d / 3107N say nothing
    placeholder = (pos == 3107) & (ins == 0)
    return rng_mask[pos] & ~(indel & ignore_mask[pos]) & ~placeholder


def compare(a: MtHaplotype, b: MtHaplotype, *, ignore: MtRange | None = DEFAULT_IGNORE) -> MtComparison:
    """Compare two haplotypes over their shared range (the obvious per-site version)."""
    rng = a.range & b.range
    ign = ignore.mask if ignore is not None else np.zeros(mt.RCRS_LENGTH + 1, dtype=bool)
    va = {int(c) >> 4: int(c) & 15 for c in a.codes[_keep(a.codes, rng.mask, ign)]}
    vb = {int(c) >> 4: int(c) & 15 for c in b.codes[_keep(b.codes, rng.mask, ign)]}
    diffs = []
    for site in sorted(set(va) | set(vb)):
        refm = int(_ref_mask(np.array([site]))[0])
        ma = int(BASE_MASK[va[site]]) if site in va else refm
        mb = int(BASE_MASK[vb[site]]) if site in vb else refm
        if ma & mb == 0:
            pos, ins = site >> 6, site & 63
            name = f"{pos}" if ins == 0 else f"{pos}.{'X' if ins == mt.INS_X else ins}"
            ref_sym = mt.rcrs()[pos - 1] if ins == 0 else "-"
            diffs.append(Difference(name, mt.SYMBOLS[va[site]] if site in va else ref_sym,
                                    mt.SYMBOLS[vb[site]] if site in vb else ref_sym))
    return MtComparison(verdict(len(diffs)), tuple(diffs), rng)


# --- many haplotypes ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MtPanel:
    """Many haplotypes, flat.

    Attributes
    ----------
    ids : tuple of str, shape (n,).
    ranges : tuple of MtRange; the distinct ranges.
    range_index : ndarray, int64, shape (n,); each haplotype's range in ``ranges``.
    codes : ndarray, int64, shape (nnz,); variant codes, haplotype by haplotype.
    offsets : ndarray, int64, shape (n + 1,); haplotype i owns codes[offsets[i]:offsets[i+1]].
    """

    ids: tuple[str, ...]
    ranges: tuple[MtRange, ...]
    range_index: NDArray[np.int64]
    codes: NDArray[np.int64]
    offsets: NDArray[np.int64]

    @classmethod
    def from_haplotypes(cls, haplotypes: Sequence[MtHaplotype]) -> MtPanel:
        rindex: dict[MtRange, int] = {}
        ri = np.array([rindex.setdefault(h.range, len(rindex)) for h in haplotypes], dtype=np.int64)
        lens = np.array([len(h.codes) for h in haplotypes], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        codes = (np.concatenate([h.codes for h in haplotypes]).astype(np.int64)
                 if haplotypes else np.zeros(0, np.int64))
        return cls(tuple(h.id for h in haplotypes), tuple(rindex), ri, codes, offsets)

    def __len__(self) -> int:
        return len(self.ids)

    def haplotype(self, i: int) -> MtHaplotype:
        return MtHaplotype(self.ids[i], self.ranges[self.range_index[i]],
                           self.codes[self.offsets[i]:self.offsets[i + 1]])

    @property
    def owner(self) -> NDArray[np.int64]:
        """ndarray, int64, shape (nnz,): the haplotype of each code."""
        return np.repeat(np.arange(len(self)), np.diff(self.offsets))


def _restricted(panel: MtPanel, rows: NDArray[np.int64], rng_mask: NDArray[np.bool_],
                ignore_mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(owner position in ``rows``, code) of the kept entries of the given haplotypes."""
    starts, ends = panel.offsets[rows], panel.offsets[rows + 1]
    lens = ends - starts
    idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(lens.sum())
    codes = panel.codes[idx]
    owner = np.repeat(np.arange(len(rows)), lens)
    keep = _keep(codes, rng_mask, ignore_mask)
    return owner[keep], codes[keep]


def _range_pairs(a: MtPanel, b: MtPanel
                 ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], MtRange]]:
    for ra, rng_a in enumerate(a.ranges):
        rows_a = np.flatnonzero(a.range_index == ra)
        if not len(rows_a):
            continue
        for rb, rng_b in enumerate(b.ranges):
            rows_b = np.flatnonzero(b.range_index == rb)
            if len(rows_b):
                yield rows_a, rows_b, rng_a & rng_b


def difference_matrix(samples: MtPanel, refs: MtPanel, *, ignore: MtRange | None = DEFAULT_IGNORE
                      ) -> NDArray[np.int32]:
    """Exact number of differences of every pair.

    Returns
    -------
    ndarray, int32, shape (n_samples, n_refs). Sparse products: the count is
    w_s + w_r - sum over shared sites of [inc(v_s) + inc(v_r) - inc(v_s, v_r)],
    where w counts a haplotype's variants incompatible with the rCRS.
    """
    ign = ignore.mask if ignore is not None else np.zeros(mt.RCRS_LENGTH + 1, dtype=bool)
    out = np.zeros((len(samples), len(refs)), dtype=np.int32)
    for rows_s, rows_r, rng in _range_pairs(samples, refs):
        os_, cs = _restricted(samples, rows_s, rng.mask, ign)
        or_, cr = _restricted(refs, rows_r, rng.mask, ign)
        allc = np.concatenate([cs, cr])
        ent, inv = np.unique(allc, return_inverse=True)
        e_site = ent >> 4
        e_mask = BASE_MASK[ent & 15]
        e_inc = (e_mask & _ref_mask(e_site)) == 0
        E = len(ent)
        S = sp.csr_matrix((np.ones(len(cs)), (os_, inv[:len(cs)])), shape=(len(rows_s), E))
        R = sp.csr_matrix((np.ones(len(cr)), (or_, inv[len(cs):])), shape=(len(rows_r), E))
        ws = np.bincount(os_, weights=e_inc[inv[:len(cs)]], minlength=len(rows_s))
        wr = np.bincount(or_, weights=e_inc[inv[len(cs):]], minlength=len(rows_r))
        # entries of the same site: all (e1, e2) pairs within each run of equal sites
        starts = np.flatnonzero(np.concatenate([[True], e_site[1:] != e_site[:-1]]))
        run = np.diff(np.concatenate([starts, [E]]))
        first = np.repeat(starts, run)
        k = np.repeat(run, run)
        e1 = np.repeat(np.arange(E), k)
        e2 = np.repeat(first, k) + (np.arange(len(e1)) - np.repeat(np.cumsum(k) - k, k))
        w = (e_inc[e1].astype(np.int8) + e_inc[e2] - ((e_mask[e1] & e_mask[e2]) == 0)).astype(float)
        W = sp.csr_matrix((w, (e1, e2)), shape=(E, E))
        corr = (S @ W @ R.T).toarray()
        d = ws[:, None] + wr[None, :] - corr
        out[np.ix_(rows_s, rows_r)] = np.rint(d).astype(np.int32)
    return out


def verdict_matrix(differences: NDArray[np.int32]) -> NDArray[np.int8]:
    """0 match, 1 inconclusive, 2 exclusion; same shape as ``differences``."""
    return np.minimum(differences, 2).astype(np.int8)


# --- hashing screen ---------------------------------------------------------------------
def _splitmix(x: NDArray[np.int64], salt: int) -> NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (salt + 1)) & (2**64 - 1))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _segment_sums(values: NDArray[np.uint64], owner: NDArray[np.int64], n: int) -> NDArray[np.uint64]:
    """Sum (mod 2^64) of values per owner; owner is sorted (haplotype by haplotype)."""
    cs = np.concatenate([[np.uint64(0)], np.cumsum(values, dtype=np.uint64)])
    ends = np.searchsorted(owner, np.arange(n), side="right")
    starts = np.searchsorted(owner, np.arange(n), side="left")
    with np.errstate(over="ignore"):
        return cs[ends] - cs[starts]


def _join(ka: NDArray[np.uint64], ia: NDArray[np.int64], kb: NDArray[np.uint64], ib: NDArray[np.int64]
          ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All (ia, ib) with equal keys (sort-merge)."""
    order = np.argsort(kb, kind="stable")
    kb, ib = kb[order], ib[order]
    lo = np.searchsorted(kb, ka, "left")
    hi = np.searchsorted(kb, ka, "right")
    cnt = hi - lo
    hit = cnt > 0
    ia, lo, cnt = ia[hit], lo[hit], cnt[hit]
    rep_a = np.repeat(ia, cnt)
    pos = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt) + np.arange(cnt.sum())
    return rep_a, ib[pos]


@dataclass(frozen=True)
class MtScreen:
    """Pairs with at most one difference; every other pair is an exclusion.

    sample, ref : ndarray, int64, shape (n_pairs,); row indices.
    differences : ndarray, int8, shape (n_pairs,); 0 (match) or 1 (inconclusive).
    """

    sample: NDArray[np.int64]
    ref: NDArray[np.int64]
    differences: NDArray[np.int8]

    def dense(self, n_samples: int, n_refs: int) -> NDArray[np.int8]:
        """Verdict matrix (0 match, 1 inconclusive, 2 exclusion), shape (n_samples, n_refs)."""
        v = np.full((n_samples, n_refs), 2, dtype=np.int8)
        v[self.sample, self.ref] = self.differences
        return v


MAX_AMBIGUOUS = 8  # haplotypes with more ambiguous sites are compared by the exact sparse count


def _resolve(panel: MtPanel) -> tuple[MtPanel, NDArray[np.int64], NDArray[np.int64]]:
    """Every haplotype with heteroplasmies (IUPAC codes) as all its single-base readings.

    Returns (resolved panel, parent row of each resolved row, rows left unresolved because
    they have more than MAX_AMBIGUOUS ambiguous sites). A pair's number of differences is
    the minimum over the readings of both, since each site is compared on its own.
    """
    amb_entry = (panel.codes & 15) > mt.DELETION
    n_amb = np.bincount(panel.owner[amb_entry], minlength=len(panel))
    clean = np.flatnonzero(n_amb == 0)
    many = np.flatnonzero(n_amb > MAX_AMBIGUOUS)
    some = np.flatnonzero((n_amb > 0) & (n_amb <= MAX_AMBIGUOUS))
    if not len(some):
        return _subset(panel, clean), clean, many
    ref = mt.rcrs()
    extra: list[mt.MtHaplotype] = []
    parent: list[int] = []
    for i in some.tolist():
        h = panel.haplotype(i)
        fixed = [int(c) for c in h.codes if (c & 15) <= mt.DELETION]
        options: list[list[int | None]] = []
        for c in h.codes[(h.codes & 15) > mt.DELETION].tolist():
            pos, ins, sym = mt.decode(c)
            m = int(BASE_MASK[mt.SYMBOLS.index(sym)])
            alts: list[int | None] = []
            for bit, letter in ((1, "A"), (2, "C"), (4, "G"), (8, "T")):
                if m & bit:
                    alts.append(None if ins == 0 and ref[pos - 1] == letter else mt.encode(pos, ins, letter))
            options.append(alts)
        for combo in np.array(np.meshgrid(*[np.arange(len(o)) for o in options])).reshape(len(options), -1).T:
            chosen = [options[k][j] for k, j in enumerate(combo)]
            codes = np.array(sorted(fixed + [c for c in chosen if c is not None]), dtype=np.int64)
            extra.append(mt.MtHaplotype(h.id, h.range, codes))
            parent.append(i)
    base = _subset(panel, clean)
    more = MtPanel.from_haplotypes(extra)
    merged = MtPanel.from_haplotypes([base.haplotype(k) for k in range(len(base))] + extra) \
        if len(base) < 1000 else _concat(base, more)
    return merged, np.concatenate([clean, np.array(parent, dtype=np.int64)]), many


def _concat(a: MtPanel, b: MtPanel) -> MtPanel:
    ranges = list(a.ranges)
    idx = {r: k for k, r in enumerate(ranges)}
    for r in b.ranges:
        if r not in idx:
            idx[r] = len(ranges)
            ranges.append(r)
    remap = np.array([idx[r] for r in b.ranges], dtype=np.int64)
    return MtPanel(a.ids + b.ids, tuple(ranges),
                   np.concatenate([a.range_index, remap[b.range_index] if len(b) else b.range_index]),
                   np.concatenate([a.codes, b.codes]),
                   np.concatenate([a.offsets, b.offsets[1:] + a.offsets[-1]]))


def _keys(panel: MtPanel, rows: NDArray[np.int64], rng: MtRange, ign: NDArray[np.bool_]
          ) -> tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]:
    """Hash of each haplotype, of it less each variant, and of that plus the site removed."""
    own, codes = _restricted(panel, rows, rng.mask, ign)
    h = _splitmix(codes, 0)
    full = _segment_sums(h, own, len(rows))
    with np.errstate(over="ignore"):
        minus = full[own] - h
        minus_site = minus + _splitmix(codes >> 4, 1)
    return full, minus, minus_site, rows[own]


def _screen_clean(samples: MtPanel, refs: MtPanel, ign: NDArray[np.bool_]
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    out_s: list[NDArray[np.int64]] = []
    out_r: list[NDArray[np.int64]] = []
    out_d: list[NDArray[np.int8]] = []
    for rows_s, rows_r, rng in _range_pairs(samples, refs):
        fs, ms, mss, ros = _keys(samples, rows_s, rng, ign)
        fr, mr, msr, ror = _keys(refs, rows_r, rng, ign)
        for ka, ia, kb, ib, d in ((fs, rows_s, fr, rows_r, 0), (fs, rows_s, mr, ror, 1),
                                  (ms, ros, fr, rows_r, 1), (mss, ros, msr, ror, 1)):
            pa, pb = _join(ka, ia, kb, ib)
            out_s.append(pa)
            out_r.append(pb)
            out_d.append(np.full(len(pa), d, dtype=np.int8))
    return _cat(out_s, np.int64), _cat(out_r, np.int64), _cat(out_d, np.int8)


def _cat(parts: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _dedup_min(s: NDArray[np.int64], r: NDArray[np.int64], d: NDArray[np.int8], n_refs: int
               ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]]:
    key = s.astype(np.int64) * max(n_refs, 1) + r
    order = np.lexsort((d, key))
    key, s, r, d = key[order], s[order], r[order], d[order]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, bool)
    return s[first], r[first], d[first]


def screen(samples: MtPanel, refs: MtPanel, *, ignore: MtRange | None = DEFAULT_IGNORE) -> MtScreen:
    """Every (sample, ref) pair with at most one difference, without the full matrix."""
    ign = ignore.mask if ignore is not None else np.zeros(mt.RCRS_LENGTH + 1, dtype=bool)
    rs, ps, many_s = _resolve(samples)
    rr, pr, many_r = _resolve(refs)
    i, j, d = _screen_clean(rs, rr, ign)
    out_s, out_r, out_d = [ps[i]], [pr[j]], [d]
    # exact fallback for haplotypes with very many heteroplasmies
    for sub_s, sub_r in ((many_s, np.arange(len(refs))), (np.arange(len(samples)), many_r)):
        if len(sub_s) and len(sub_r):
            for lo in range(0, len(sub_s), 256):
                chunk = sub_s[lo:lo + 256]
                dm = difference_matrix(_subset(samples, chunk), _subset(refs, sub_r), ignore=ignore)
                a, b = np.nonzero(dm <= 1)
                out_s.append(chunk[a])
                out_r.append(sub_r[b])
                out_d.append(dm[a, b].astype(np.int8))
    s, r, dd = _dedup_min(_cat(out_s, np.int64), _cat(out_r, np.int64), _cat(out_d, np.int8), len(refs))
    return MtScreen(s, r, dd)


# --- frequencies and LRs -----------------------------------------------------------------
def clopper_pearson_upper(x: NDArray[np.int64] | int, n: NDArray[np.int64] | int, *,
                          confidence: float = 0.95) -> NDArray[np.float64]:
    """One-sided Clopper-Pearson upper bound of a binomial proportion x/n (1 where x = n or n = 0)."""
    x_, n_ = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        from scipy import stats  # scipy.stats takes a second to import: only where used

        ub = stats.beta.ppf(confidence, x_ + 1, np.maximum(n_ - x_, 1e-300))
    return np.where((x_ >= n_) | (n_ <= 0), 1.0, ub)


@dataclass(frozen=True)
class MtFrequency:
    """count matching haplotypes among n covering the range; arrays of shape (n_queries,)."""

    count: NDArray[np.int64]
    n: NDArray[np.int64]
    frequency: NDArray[np.float64]
    upper_bound: NDArray[np.float64]

    @property
    def lr(self) -> NDArray[np.float64]:
        """1 / upper bound."""
        return 1.0 / self.upper_bound


def frequencies(queries: MtPanel, database: MtPanel, *, ignore: MtRange | None = DEFAULT_IGNORE,
                confidence: float = 0.95) -> MtFrequency:
    """Frequency by counting of each query over its own range, in the database entries covering it.

    Clean pairs are counted from sorted hashes without listing them; pairs involving a
    heteroplasmy are listed (over the readings) and counted once each.
    """
    ign = ignore.mask if ignore is not None else np.zeros(mt.RCRS_LENGTH + 1, dtype=bool)
    count = np.zeros(len(queries), dtype=np.int64)
    n = np.zeros(len(queries), dtype=np.int64)
    rq_all, pq_all, many_q = _resolve(queries)
    rd_all, pd_all, many_d = _resolve(database)
    amb_q = np.bincount(pq_all, minlength=len(queries)) > 1
    amb_d = np.bincount(pd_all, minlength=len(database)) > 1
    for k, rng in enumerate(queries.ranges):
        rows_q = np.flatnonzero(queries.range_index == k)
        cover = np.array([r.covers(rng) for r in database.ranges], dtype=bool)
        covered_d = cover[database.range_index]
        n[rows_q] = int(covered_d.sum())
        if not covered_d.any():
            continue
        sel_q = np.flatnonzero(queries.range_index[pq_all] == k)
        sel_d = np.flatnonzero(covered_d[pd_all])
        fq, _, _, _ = _keys(_single_range(rq_all, rng), sel_q, rng, ign)
        fd, _, _, _ = _keys(_single_range(rd_all, rng), sel_d, rng, ign)
        pq, pd_ = pq_all[sel_q], pd_all[sel_d]
        # clean query vs clean database entry: count equal hashes
        cq, cd = ~amb_q[pq], ~amb_d[pd_]
        keys_d = np.sort(fd[cd])
        c = np.searchsorted(keys_d, fq[cq], "right") - np.searchsorted(keys_d, fq[cq], "left")
        np.add.at(count, pq[cq], c)
        # pairs with a heteroplasmy on either side: list, map to parents, count once
        for qa, da in ((~cq, np.ones(len(pd_), bool)), (cq, ~cd)):
            if qa.any() and da.any():
                a, b = _join(fq[qa], pq[qa], fd[da], pd_[da])
                pairs = np.unique(a * len(database) + b)
                np.add.at(count, pairs // len(database), 1)
    # haplotypes with very many heteroplasmies: exact counts
    if len(many_q) or len(many_d):
        q_cov = np.array([[rd.covers(rq) for rd in database.ranges] for rq in queries.ranges], dtype=bool)
        cov = q_cov[queries.range_index][:, database.range_index]        # (n_q, n_d) coverage
        if len(many_q):
            dm = difference_matrix(_subset(queries, many_q), database, ignore=ignore)
            count[many_q] = ((dm == 0) & cov[many_q]).sum(axis=1)
        if len(many_d):
            rest = np.setdiff1d(np.arange(len(queries)), many_q)
            dm = difference_matrix(_subset(queries, rest), _subset(database, many_d), ignore=ignore)
            count[rest] += ((dm == 0) & cov[np.ix_(rest, many_d)]).sum(axis=1)
    freq = np.divide(count, n, out=np.zeros(len(queries)), where=n > 0)
    return MtFrequency(count, n, freq, clopper_pearson_upper(count, n, confidence=confidence))


def _single_range(panel: MtPanel, rng: MtRange) -> MtPanel:
    return MtPanel(panel.ids, (rng,), np.zeros(len(panel), np.int64), panel.codes, panel.offsets)


def _subset(panel: MtPanel, rows: NDArray[np.int64]) -> MtPanel:
    starts, ends = panel.offsets[rows], panel.offsets[rows + 1]
    lens = ends - starts
    idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(lens.sum())
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return MtPanel(tuple(panel.ids[i] for i in rows), panel.ranges, panel.range_index[rows],
                   panel.codes[idx], offsets)


def lr_matrix(samples: MtPanel, refs: MtPanel, database: MtPanel, *,
              ignore: MtRange | None = DEFAULT_IGNORE, inconclusive_lr: float = 1.0,
              confidence: float = 0.95) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Per-pair mtDNA LR and verdict, for the identification search.

    A match weighs 1 / (upper bound of the frequency of the sample's haplotype in
    ``database``), counted over the range the pair was compared on (the overlap of
    the two ranges, among the database entries covering it); an exclusion 0; an
    inconclusive pair ``inconclusive_lr`` (1: no weight either way, the SWGDAM reading).

    Returns
    -------
    lr : ndarray, float64, shape (n_samples, n_refs).
    verdicts : ndarray, int8, shape (n_samples, n_refs); 0 match, 1 inconclusive, 2 exclusion.
    """
    found = screen(samples, refs, ignore=ignore)
    v = found.dense(len(samples), len(refs))
    lr = np.zeros(v.shape)
    lr[v == 1] = inconclusive_lr
    m = found.differences == 0
    si, rj = found.sample[m], found.ref[m]
    combo = samples.range_index[si] * len(refs.ranges) + refs.range_index[rj]
    for c in np.unique(combo):
        rng = samples.ranges[c // len(refs.ranges)] & refs.ranges[c % len(refs.ranges)]
        pick = combo == c
        rows, inv = np.unique(si[pick], return_inverse=True)
        f = frequencies(_single_range(_subset(samples, rows), rng), database, ignore=ignore,
                        confidence=confidence)
        lr[si[pick], rj[pick]] = f.lr[inv]
    return lr, v
