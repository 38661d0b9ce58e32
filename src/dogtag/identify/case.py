"""The DVI case: pm samples (remains), am reference families, markers."""

from __future__ import annotations

from dataclasses import dataclass, field

from dogtag.genetics.cases import GenotypeTable
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree


@dataclass(frozen=True)
class Sample:
    """A pm sample (a victim, a set of remains).

    ``sex`` is 1 male, 2 female, 0 unknown. ``dropout``/``dropin`` are per-allele
    probabilities for degraded profiles (0 = clean profile).
    """

    id: str
    sex: int
    genotypes: dict[str, tuple[str | None, str | None]]
    dropout: float = 0.0
    dropin: float = 0.0


@dataclass(frozen=True)
class Family:
    """An am reference family: a pedigree, its missing persons and its typed members."""

    name: str
    pedigree: Pedigree
    missing: tuple[str, ...]
    genotypes: GenotypeTable


@dataclass(frozen=True)
class DVICase:
    """A disaster-victim-identification case.

    Attributes
    ----------
    markers : markers with frequencies and mutation models.
    pm : the samples, in input order.
    am : the reference families, in input order.
    """

    markers: list[Marker]
    pm: list[Sample]
    am: list[Family]
    name: str = ""
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def missing_labels(self) -> list[str]:
        """Missing-person labels: the id, or ``family:id`` where ids repeat across families."""
        ids = [m for f in self.am for m in f.missing]
        dup = {m for m in ids if ids.count(m) > 1}
        return [f"{f.name}:{m}" if m in dup else m for f in self.am for m in f.missing]
