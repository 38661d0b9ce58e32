"""Y-STR haplotypes: multi-copy loci, paternal-relative LRs and haplotype frequencies.

A haplotype maps loci to allele tuples: ``DYS19 -> (14,)``, ``DYS385 -> (11, 14)``
(multi-copy, sorted), a duplicated single-copy locus ``DYS19 -> (14, 15)``, and a
null allele ``()``. Untyped loci are absent.

*Relatives.* Under a symmetric single-step mutation model with per-locus rate
mu (per meiosis), the net change of a copy over m meioses is the sum of m steps
that are 0 with probability 1 - mu and +/-1 with mu/2 each. The LR for "the
donor is a paternal relative m meioses away" against "unrelated" is
prod_l P(d_l | m, mu_l) / f, with f the frequency of the compared haplotype
(the usual YHRD reasoning; see Andersen & Balding 2017, *PLoS Genet* 13:e1006579
for its limits). Copies are compared in sorted order. A change of copy number,
a null allele against a typed one or a non-integer step has probability 0 under
this model and therefore gives LR 0 (reported as an incompatible locus).

*Frequencies.* By counting (with the one-sided Clopper-Pearson bound, as for
mtDNA), or from the discrete Laplace mixture of Andersen, Eriksen & Morling 2013
(*J Theor Biol* 329:39-51): P(x) = sum_j tau_j prod_l DL(x_l - y_jl; p_jl) with
DL(d; p) = (1 - p) / (1 + p) p^|d|, fitted by EM. The M-step takes the weighted
median for each centre y_jl and the closed-form MLE of each p_jl from the weighted
mean absolute deviation m (p = (sqrt(1 + m^2) - 1) / m); this is the model with a
free dispersion per cluster and locus (disclapmix constrains log p to cluster +
locus effects).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError, DogtagError

_NULL = {"null", "0", "-", "del", "nul"}
#: Y-STR locus names: DYS..., DYF..., Y-GATA-H4 and its spellings
Y_LOCUS = re.compile(r"^(DY[SF]\d+[A-Z0-9]*(A/B|AB|[AB])?|Y-?GATA-?H4(\.1)?|GATA[-_]?H4)$", re.IGNORECASE)
_UNTYPED = {"", "na", "n/a", "nan", "?", "nr"}


def canonical_locus(name: str) -> str:
    """``DYS385a/b`` -> ``DYS385``; ``Y-GATA-H4``/``GATA_H4`` -> ``YGATAH4``; upper case."""
    s = name.strip().upper().replace("-", "").replace("_", "").replace(" ", "")
    s = re.sub(r"(A/B|AB)$", "", s) if s.startswith("DY") else s
    if s in ("GATAH4", "YGATAH4", "GATAH41"):
        return "YGATAH4"
    return s


def parse_alleles(text: str, *, profile: str = "?", locus: str = "?") -> tuple[float, ...] | None:
    """``"11,14"`` -> (11.0, 14.0); ``"null"``/``"0"`` -> (); ``""``/``"NA"`` -> None (untyped)."""
    t = str(text).strip().strip('"')
    if t.lower() in _UNTYPED:
        return None
    if t.lower() in _NULL:
        return ()
    parts = [p for p in re.split(r"[,;/ ]+", t) if p]
    try:
        vals = tuple(sorted(float(p) for p in parts))
    except ValueError:
        raise DataFormatError(f"profile {profile!r}: locus {locus}: allele {text!r} is not a number, "
                              "a list like '11,14' or 'null'") from None
    if any(v <= 0 or v > 200 for v in vals):
        raise DataFormatError(f"profile {profile!r}: locus {locus}: allele {text!r} out of range")
    return vals


@dataclass(frozen=True)
class YHaplotype:
    id: str
    alleles: Mapping[str, tuple[float, ...]]

    @classmethod
    def parse(cls, values: Mapping[str, str], *, id: str = "?") -> YHaplotype:
        out: dict[str, tuple[float, ...]] = {}
        for k, v in values.items():
            if not Y_LOCUS.match(k.strip()):
                raise DataFormatError(f"profile {id!r}: unknown Y-STR locus {k!r}")
            loc = canonical_locus(k)
            a = parse_alleles(v, profile=id, locus=loc)
            if a is not None:
                if loc in out:
                    raise DataFormatError(f"profile {id!r}: locus {loc} given twice")
                out[loc] = a
        return cls(id, out)

    def text(self, locus: str) -> str:
        a = self.alleles.get(locus)
        if a is None:
            return ""
        return "null" if not a else ",".join(f"{x:g}" for x in a)


# --- mutation rates ------------------------------------------------------------------------
@dataclass(frozen=True)
class YMutationRates:
    """Per-locus mutation rates (per meiosis), e.g. YHRD counts as compiled in malan."""

    rates: Mapping[str, float]

    @classmethod
    def default(cls) -> YMutationRates:
        """YHRD mutation counts (mutations / meioses), packaged (see PROVENANCE.md)."""
        return _default_rates()

    @classmethod
    def from_csv_text(cls, text: str, *, path: str = "<rates>") -> YMutationRates:
        rows = list(csv.DictReader(text.splitlines()))
        out: dict[str, float] = {}
        for k, row in enumerate(rows, start=2):
            try:
                mut, mei = int(row["mutations"]), int(row["meioses"])
            except (KeyError, ValueError, TypeError):
                raise DataFormatError("expected columns marker, mutations, meioses", path=path, line=k) from None
            out[canonical_locus(row["marker"])] = mut / mei
        return cls(out)

    def rate(self, locus: str) -> float:
        loc = canonical_locus(locus)
        for key in (loc, loc + "A", loc + "S1A"):
            if key in self.rates:
                return self.rates[key]
        raise DogtagError(f"no mutation rate for Y-STR locus {locus!r} (known: "
                          f"{', '.join(sorted(self.rates))})")


@cache
def _default_rates() -> YMutationRates:
    text = resources.files("dogtag.data.ystr").joinpath("ystr_mutation_counts_yhrd_malan.csv").read_text()
    return YMutationRates.from_csv_text(text, path="ystr_mutation_counts_yhrd_malan.csv")


def step_distribution(mu: float, meioses: int, max_steps: int | None = None) -> NDArray[np.float64]:
    """P(net change = d), d = -m..m, after m meioses of the symmetric single-step model.

    Returns
    -------
    ndarray, float64, shape (2 m + 1,); index d + m.
    """
    if not 0 <= mu <= 1:
        raise ValueError(f"`mu` must be in [0, 1], got {mu}")
    if meioses < 0:
        raise ValueError(f"`meioses` must be >= 0, got {meioses}")
    step = np.array([mu / 2, 1 - mu, mu / 2])
    out = np.array([1.0])
    for _ in range(meioses):
        out = np.convolve(out, step)
    return out


@dataclass(frozen=True)
class YComparison:
    loci: tuple[str, ...]            # loci typed in both
    differences: tuple[tuple[str, str, str], ...]  # (locus, a, b)
    incompatible: tuple[str, ...]    # loci with a copy-number / null / non-integer difference
    likelihood: float                # P(b's haplotype | a's, paternal relatives at m meioses)

    @property
    def verdict(self) -> str:
        """match (no difference), exclusion (a difference the mutation model cannot produce) or inconclusive."""
        if self.incompatible:
            return "exclusion"
        return "match" if not self.differences else "inconclusive"


def compare(a: YHaplotype, b: YHaplotype, *, meioses: int, rates: YMutationRates | None = None
            ) -> YComparison:
    """Compare over the loci typed in both (the obvious per-locus version)."""
    rates = rates or YMutationRates.default()
    loci = tuple(sorted(set(a.alleles) & set(b.alleles)))
    diffs, bad = [], []
    like = 1.0
    for loc in loci:
        x, y = a.alleles[loc], b.alleles[loc]
        dist = step_distribution(rates.rate(loc), meioses)
        if x != y:
            diffs.append((loc, a.text(loc), b.text(loc)))
        if len(x) != len(y) or any(abs((v - u) - round(v - u)) > 1e-9 for u, v in zip(x, y, strict=False)):
            bad.append(loc)
            like = 0.0
            continue
        for u, v in zip(x, y, strict=True):
            d = round(v - u)
            like *= float(dist[d + meioses]) if abs(d) <= meioses else 0.0
    return YComparison(loci, tuple(diffs), tuple(bad), like)


# --- many haplotypes -----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class YPanel:
    """Haplotypes as arrays.

    loci : tuple of str, shape (L,).
    alleles : ndarray, float64, shape (n, L, C); sorted copies, NaN beyond a locus' copies.
    copies : ndarray, int8, shape (n, L); -1 untyped, 0 null, else the number of copies.
    """

    ids: tuple[str, ...]
    loci: tuple[str, ...]
    alleles: NDArray[np.float64]
    copies: NDArray[np.int8]

    @classmethod
    def from_haplotypes(cls, hs: Sequence[YHaplotype], loci: Sequence[str] | None = None) -> YPanel:
        loci = tuple(loci) if loci is not None else tuple(sorted({k for h in hs for k in h.alleles}))
        C = max([len(a) for h in hs for a in h.alleles.values()] + [1])
        al = np.full((len(hs), len(loci), C), np.nan)
        cp = np.full((len(hs), len(loci)), -1, dtype=np.int8)
        for i, h in enumerate(hs):
            for j, loc in enumerate(loci):
                a = h.alleles.get(loc)
                if a is not None:
                    cp[i, j] = len(a)
                    al[i, j, :len(a)] = a
        return cls(tuple(h.id for h in hs), loci, al, cp)

    def __len__(self) -> int:
        return len(self.ids)


def relative_likelihood_matrix(samples: YPanel, refs: YPanel, meioses: NDArray[np.int64] | Sequence[int], *,
                               rates: YMutationRates | None = None) -> NDArray[np.float64]:
    """P(sample haplotype | reference haplotype, paternal relatives at m meioses), per pair.

    Parameters
    ----------
    meioses : int array, shape (n_refs,); meioses between each reference and the missing person.

    Returns
    -------
    ndarray, float64, shape (n_samples, n_refs). Divide by the sample haplotype's
    frequency for the LR. Loci typed in only one of a pair are skipped.
    """
    rates = rates or YMutationRates.default()
    m = np.asarray(meioses, dtype=np.int64)
    if m.shape != (len(refs),):
        raise ValueError(f"`meioses` must have one entry per reference ({len(refs)}), got shape {m.shape}")
    ref_col = {loc: j for j, loc in enumerate(refs.loci)}
    out = np.ones((len(samples), len(refs)))
    for i_l, loc in enumerate(samples.loci):
        if loc not in ref_col:
            continue
        j_l = ref_col[loc]
        mu = rates.rate(loc)
        cs, cr = samples.copies[:, i_l][:, None], refs.copies[:, j_l][None, :]
        both = (cs >= 0) & (cr >= 0)
        C = min(samples.alleles.shape[2], refs.alleles.shape[2])
        a = samples.alleles[:, i_l, :C][:, None, :]
        b = refs.alleles[:, j_l, :C][None, :, :]
        d = b - a                                              # (n_s, n_r, C)
        valid = ~np.isnan(d)
        steps = np.where(valid, np.rint(np.nan_to_num(d)), 0).astype(np.int64)
        nonint = valid & (np.abs(np.nan_to_num(d) - steps) > 1e-9)
        p = np.ones(d.shape)
        for mm in np.unique(m):
            dist = step_distribution(mu, int(mm))
            cols = m == mm
            st = steps[:, cols]
            inside = np.abs(st) <= mm
            p[:, cols] = np.where(inside, dist[np.clip(st + mm, 0, 2 * mm)], 0.0)
        p = np.where(valid, p, 1.0)
        like = np.prod(p, axis=2)
        like = np.where(np.any(nonint, axis=2) | (cs != cr), 0.0, like)
        out *= np.where(both, like, 1.0)
    return out


def count_frequencies(queries: YPanel, database: YPanel, *, confidence: float = 0.95
                      ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Frequency by counting over each query's typed loci, in database entries typing them all.

    Returns (count, n, upper bound), each shape (n_queries,).
    """
    from dogtag.genetics.mtdna_compare import clopper_pearson_upper

    col = {loc: j for j, loc in enumerate(database.loci)}
    count = np.zeros(len(queries), dtype=np.int64)
    n = np.zeros(len(queries), dtype=np.int64)
    for i in range(len(queries)):
        typed = [k for k in range(len(queries.loci)) if queries.copies[i, k] >= 0]
        if any(queries.loci[k] not in col for k in typed):
            continue
        js = [col[queries.loci[k]] for k in typed]
        cover = np.all(database.copies[:, js] >= 0, axis=1)
        C = min(queries.alleles.shape[2], database.alleles.shape[2])
        same = np.all(database.copies[:, js] == queries.copies[i, typed], axis=1)
        qa = queries.alleles[i, typed, :C]
        da = database.alleles[:, js, :C]
        eq = np.all((da == qa) | (np.isnan(da) & np.isnan(qa)), axis=(1, 2))
        n[i] = int(cover.sum())
        count[i] = int((cover & same & eq).sum())
    return count, n, clopper_pearson_upper(count, n, confidence=confidence)


# --- discrete Laplace mixture ---------------------------------------------------------------
def dl_logpmf(d: NDArray[np.float64] | NDArray[np.int64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    """log DL(d; p) = log((1 - p) / (1 + p)) + |d| log p."""
    return np.log1p(-p) - np.log1p(p) + np.abs(d) * np.log(p)


@dataclass(frozen=True)
class DiscreteLaplaceMixture:
    """Andersen, Eriksen & Morling (2013) model.

    centers : ndarray, int64, shape (c, L); p : ndarray, float64, shape (c, L); tau : shape (c,).
    """

    loci: tuple[str, ...]
    centers: NDArray[np.int64]
    p: NDArray[np.float64]
    tau: NDArray[np.float64]
    loglik: float

    def log_prob(self, x: NDArray[np.int64]) -> NDArray[np.float64]:
        """log P(haplotype), x: int array, shape (n, L)."""
        comp = dl_logpmf(x[:, None, :] - self.centers[None], self.p[None]).sum(axis=2)
        return np.logaddexp.reduce(comp + np.log(self.tau)[None], axis=1)

    def prob(self, x: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.exp(self.log_prob(x))

    def sample(self, n: int, seed: int) -> NDArray[np.int64]:
        """Haplotypes simulated from the model, shape (n, L) (a DL variable is a difference of geometrics)."""
        rng = np.random.default_rng(seed)
        j = rng.choice(len(self.tau), size=n, p=self.tau)
        p = self.p[j]
        g1 = rng.geometric(1 - p) - 1
        g2 = rng.geometric(1 - p) - 1
        return self.centers[j] + g1 - g2


def integer_matrix(panel: YPanel) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Haplotypes as integers, multi-copy loci split into copies (``DYS385.1``, ``DYS385.2``).

    Raises DataFormatError for untyped or null loci and for non-integer (microvariant) alleles.
    """
    cols, names = [], []
    for j, loc in enumerate(panel.loci):
        ncopy = panel.copies[:, j]
        k = int(ncopy.max()) if len(ncopy) else 1
        bad = np.flatnonzero(ncopy != k)
        if len(bad):
            raise DataFormatError(f"profile {panel.ids[bad[0]]!r}: locus {loc}: the discrete Laplace model "
                                  f"needs {k} typed copies in every haplotype")
        for c in range(k):
            v = panel.alleles[:, j, c]
            frac = np.flatnonzero(np.abs(v - np.rint(v)) > 1e-9)
            if len(frac):
                raise DataFormatError(f"profile {panel.ids[frac[0]]!r}: locus {loc}: allele {v[frac[0]]:g} "
                                      "is not an integer (drop or round microvariants first)")
            cols.append(np.rint(v).astype(np.int64))
            names.append(loc if k == 1 else f"{loc}.{c + 1}")
    return np.stack(cols, axis=1), tuple(names)


def _weighted_median(x: NDArray[np.int64], w: NDArray[np.float64]) -> NDArray[np.int64]:
    """Per column of x (n, L), the weighted median for each weight column of w (n, c); shape (c, L)."""
    c, L = w.shape[1], x.shape[1]
    out = np.zeros((c, L), dtype=np.int64)
    for l_ in range(L):
        vals, inv = np.unique(x[:, l_], return_inverse=True)
        onehot = np.zeros((len(vals), x.shape[0]))
        onehot[inv, np.arange(x.shape[0])] = 1.0
        cw = np.cumsum(onehot @ w, axis=0)                   # (U, c)
        half = cw[-1] / 2
        out[:, l_] = vals[np.argmax(cw >= half[None, :], axis=0)]
    return out


def fit_discrete_laplace(x: NDArray[np.int64], n_clusters: int, *, counts: NDArray[np.float64] | None = None,
                         loci: Sequence[str] | None = None, seed: int = 0, n_init: int = 5,
                         max_iter: int = 500, tol: float = 1e-8) -> DiscreteLaplaceMixture:
    """Fit the discrete Laplace mixture by EM (best of ``n_init`` starts from data points).

    Parameters
    ----------
    x : int array, shape (n, L); haplotypes (distinct or not).
    counts : float array, shape (n,); how often each row was seen (default 1).
    """
    x = np.asarray(x, dtype=np.int64)
    n, L = x.shape
    w = np.ones(n) if counts is None else np.asarray(counts, dtype=float)
    if n_clusters < 1 or n_clusters > n:
        raise ValueError(f"`n_clusters` must be in 1..{n}, got {n_clusters}")
    rng = np.random.default_rng(seed)
    best: DiscreteLaplaceMixture | None = None
    for _ in range(n_init):
        # k-means++-style start on L1 distance
        idx = [int(rng.choice(n, p=w / w.sum()))]
        for _k in range(1, n_clusters):
            d = np.min(np.abs(x[:, None, :] - x[idx][None]).sum(axis=2), axis=1) * w
            idx.append(int(rng.choice(n, p=d / d.sum())) if d.sum() > 0 else int(rng.integers(n)))
        y = x[idx].copy()
        p = np.full((n_clusters, L), 0.3)
        tau = np.full(n_clusters, 1 / n_clusters)
        prev = -np.inf
        ll = -np.inf
        for _it in range(max_iter):
            comp = dl_logpmf(x[:, None, :] - y[None], p[None]).sum(axis=2) + np.log(tau)[None]
            norm = np.logaddexp.reduce(comp, axis=1)
            ll = float((w * norm).sum())
            r = np.exp(comp - norm[:, None]) * w[:, None]       # (n, c) weighted responsibilities
            tot = r.sum(axis=0)
            tau = np.maximum(tot / tot.sum(), 1e-300)
            y = _weighted_median(x, r)
            absdev = np.abs(x[:, None, :] - y[None])             # (n, c, L)
            m = np.einsum("nc,ncl->cl", r, absdev) / np.maximum(tot[:, None], 1e-300)
            with np.errstate(invalid="ignore", divide="ignore"):
                p = np.where(m > 0, (np.sqrt(1 + m * m) - 1) / m, 0.0)
            p = np.clip(p, 1e-6, 1 - 1e-6)
            if ll - prev < tol * abs(ll):
                break
            prev = ll
        comp = dl_logpmf(x[:, None, :] - y[None], p[None]).sum(axis=2) + np.log(tau)[None]
        ll = float((w * np.logaddexp.reduce(comp, axis=1)).sum())
        model = DiscreteLaplaceMixture(tuple(loci) if loci else tuple(f"L{k}" for k in range(L)),
                                       y, p, tau, ll)
        if best is None or model.loglik > best.loglik:
            best = model
    assert best is not None
    return best


def haplotype_frequencies(queries: YPanel, database: YPanel, *, method: str = "counting",
                          n_clusters: int = 5, seed: int = 1, confidence: float = 0.95
                          ) -> NDArray[np.float64]:
    """Frequency of each query haplotype for the LR denominator, shape (n_queries,).

    ``"counting"``: the one-sided Clopper-Pearson upper bound of the count in the
    database (conservative). ``"laplace"``: the discrete Laplace mixture fitted to the
    database by EM over the loci the queries and the database share, all typed.
    """
    if method == "counting":
        return count_frequencies(queries, database, confidence=confidence)[2]
    if method != "laplace":
        raise ValueError(f"`method` must be 'counting' or 'laplace', got {method!r}")
    loci = [loc for loc in queries.loci if loc in database.loci]
    dbp = YPanel.from_haplotypes(_to_haplotypes(database), loci=loci)
    qp = YPanel.from_haplotypes(_to_haplotypes(queries), loci=loci)
    xs, _ = integer_matrix(dbp)
    xq, _ = integer_matrix(qp)
    rows, counts = np.unique(xs, axis=0, return_counts=True)
    fit = fit_discrete_laplace(rows, min(n_clusters, len(rows)), counts=counts.astype(float), seed=seed)
    return fit.prob(xq)


def _to_haplotypes(panel: YPanel) -> list[YHaplotype]:
    out = []
    for i in range(len(panel)):
        d = {loc: tuple(float(v) for v in panel.alleles[i, j, :panel.copies[i, j]])
             for j, loc in enumerate(panel.loci) if panel.copies[i, j] >= 0}
        out.append(YHaplotype(panel.ids[i], d))
    return out


def lr_matrix(samples: YPanel, refs: YPanel, meioses: NDArray[np.int64] | Sequence[int], database: YPanel,
              *, method: str = "counting", rates: YMutationRates | None = None, n_clusters: int = 5,
              seed: int = 1) -> NDArray[np.float64]:
    """Per-pair Y-STR LR: P(sample | reference, m meioses) / f(sample haplotype).

    Parameters
    ----------
    meioses : int array, shape (n_refs,); meioses between each reference donor and the
        missing person it stands for (see :func:`dogtag.genetics.lineage.nearest_typed`).

    Returns
    -------
    ndarray, float64, shape (n_samples, n_refs); 0 where the haplotypes are incompatible.
    """
    like = relative_likelihood_matrix(samples, refs, meioses, rates=rates)
    f = haplotype_frequencies(samples, database, method=method, n_clusters=n_clusters, seed=seed)
    return like / f[:, None]
