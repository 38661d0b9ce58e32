"""Mutation models for STR transmission, as pedmut defines them.

A model is a row-stochastic matrix ``matrix[i, j]`` = P(parental allele i is
transmitted as allele j), plus the parameters that built it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class MutationModel:
    """A mutation model.

    Attributes
    ----------
    model : one of ``equal``, ``proportional``, ``stepwise``, ``onestep``, ``custom``, ``trivial``.
    matrix : ndarray, float64, shape (n_alleles, n_alleles); rows sum to 1.
    rate, rate2, range : the parameters (pedmut's names); None where the model has none.
    """

    model: str
    matrix: NDArray[np.float64]
    rate: float | None = None
    rate2: float | None = None
    range: float | None = None

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"mutation matrix must be square, got shape {m.shape}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    @property
    def is_trivial(self) -> bool:
        return bool(np.array_equal(self.matrix, np.eye(self.matrix.shape[0])))
