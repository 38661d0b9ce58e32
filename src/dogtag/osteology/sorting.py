"""Osteometric sorting as OsteoSort does it: pair matching, articulation, regression association.

**Pair matching** (Byrd & Adams 2003, *J Forensic Sci* 48:717-724; Byrd 2008 in Adams & Byrd,
*Recovery, Analysis and Identification of Commingled Human Remains*; automated and assessed by
Lynch, Byrd & LeGarde 2018, *J Forensic Sci* 63:371-380). For a left element ``a`` and a right
element ``b`` of the same kind measured on a shared set S of measurements, the D-value is

    D = sum_{k in S} (a_k - b_k)            (|a_k - b_k| with ``absolute``)

and the reference individuals measured on all of S on both sides give the D-values of true
pairs, with mean ``mu`` (0 with ``zero_mean``), standard deviation ``s`` and count ``n``. Then

    p = tails * P(T_{n-1} > |D - mu| / (s * sqrt(1 + 1/n)))

(optionally after a Yeo-Johnson transformation of D fitted on the reference D-values, Yeo &
Johnson 2000, *Biometrika* 87:954-959; or with ``log``, on natural logs of the measurements,
``D = sum ln(a_k / b_k)``, the relative asymmetry, as the regression models log their sums). A pair with ``p <= alpha`` is excluded: its two
elements are unlikely to come from one person. The defaults are Byrd & Adams's model: signed
D, no transformation, reference mean, two tails, alpha 0.1 (OsteoSort's ``ttest()`` defaults to
absolute D with a Yeo-Johnson transformation instead: ``absolute`` and ``yeo_johnson`` here).

The factor ``sqrt(1 + 1/n)`` makes the test a prediction interval for a *new* individual's D
(who is not one of the n reference individuals; with normal D-values,
``(D - mu) / (s sqrt(1 + 1/n))`` follows T_{n-1} exactly). OsteoSort divides by ``s`` alone,
which treats ``mu`` as known and excludes true pairs too often when the reference is small
(n = 4: a true pair's exclusion rate at alpha 0.1 is 0.13 instead of 0.10); for references of
hundreds the two agree to a part in a thousand. With ``zero_mean`` (mu = 0 is assumed, not
estimated) the factor is 1.

A second departure: with ``absolute`` OsteoSort still tests both tails, so a pair whose
|D| is much *smaller* than true pairs show (a near-perfect match) is excluded; with all nine
humerus measurements of the DPAA reference, D = 0 gives p = 0.015. Here an absolute D-value is
tested on the upper tail only, ``p = P(T_{n-1} > (D - mu) / (s sqrt(1 + 1/n)))``, and ``tails``
applies to signed D-values.

**Articulation** uses the same test on one measurement of each of two articulating elements
of the same side (OsteoSort's configuration, e.g. ``Hum_06`` humeral head vs ``Uln_11``):
``D = a - b``, its reference distribution from individuals with both elements.

**Association by regression** (Byrd & Adams 2003; OsteoSort's "osr"): with ``x`` the natural
log of the sum of the measurements present on element A and ``y`` that of element B, an
ordinary least-squares line ``y = b0 + b1 x`` is fitted on the reference individuals measured
on the same sets; the case pair's prediction error gives

    t = |y - (b0 + b1 x)| / (sigma * sqrt(1 + 1/n + (x - xbar)^2 / ((n - 1) s_x^2)))
    p = 2 P(T_{n-2} > t)

with ``sigma`` the residual standard error (n - 2 degrees of freedom).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from dogtag.osteology.inventory import Osteometrics


@dataclass(frozen=True)
class Comparison:
    """One candidate pair of elements and its test.

    ``p_value`` is None when the pair could not be tested (``reason`` says why: no shared
    measurement, too few reference individuals measured alike); such a pair is never excluded.
    """

    a: str
    b: str
    element_a: str
    element_b: str
    side_a: str
    side_b: str
    test: str  # "pair", "articulation" or "regression"
    measurements: tuple[str, ...]
    p_value: float | None
    excluded: bool
    statistic: float | None = None
    n_reference: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "a": self.a, "b": self.b, "element": self.element_a, "p_value": self.p_value,
            "excluded": self.excluded, "test": self.test, "side_a": self.side_a,
            "side_b": self.side_b, "measurements": list(self.measurements),
            "statistic": self.statistic, "n_reference": self.n_reference}
        if self.element_b != self.element_a:
            d["element_b"] = self.element_b
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class SortOptions:
    """OsteoSort's t-test options; the defaults are those of its multiple-comparison analysis."""

    alpha: float = 0.1
    absolute: bool = False
    zero_mean: bool = False
    yeo_johnson: bool = False
    log: bool = False
    tails: int = 2
    min_reference: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha: {self.alpha!r}, expected a number between 0 and 1")
        if self.tails not in (1, 2):
            raise ValueError(f"tails: {self.tails!r}, expected 1 or 2")
        if self.min_reference < 3:
            raise ValueError(f"min_reference: {self.min_reference!r}, expected at least 3")


def yeo_johnson(x: NDArray[np.float64], lam: float) -> NDArray[np.float64]:
    """The Yeo-Johnson (2000) power transformation of ``x`` with parameter ``lam``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    if abs(lam) < 1e-12:
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = ((x[pos] + 1) ** lam - 1) / lam
    if abs(lam - 2) < 1e-12:
        out[~pos] = -np.log1p(-x[~pos])
    else:
        out[~pos] = -((1 - x[~pos]) ** (2 - lam) - 1) / (2 - lam)
    return out


def yeo_johnson_lambda(x: NDArray[np.float64]) -> float:
    """Maximum-likelihood Yeo-Johnson parameter on [-2, 2] (as OsteoSort's OSJ fits it)."""
    x = np.asarray(x, dtype=np.float64)
    c = np.sum(np.sign(x) * np.log1p(np.abs(x)))

    def nll(lam: float) -> float:
        var = np.var(yeo_johnson(x, lam))
        if var <= 0:
            return np.inf
        return float(len(x) / 2 * np.log(var) - (lam - 1) * c)

    return float(optimize.minimize_scalar(nll, bounds=(-2.0, 2.0), method="bounded").x)


def _mask_groups(present: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """Unique rows of a boolean mask matrix and the index of each row's unique row."""
    uniq, inverse = np.unique(present, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


def _log_mm(v: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    """Natural log of measurements in mm (NaN stays NaN); a value <= 0 is a ValueError."""
    bad = v[~np.isnan(v) & ~(v > 0)]
    if bad.size:
        raise ValueError(f"{name}: measurement {float(bad[0])!r} mm, expected > 0 for the log test")
    with np.errstate(invalid="ignore"):
        return np.log(v)


def difference_test(
    x: NDArray[np.float64], y: NDArray[np.float64],
    ref_x: NDArray[np.float64], ref_y: NDArray[np.float64], options: SortOptions,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """The D-value t-test of every (row of x, row of y) pair against reference pairs.

    Parameters
    ----------
    x, y : ndarray, float, shape (n1, m) and (n2, m); mm, NaN where unmeasured. Column k of x is
        compared with column k of y.
    ref_x, ref_y : ndarray, float, shape (r, m); the same for r reference individuals (row i of
        both is one person). With ``options.log`` all four are logged first (D in ln units).

    Returns
    -------
    p : ndarray, shape (n1, n2); NaN where the pair could not be tested.
    stat : ndarray, shape (n1, n2); the t statistic |D - mu| / (s sqrt(1 + 1/n)) (on the
        transformed scale; (D - mu) / (...) with ``absolute``).
    n_ref : ndarray, int, shape (n1, n2); reference individuals used.
    shared : ndarray, bool, shape (n1, n2, m); the measurements compared.
    """
    n1, n2, m = x.shape[0], y.shape[0], x.shape[1]
    if options.log:
        x, y, ref_x, ref_y = (_log_mm(v, name) for v, name in
                              ((x, "x"), (y, "y"), (ref_x, "ref_x"), (ref_y, "ref_y")))
    shared = ~np.isnan(x)[:, None, :] & ~np.isnan(y)[None, :, :]
    diff = x[:, None, :] - y[None, :, :]
    if options.absolute:
        diff = np.abs(diff)
    d = np.where(shared, diff, 0.0).sum(axis=2)
    p = np.full((n1, n2), np.nan)
    stat = np.full((n1, n2), np.nan)
    n_ref = np.zeros((n1, n2), dtype=np.int64)
    if m == 0 or n1 == 0 or n2 == 0:
        return p, stat, n_ref, shared
    flat = shared.reshape(-1, m)
    uniq, inverse = _mask_groups(flat)
    ref_both = ~np.isnan(ref_x) & ~np.isnan(ref_y)
    ref_diff = ref_x - ref_y
    if options.absolute:
        ref_diff = np.abs(ref_diff)
    pf, sf, nf, df = p.reshape(-1), stat.reshape(-1), n_ref.reshape(-1), d.reshape(-1)
    for u, mask in enumerate(uniq):
        if not mask.any():
            continue
        cells = np.flatnonzero(inverse == u)
        keep = ref_both[:, mask].all(axis=1)
        n = int(keep.sum())
        nf[cells] = n
        if n < options.min_reference:
            continue
        ref_d = ref_diff[keep][:, mask].sum(axis=1)
        case_d = df[cells]
        if options.yeo_johnson:
            lam = yeo_johnson_lambda(ref_d)
            ref_d, case_d = yeo_johnson(ref_d, lam), yeo_johnson(case_d, lam)
        mu = 0.0 if options.zero_mean else float(ref_d.mean())
        s = float(ref_d.std(ddof=1))
        if not s > 0:
            continue
        if not options.zero_mean:  # prediction interval: mu is estimated from n individuals
            s *= np.sqrt(1 + 1 / n)
        if options.absolute:  # only a larger |D| than true pairs show is evidence against
            t = (case_d - mu) / s
            pf[cells] = stats.t.sf(t, n - 1)
        else:
            t = np.abs(case_d - mu) / s
            pf[cells] = np.minimum(options.tails * stats.t.sf(t, n - 1), 1.0)
        sf[cells] = t
    return p, stat, n_ref, shared


def regression_test(
    x: NDArray[np.float64], y: NDArray[np.float64],
    ref_x: NDArray[np.float64], ref_y: NDArray[np.float64], *, min_reference: int = 4,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """OsteoSort's log-sum regression test of every (row of x, row of y) pair.

    x : (n1, mA) measurements of element A; y : (n2, mB) of element B; ref_x, ref_y : (r, mA),
    (r, mB), one reference individual per row. Returns p, t, n_ref of shape (n1, n2).
    """
    n1, n2 = x.shape[0], y.shape[0]
    p = np.full((n1, n2), np.nan)
    tstat = np.full((n1, n2), np.nan)
    n_ref = np.zeros((n1, n2), dtype=np.int64)
    ua, ia = _mask_groups(~np.isnan(x))
    ub, ib = _mask_groups(~np.isnan(y))
    with np.errstate(divide="ignore"):  # an unmeasured element: log 0, never used
        lx = np.log(np.where(np.isnan(x), 0.0, x).sum(axis=1))
        ly = np.log(np.where(np.isnan(y), 0.0, y).sum(axis=1))
    have_x, have_y = ~np.isnan(ref_x), ~np.isnan(ref_y)
    for u, ma in enumerate(ua):
        if not ma.any():
            continue
        rows = np.flatnonzero(ia == u)
        for v, mb in enumerate(ub):
            if not mb.any():
                continue
            cols = np.flatnonzero(ib == v)
            keep = have_x[:, ma].all(axis=1) & have_y[:, mb].all(axis=1)
            n = int(keep.sum())
            n_ref[np.ix_(rows, cols)] = n
            if n < min_reference:
                continue
            rx = np.log(ref_x[keep][:, ma].sum(axis=1))
            ry = np.log(ref_y[keep][:, mb].sum(axis=1))
            xbar, sx = rx.mean(), rx.std(ddof=1)
            if not sx > 0:
                continue
            b1 = float(np.sum((rx - xbar) * (ry - ry.mean())) / np.sum((rx - xbar) ** 2))
            b0 = float(ry.mean() - b1 * xbar)
            sigma = float(np.sqrt(np.sum((ry - b0 - b1 * rx) ** 2) / (n - 2)))
            if not sigma > 0:
                continue
            xc = lx[rows][:, None]
            pred = b0 + b1 * xc
            se = sigma * np.sqrt(1 + 1 / n + (xc - xbar) ** 2 / ((n - 1) * sx**2))
            t = np.abs(pred - ly[cols][None, :]) / se
            tstat[np.ix_(rows, cols)] = t
            p[np.ix_(rows, cols)] = 2 * stats.t.sf(t, n - 2)
    return p, tstat, n_ref


def reference_pairs(
    ref: Osteometrics, element_a: str, side_a: str, element_b: str, side_b: str,
    codes_a: Sequence[str], codes_b: Sequence[str],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reference individuals having both (element_a, side_a) and (element_b, side_b), aligned."""
    ra, rb = ref.rows(element_a, side_a), ref.rows(element_b, side_b)
    where_b = {ref.ids[i]: i for i in rb}
    both = [(i, where_b[ref.ids[i]]) for i in ra if ref.ids[i] in where_b]
    ia = np.array([i for i, _ in both], dtype=np.intp)
    ib = np.array([j for _, j in both], dtype=np.intp)
    return ref.measures(ia, codes_a), ref.measures(ib, codes_b)


def element_codes(inv: Osteometrics, ref: Osteometrics, element: str) -> list[str]:
    """Measurements of ``element`` in both the inventory's columns and the reference's data."""
    rows = ref.rows(element)
    return [c for c in inv.codes if (j := ref.column(c)) is not None and len(rows)
            and not np.isnan(ref.values[rows, j]).all()]


def _comparisons(
    test: str, inv: Osteometrics, ia: NDArray[np.intp], ib: NDArray[np.intp],
    p: NDArray[np.float64], stat: NDArray[np.float64], n_ref: NDArray[np.int64],
    codes: list[list[tuple[str, ...]]], alpha: float, min_reference: int,
) -> list[Comparison]:
    out = []
    for r, i in enumerate(ia):
        for c, j in enumerate(ib):
            pv = float(p[r, c])
            ok = np.isfinite(pv)
            reason = ""
            if not ok:
                if not codes[r][c]:
                    reason = "no shared measurement"
                elif n_ref[r, c] < min_reference:
                    reason = f"{int(n_ref[r, c])} reference individuals measured alike"
                else:
                    reason = "reference without variation"
            out.append(Comparison(
                inv.ids[i], inv.ids[j], inv.elements[i], inv.elements[j], inv.sides[i],
                inv.sides[j], test, codes[r][c], pv if ok else None, bool(ok and pv <= alpha),
                float(stat[r, c]) if ok else None, int(n_ref[r, c]), reason))
    return out


def pair_match(inv: Osteometrics, ref: Osteometrics, element: str,
               options: SortOptions | None = None) -> list[Comparison]:
    """Every left-right candidate pair of ``element`` in the inventory, tested (module doc)."""
    options = options or SortOptions()
    codes = element_codes(inv, ref, element)
    left, right = inv.rows(element, "left"), inv.rows(element, "right")
    if not len(left) or not len(right):
        return []
    x, y = inv.measures(left, codes), inv.measures(right, codes)
    rx, ry = reference_pairs(ref, element, "left", element, "right", codes, codes)
    p, stat, n_ref, shared = difference_test(x, y, rx, ry, options)
    names = [[tuple(c for c, s in zip(codes, shared[r, k], strict=True) if s)
              for k in range(len(right))] for r in range(len(left))]
    return _comparisons("pair", inv, left, right, p, stat, n_ref, names, options.alpha,
                        options.min_reference)


def _element_of(ref: Osteometrics, code: str) -> str | None:
    j = ref.column(code)
    if j is None:
        return None
    have = [e for e, v in zip(ref.elements, ~np.isnan(ref.values[:, j]), strict=True) if v]
    return max(set(have), key=have.count) if have else None


def articulate(inv: Osteometrics, ref: Osteometrics, code_a: str, code_b: str,
               options: SortOptions | None = None) -> list[Comparison]:
    """Every same-side pair of the elements carrying ``code_a`` and ``code_b``, tested."""
    options = options or SortOptions()
    ea, eb = _element_of(ref, code_a), _element_of(ref, code_b)
    if ea is None or eb is None or inv.column(code_a) is None or inv.column(code_b) is None:
        return []
    out: list[Comparison] = []
    for side in ("left", "right"):
        ia, ib = inv.rows(ea, side), inv.rows(eb, side)
        if not len(ia) or not len(ib):
            continue
        x, y = inv.measures(ia, [code_a]), inv.measures(ib, [code_b])
        rx, ry = reference_pairs(ref, ea, side, eb, side, [code_a], [code_b])
        p, stat, n_ref, shared = difference_test(x, y, rx, ry, options)
        pair: tuple[str, ...] = (f"{code_a}-{code_b}",)
        names = [[pair if shared[r, k, 0] else () for k in range(len(ib))]
                 for r in range(len(ia))]
        out += _comparisons("articulation", inv, ia, ib, p, stat, n_ref, names, options.alpha,
                            options.min_reference)
    return out


def associate(inv: Osteometrics, ref: Osteometrics, element_a: str, element_b: str,
              *, alpha: float = 0.1, min_reference: int = 4) -> list[Comparison]:
    """Every same-side (element_a, element_b) pair, tested by log-sum regression."""
    ca, cb = element_codes(inv, ref, element_a), element_codes(inv, ref, element_b)
    out: list[Comparison] = []
    for side in ("left", "right"):
        ia, ib = inv.rows(element_a, side), inv.rows(element_b, side)
        if not len(ia) or not len(ib) or not ca or not cb:
            continue
        x, y = inv.measures(ia, ca), inv.measures(ib, cb)
        rx, ry = reference_pairs(ref, element_a, side, element_b, side, ca, cb)
        p, stat, n_ref = regression_test(x, y, rx, ry, min_reference=min_reference)
        on_a = [tuple(c for c, v in zip(ca, row, strict=True) if not np.isnan(v)) for row in x]
        on_b = [tuple(c for c, v in zip(cb, row, strict=True) if not np.isnan(v)) for row in y]
        used = [[a + b if a and b else () for b in on_b] for a in on_a]
        out += _comparisons("regression", inv, ia, ib, p, stat, n_ref, used, alpha, min_reference)
    return out
