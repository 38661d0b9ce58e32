"""The lineage pieces of the search on small DVI cases: mtDNA-only remains and Y-STR remains.

Each family's pedigree says which typed donor stands for the missing person on the
maternal (mtDNA) or paternal (Y) line and at how many meioses; the per-pair LRs then
identify the right people.
"""

from __future__ import annotations

import numpy as np
import pytest

from dogtag.genetics import lineage, ystr
from dogtag.genetics import mtdna as mt
from dogtag.genetics import mtdna_compare as mc
from dogtag.genetics.pedigree import FEMALE, MALE, Pedigree

CR = "16024-16569;1-576"


def family(tag):
    # MP's mother MO and sister SIS are typed (maternal line); his paternal uncle UNC (Y line);
    # his father's wife's ... and an unrelated in-law INLAW, typed but on neither line.
    rows = [("GF", None, None, MALE), ("GM", None, None, FEMALE), ("FA", "GF", "GM", MALE),
            ("UNC", "GF", "GM", MALE), ("MO", None, None, FEMALE), ("MP", "FA", "MO", MALE),
            ("SIS", "FA", "MO", FEMALE), ("INLAW", None, None, MALE)]
    return Pedigree.from_table(*zip(*[(f"{tag}:{r[0]}" if r[0] else None,
                                       f"{tag}:{r[1]}" if r[1] else None,
                                       f"{tag}:{r[2]}" if r[2] else None, r[3]) for r in rows],
                                     strict=True))


MITO = {"F1": "16093C 16189C 263G 315.1C", "F2": "16129A 16223T 73G 263G 315.1C",
        "F3": "16311C 263G 309.1C 315.1C"}
YS = {"F1": {"DYS19": "14", "DYS390": "24", "DYS385": "11,14"},
      "F2": {"DYS19": "15", "DYS390": "23", "DYS385": "13,16"},
      "F3": {"DYS19": "13", "DYS390": "22", "DYS385": "12,12"}}


def test_mtdna_only_remains_identify_the_right_missing_persons():
    fams = {t: family(t) for t in MITO}
    typed = {t: [f"{t}:MO", f"{t}:SIS", f"{t}:INLAW"] for t in MITO}
    refs, mps = [], []
    for t, ped in fams.items():
        d = lineage.nearest_typed(ped, f"{t}:MP", typed[t], lineage.MATERNAL)
        assert d is not None and d.id == f"{t}:MO" and d.meioses == 1
        refs.append(mt.haplotype(MITO[t], range=CR, id=d.id))
        mps.append(f"{t}:MP")
    # remains: the missing persons of F3, F1 (one with C-stretch length heteroplasmy), and a stranger
    remains = [mt.haplotype("16311C 263G 309.1C 309.2C 315.1C", range=CR, id="V1"),
               mt.restrict(mt.haplotype(MITO["F1"], range=CR, id="V2"), mt.MtRange.parse("16024-16400;1-300")),
               mt.haplotype("16051G 263G 315.1C", range=CR, id="V3")]
    db = [mt.haplotype("263G 315.1C", range=CR, id=f"d{i}") for i in range(80)]
    db += [mt.haplotype(v, range=CR, id=f"e{t}") for t, v in MITO.items()]
    lr, v = mc.lr_matrix(mc.MtPanel.from_haplotypes(remains), mc.MtPanel.from_haplotypes(refs),
                         mc.MtPanel.from_haplotypes(db))
    best = {remains[i].id: mps[int(np.argmax(lr[i]))] for i in range(2)}
    assert best == {"V1": "F3:MP", "V2": "F1:MP"}
    assert v[2].tolist() == [2, 2, 2] and (lr[2] == 0).all()
    # V1: one match in 83 over the control region -> LR = 1 / CP upper bound(1, 83)
    assert lr[0, 2] == pytest.approx(1 / mc.clopper_pearson_upper(1, 83))


def test_y_remains_with_paternal_uncle_references():
    fams = {t: family(t) for t in YS}
    refs, meioses = [], []
    for t, ped in fams.items():
        d = lineage.nearest_typed(ped, f"{t}:MP", [f"{t}:UNC", f"{t}:SIS", f"{t}:INLAW"],
                                  lineage.PATERNAL)
        assert d is not None and d.id == f"{t}:UNC" and d.meioses == 3
        refs.append(ystr.YHaplotype.parse(YS[t], id=d.id))
        meioses.append(d.meioses)
    v1 = dict(YS["F2"], DYS19="16")            # one step from F2's uncle
    remains = [ystr.YHaplotype.parse(v1, id="V1"), ystr.YHaplotype.parse(YS["F3"], id="V2")]
    db = [ystr.YHaplotype.parse({"DYS19": str(14 + i % 3), "DYS390": str(22 + i % 4),
                                 "DYS385": f"{11 + i % 2},{14 + i % 5}"}, id=f"d{i}") for i in range(60)]
    loci = ("DYS19", "DYS385", "DYS390")
    lr = ystr.lr_matrix(ystr.YPanel.from_haplotypes(remains, loci), ystr.YPanel.from_haplotypes(refs, loci),
                        meioses, ystr.YPanel.from_haplotypes(db, loci))
    assert lr[0].argmax() == 1 and lr[1].argmax() == 2
    assert lr[0, 0] < 1e-9 * lr[0, 1] and lr[0, 2] < 1e-9 * lr[0, 1]  # many steps in 3 meioses
    rates = ystr.YMutationRates.default()
    like = float(np.prod([ystr.step_distribution(rates.rate(loc), 3)[3 + (1 if loc == "DYS19" else 0)] ** (2 if loc == "DYS385" else 1)
                          for loc in loci]))
    _, _, ub = ystr.count_frequencies(ystr.YPanel.from_haplotypes(remains[:1], loci),
                                      ystr.YPanel.from_haplotypes(db, loci))
    assert lr[0, 1] == pytest.approx(like / ub[0])
