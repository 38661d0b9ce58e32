"""Departures from the identification model, for the validation study (``dogtag validate``).

Each function simulates one way in which reality differs from what the identification assumes;
:func:`dogtag.scenario.generate.simulate_scenario` applies them when its
:class:`~dogtag.scenario.generate.ScenarioParams` ask, with the truth written apart
(``truth.csv``'s ``note`` column, ``truth_references.csv``).

- **Relatives not on the list** (:func:`relative_of`): remains of a paternal or maternal
  half-brother, a paternal uncle or a paternal first cousin of a missing person. The uncle is a
  full brother of the missing person's father, a founder: each of the father's two alleles at a
  locus came from one grandparent, and the uncle received the same grandparental allele with
  probability 1/2, otherwise the grandparent's other allele (a population draw). The expected
  kinship coefficients are 1/8 (half-brother, uncle) and 1/16 (cousin), IBD sharing
  k1 = 1/2 and 1/4.
- **Mutation in transmission** (:func:`mutate_str`): a transmitted allele moves one step (to the
  neighbouring allele of the marker's sorted allele list) with a given rate per meiosis; the
  scenario's Mendelian families have none otherwise.
- **Drop-in and contamination** (:func:`drop_in`, :func:`contaminate`): a foreign allele appears
  at a typed locus that shows one allele; a contaminated sample shows, at each locus, one allele
  of another person in place of one of its own with probability 1/2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dogtag.scenario import genetics as sg

__all__ = ["RELATIVES", "contaminate", "drop_in", "mutate_str", "relative_of", "sibling_of_founder"]

#: Relatives of a missing person placed among the remains (not on the list), with the number of
#: father-son meioses between their Y line and the missing person's father's (None: another Y line)
#: and whether they share the missing person's mtDNA line.
RELATIVES: tuple[tuple[str, int | None, bool], ...] = (
    ("paternal half-brother", 1, False),
    ("maternal half-brother", None, True),
    ("paternal uncle", 2, False),
    ("paternal first cousin", 3, False),
)


def sibling_of_founder(founder: NDArray[np.int16], panel: sg.MarkerPanel, population: NDArray[np.int64],
                       rng: np.random.Generator) -> NDArray[np.int16]:
    """Full siblings of founders (n, L, 2): each allele is the founder's (same grandparent's
    allele, probability 1/2) or a fresh population draw (that grandparent's other allele)."""
    fresh = sg.sample_founders(panel, population, rng)
    same = rng.random(founder.shape) < 0.5
    return np.where(same, founder, fresh).astype(np.int16)


def relative_of(kind: str, father: NDArray[np.int16], mother: NDArray[np.int16], panel: sg.MarkerPanel,
                population: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int16]:
    """Genotypes (n, L, 2) of a relative (:data:`RELATIVES`) of the children of ``father`` x ``mother``."""
    stranger = sg.sample_founders(panel, population, rng)
    if kind == "paternal half-brother":
        return sg.mendelian_child(father, stranger, rng)
    if kind == "maternal half-brother":
        return sg.mendelian_child(stranger, mother, rng)
    uncle = sibling_of_founder(father, panel, population, rng)
    if kind == "paternal uncle":
        return uncle
    if kind == "paternal first cousin":
        return sg.mendelian_child(uncle, stranger, rng)
    raise ValueError(f"unknown relative {kind!r}; expected one of {[r[0] for r in RELATIVES]}")


def mutate_str(genotypes: NDArray[np.int16], rate: float, panel: sg.MarkerPanel,
               rng: np.random.Generator) -> NDArray[np.int16]:
    """Copies of (n, L, 2) transmitted alleles, each moved one step up or down (within the
    marker's allele list) with probability ``rate``."""
    if rate <= 0:
        return genotypes
    out = genotypes.copy()
    hit = rng.random(out.shape) < rate
    step = np.where(rng.random(out.shape) < 0.5, -1, 1)
    top = np.array([len(panel.alleles[m]) - 1 for m in panel.markers])[None, :, None]
    moved = out + step
    moved = np.where((moved < 0) | (moved > top), out - step, moved)
    out[hit] = moved[hit]
    return out


def drop_in(observed: NDArray[np.int16], rate: float, panel: sg.MarkerPanel, rng: np.random.Generator
            ) -> NDArray[np.int16]:
    """Observed (n, L, 2) profiles (-1 = no allele) with a drop-in allele (drawn from the first
    population's frequencies) at a locus showing exactly one allele, with probability ``rate``."""
    if rate <= 0:
        return observed
    out = observed.copy()
    one = (out[:, :, 0] >= 0) ^ (out[:, :, 1] >= 0)
    hit = one & (rng.random(one.shape) < rate)
    extra = sg.sample_founders(panel, np.zeros(len(out), dtype=np.int64), rng)[:, :, 0]
    slot = np.where(out[:, :, 0] < 0, 0, 1)
    for s in (0, 1):
        sel = hit & (slot == s)
        out[:, :, s][sel] = extra[sel]
    return out


def contaminate(genotypes: NDArray[np.int16], contaminant: NDArray[np.int16], rng: np.random.Generator
                ) -> NDArray[np.int16]:
    """Profiles (n, L, 2) showing, at each locus with probability 1/2, one of the contaminant's
    alleles in place of the second of their own."""
    out = genotypes.copy()
    hit = rng.random(out.shape[:2]) < 0.5
    pick = rng.integers(0, 2, out.shape[:2])
    foreign = np.take_along_axis(contaminant, pick[:, :, None], axis=2)[:, :, 0]
    out[:, :, 1] = np.where(hit, foreign, out[:, :, 1])
    return out
