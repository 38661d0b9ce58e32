"""Kinship cases: hypotheses (pedigrees) over the same typed people, and their data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree

#: An unordered genotype as two allele labels; None marks a missing allele.
Genotype = tuple[str | None, str | None]
#: member id -> marker name -> genotype (only typed members and markers appear).
GenotypeTable = Mapping[str, Mapping[str, Genotype]]


@dataclass(frozen=True)
class Hypothesis:
    name: str
    pedigree: Pedigree


@dataclass(frozen=True)
class KinshipCase:
    """Competing pedigrees over the same typed individuals.

    Attributes
    ----------
    markers : the markers, in file order.
    hypotheses : the hypotheses, in file order.
    genotypes : member -> marker name -> genotype.
    theta : Balding-Nichols subpopulation correction for founders (0 = none).
    reference : name of the denominator hypothesis (None = the last).
    name, source : informative.
    """

    markers: list[Marker]
    hypotheses: list[Hypothesis]
    genotypes: GenotypeTable
    theta: float = 0.0
    reference: str | None = None
    name: str = ""
    source: str = ""
    notes: dict[str, object] = field(default_factory=dict)

    def hypothesis(self, name: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.name == name:
                return h
        names = ", ".join(h.name for h in self.hypotheses)
        raise ValueError(f"no hypothesis named {name!r}; the case has: {names}")

    @property
    def reference_name(self) -> str:
        return self.reference if self.reference is not None else self.hypotheses[-1].name
