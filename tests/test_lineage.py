"""Maternal and paternal lines from a pedigree, with meioses worked by hand."""

from __future__ import annotations

import pytest

from dogtag.genetics import lineage
from dogtag.genetics.pedigree import FEMALE, MALE, Pedigree

# GF x GM -> FA (m), AUNT (f), UNCLE (m); FA x MO -> MP (m), SIS (f), BRO (m);
# AUNT x AH -> COUS_F (f); UNCLE x UW -> COUS_M (m); MO's mother MGM x MGF -> MO, MAUNT (f);
# MAUNT x MAH -> MCOUS (m); SIS x SH -> NIECE (f)
ROWS = [
    ("GF", None, None, MALE), ("GM", None, None, FEMALE),
    ("MGF", None, None, MALE), ("MGM", None, None, FEMALE),
    ("FA", "GF", "GM", MALE), ("AUNT", "GF", "GM", FEMALE), ("UNCLE", "GF", "GM", MALE),
    ("MO", "MGF", "MGM", FEMALE), ("MAUNT", "MGF", "MGM", FEMALE),
    ("AH", None, None, MALE), ("UW", None, None, FEMALE), ("MAH", None, None, MALE),
    ("SH", None, None, MALE),
    ("MP", "FA", "MO", MALE), ("SIS", "FA", "MO", FEMALE), ("BRO", "FA", "MO", MALE),
    ("COUS_F", "AH", "AUNT", FEMALE), ("COUS_M", "UNCLE", "UW", MALE),
    ("MCOUS", "MAH", "MAUNT", MALE), ("NIECE", "SH", "SIS", FEMALE),
]
PED = Pedigree.from_table(*zip(*ROWS, strict=True))
DONORS = ["GF", "GM", "MGM", "FA", "AUNT", "UNCLE", "MO", "MAUNT", "SIS", "BRO", "COUS_F",
          "COUS_M", "MCOUS", "NIECE", "UW"]


def test_maternal_line_by_hand():
    got = {d.id: d.meioses for d in lineage.maternal_line(PED, "MP", DONORS)}
    assert got == {"MO": 1, "SIS": 2, "BRO": 2, "MGM": 2, "MAUNT": 3, "NIECE": 3, "MCOUS": 4}


def test_paternal_line_by_hand():
    res = lineage.paternal_line(PED, "MP", DONORS)
    got = {d.id: d.meioses for d in res}
    assert got == {"FA": 1, "BRO": 2, "GF": 2, "UNCLE": 3, "COUS_M": 4}
    assert {d.id: d.common_ancestor for d in res}["COUS_M"] == "GF"
    assert [d.id for d in res][:2] == ["FA", "BRO"]


def test_female_missing_person_has_no_y_line_and_descendants_count():
    assert lineage.paternal_line(PED, "SIS", DONORS) == []
    # a mother's line reaches her descendants through daughters only
    got = {d.id: d.meioses for d in lineage.maternal_line(PED, "MO", ["SIS", "NIECE", "MP"])}
    assert got == {"SIS": 1, "NIECE": 2, "MP": 1}


def test_lineage_donors_and_unknown_donor():
    both = lineage.lineage_donors(PED, "MP", ["MO", "FA"])
    assert [d.id for d in both["maternal"]] == ["MO"] and [d.id for d in both["paternal"]] == ["FA"]
    with pytest.raises(KeyError, match="NOBODY"):
        lineage.lineage_donors(PED, "MP", ["NOBODY"])
