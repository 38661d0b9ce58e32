"""Real bones for the scenario's K55-like boxes: each remains individual of the turnover is a
DPAA reference individual (US service members: the white, black and Hispanic collections; the
non-US remains: the Asian and Korean ones), whose measured long bones become its elements.
Those individuals are then left out of the reference the demo sorts with
(``osteometric_reference.csv.gz`` in the scenario folder), so the sorting is tested out of
sample. The draws use their own random stream, so the rest of the scenario is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dogtag.osteology.inventory import default_reference, write_osteometrics

#: Long bones of the scenario's element kinds that the reference measures.
LONG_BONES = ("femur", "humerus", "tibia", "radius", "ulna", "clavicle", "fibula")
_SIDE = {"left": "L", "right": "R"}


class Skeletons:
    """Hands out reference individuals, one per turnover remains individual, without repeats."""

    def __init__(self, seed: int):
        self.ref = default_reference()
        self.rng = np.random.default_rng([seed, 55])
        people: dict[str, list[int]] = {}
        for i, (x, e) in enumerate(zip(self.ref.ids, self.ref.elements, strict=True)):
            if e in LONG_BONES:
                people.setdefault(x, []).append(i)
        us = sorted(x for x in people if x.split("-")[0] in ("WM", "BM", "HM"))
        asian = sorted(x for x in people if x.split("-")[0] in ("AM", "KM"))
        self.pools = {True: [us[i] for i in self.rng.permutation(len(us))],
                      False: [asian[i] for i in self.rng.permutation(len(asian))]}
        self.rows = people
        self.used: set[str] = set()
        self.next = {True: 0, False: 0}

    def take(self, us: bool) -> list[tuple[str, str, dict[str, float]]]:
        """The measured long bones (element, side L/R, measurements) of a new individual."""
        pool = self.pools[us]
        person = pool[self.next[us] % len(pool)]  # past the pool's size, individuals repeat
        self.next[us] += 1
        self.used.add(person)
        rows = [self.rows[person][k] for k in self.rng.permutation(len(self.rows[person]))]
        return [(self.ref.elements[i], _SIDE[self.ref.sides[i]],
                 {c: float(v) for c, v in zip(self.ref.codes, self.ref.values[i], strict=True)
                  if not np.isnan(v)}) for i in rows if self.ref.sides[i] in _SIDE]

    def write_reference(self, path: Path) -> None:
        """The reference without the individuals handed out (the demo's sorting reference)."""
        keep = [i for i, x in enumerate(self.ref.ids) if x not in self.used]
        write_osteometrics(path, self.ref.subset(keep), reference=True)
