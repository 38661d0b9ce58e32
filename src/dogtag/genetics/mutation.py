"""Mutation models for STR transmission, as pedmut defines them.

A model is a row-stochastic matrix ``matrix[i, j]`` = P(parental allele i is
transmitted as allele j), plus the parameters that built it.

The builders follow pedmut 0.9.0 (``pedmut::mutationMatrix``), whose models
are those of Familias (Egeland, Kling & Mostad 2016, *Relationship Inference
with Familias and R*, Academic Press, ch. 2 and 4; Egeland, Mostad et al. 2000):

``equal``
    m_ii = 1 - rate, m_ij = rate / (n - 1).
``proportional``
    m_ij = (1 - a)[i = j] + a p_j with a = rate / sum_k p_k (1 - p_k), so that
    the expected mutation rate sum_i p_i (1 - m_ii) equals ``rate``; stationary
    and reversible with respect to p.
``stepwise``
    Familias' "extended stepwise" model (Dawid, Mortera & Pascali 2002 for the
    stepwise idea; Egeland, Kling & Mostad 2016 for the extension to
    microvariants). Alleles fall into classes by their decimal part (``9``,
    ``10`` vs ``9.3``, ``10.3``). From allele i, a mutation within its class
    reaches allele j with probability proportional to range^|a_i - a_j|, scaled
    to total ``rate``; the alleles of other classes share ``rate2`` equally;
    m_ii = 1 - rate - rate2 (1 - rate if all alleles are in one class, 1 - rate2
    if i is alone in its class).
``onestep``
    Integer alleles only: ``rate`` is split between the +-1 neighbours present.
``trivial``
    The identity (no mutation).
``custom``
    A given matrix.

Stationarity: a model M is stationary for frequencies p when p M = p.
:func:`make_stationary` applies the "PM" transformation of Simonsson & Mostad
(2016), Stationary mutation models, Forensic Sci. Int. Genet. 23:217-225.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: pedmut's model names (the values of :attr:`MutationModel.model`).
MODELS = ("equal", "proportional", "stepwise", "onestep", "custom", "trivial")

#: Accepted spellings -> pedmut name (compared case-insensitively, spaces, '-', '_' ignored).
#: Familias 3 calls its models "Equal", "Proportional", "Stepwise (unstationary)",
#: "Stepwise (stationary)" and "Extended stepwise"; Familias' R package uses "Equal",
#: "Proportional", "Stepwise" and "Custom". The stationary stepwise model is
#: ``stepwise`` followed by :func:`make_stationary` (see :func:`from_params`).
_ALIASES = {
    "equal": "equal",
    "eq": "equal",
    "proportional": "proportional",
    "prop": "proportional",
    "stepwise": "stepwise",
    "step": "stepwise",
    "stepwiseextended": "stepwise",
    "extendedstepwise": "stepwise",
    "stepext": "stepwise",
    "stepwiseunstationary": "stepwise",
    "stepunstationary": "stepwise",
    "stepwise(unstationary)": "stepwise",
    "stepwisestationary": "stepwise-stationary",
    "stepstationary": "stepwise-stationary",
    "stepwise(stationary)": "stepwise-stationary",
    "onestep": "onestep",
    "trivial": "trivial",
    "none": "trivial",
    "custom": "custom",
}


@dataclass(frozen=True, eq=False)
class MutationModel:
    """A mutation model.

    Attributes
    ----------
    model : one of ``equal``, ``proportional``, ``stepwise``, ``onestep``, ``custom``, ``trivial``.
    matrix : ndarray, float64, shape (n_alleles, n_alleles); rows sum to 1.
    rate, rate2, range : the parameters (pedmut's names); None where the model has none.
    """

    model: str
    matrix: NDArray[np.float64]
    rate: float | None = None
    rate2: float | None = None
    range: float | None = None

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"mutation matrix must be square, got shape {m.shape}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    def __repr__(self) -> str:
        n = self.matrix.shape[0]
        return f"MutationModel({self.describe()}; {n}x{n})"

    @property
    def is_trivial(self) -> bool:
        return bool(np.array_equal(self.matrix, np.eye(self.matrix.shape[0])))

    @property
    def n_alleles(self) -> int:
        return int(self.matrix.shape[0])

    def expected_rate(self, freqs: ArrayLike) -> float:
        """Overall mutation rate sum_i p_i (1 - m_ii) (pedmut's ``mutRate``)."""
        p = _freqs(freqs, self.n_alleles, None)
        return float(np.dot(p, 1.0 - np.diag(self.matrix)))

    def describe(self) -> str:
        """Short text such as ``stepwise, rate = 0.001, rate2 = 1e-06, range = 0.1``."""
        if self.model == "stepwise":
            return f"stepwise, rate = {self.rate:g}, rate2 = {self.rate2:g}, range = {self.range:g}"
        if self.rate is not None and self.model in ("equal", "proportional", "onestep"):
            return f"{self.model}, rate = {self.rate:g}"
        return self.model


# --- validation ----------------------------------------------------------

def _where(marker: str | None) -> str:
    return f"marker {marker!r}: " if marker else ""


def _check_rate(value: float | None, arg: str, marker: str | None) -> float:
    if value is None:
        raise ValueError(f"{_where(marker)}`{arg}` is required for this mutation model")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{_where(marker)}`{arg}` must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or v > 1:
        raise ValueError(f"{_where(marker)}`{arg}` must be a number in [0, 1], got {value!r}")
    return v


def _freqs(freqs: ArrayLike | None, n: int, marker: str | None, *, required: bool = True
           ) -> NDArray[np.float64]:
    if freqs is None:
        if required:
            raise ValueError(f"{_where(marker)}`freqs` is required for this mutation model")
        return np.full(n, 1.0 / n)
    p = np.asarray(freqs, dtype=np.float64)
    if p.ndim != 1 or p.shape[0] != n:
        raise ValueError(f"{_where(marker)}`freqs` has {p.size} values for {n} alleles")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{_where(marker)}`freqs` must be finite and >= 0: {p.tolist()}")
    return p


def validate_matrix(matrix: ArrayLike, *, marker: str | None = None, atol: float = 1e-6
                    ) -> NDArray[np.float64]:
    """Check that ``matrix`` is a square mutation matrix: entries in [0, 1], rows summing to 1.

    Parameters
    ----------
    matrix : array, shape (n, n).
    marker : name used in error messages.
    atol : tolerance on row sums (pedmut accepts rows that round to 1 at 3 decimals;
        we are stricter by default).

    Returns
    -------
    ndarray, float64, shape (n, n): the matrix as a new array.

    Raises
    ------
    ValueError naming the marker and the offending rows or entries.
    """
    m = np.array(matrix, dtype=np.float64)
    where = _where(marker)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"{where}mutation matrix must be square and non-empty, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{where}mutation matrix has missing or infinite entries")
    bad = np.argwhere((m < 0) | (m > 1))
    if bad.size:
        i, j = bad[0]
        raise ValueError(
            f"{where}mutation matrix entries must lie in [0, 1]; "
            f"{len(bad)} do not, e.g. [{i}, {j}] = {m[i, j]!r}"
        )
    sums = m.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if off.size:
        rows = ", ".join(f"row {k} sums to {sums[k]!r}" for k in off[:5])
        raise ValueError(f"{where}mutation matrix rows must sum to 1: {rows}")
    return m


# --- builders ------------------------------------------------------------

def _n(alleles: Sequence[str], marker: str | None) -> int:
    n = len(alleles)
    if n == 0:
        raise ValueError(f"{_where(marker)}`alleles` is empty")
    if len(set(map(str, alleles))) != n:
        raise ValueError(f"{_where(marker)}`alleles` has duplicates")
    return n


def _numeric(alleles: Sequence[str], model: str, marker: str | None) -> NDArray[np.float64]:
    vals = []
    for a in alleles:
        try:
            v = float(str(a))
        except ValueError:
            raise ValueError(
                f"{_where(marker)}the {model} mutation model needs numeric allele labels, "
                f"got {a!r}"
            ) from None
        if not math.isfinite(v):
            raise ValueError(f"{_where(marker)}allele {a!r} is not a finite number")
        vals.append(v)
    return np.array(vals)


def trivial(alleles: Sequence[str]) -> MutationModel:
    """The identity: no mutation."""
    n = _n(alleles, None)
    return MutationModel("trivial", np.eye(n))


def equal(alleles: Sequence[str], freqs: ArrayLike | None = None, rate: float | None = None,
          *, marker: str | None = None) -> MutationModel:
    """All mutations equally likely: m_ii = 1 - rate, m_ij = rate / (n - 1).

    ``freqs`` is not used by the model (accepted for a uniform signature and checked
    if given). One allele gives the trivial model, as in pedmut.
    """
    n = _n(alleles, marker)
    r = _check_rate(rate, "rate", marker)
    if freqs is not None:
        _freqs(freqs, n, marker)
    if n == 1:
        return MutationModel("trivial", np.eye(1), rate=r)
    m = np.full((n, n), r / (n - 1))
    np.fill_diagonal(m, 1.0 - r)
    return MutationModel("equal", m, rate=r)


def proportional(alleles: Sequence[str], freqs: ArrayLike | None, rate: float | None,
                 *, marker: str | None = None) -> MutationModel:
    """Mutations proportional to the target allele's frequency.

    m_ij = (1 - a)[i = j] + a p_j, a = rate / sum_k p_k (1 - p_k); the expected
    mutation rate is ``rate`` and the model is stationary for p.
    """
    n = _n(alleles, marker)
    r = _check_rate(rate, "rate", marker)
    p = _freqs(freqs, n, marker)
    if n == 1:
        return MutationModel("trivial", np.eye(1), rate=r)
    het = float(np.sum(p * (1.0 - p)))
    if het <= 0:
        raise ValueError(
            f"{_where(marker)}proportional mutation model is undefined when one allele "
            "has frequency 1"
        )
    a = r / het
    m = (1.0 - a) * np.eye(n) + a * p[np.newaxis, :]
    if np.any(m > 1) or np.any(m < 0):
        raise ValueError(
            f"{_where(marker)}impossible proportional mutation matrix for rate {r!r}; "
            "try a smaller rate"
        )
    return MutationModel("proportional", m, rate=r)


def microvariant_class(alleles: Sequence[str], *, marker: str | None = None) -> NDArray[np.int64]:
    """Microvariant class of each allele: its first decimal digit (``9`` -> 0, ``9.3`` -> 3).

    Raises ValueError for non-numeric labels or labels with more than one decimal.
    """
    x = _numeric(alleles, "stepwise", marker)
    tenths = np.round(x * 10.0)
    bad = np.abs(x * 10.0 - tenths) > 1e-6
    if np.any(bad):
        a = alleles[int(np.flatnonzero(bad)[0])]
        raise ValueError(
            f"{_where(marker)}microvariants must have one decimal (like 9.3), got {a!r}"
        )
    return np.mod(tenths.astype(np.int64), 10)


def stepwise(alleles: Sequence[str], freqs: ArrayLike | None, rate: float | None,
             rate2: float | None, range: float | None, *, marker: str | None = None
             ) -> MutationModel:
    """Familias' extended stepwise model (pedmut ``stepwise``).

    Parameters
    ----------
    alleles : numeric labels, microvariants with one decimal (``9.3``).
    freqs : not used by the model; checked if given.
    rate : total probability of a mutation to another allele of the same class.
    rate2 : total probability of a mutation to an allele of another class.
    range : relative probability of a step of n+1 versus n repeats (> 0).

    Returns
    -------
    MutationModel with matrix shape (n, n).

    References
    ----------
    Dawid, Mortera & Pascali (2002), Non-fatherhood or mutation? A probabilistic
    approach to parental exclusion in paternity testing, Forensic Sci. Int. 124:55-61.
    Egeland, Kling & Mostad (2016), Relationship Inference with Familias and R, ch. 2.
    """
    n = _n(alleles, marker)
    r = _check_rate(rate, "rate", marker)
    r2 = _check_rate(rate2, "rate2", marker)
    if range is None:
        raise ValueError(f"{_where(marker)}`range` is required for the stepwise model")
    rg = float(range)
    if not math.isfinite(rg) or rg <= 0:
        raise ValueError(f"{_where(marker)}`range` must be a positive number, got {range!r}")
    if r + r2 > 1:
        raise ValueError(f"{_where(marker)}`rate + rate2` must be at most 1, got {r + r2!r}")
    if freqs is not None:
        _freqs(freqs, n, marker)
    x = _numeric(alleles, "stepwise", marker)
    cls = microvariant_class(alleles, marker=marker)
    if n == 1:
        return MutationModel("trivial", np.eye(1), rate=r, rate2=r2, range=rg)
    same = cls[:, None] == cls[None, :]
    eye = np.eye(n, dtype=bool)
    # Steps between alleles of one class are whole numbers of repeats.
    steps = np.round(np.abs(x[:, None] - x[None, :]))
    weights = np.where(same & ~eye, rg**steps, 0.0)
    wsum = weights.sum(axis=1, keepdims=True)
    within = np.divide(weights * r, wsum, out=np.zeros_like(weights), where=wsum > 0)
    n_other = (~same).sum(axis=1, keepdims=True)
    between = np.where(~same, r2 / np.maximum(n_other, 1), 0.0)
    m = within + between
    size = same.sum(axis=1)
    diag = np.where(size == n, 1.0 - r, np.where(size == 1, 1.0 - r2, 1.0 - r - r2))
    m[eye] = diag
    return MutationModel("stepwise", m, rate=r, rate2=r2, range=rg)


def onestep(alleles: Sequence[str], freqs: ArrayLike | None, rate: float | None,
            *, marker: str | None = None) -> MutationModel:
    """Integer alleles; ``rate`` split equally between the neighbours a - 1 and a + 1 present.

    An allele with no neighbour in the list never mutates (pedmut ``onestep``).
    """
    n = _n(alleles, marker)
    r = _check_rate(rate, "rate", marker)
    if freqs is not None:
        _freqs(freqs, n, marker)
    x = _numeric(alleles, "onestep", marker)
    if np.any(np.round(x) != x):
        a = alleles[int(np.flatnonzero(np.round(x) != x)[0])]
        raise ValueError(f"{_where(marker)}the onestep model needs integer alleles, got {a!r}")
    if n == 1:
        return MutationModel("trivial", np.eye(1), rate=r)
    nei = np.abs(x[:, None] - x[None, :]) == 1
    k = nei.sum(axis=1, keepdims=True)
    m = np.where(nei, r / np.maximum(k, 1), 0.0)
    np.fill_diagonal(m, np.where(k[:, 0] > 0, 1.0 - r, 1.0))
    return MutationModel("onestep", m, rate=r)


def custom(matrix: ArrayLike, *, marker: str | None = None, atol: float = 1e-6) -> MutationModel:
    """A user-given matrix, validated (:func:`validate_matrix`)."""
    return MutationModel("custom", validate_matrix(matrix, marker=marker, atol=atol))


def canonical_model_name(model: str) -> str:
    """pedmut's name for ``model`` (Familias' names accepted); ValueError if unknown.

    Returns one of :data:`MODELS` or ``"stepwise-stationary"`` (Familias' stationary
    stepwise model: stepwise followed by the PM transformation).
    """
    key = "".join(str(model).lower().split()).replace("-", "").replace("_", "")
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(
        f"unknown mutation model {model!r}; expected one of {', '.join(MODELS)} "
        "(or Familias' Equal, Proportional, Stepwise, Extended stepwise, Stepwise (stationary))"
    )


def from_params(model: str, alleles: Sequence[str], freqs: ArrayLike | None = None, *,
                rate: float | None = None, rate2: float | None = None,
                range: float | None = None, matrix: ArrayLike | None = None,
                marker: str | None = None) -> MutationModel:
    """Build a model from its name and parameters (pedmut's ``mutationMatrix``).

    ``model`` is a pedmut name or a Familias name (see :func:`canonical_model_name`).
    Familias' "Stepwise (stationary)" is the stepwise model made stationary for
    ``freqs`` by :func:`make_stationary`; its ``model`` is then ``custom``.
    ``matrix`` is needed for ``custom`` only.
    """
    name = canonical_model_name(model)
    if name == "custom":
        if matrix is None:
            raise ValueError(f"{_where(marker)}the custom mutation model needs `matrix`")
        mm = custom(matrix, marker=marker)
        if mm.n_alleles != len(alleles):
            raise ValueError(
                f"{_where(marker)}custom mutation matrix is {mm.n_alleles}x{mm.n_alleles} "
                f"for {len(alleles)} alleles"
            )
        return mm
    if matrix is not None:
        raise ValueError(f"{_where(marker)}`matrix` is only for the custom model, not {model!r}")
    if name == "trivial":
        return trivial(alleles)
    if name == "equal":
        return equal(alleles, freqs, rate, marker=marker)
    if name == "proportional":
        return proportional(alleles, freqs, rate, marker=marker)
    if name == "onestep":
        return onestep(alleles, freqs, rate, marker=marker)
    step = stepwise(alleles, freqs, rate, rate2, range, marker=marker)
    if name == "stepwise-stationary":
        if freqs is None:
            raise ValueError(f"{_where(marker)}the stationary stepwise model needs `freqs`")
        return make_stationary(step, freqs, marker=marker)
    return step


# --- stationarity -------------------------------------------------------

def is_stationary(model: MutationModel | ArrayLike, freqs: ArrayLike, *, rtol: float = 1.5e-8
                  ) -> bool:
    """Whether p M = p, to a mean relative difference ``rtol`` (R's ``all.equal`` default).

    Parameters
    ----------
    model : a MutationModel or a matrix, shape (n, n).
    freqs : shape (n,).
    """
    m = model.matrix if isinstance(model, MutationModel) else np.asarray(model, dtype=np.float64)
    p = _freqs(freqs, m.shape[0], None)
    pm = p @ m
    scale = float(np.mean(np.abs(p)))
    if scale == 0:
        return bool(np.allclose(pm, p))
    return bool(float(np.mean(np.abs(pm - p))) / scale < rtol)


def is_reversible(model: MutationModel | ArrayLike, freqs: ArrayLike, *, rtol: float = 1.5e-8
                  ) -> bool:
    """Whether p_i m_ij = p_j m_ji for all i, j (detailed balance)."""
    m = model.matrix if isinstance(model, MutationModel) else np.asarray(model, dtype=np.float64)
    p = _freqs(freqs, m.shape[0], None)
    f = p[:, None] * m
    scale = float(np.mean(np.abs(f)))
    return bool(scale == 0 or float(np.mean(np.abs(f - f.T))) / scale < rtol)


def make_stationary(model: MutationModel, freqs: ArrayLike, *, marker: str | None = None
                    ) -> MutationModel:
    """The PM transformation (Simonsson & Mostad 2016): a stationary model close to ``model``.

    Finds the stationary distribution v of M (v M = v) and scales each row's
    off-diagonal part by d_i = R v_i / ((1 - sum_k m_kk v_k) p_i), R = 1 - sum_k m_kk p_k,
    giving S = (M - I) diag(d) + I (row i scaled by d_i), with p S = p and the same
    expected mutation rate for p. pedmut's ``makeStationary(method = "PM")``, after
    Familias' ``stabilize``.

    Returns a ``custom`` model whose ``rate`` is the expected mutation rate.

    Raises
    ------
    ValueError if the transformation does not exist (a diagonal would become negative).

    References
    ----------
    Simonsson & Mostad (2016), Stationary mutation models, Forensic Sci. Int. Genet.
    23:217-225, doi:10.1016/j.fsigen.2016.04.005.
    """
    m = model.matrix
    n = m.shape[0]
    p = _freqs(freqs, n, marker)
    if n == 1:
        return model
    dm = np.diag(m)
    big_r = 1.0 - float(np.dot(dm, p))
    x = m.T - np.eye(n)
    x[n - 1, :] = 1.0
    rhs = np.zeros(n)
    rhs[n - 1] = 1.0
    try:
        v = np.linalg.solve(x, rhs)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{_where(marker)}PM stabilisation does not exist: the mutation matrix has no "
            "unique stationary distribution"
        ) from None
    denom = 1.0 - float(np.dot(dm, v))
    if denom == 0 or np.any(p <= 0):
        raise ValueError(
            f"{_where(marker)}PM stabilisation does not exist (no mutation, or a zero frequency)"
        )
    d = big_r * v / (denom * p)
    if np.any(d * (1.0 - dm) > 1):
        raise ValueError(f"{_where(marker)}PM stabilisation does not exist for these frequencies")
    s = (m - np.eye(n)) * d[:, None] + np.eye(n)
    return MutationModel("custom", s, rate=big_r)
