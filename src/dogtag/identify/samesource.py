"""Same-source matching of pm samples: identity LRs and grouping into individuals.

A box of commingled remains holds bones of several people, and one bone may be
sampled twice. For two samples with observation vectors ``o1(g)``, ``o2(g)``
(:mod:`dogtag.genetics.dropout`, drop-out and drop-in allowed) the identity
likelihood ratio at one marker is

    LR = P(E1, E2 | same person) / P(E1, E2 | unrelated)
       = sum_g o1(g) o2(g) P(g) / (sum_g o1(g) P(g) * sum_g o2(g) P(g))

with ``P(g)`` the Hardy-Weinberg genotype probabilities (the direct-match LR of
Bonaparte and of dvir's ``directMatch``, extended to degraded profiles as in
Gill et al. 2007, *Forensic Sci. Int.* 166:128-138). Over markers the log LRs
add. For many samples this is, per marker, the matrix product
``(O * P) @ O.T`` divided by the outer product of ``O @ P`` (O: samples x
genotypes), done in row chunks of bounded memory.

Samples are grouped into individuals by single linkage: the connected components
of the graph of pairs whose LR reaches ``threshold``. A group in which some pair
does not itself reach the threshold (linked only through others) is flagged for
review.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics.dropout import hardy_weinberg, observation_matrix
from dogtag.genetics.markers import Marker
from dogtag.identify.case import Sample


@dataclass(frozen=True)
class SameSourceGroup:
    """Samples judged to come from one individual.

    ``pairs`` lists every pair in the group with its log10 LR (``-inf`` for a
    pair that excludes, ``null`` in JSON); ``min_log10_lr`` is the
    weakest direct pair; ``linked_only`` is True when some pair in the group is
    below the threshold (the group holds together only through other samples).
    """

    samples: tuple[str, ...]
    pairs: tuple[tuple[str, str, float], ...]
    min_log10_lr: float
    linked_only: bool

    def to_dict(self) -> dict[str, object]:
        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None  # -inf (excluded) is JSON null

        return {"samples": list(self.samples),
                "pairs": [{"a": a, "b": b, "log10_lr": num(x)} for a, b, x in self.pairs],
                "min_log10_lr": num(self.min_log10_lr), "linked_only": self.linked_only}


def observations(samples: Sequence[Sample], markers: Sequence[Marker]) -> list[NDArray[np.float64]]:
    """Observation matrices per marker, shape (n_samples, n_genotypes), from the samples' genotypes.

    A marker absent from a sample is untyped (all ones); each sample's ``dropout``
    and ``dropin`` apply. An allele not in the marker's frequency table raises
    ``ValueError`` naming the sample and the marker.
    """
    out = []
    dout = [s.dropout for s in samples]
    din = [s.dropin for s in samples]
    for mk in markers:
        profiles = []
        for s in samples:
            gt = s.genotypes.get(mk.name)
            alleles = [] if gt is None else [a for a in gt if a is not None]
            try:
                profiles.append([mk.index(a) for a in alleles])
            except KeyError as exc:
                raise ValueError(f"sample {s.id!r}, marker {mk.name!r}: {exc.args[0]}") from None
        out.append(observation_matrix(profiles, mk.freqs, dropout=dout, dropin=din))
    return out


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def identity_log_lr(
    obs: Sequence[NDArray[np.float64]],
    genotype_probs: Sequence[NDArray[np.float64]],
    *,
    rows: slice | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Identity log LRs (natural log) between samples, summed over markers.

    Parameters
    ----------
    obs : per marker, ndarray float64 shape (n_samples, n_genotypes_k); observation vectors.
    genotype_probs : per marker, ndarray shape (n_genotypes_k,); genotype probabilities.
    rows : restrict the first axis to these samples (for chunking).

    Returns
    -------
    log_lr : ndarray, shape (n_rows, n_samples); ``-inf`` where some marker excludes.
    compared : ndarray int, shape (n_rows, n_samples); markers typed in both samples.
    """
    if len(obs) != len(genotype_probs):
        raise ValueError("`obs` and `genotype_probs` must have one entry per marker")
    n = obs[0].shape[0] if obs else 0
    sl = rows or slice(0, n)
    n_r = len(range(n)[sl])
    total = np.zeros((n_r, n))
    compared = np.zeros((n_r, n), dtype=np.int64)
    for o, p in zip(obs, genotype_probs, strict=True):
        if o.shape[1] != p.shape[0]:
            raise ValueError(f"observation vectors have {o.shape[1]} genotypes, probabilities {p.shape[0]}")
        typed = ~np.all(o == 1.0, axis=1)
        num = (o[sl] * p) @ o.T
        den = o @ p
        with np.errstate(divide="ignore"):
            total += np.log(num) - np.log(den[sl])[:, None] - np.log(den)[None, :]
        compared += typed[sl][:, None] & typed[None, :]
    return total, compared


def identity_lr_matrix(samples: Sequence[Sample], markers: Sequence[Marker]) -> NDArray[np.float64]:
    """Full matrix of identity log10 LRs, shape (n, n) (diagonal: self-match), for modest n."""
    obs = observations(samples, markers)
    hw = [hardy_weinberg(m.freqs) for m in markers]
    llr, _ = identity_log_lr(obs, hw)
    return llr / math.log(10)


def group_same_source(
    samples: Sequence[Sample],
    markers: Sequence[Marker],
    *,
    threshold: float = 1e4,
    min_markers: int = 1,
    chunk: int = 512,
) -> list[SameSourceGroup]:
    """Group samples into individuals: connected components of pairs with LR >= ``threshold``.

    Parameters
    ----------
    samples, markers : the pm samples and the markers with frequencies.
    threshold : identity LR needed to link two samples (default 10^4).
    min_markers : a pair typed in both samples at fewer markers is never linked.
    chunk : rows per block (memory ~ chunk x n_samples x 16 bytes per marker).

    Returns
    -------
    Groups of two or more samples, in order of their first sample; singletons are
    omitted.
    """
    if threshold <= 0:
        raise ValueError(f"`threshold` must be > 0, got {threshold}")
    ids = [s.id for s in samples]
    n = len(ids)
    obs = observations(samples, markers)
    hw = [hardy_weinberg(m.freqs) for m in markers]
    log_thr = math.log(threshold)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for sl in _chunks(n, chunk):
        llr, cmp = identity_log_lr(obs, hw, rows=sl)
        rr, cc = np.nonzero((llr >= log_thr) & (cmp >= min_markers))
        for r, c in zip(rr.tolist(), cc.tolist(), strict=True):
            i = sl.start + r
            if c > i:
                ri, rc = find(i), find(c)
                if ri != rc:
                    parent[ri] = rc
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    groups = []
    for idx in sorted((g for g in members.values() if len(g) > 1), key=lambda g: g[0]):
        sub_obs = [o[idx] for o in obs]
        llr, _ = identity_log_lr(sub_obs, hw)
        pairs = tuple((ids[idx[a]], ids[idx[b]], float(llr[a, b] / math.log(10)))
                      for a in range(len(idx)) for b in range(a + 1, len(idx)))
        low = min(x for _, _, x in pairs)
        groups.append(SameSourceGroup(tuple(ids[i] for i in idx), pairs, low,
                                      low < log_thr / math.log(10)))
    return groups
