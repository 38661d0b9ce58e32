"""Vectorised simulation of the scenario's DNA: STR genotypes down small pedigrees, mtDNA and Y lines.

- Autosomal STRs: founders drawn from their population's allele frequencies (Hardy-Weinberg,
  NIST 1036; Hill et al. 2013, FSI: Genetics 7:e82), each child receiving one allele of each
  parent chosen with probability 1/2 (Mendel; no mutation). All families are simulated at once,
  one marker at a time, with NumPy: the same forward simulation as
  :func:`dogtag.genetics.simulate.simulate_profiles` without its per-pedigree conditioning.
- mtDNA: one haplotype per maternal line, a real control-region haplotype (HaploGrep's
  evaluation profiles) plus private transitions, so that lines are mostly distinct as in real
  populations (Just et al. 2015, FSI: Genetics 19:18, report most U.S. control-region
  haplotypes as unique).
- Y-STR: one haplotype per paternal line, a real Yfiler Plus haplotype, with the single-step
  mutation model at YHRD's per-locus rates at every father-son transmission (Ohta & Kimura 1973).
- Degradation: per-locus failure and per-allele drop-out (Gill et al. 2000, FSI 112:17; the
  drop-out model of :mod:`dogtag.genetics.dropout`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DogtagError
from dogtag.genetics import mtdna
from dogtag.genetics.freqdb import load_database
from dogtag.genetics.markers import sort_alleles
from dogtag.genetics.ystr import YMutationRates

__all__ = ["CONTROL_REGION", "HVS_RANGE", "POPULATIONS", "STR_MARKERS", "MarkerPanel", "degrade",
           "load_mt_haplotypes", "load_y_haplotypes", "mendelian_child", "mutate_y", "private_mt",
           "sample_founders"]

#: The 20 CODIS core loci (all in NIST 1036).
STR_MARKERS: tuple[str, ...] = (
    "CSF1PO", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539", "D18S51", "D21S11", "FGA",
    "TH01", "TPOX", "vWA", "D1S1656", "D2S441", "D2S1338", "D10S1248", "D12S391", "D19S433", "D22S1045")
#: NIST 1036 population samples.
POPULATIONS: tuple[str, ...] = ("Cauc", "AfAm", "Hisp", "Asian")
#: Reference donors are typed over the whole control region, remains over HVS-I and HVS-II.
CONTROL_REGION = "16024-16569;1-576"
HVS_RANGE = "16024-16365;73-340"
_HVS = ((16024, 16365), (73, 340))
_TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}


@dataclass(frozen=True)
class MarkerPanel:
    """Alleles of each marker (union over populations) and their frequencies per population.

    freqs[marker] : ndarray, float64, shape (n_populations, n_alleles).
    """

    markers: tuple[str, ...]
    alleles: dict[str, list[str]]
    freqs: dict[str, NDArray[np.float64]]

    @classmethod
    def nist1036(cls, markers: Sequence[str] = STR_MARKERS) -> MarkerPanel:
        dbs = [load_database(f"nist1036-{p}") for p in POPULATIONS]
        alleles: dict[str, list[str]] = {}
        freqs: dict[str, NDArray[np.float64]] = {}
        for m in markers:
            loci = [db.locus(m) for db in dbs]
            al = sort_alleles({a for loc in loci for a in loc.alleles})
            f = np.zeros((len(dbs), len(al)))
            for i, loc in enumerate(loci):
                for a, p in zip(loc.alleles, loc.freqs, strict=True):
                    f[i, al.index(a)] = p
            alleles[m] = al
            freqs[m] = f / f.sum(axis=1, keepdims=True)
        return cls(tuple(markers), alleles, freqs)


def sample_founders(panel: MarkerPanel, population: NDArray[np.int64], rng: np.random.Generator
                    ) -> NDArray[np.int16]:
    """Founder genotypes: allele indices, shape (n, n_markers, 2), by inverse CDF per population."""
    n = len(population)
    out = np.empty((n, len(panel.markers), 2), dtype=np.int16)
    for j, m in enumerate(panel.markers):
        cdf = np.cumsum(panel.freqs[m], axis=1)
        u = rng.random((n, 2))
        c = cdf[population]  # (n, A)
        idx = (u[:, :, None] > c[:, None, :]).sum(axis=2)
        out[:, j, :] = np.minimum(idx, cdf.shape[1] - 1)
    return out


def mendelian_child(father: NDArray[np.int16], mother: NDArray[np.int16], rng: np.random.Generator
                    ) -> NDArray[np.int16]:
    """Children of (n, L, 2) parents: one allele of each parent, each with probability 1/2."""
    n, L, _ = father.shape
    pick_f = rng.integers(0, 2, (n, L))
    pick_m = rng.integers(0, 2, (n, L))
    child = np.empty_like(father)
    child[:, :, 0] = np.take_along_axis(father, pick_f[:, :, None], axis=2)[:, :, 0]
    child[:, :, 1] = np.take_along_axis(mother, pick_m[:, :, None], axis=2)[:, :, 0]
    return child


def degrade(genotypes: NDArray[np.int16], locus_fail: NDArray[np.float64], dropout: NDArray[np.float64],
            rng: np.random.Generator) -> NDArray[np.int16]:
    """Degraded copies: a locus fails with ``locus_fail``, each allele copy drops with ``dropout``.

    genotypes : (n, L, 2) allele indices; locus_fail, dropout : (n,) probabilities.
    Returns (n, L, 2) with -1 for a missing allele; a heterozygote losing one allele reads as a
    single allele (shown as the other allele and -1), a homozygote loses its allele only when both
    copies drop (probability dropout^2), as in :mod:`dogtag.genetics.dropout`.
    """
    out = genotypes.copy()
    n, L, _ = out.shape
    drop = rng.random((n, L, 2)) < dropout[:, None, None]
    homo = out[:, :, 0] == out[:, :, 1]
    both = drop[:, :, 0] & drop[:, :, 1]
    # a homozygote shows its allele unless both copies drop
    drop[homo] = np.stack([both[homo], both[homo]], axis=1)
    out[drop] = -1
    fail = rng.random((n, L)) < locus_fail[:, None]
    out[fail] = -1
    return out


def _read_hsd() -> list[tuple[str, list[str]]]:
    text = resources.files("dogtag.data.korean_war").joinpath("mt_haplotypes.tsv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        out.append((row["continent"], row["variants"].split()))
    return out


def load_mt_haplotypes() -> dict[str, list[list[str]]]:
    """Control-region haplotypes (EMPOP tokens) by continent (Africa, Asia, Europe)."""
    out: dict[str, list[list[str]]] = {}
    for cont, tokens in _read_hsd():
        out.setdefault(cont, []).append(list(dict.fromkeys(tokens)))  # a few profiles repeat a token
    return out


def _position(token: str) -> int:
    digits = ""
    for ch in token:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits)


def in_hvs(token: str) -> bool:
    """Is the variant inside HVS-I or HVS-II (the range typed on remains)?"""
    p = _position(token)
    return any(a <= p <= b for a, b in _HVS)


def private_mt(base: list[str], k: int, rng: np.random.Generator) -> list[str]:
    """``base`` plus ``k`` private transitions at random HVS positions not already variant."""
    ref = mtdna.rcrs()
    used = {_position(t) for t in base}
    out = list(base)
    while k > 0:
        lo, hi = _HVS[int(rng.integers(0, 2))]
        p = int(rng.integers(lo, hi + 1))
        if p in used or ref[p - 1] not in _TRANSITION:
            continue
        used.add(p)
        out.append(f"{p}{_TRANSITION[ref[p - 1]]}")
        k -= 1
    return out


def load_y_haplotypes(path: Path | None = None) -> tuple[tuple[str, ...], dict[str, list[list[str]]]]:
    """Yfiler Plus haplotypes by population (European, East Asian): loci and allele strings."""
    text = resources.files("dogtag.data.korean_war").joinpath("y_haplotypes.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    loci = tuple(rows[0][1:])
    out: dict[str, list[list[str]]] = {}
    for r in rows[1:]:
        out.setdefault(r[0], []).append(r[1:])
    return loci, out


def mutate_y(haplotype: list[str], loci: Sequence[str], meioses: int, rng: np.random.Generator,
             rates: YMutationRates | None = None) -> list[str]:
    """Single-step mutations over ``meioses`` father-son transmissions (single-copy loci only)."""
    rates = rates or YMutationRates.default()
    out = list(haplotype)
    for j, loc in enumerate(loci):
        if "," in out[j] or not out[j]:
            continue
        try:
            mu = rates.rate(loc)
        except DogtagError:  # a locus without a published rate keeps its allele
            continue
        steps = int(rng.binomial(meioses, mu))
        if steps:
            delta = int(rng.choice([-1, 1], size=steps).sum())
            value = float(out[j]) + delta
            out[j] = str(int(value)) if value == int(value) else str(value)
    return out
