"""Alignment of mtDNA sequences to the rCRS, 3' placement of indels and the PhyloTree rules.

Whole sequences are aligned by exact k-mer anchors (unique 20-mers of the rCRS)
with an affine-gap alignment (Gotoh 1982, *J Mol Biol* 162:705-708) of the short
stretches between anchors; the rCRS ends are free, so partial sequences (a
control region, which may wrap from 16569 to 1) align too. Indels are then
shifted 3' (to the highest rCRS position they can take), which is the EMPOP and
PhyloTree convention (Bandelt & Parson 2008), and the PhyloTree "alignment rules"
(HaploGrep's ``rules.csv``; Dür et al. 2021) rewrite the hotspots where the
phylogenetic alignment differs from the 3' one (``16189d`` -> ``16189C 16193d``).
Only rules that leave the sequence unchanged are used, and a rule is applied to
a haplotype only where it leaves that haplotype's sequence unchanged.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics import mtdna as mt

Column = tuple[int, int]  # (reference index or -1, query index or -1)

MISMATCH, GAP_OPEN, GAP_EXTEND = 3, 5, 1
K = 20


def _cost(a: str, b: str) -> int:
    return 0 if a == b or b == "N" or a == "N" else MISMATCH


def gotoh(a: str, b: str, *, free_lead: bool = False, free_trail: bool = False) -> list[Column]:
    """Minimum-cost global alignment of ``a`` (reference) and ``b`` (query), affine gaps.

    ``free_lead`` / ``free_trail`` make leading / trailing gaps in the query free
    (unaligned reference ends, which are dropped from the columns).
    Costs: mismatch 3, gap of length k 5 + k; query N matches anything.
    """
    n, m = len(a), len(b)
    if n * m > 4_000_000:
        raise ValueError(f"cannot align: a stretch of {m} bases without anchors against {n}")
    inf = 1 << 30
    # M: ends in a (mis)match, X: ends with a[i] against a gap, Y: ends with b[j] against a gap
    M = [[inf] * (m + 1) for _ in range(n + 1)]
    X = [[inf] * (m + 1) for _ in range(n + 1)]
    Y = [[inf] * (m + 1) for _ in range(n + 1)]
    M[0][0] = 0
    for i in range(1, n + 1):
        X[i][0] = 0 if free_lead else GAP_OPEN + i * GAP_EXTEND
    for j in range(1, m + 1):
        Y[0][j] = GAP_OPEN + j * GAP_EXTEND
    for i in range(1, n + 1):
        ai = a[i - 1]
        Mi, Xi, Yi, Mp, Xp, Yp = M[i], X[i], Y[i], M[i - 1], X[i - 1], Y[i - 1]
        for j in range(1, m + 1):
            Mi[j] = min(Mp[j - 1], Xp[j - 1], Yp[j - 1]) + _cost(ai, b[j - 1])
            Xi[j] = min(Mp[j] + GAP_OPEN, Xp[j], Yp[j] + GAP_OPEN) + GAP_EXTEND
            Yi[j] = min(Mi[j - 1] + GAP_OPEN, Xi[j - 1] + GAP_OPEN, Yi[j - 1]) + GAP_EXTEND
    # end state (free trailing reference gaps: best end in column m over any i)
    end_i = n
    if free_trail:
        end_i = min(range(n + 1), key=lambda i: (min(M[i][m], X[i][m], Y[i][m]), -i))
    cols: list[Column] = []
    i, j = end_i, m
    state = min(("M", M[i][j]), ("X", X[i][j]), ("Y", Y[i][j]), key=lambda t: t[1])[0]
    while i > 0 or j > 0:
        if j == 0:
            if free_lead:
                break
            cols.append((i - 1, -1))
            i -= 1
            continue
        if i == 0:
            cols.append((-1, j - 1))
            j -= 1
            continue
        if state == "M":
            target = M[i][j] - _cost(a[i - 1], b[j - 1])
            state = "M" if M[i - 1][j - 1] == target else ("X" if X[i - 1][j - 1] == target else "Y")
            cols.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif state == "X":
            target = X[i][j] - GAP_EXTEND
            state = "X" if X[i - 1][j] == target else ("M" if M[i - 1][j] + GAP_OPEN == target else "Y")
            cols.append((i - 1, -1))
            i -= 1
        else:
            target = Y[i][j] - GAP_EXTEND
            state = "Y" if Y[i][j - 1] == target else ("M" if M[i][j - 1] + GAP_OPEN == target else "X")
            cols.append((-1, j - 1))
            j -= 1
    cols.reverse()
    return cols


@cache
def _kmer_index(ref: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    dup: set[str] = set()
    for i in range(len(ref) - K + 1):
        s = ref[i:i + K]
        if s in seen:
            dup.add(s)
        else:
            seen[s] = i
    for s in dup:
        del seen[s]
    return seen


def _gap(a: str, b: str) -> list[Column]:
    # between anchors: a long stretch of equal length (typically query N) is taken as it stands
    if len(a) == len(b) and len(a) > 200:
        return [(t, t) for t in range(len(a))]
    return gotoh(a, b)


def align_columns(ref: str, q: str) -> list[Column]:
    """Align a query to the (circular) reference; returns the alignment columns.

    Reference indices of a wrapping alignment run past ``len(ref)`` (take them modulo).
    """
    L = len(ref)
    index = _kmer_index(ref)
    blocks: list[list[int]] = []  # [i0, j0, length] on the unwrapped reference
    last_i = -1
    for j in range(len(q) - K + 1):
        i = index.get(q[j:j + K])
        if i is None:
            continue
        if last_i >= 0 and i < last_i - L // 2:
            i += L
        if blocks:
            bi, bj, bl = blocks[-1]
            if i - j == bi - bj and i <= bi + bl:  # extends the current block
                blocks[-1][2] = max(bl, i + K - bi)
                last_i = i
                continue
            diag_jump = abs((i - j) - (bi - bj))
            if i < bi + bl - K or diag_jump > 1000:
                continue  # out of order or implausible: not an anchor
            ov = max(bi + bl - i, bj + bl - j, 0)
            if ov >= K:
                continue
            blocks.append([i + ov, j + ov, K - ov])
        else:
            blocks.append([i, j, K])
        last_i = i
    ref2 = ref + ref
    if not blocks:
        return gotoh(ref, q, free_lead=True, free_trail=True)
    cols: list[Column] = []
    i0, j0, _ = blocks[0]
    if j0:
        if i0 - j0 <= 50:
            # the query starts near position 1: align its head to the whole reference head
            lo = 0
            pre = gotoh(ref2[:i0], q[:j0])
        else:  # a partial sequence: the reference before it is not covered
            lo = i0 - j0 - 50
            pre = gotoh(ref2[lo:i0], q[:j0], free_lead=True)
        cols.extend((a + lo if a >= 0 else -1, b) for a, b in pre)
    for k, (bi, bj, bl) in enumerate(blocks):
        cols.extend((bi + t, bj + t) for t in range(bl))
        if k + 1 < len(blocks):
            ni, nj, _ = blocks[k + 1]
            ei, ej = bi + bl, bj + bl
            mid = _gap(ref2[ei:ni], q[ej:nj])
            cols.extend((a + ei if a >= 0 else -1, b + ej if b >= 0 else -1) for a, b in mid)
    bi, bj, bl = blocks[-1]
    ei, ej = bi + bl, bj + bl
    if ej < len(q):
        start = next((a for a, _ in cols if a >= 0), blocks[0][0])
        if ei <= L and abs((L - ei) - (len(q) - ej)) <= 50 and start <= L // 2:
            # the query ends near 16569: align its tail to the whole reference tail
            post = gotoh(ref2[ei:L], q[ej:])
        else:
            # wrap past 16569 only for a query that starts late (a control region read 16024..576)
            cap = start + L if start > L // 2 else L
            hi = min(ei + (len(q) - ej) + 50, cap)
            post = gotoh(ref2[ei:hi], q[ej:], free_trail=True)
        cols.extend((a + ei if a >= 0 else -1, b + ej if b >= 0 else -1) for a, b in post)
    return cols


def shift_3prime(cols: list[Column], ref: str, q: str) -> list[Column]:
    """Move every indel run as far 3' (right) as it goes without raising the alignment cost.

    A run moves past a matching column carrying the same base, and past a
    mismatch column (the mismatch moves with it), EMPOP's "same number of
    differences, indels 3'" convention.
    """
    L = len(ref)
    cols = list(cols)

    def R(i: int) -> str:
        return ref[i % L]

    k = 0
    while k < len(cols):
        i, j = cols[k]
        if i >= 0 and j >= 0:
            k += 1
            continue
        dele = j < 0
        e = k
        while e < len(cols) and ((cols[e][1] < 0) if dele else (cols[e][0] < 0)):
            e += 1
        while e < len(cols):
            ie, je = cols[e]
            if ie < 0 or je < 0 or q[je] == "N":
                break
            before = _cost(R(ie), q[je])
            if dele:
                if _cost(R(cols[k][0]), q[je]) > before:
                    break
                cols[k:e + 1] = [(cols[k][0], je)] + [(c[0], -1) for c in cols[k + 1:e]] + [(ie, -1)]
            else:
                if _cost(R(ie), q[cols[k][1]]) > before or q[cols[k][1]] == "N":
                    break
                cols[k:e + 1] = [(ie, cols[k][1])] + [(-1, c[1]) for c in cols[k + 1:e]] + [(-1, je)]
            k += 1
            e += 1
        k = e
    return cols


def columns_to_variants(cols: list[Column], ref: str, q: str, *, offset: int,
                        n_is_variant: bool = False) -> tuple[list[int], NDArray[np.bool_]]:
    """Variant codes and covered-position mask (length 16570) of aligned columns, after 3' shifting.

    ``offset`` is the rCRS position of reference index 0 minus 1 (0 for the whole rCRS).
    A query N is an uncovered position, or with ``n_is_variant`` a variant ``pN``.
    """
    cols = shift_3prime(cols, ref, q)
    L = len(ref)
    covered = np.zeros(mt.RCRS_LENGTH + 1, dtype=bool)
    codes: list[int] = []
    last_pos = mt.RCRS_LENGTH if offset == 0 else offset
    ins_k = 0
    ref_n: list[int] = []  # rCRS N (3107) read as N: covered when both neighbours are
    for i, j in cols:
        if i >= 0:
            pos = (i % L) + 1 + offset
            last_pos, ins_k = pos, 0
            if j < 0:
                codes.append(mt.encode(pos, 0, "-"))
                covered[pos] = True
                continue
            r, b = ref[i % L], q[j]
            if b == "N" and not (n_is_variant and r != "N"):
                if r == "N":
                    ref_n.append(pos)
                continue
            covered[pos] = True
            if b != r:
                codes.append(mt.encode(pos, 0, b))
        else:
            ins_k += 1
            if ins_k >= mt.INS_X:
                raise ValueError(f"insertion of more than {mt.INS_X - 1} bases after {last_pos}")
            if q[j] != "N":
                codes.append(mt.encode(last_pos, ins_k, q[j]))
    for pos in ref_n:
        covered[pos] = 1 < pos < mt.RCRS_LENGTH and covered[pos - 1] and covered[pos + 1]
    return codes, covered


def window_sequence(codes: list[int] | tuple[int, ...], lo: int, hi: int) -> str:
    """rCRS positions lo..hi with the variants at those positions applied."""
    ref = mt.rcrs()
    sub: dict[int, str] = {}
    ins: dict[int, list[tuple[int, str]]] = {}
    for c in codes:
        pos, k, sym = mt.decode(c)
        if not lo <= pos <= hi:
            continue
        if k == mt.INS_X:
            raise ValueError("insertion of unknown length")
        if k:
            ins.setdefault(pos, []).append((k, sym))
        else:
            sub[pos] = "" if sym == "-" else sym
    out = []
    for pos in range(lo, hi + 1):
        out.append(sub.get(pos, ref[pos - 1]))
        out.extend(s for _, s in sorted(ins.get(pos, [])))
    return "".join(out)


@cache
def _realign(codes: tuple[int, ...], lo: int, hi: int) -> tuple[int, ...]:
    ref_seg = mt.rcrs()[lo - 1:hi]
    q = window_sequence(codes, lo, hi)
    cols = gotoh(ref_seg, q)
    out, _ = columns_to_variants(cols, ref_seg, q, offset=lo - 1)
    return tuple(sorted(out))


def realign_window(codes: list[int], lo: int, hi: int) -> list[int]:
    """Canonical (3') variant codes of the window lo..hi holding ``codes`` (cached)."""
    return list(_realign(tuple(sorted(codes)), lo, hi))


def compile_rules(text: str) -> tuple[tuple[frozenset[int], tuple[int, ...]], ...]:
    """PhyloTree rules as (3'-canonical codes -> expected codes), keeping only sequence-preserving ones."""
    rules: list[tuple[frozenset[int], tuple[int, ...]]] = []
    for line in text.splitlines()[1:]:
        if "," not in line:
            continue
        err_s, exp_s = line.split(",", 1)
        try:
            err = mt.parse_variants(err_s.split(), profile="rules.csv")
            exp = mt.parse_variants(exp_s.split(), profile="rules.csv")
        except ValueError:
            continue  # e.g. "65" without a base: not a usable rule
        positions = [c >> 10 for c in err + exp]
        lo, hi = max(1, min(positions) - 30), min(mt.RCRS_LENGTH, max(positions) + 30)
        try:
            same = window_sequence(err, lo, hi) == window_sequence(exp, lo, hi)
        except ValueError:
            continue  # ".X" rules describe length heteroplasmy, not one sequence
        if not same:
            continue
        canon = _realign(tuple(sorted(err)), lo, hi)
        expected = tuple(sorted(exp))
        if canon == expected or not canon:
            continue
        rules.append((frozenset(canon), expected))
    return tuple(dict.fromkeys(rules))


def apply_rules(codes: NDArray[np.int64], rules: tuple[tuple[frozenset[int], tuple[int, ...]], ...]
                ) -> NDArray[np.int64]:
    """Apply each rule whose key is present, where it keeps the haplotype's local sequence."""
    have = set(codes.tolist())
    changed = False
    for key, expected in rules:
        if not key <= have:
            continue
        positions = [c >> 10 for c in (*key, *expected)]
        lo, hi = max(1, min(positions) - 30), min(mt.RCRS_LENGTH, max(positions) + 30)
        new = (have - key) | set(expected)
        try:
            ok = window_sequence(sorted(have), lo, hi) == window_sequence(sorted(new), lo, hi)
        except ValueError:
            ok = False
        if ok:
            have, changed = new, True
    if not changed:
        return codes
    return np.array(sorted(have), dtype=np.int64)
