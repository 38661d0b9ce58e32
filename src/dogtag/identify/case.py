"""The DVI case: pm samples (remains), am reference families, markers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from dogtag.genetics.cases import GenotypeTable
from dogtag.genetics.markers import Marker
from dogtag.genetics.mtdna import MtHaplotype
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.ystr import YHaplotype


@dataclass(frozen=True)
class Sample:
    """A pm sample (a victim, a set of remains).

    ``sex`` is 1 male, 2 female, 0 unknown. ``dropout``/``dropin`` are per-allele
    probabilities for degraded profiles (0 = clean profile). ``mtdna`` and ``ystr`` are the
    sample's lineage haplotypes, if typed (a sample may have only these). ``replicates`` are
    further autosomal typings of the same person (another bone, a re-extraction), each with its
    own drop-out: independent given the person's genotype, so the observation likelihood at a
    marker is the product of every typing's (Balding & Buckleton 2009, FSI Genetics 4:1-10).
    """

    id: str
    sex: int
    genotypes: dict[str, tuple[str | None, str | None]]
    dropout: float = 0.0
    dropin: float = 0.0
    mtdna: MtHaplotype | None = None
    ystr: YHaplotype | None = None
    replicates: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class Family:
    """An am reference family: a pedigree, its missing persons and its typed members.

    ``mtdna`` and ``ystr`` map members to their lineage haplotypes; which of them stand for a
    missing person follows from the pedigree (:mod:`dogtag.genetics.lineage`).
    """

    name: str
    pedigree: Pedigree
    missing: tuple[str, ...]
    genotypes: GenotypeTable
    mtdna: Mapping[str, MtHaplotype] = field(default_factory=dict)
    ystr: Mapping[str, YHaplotype] = field(default_factory=dict)


@dataclass(frozen=True)
class DVICase:
    """A disaster-victim-identification case.

    Attributes
    ----------
    markers : markers with frequencies and mutation models.
    pm : the samples, in input order.
    am : the reference families, in input order.
    mtdna_database, ystr_database : population haplotypes for the lineage-marker
        frequencies (counting with a Clopper-Pearson bound; Y also ``ystr_method="laplace"``).
        Empty: every count is 0 of 0, the bound is 1, and a lineage match weighs LR 1 (mtDNA)
        or the mutation-model likelihood (Y), so lineage evidence can only exclude.
    theta : the subpopulation correction of the LRs (:mod:`dogtag.genetics.theta`; a Familias
        file's Theta/Kinship value; 0 = none).
    """

    markers: list[Marker]
    pm: list[Sample]
    am: list[Family]
    name: str = ""
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    mtdna_database: tuple[MtHaplotype, ...] = ()
    ystr_database: tuple[YHaplotype, ...] = ()
    ystr_method: str = "counting"
    theta: float = 0.0

    @property
    def has_lineage(self) -> bool:
        """Whether any sample or family member has an mtDNA or Y profile."""
        return (any(s.mtdna is not None or s.ystr is not None for s in self.pm)
                or any(f.mtdna or f.ystr for f in self.am))

    def missing_labels(self) -> list[str]:
        """Missing-person labels: the id, or ``family:id`` where ids repeat across families."""
        ids = Counter(m for f in self.am for m in f.missing)
        dup = {m for m, n in ids.items() if n > 1}
        return [f"{f.name}:{m}" if m in dup else m for f in self.am for m in f.missing]
