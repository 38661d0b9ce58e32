"""Marker-name aliases."""

from __future__ import annotations

import pytest

from dogtag.genetics.names import canonical_marker_name, lookup, match_marker_names, same_marker


@pytest.mark.parametrize("spellings,canon", [
    (["Penta D", "PENTA_D", "PentaD", "PENTA D", "Penta_D", "penta-d"], "Penta D"),
    (["Penta E", "PENTA_E", "PENTA E"], "Penta E"),
    (["D21S11", "D21", "d21s11"], "D21S11"),
    (["AMEL", "Amelogenin", "amel"], "AMEL"),
    (["vWA", "VWA", "vwa"], "vWA"),
    (["TH01", "THO1", "th01", "HUMTH01"], "TH01"),
    (["CSF1PO", "CSF", "csf1po"], "CSF1PO"),
    (["FGA", "FIBRA", "fga"], "FGA"),
    (["SE33", "ACTBP2", "se33"], "SE33"),
    (["TPOX", "tpox"], "TPOX"),
    (["D3S1358", "d3s1358", "D3"], "D3S1358"),
    (["Y indel", "Yindel"], "Yindel"),
])
def test_aliases(spellings, canon):
    assert {canonical_marker_name(s) for s in spellings} == {canon}


def test_unknown_names_are_normalised():
    assert canonical_marker_name("d2s1338") == "D2S1338"
    assert canonical_marker_name("D2") == "D2"  # ambiguous: not an alias
    assert not same_marker("D2", "D2S441")
    with pytest.raises(ValueError, match="empty"):
        canonical_marker_name(" _ ")


def test_match_keeps_input_spelling():
    db = ["PENTA D", "TH01", "D21S11", "vWA", "FGA"]
    got = match_marker_names(["Penta_D", "THO1", "D21", "VWA", "FIBRA", "D99"], db)
    assert got == {"Penta_D": "PENTA D", "THO1": "TH01", "D21": "D21S11", "VWA": "vWA",
                   "FIBRA": "FGA", "D99": None}


def test_match_rejects_two_spellings():
    with pytest.raises(ValueError, match="two spellings of marker Penta D"):
        match_marker_names(["Penta D"], ["PENTA_D", "PentaD"])
    with pytest.raises(ValueError, match="the input has two spellings"):
        match_marker_names(["TH01", "THO1"], ["TH01"])


def test_lookup():
    m = {"PENTA D": 1, "TH01": 2}
    assert lookup(m, "TH01") == "TH01"
    assert lookup(m, "Penta_D") == "PENTA D"
    assert lookup(m, "FGA") is None
