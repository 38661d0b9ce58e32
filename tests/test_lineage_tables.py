"""Readers for mtDNA and Y-STR tables, on the shared data and on small hand-made files."""

from __future__ import annotations

import pytest

from dogtag.errors import DataFormatError
from dogtag.io.lineage_tables import read_mtdna, read_ystr

from conftest import DATA, EXAMPLES

HSD = EXAMPLES / "evaluation.hsd"


def test_hsd_reader_names_file_line_profile_token():
    with pytest.raises(DataFormatError) as err:
        read_mtdna(HSD)
    msg = str(err.value)
    assert "evaluation.hsd, line 43" in msg and "'Asia34'" in msg and "'309.1C'" in msg
    t = read_mtdna(HSD, skip_invalid=True)
    assert len(t.haplotypes) == 118 and len(t.skipped) == 2
    assert t.haplotypes[0].id == "Africa01" and str(t.haplotypes[0].range) == "16024-16569;1-576"


def test_mito_csv(tmp_path):
    f = tmp_path / "mito.csv"
    f.write_text("family,id,range,variants\nF1,MO,16024-16569;1-576,16093C 263G 315.1C\n"
                 "F2,R7,16024-576,73G 263G\n")
    t = read_mtdna(f)
    assert t.families == ["F1", "F2"] and t.haplotypes[1].notation == "73G 263G"
    f.write_text("family,id,range,variants\nF1,MO,16024-16569;1-576,16093C 263G 999A\n")
    with pytest.raises(DataFormatError, match=r"mito.csv, line 2: profile 'MO': token '999A'"):
        read_mtdna(f)


def test_ystr_wide_files():
    sa = read_ystr(DATA / "ystr" / "disclapmix2_South_Australia_yfilerplus27.csv")
    assert len(sa.haplotypes) == 1136
    h = sa.haplotypes[0]
    assert h.alleles["DYS385"] == (12.0, 13.0) and h.alleles["DYF387S1"] == (34.0, 36.0)
    han = read_ystr(DATA / "ystr" / "disclapmix2_Chinese_Han_yfiler17.csv")
    assert sum(han.counts) == 4451 and len(han.haplotypes) == 3389
    danes = read_ystr(EXAMPLES / "danes.txt")
    assert sum(danes.counts) == 185 and set(danes.haplotypes[0].alleles) >= {"DYS19", "DYS389II"}


def test_ystr_long_file(tmp_path):
    f = tmp_path / "ystr.csv"
    f.write_text("family,id,marker,alleles\nF1,FA,DYS19,14\nF1,FA,DYS385,\"11,14\"\nF1,BRO,DYS19,15\n")
    t = read_ystr(f)
    assert [h.id for h in t.haplotypes] == ["FA", "BRO"] and t.haplotypes[0].alleles["DYS385"] == (11, 14)
    f.write_text("family,id,marker,alleles\nF1,FA,DYS19,14\nF1,FA,XYZ1,3\n")
    with pytest.raises(DataFormatError, match=r"line 3: profile 'FA': unknown Y-STR locus 'XYZ1'"):
        read_ystr(f)
    f.write_text("family,id,marker,alleles\nF1,FA,DYS19,1x\n")
    with pytest.raises(DataFormatError, match=r"line 2: profile 'FA': locus DYS19: allele '1x'"):
        read_ystr(f)
