"""STR markers: allele labels in numeric order, frequencies, mutation models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dogtag.genetics.mutation import MutationModel

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def allele_sort_key(label: str) -> tuple[int, float, str]:
    """Order allele labels numerically (``9 < 9.3 < 10``), non-numeric ones last.

    >>> sorted(["10", "9.3", "9", "X"], key=allele_sort_key)
    ['9', '9.3', '10', 'X']
    """
    if _NUMERIC.match(label):
        return (0, float(label), label)
    return (1, 0.0, label)


def sort_alleles(labels: Iterable[str]) -> list[str]:
    """Allele labels in numeric order (pedtools' order when all are numeric)."""
    return sorted(labels, key=allele_sort_key)


def is_numeric_allele(label: str) -> bool:
    return bool(_NUMERIC.match(label))


_STR_ALLELE = re.compile(r"^(\d{1,3}(\.\d{1,2})?|[XY])$")


def check_allele(label: str) -> str:
    """An autosomal STR allele as typed: a repeat number with an optional microvariant (``9``,
    ``9.3``, ``10.1``) or ``X``/``Y`` (amelogenin). Raises ``ValueError`` naming the label."""
    if not _STR_ALLELE.match(label) or (label[0].isdigit() and float(label) <= 0):
        raise ValueError(f"allele {label!r} is not a repeat number (e.g. 9, 9.3) or X/Y")
    return label


@dataclass(frozen=True, eq=False)
class Marker:
    """One autosomal marker.

    Attributes
    ----------
    name : marker name as given by the input.
    alleles : tuple of str, allele labels (parallel to ``freqs``).
    freqs : ndarray, float64, shape (n_alleles,); population frequencies.
    female : mutation model of female (or both, when ``male`` is None) meioses; None = no mutation.
    male : mutation model of male meioses, when it differs from ``female``.
    """

    name: str
    alleles: tuple[str, ...]
    freqs: NDArray[np.float64]
    female: MutationModel | None = None
    male: MutationModel | None = None
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        freqs = np.asarray(self.freqs, dtype=np.float64)
        if freqs.ndim != 1 or freqs.shape[0] != len(self.alleles):
            raise ValueError(
                f"marker {self.name!r}: `freqs` has {freqs.size} values for {len(self.alleles)} alleles"
            )
        if len(set(self.alleles)) != len(self.alleles):
            dup = sorted({a for a in self.alleles if self.alleles.count(a) > 1})
            raise ValueError(f"marker {self.name!r}: duplicated alleles: {', '.join(dup)}")
        if np.any(freqs < 0) or not np.all(np.isfinite(freqs)):
            raise ValueError(f"marker {self.name!r}: frequencies must be finite and >= 0")
        freqs.setflags(write=False)
        object.__setattr__(self, "freqs", freqs)
        object.__setattr__(self, "alleles", tuple(str(a) for a in self.alleles))
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(self.alleles)})
        for model in (self.female, self.male):
            if model is not None and model.matrix.shape != (len(self.alleles),) * 2:
                raise ValueError(
                    f"marker {self.name!r}: mutation matrix shape {model.matrix.shape} "
                    f"does not fit {len(self.alleles)} alleles"
                )

    @property
    def n_alleles(self) -> int:
        return len(self.alleles)

    def index(self, allele: str) -> int:
        """Index of an allele label; ``KeyError`` names the marker if it is unknown."""
        try:
            return self._index[allele]
        except KeyError:
            raise KeyError(f"allele {allele!r} is not in marker {self.name!r}") from None

    def has_allele(self, allele: str) -> bool:
        return allele in self._index

    def mutation_matrix(self, sex: int) -> NDArray[np.float64] | None:
        """Transmission matrix for a parent of ``sex`` (1 male, 2 female); None = no mutation."""
        model = self.male if (sex == 1 and self.male is not None) else self.female
        return None if model is None else model.matrix

    @property
    def has_mutation(self) -> bool:
        return self.female is not None or self.male is not None

    def without_mutation(self) -> Marker:
        return Marker(self.name, self.alleles, self.freqs)


def marker_from_counts(name: str, alleles: Sequence[str], freqs: Sequence[float]) -> Marker:
    """Build a marker with alleles put in numeric order."""
    order = sorted(range(len(alleles)), key=lambda i: allele_sort_key(str(alleles[i])))
    return Marker(name, tuple(str(alleles[i]) for i in order), np.array([freqs[i] for i in order]))
