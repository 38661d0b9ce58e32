"""The numeric half of the pedigree likelihood: marker tables, data factors, execution.

:mod:`dogtag.genetics.elimination` compiles a plan for one pedigree structure and
typing pattern; this module holds what the plan reads from the markers (padded
frequencies and mutation matrices and the tables derived from them, cached by
marker identity), builds the data-dependent factors of a batch with a few gathers,
and runs the plan's instructions. :mod:`dogtag.genetics.likelihood` is the public
face (see its docstring for the model and references).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics import elimination as el
from dogtag.genetics.markers import Marker

__all__ = ["Tables", "build_factors", "distributions", "execute", "lumped_tables", "lumps",
           "marker_tables", "padded", "run"]


# ---------------------------------------------------------------------------
# Marker tables (data-independent), cached by marker identity
# ---------------------------------------------------------------------------

class Tables:
    """Everything a plan reads from the markers of a batch.

    Frequency-dependent parts have ``bq`` items, matrix-dependent parts ``bm`` (each
    1, shared by the batch, or B). q (bq, n) padded frequencies; G (b * L,) the flat
    gather table of :func:`~dogtag.genetics.elimination.table_layout`,
    b = max(bq, bm); Ct, Rt (bm * 2n, n): columns and rows of M / 2 (male block, then
    female); v: q @ M per sex, (b, n); uu(sex) (bm, n, n, n) untyped-to-untyped
    transmission. (Theta is not here: :mod:`dogtag.genetics.theta` reads q and the matrices.)
    """

    __slots__ = ("Ct", "G", "Rt", "_M", "_uu", "bg", "bm", "n", "offsets", "q", "v")
    Ct: NDArray[np.float64]
    Rt: NDArray[np.float64]
    _M: tuple[NDArray[np.float64], NDArray[np.float64]]
    _uu: list[NDArray[np.float64] | None]

    def __init__(self, q: NDArray[np.float64], Mm: NDArray[np.float64], Mf: NDArray[np.float64],
                 like: Tables | None = None):
        bq, n = q.shape
        bm = Mm.shape[0]
        b = max(bq, bm)
        self.bg, self.bm, self.n = b, bm, n
        vm = np.matmul(q[:, None, :], Mm)[:, 0]
        vf = np.matmul(q[:, None, :], Mf)[:, 0]
        self.q = q
        self.v = (vm, vf)
        self.G = np.concatenate([
            np.broadcast_to(q, (b, n)), np.broadcast_to(q, (b, n)),
            np.broadcast_to(0.5 * Mm.reshape(bm, -1), (b, n * n)),
            np.broadcast_to(0.5 * Mf.reshape(bm, -1), (b, n * n)),
            vm, vf, np.ones((b, 1)), np.zeros((b, 1)),
            np.broadcast_to(1.0 - np.eye(n).ravel(), (b, n * n)),
        ], axis=1).ravel()
        if like is not None:
            self.Ct, self.Rt, self._M, self._uu = like.Ct, like.Rt, like._M, like._uu
        else:
            self.Ct = 0.5 * np.concatenate([Mm.transpose(0, 2, 1), Mf.transpose(0, 2, 1)], axis=1).reshape(-1, n)
            self.Rt = 0.5 * np.concatenate([Mm, Mf], axis=1).reshape(-1, n)
            self._M = (Mm, Mf)
            self._uu = [None, None]
        self.offsets: dict[tuple[int, int], NDArray[np.float64]] = {}

    def uu(self, sex: int) -> NDArray[np.float64]:
        """T[b, x, y, z] = (M[x, z] + M[y, z]) / 2 for the parent of ``sex`` (0 male, 1 female)."""
        out = self._uu[sex]
        if out is None:
            M = self._M[sex]
            out = self._uu[sex] = 0.5 * (M[:, :, None, :] + M[:, None, :, :])
        return out

    def offset(self, plan: el.Plan, B: int) -> NDArray[np.float64]:
        """Index offsets of ``plan`` for a batch of B items (with item offsets where tables have B)."""
        if self.bg == 1 and self.bm == 1:
            return plan.offset
        key = (id(plan), B)
        out = self.offsets.get(key)
        if out is None:
            if len(self.offsets) > 64:
                self.offsets.clear()
            stride = plan.stride_g * (self.bg > 1) + plan.stride_m * (self.bm > 1)
            out = self.offsets[key] = plan.offset + np.arange(B)[:, None] * stride
        return out


_PADDED: dict[tuple[int, int, bool], tuple[Marker, NDArray[np.float64], NDArray[np.float64],
                                           NDArray[np.float64]]] = {}
_TABLES: dict[tuple[int, int, bool], tuple[Marker, Tables]] = {}


def padded(mk: Marker, n: int, mut: bool) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                      NDArray[np.float64]]:
    """Frequencies and male / female matrices of a marker padded to n alleles (cached)."""
    key = (id(mk), n, mut)
    hit = _PADDED.get(key)
    if hit is not None and hit[0] is mk:
        return hit[1], hit[2], hit[3]
    k = mk.n_alleles
    q = np.zeros(n)
    q[:k] = mk.freqs
    mats = []
    for sex in (1, 2):
        out = np.eye(n)
        m = mk.mutation_matrix(sex) if mut else None
        if m is not None:
            out[:k, :k] = m
        mats.append(out)
    if len(_PADDED) > 4000:
        _PADDED.clear()
    _PADDED[key] = (mk, q, mats[0], mats[1])
    return q, mats[0], mats[1]


def marker_tables(mk: Marker, n: int, mut: bool) -> Tables:
    """Tables of one marker (b = 1), cached by marker identity."""
    key = (id(mk), n, mut)
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is mk:
        return hit[1]
    q, Mm, Mf = padded(mk, n, mut)
    tab = Tables(q[None], Mm[None], Mf[None])
    if len(_TABLES) > 1024:
        _TABLES.clear()
    _TABLES[key] = (mk, tab)
    return tab


_LUMPABLE = frozenset({"equal", "proportional", "trivial"})


def lumps(mk: Marker, mut: bool) -> bool:
    """Whether pedprobr would lump this marker's unobserved alleles (``likelihood._lumped_freqs``)."""
    if float(mk.freqs.sum()) == 1.0:
        return False
    if mut:
        models = {m.model for m in (mk.female, mk.male) if m is not None}
        return models <= _LUMPABLE
    return True




def lumped_tables(base: Tables, rows: NDArray[np.intp], A: NDArray[np.intp]) -> Tables:
    """Tables of a batch whose items ``rows`` have lumped frequencies (``likelihood._lumped_freqs``).

    The frequency-dependent parts get one row per item; the matrices stay shared with ``base``.
    """
    B = A.shape[0]
    n = base.n
    q = np.array(np.broadcast_to(base.q, (B, n)))
    if rows.size:
        sub = A[rows]
        R = rows.size
        seen = np.zeros((R, n + 1), dtype=bool)
        seen[np.arange(R)[:, None], np.where(sub >= 0, sub, n)] = True
        seen = seen[:, :n]
        f = q[rows]
        used = np.where(seen, f, 0.0).sum(axis=1)
        rest = np.where(seen, 0.0, f).sum(axis=1)
        scale = np.divide(1.0 - used, rest, out=np.ones(R), where=rest > 0)
        q[rows] = np.where(seen, f, f * scale[:, None])
    Mm, Mf = base._M
    return Tables(q, Mm, Mf, like=base)


# ---------------------------------------------------------------------------
# Execution of a plan on a batch
# ---------------------------------------------------------------------------

def build_factors(plan: el.Plan, tab: Tables, A: NDArray[np.intp], partial: NDArray[np.intp] | None,
                  soft: NDArray[np.float64] | None) -> tuple[dict[int, NDArray[np.float64]], NDArray[np.float64] | float]:
    """The numeric factors of a plan, and the log of the isolated typed members' terms.

    A (B, 2 * size): allele indices of every member (member * 2 + allele).
    """
    B = A.shape[0]
    n = plan.n
    T = len(plan.typed)
    log_iso: NDArray[np.float64] | float = 0.0
    U = Y = X = Rs = None
    if plan.offset.size:
        idx = (np.matmul(A, plan.coef) + tab.offset(plan, B)).astype(np.intp)
        nu = 12 * T
        if T:
            g = tab.G[idx[:, :nu]].reshape(B, 3, T, 2, 2)
            val = (g[:, 0] + g[:, 1]) * g[:, 2]
            U = val[:, :, 0] * val[:, :, 1]
            if plan.n_iso:
                log_iso = np.log(U[:, :plan.n_iso, 0] + U[:, :plan.n_iso, 1]).sum(axis=1)
        c1 = nu + 2 * plan.n_ut
        if plan.n_ut:
            assert U is not None
            C = tab.Ct[idx[:, nu:c1]].reshape(B, plan.n_ut, 2, n)
            s0, s1 = plan.n_iso, plan.n_iso + plan.n_single
            if plan.n_single:
                D = np.matmul(U[:, s0:s1, None, :], C[:, :plan.n_single])[:, :, 0]
                Y = D[:, :, :, None] + D[:, :, None, :]
            if plan.n_double:
                Cd = C[:, plan.n_single:]
                X = Cd[..., :, None] + Cd[..., None, :]
        if plan.n_tu:
            R = tab.Rt[idx[:, c1:]].reshape(B, plan.n_tu, 2, n)
            Rs = R[:, :, 0] + R[:, :, 1]
    arrays: dict[int, NDArray[np.float64]] = {}
    for fid, f in enumerate(plan.factors):
        kind = f.kind
        if kind == el.PAIR:
            arr = Y[:, f.index]  # type: ignore[index]
        elif kind == el.TRANS_UT:
            arr = X[:, f.index]  # type: ignore[index]
        elif kind == el.PHASE:
            arr = U[:, f.index]  # type: ignore[index]
        elif kind == el.TRANS_TU:
            arr = Rs[:, f.index]  # type: ignore[index]
        elif kind == el.PRIOR_ALLELE:
            arr = tab.q
        elif kind == el.FOUNDER_U:
            arr = tab.v[f.sex]
        elif kind == el.TRANS_UU:
            arr = tab.uu(f.sex)
        elif kind == el.OBS_PARTIAL:
            assert partial is not None
            hit = np.arange(n)[None, :] == partial[:, f.index, None]
            arr = (hit[:, :, None] | hit[:, None, :]).astype(np.float64)
        else:
            assert soft is not None
            arr = soft[:, f.index]
        arrays[fid] = arr
    return arrays, log_iso


def run(plan: el.Plan, tab: Tables, A: NDArray[np.intp], partial: NDArray[np.intp] | None = None,
         soft: NDArray[np.float64] | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Execute a plan. Returns (log-likelihood or log scale (B,), kept factor (B, *keep) or None)."""
    arrays, logscale = build_factors(plan, tab, A, partial, soft)
    return execute(plan.program, arrays, logscale, A.shape[0], plan.keep_shape)


def execute(program: tuple[tuple, ...], arrays: dict[int, NDArray[np.float64]],
            logscale: NDArray[np.float64] | float, B: int, keep_shape: tuple[int, ...]
            ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Run an elimination program (:func:`dogtag.genetics.elimination.eliminate`) on numbered
    factor arrays (batch axis first, of length B or 1), consuming ``arrays``.

    Returns (log-likelihood or log scale (B,), kept factor (B, *keep_shape) or None).
    """
    res: NDArray[np.float64] | None = None
    for ins in program:
        op = ins[0]
        if op == el.MULSUM:
            arrays[ins[4]] = np.einsum(ins[3], arrays.pop(ins[1]), arrays.pop(ins[2]))
        elif op == el.FUSED:
            arrays[ins[3]] = np.einsum(ins[2], *(arrays.pop(i) for i in ins[1]))
        elif op == el.MATMUL or op == el.MUL:
            x = arrays.pop(ins[1])
            y = arrays.pop(ins[2])
            if ins[3] is not None:
                x = x.transpose(ins[3])
            if ins[5] is not None:
                y = y.transpose(ins[5])
            if op == el.MATMUL:
                arrays[ins[8]] = np.matmul(x.reshape(ins[4]), y.reshape(ins[6])).reshape(ins[7])
            else:
                arrays[ins[8]] = (x.reshape(ins[4]) * y.reshape(ins[6])).reshape(ins[7])
        elif op == el.SUM:
            arrays[ins[3]] = arrays.pop(ins[1]).sum(axis=ins[2])
        elif op == el.SCALE:
            out = arrays[ins[1]]
            mx = out.reshape(out.shape[0], -1).max(axis=1)
            np.maximum(mx, 1e-300, out=mx)
            out /= mx.reshape((-1,) + (1,) * (out.ndim - 1))
            logscale = logscale + np.log(mx)
        elif op == el.LOG:
            logscale = logscale + np.log(arrays.pop(ins[1]))
        else:  # FINAL
            _, src, perm, shape, n_missing = ins
            if src < 0:
                res = np.ones((B, *keep_shape))
            else:
                r = arrays.pop(src).reshape(shape + (1,) * n_missing)
                if perm is not None:
                    r = r.transpose(perm)
                res = np.broadcast_to(r, (B, *keep_shape))
    if isinstance(logscale, float) or logscale.shape != (B,):
        logscale = logscale + np.zeros(B)
    return logscale, res


def distributions(res: NDArray[np.float64], ll: NDArray[np.float64], k: int,
                  out_ll: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Normalised unordered-genotype distributions from ordered ones, (B, n, n) -> (B, G_k).

    ``ll`` (B,) is the log scale of each item: -inf where the data are impossible
    (possibly in a part of the pedigree unconnected to the target), giving zeros.
    ``out_ll`` (B,), when given, receives the log of the normaliser, ``ll + log(sum_g res)``:
    the log-likelihood of the data with the target summed out (``-inf`` where impossible).
    """
    B, n, _ = res.shape
    i, j = np.triu_indices(k)
    flat = res.reshape(B, n * n)
    g = flat[:, i * n + j] + np.where(i == j, 0.0, flat[:, j * n + i])
    tot = g.sum(axis=1, keepdims=True)
    ok = (tot > 0) & (ll[:, None] > -np.inf)
    if out_ll is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            out_ll[...] = np.where(ok[:, 0], ll + np.log(tot[:, 0]), -np.inf)
    return np.divide(g, tot, out=np.zeros_like(g), where=ok)
