"""Which reference donors share the missing person's maternal (mtDNA) or paternal (Y) line.

mtDNA passes from a mother to all her children, Y from a father to his sons.
Two people share a maternal line when their mother-only ancestries meet in the
pedigree, and a paternal line when their father-only ancestries meet and both
are male; the number of meioses between them is the sum of the steps from each
up to the first shared ancestor of that line (a full sibling: 2, the mother: 1,
a maternal first cousin through two sisters: 4). Lines that do not meet in the
pedigree are treated as unrelated, as the founders are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics.pedigree import FEMALE, Pedigree

MATERNAL, PATERNAL = "maternal", "paternal"


@dataclass(frozen=True)
class LineDonor:
    """A donor on the missing person's line.

    id : the donor; line : "maternal" or "paternal"; meioses : between donor and missing person;
    common_ancestor : the first shared member of the line (the donor or the missing person
    themself when one descends from the other).
    """

    id: str
    line: str
    meioses: int
    common_ancestor: str


def _chain(ped: Pedigree, k: int, parent: NDArray[np.int64]) -> list[int]:
    out = [k]
    while parent[out[-1]] >= 0:
        out.append(int(parent[out[-1]]))
    return out


def _line(ped: Pedigree, missing: str, donors: Iterable[str], line: str) -> list[LineDonor]:
    parent = ped.mother if line == MATERNAL else ped.father
    mp = ped.index(missing)
    up = {m: step for step, m in enumerate(_chain(ped, mp, parent))}
    out = []
    for d in donors:
        k = ped.index(d)
        if k == mp:
            continue
        if line == PATERNAL and ped.sex[k] == FEMALE:
            continue
        for step, anc in enumerate(_chain(ped, k, parent)):
            if anc in up:
                out.append(LineDonor(d, line, step + up[anc], ped.ids[anc]))
                break
    return sorted(out, key=lambda x: (x.meioses, x.id))


def maternal_line(ped: Pedigree, missing: str, donors: Iterable[str]) -> list[LineDonor]:
    """Donors who share the missing person's mtDNA line, nearest first."""
    return _line(ped, missing, donors, MATERNAL)


def paternal_line(ped: Pedigree, missing: str, donors: Iterable[str]) -> list[LineDonor]:
    """Male donors who share the missing person's Y line, nearest first.

    Empty when the missing person is female; a missing person of unknown sex is
    treated as possibly male (a Y profile from the remains settles it).
    """
    if ped.sex[ped.index(missing)] == FEMALE:
        return []
    return _line(ped, missing, donors, PATERNAL)


def lineage_donors(ped: Pedigree, missing: str, donors: Iterable[str]) -> dict[str, list[LineDonor]]:
    """``{"maternal": [...], "paternal": [...]}`` for the typed donors of a family."""
    ds = list(donors)
    unknown = [d for d in ds if d not in ped]
    if unknown:
        raise KeyError(f"donors not in the pedigree: {', '.join(unknown)}")
    return {MATERNAL: maternal_line(ped, missing, ds), PATERNAL: paternal_line(ped, missing, ds)}


def nearest_typed(ped: Pedigree, missing: str, typed: Iterable[str], line: str) -> LineDonor | None:
    """The typed donor nearest the missing person on a line (fewest meioses), or None.

    This is the reference whose lineage haplotype stands for the missing person's
    in a search; ties go to the first id in sort order.
    """
    if line not in (MATERNAL, PATERNAL):
        raise ValueError(f"`line` must be 'maternal' or 'paternal', got {line!r}")
    found = maternal_line(ped, missing, typed) if line == MATERNAL else paternal_line(ped, missing, typed)
    return found[0] if found else None
