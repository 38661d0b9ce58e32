"""Simulation of marker data on pedigrees, optionally conditional on typed members.

Like forrel's ``profileSim`` / ``markerSim``: the untyped members to simulate are
drawn one at a time from their exact conditional genotype distribution given the
typed members and those drawn before them (the chain rule), so the joint draw
is exact for any pedigree, with mutation and loops. Without conditioning data,
genotypes are dropped down the pedigree (founders from Hardy-Weinberg,
children by transmission with the parents' mutation matrices), vectorised over
simulations. Randomness comes from ``seed``, recorded by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dogtag.genetics.cases import Genotype, GenotypeTable
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree

__all__ = ["simulate_profiles"]


def _forward(ped: Pedigree, marker: Marker, ids: list[int], nsim: int,
             rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Ordered alleles (nsim, 2) for every member, dropped down the pedigree."""
    n = marker.n_alleles
    q = marker.freqs / marker.freqs.sum()
    alleles: dict[int, np.ndarray] = {}
    for k in ped.topological_order():
        if ped.father[k] < 0:
            alleles[k] = rng.choice(n, size=(nsim, 2), p=q)
            continue
        pair = np.empty((nsim, 2), dtype=np.intp)
        for slot, par in ((0, int(ped.father[k])), (1, int(ped.mother[k]))):
            which = rng.integers(0, 2, size=nsim)
            passed = alleles[par][np.arange(nsim), which]
            M = marker.mutation_matrix(1 if slot == 0 else 2)
            if M is not None:
                cum = np.cumsum(M[passed], axis=1)
                u = rng.random(nsim)[:, None]
                passed = np.minimum((u > cum).sum(axis=1), n - 1)
            pair[:, slot] = passed
        alleles[k] = pair
    return {k: alleles[k] for k in ids}


def simulate_profiles(
    ped: Pedigree,
    markers: Sequence[Marker],
    *,
    members: Sequence[str],
    nsim: int = 1,
    conditional_on: GenotypeTable | None = None,
    seed: int | None = None,
) -> list[dict[str, dict[str, Genotype]]]:
    """Simulate genotypes of ``members`` at every marker, ``nsim`` times.

    Parameters
    ----------
    ped : the pedigree.
    markers : markers with frequencies and mutation models.
    members : ids to simulate (must be untyped in ``conditional_on``).
    nsim : number of simulations.
    conditional_on : typed members' data (member -> marker -> genotype); None = unconditional.
    seed : random seed.

    Returns
    -------
    list (length nsim) of genotype tables member -> marker name -> (allele, allele),
    alleles sorted by their position in the marker.
    """
    rng = np.random.default_rng(seed)
    idx = [ped.index(m) for m in members]
    given: Mapping[str, Mapping[str, Genotype]] = conditional_on or {}
    for m in members:
        if any(g is not None for g in (given.get(m) or {}).values()):
            raise ValueError(f"`members`: {m!r} is typed in `conditional_on`; simulate untyped members only")
    sims: list[dict[str, dict[str, Genotype]]] = [{m: {} for m in members} for _ in range(nsim)]
    for marker in markers:
        base = encode(ped, marker, given)
        if not base.typed:
            drawn = _forward(ped, marker, idx, nsim, rng)
            pairs = {k: np.sort(v, axis=1) for k, v in drawn.items()}
        else:
            pairs = _conditional(ped, marker, base, idx, nsim, rng)
        for s in range(nsim):
            for m, k in zip(members, idx, strict=True):
                a, b = pairs[k][s]
                sims[s][m][marker.name] = (marker.alleles[a], marker.alleles[b])
    return sims


def _conditional(ped: Pedigree, marker: Marker, base: MarkerData, idx: list[int], nsim: int,
                 rng: np.random.Generator) -> dict[int, np.ndarray]:
    n = marker.n_alleles
    gi, gj = np.triu_indices(n)
    typed = [dict(base.typed) for _ in range(nsim)]
    out: dict[int, np.ndarray] = {}
    for k in idx:
        data = [MarkerData(marker, t) for t in typed]
        dists = loglik_batch([ped] * nsim, data, target=[k] * nsim)
        assert isinstance(dists, list)
        probs = np.stack(dists)
        if np.any(probs.sum(axis=1) <= 0):
            raise ValueError(f"marker {marker.name!r}: the conditioning data are impossible")
        cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        g = np.minimum((rng.random(nsim)[:, None] > cum).sum(axis=1), len(gi) - 1)
        out[k] = np.stack([gi[g], gj[g]], axis=1)
        for s in range(nsim):
            typed[s][k] = (int(gi[g[s]]), int(gj[g[s]]))
    return out
