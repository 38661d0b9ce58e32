"""mtDNA notation: parsing, errors, sequence <-> notation round-trips on real data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.errors import DataFormatError
from dogtag.genetics import mtdna as mt

from conftest import DATA, EXAMPLES

HSD = EXAMPLES / "evaluation.hsd"
FASTA = DATA / "mtdna" / "1000G_50_mtgenomes.fasta"


def read_fasta(path):
    recs: dict[str, list[str]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].strip()
            recs[name] = []
        elif line.strip():
            recs[name].append(line.strip())
    return {k: "".join(v) for k, v in recs.items()}


def hsd_rows():
    for line in HSD.read_text().splitlines():
        f = line.split("\t")
        yield f[0], f[1], [t for t in f[3:] if t.strip()]


def test_rcrs():
    ref = mt.rcrs()
    assert len(ref) == 16569 and ref[3106] == "N" and ref[:10] == "GATCACAGGT"


def test_parse_tokens_and_codes():
    h = mt.haplotype("16093C 16189C 263G 315.1C 523d 524DEL 16266Y 573.1CC",
                     range="16024-16569;1-576", canonical=False)
    assert h.variants == ["263G", "315.1C", "523d", "524d", "573.1C", "573.2C",
                          "16093C", "16189C", "16266Y"]
    assert str(h.range) == "16024-16569;1-576"
    assert len(h.range) == 546 + 576
    assert mt.token(mt.encode(573, mt.INS_X, "C")) == "573.XC"
    assert mt.decode(mt.encode(315, 1, "C")) == (315, 1, "C")


def test_range_forms():
    a = mt.MtRange.parse("16024-576")
    b = mt.MtRange.parse('"16024-16569 ; 1-576 ;"')
    assert a == b and 16569 in a and 1 in a and 577 not in a
    c = mt.MtRange.parse("16024-16569;1-576;3552;8281-8289")
    assert len(c) == len(a) + 1 + 9
    assert (a & mt.MtRange.parse("1-100")) == mt.MtRange.parse("1-100")


@pytest.mark.parametrize(("text", "rng", "fragment"), [
    ("16093C 16189Q", None, "'16189Q'"),
    ("16093C 73", None, "'73'"),
    ("16093C 800A", "16024-576", "'800A': position 800 outside the range"),
    ("263A", None, "equals the rCRS"),
    ("17000A", None, "outside 1-16569"),
    ("315.1C 315.1C", None, "given twice"),
    ("315.2C", None, "skips an index"),
    ("16093CT", None, "one base"),
])
def test_bad_notation_names_profile_and_token(text, rng, fragment):
    with pytest.raises(DataFormatError) as err:
        mt.haplotype(text, range=rng, id="P7")
    assert "'P7'" in str(err.value) and fragment in str(err.value)


def test_bad_range():
    with pytest.raises(DataFormatError, match=r"'P1'.*'16024-x'"):
        mt.MtRange.parse("16024-x;1-576", profile="P1")
    with pytest.raises(DataFormatError, match="outside"):
        mt.MtRange.parse("0-576", profile="P1")


def test_hand_sequences():
    ref = mt.rcrs()
    # a C inserted anywhere in the 311-315 C-stretch is written 315.1C (3' placement)
    seq = ref[:311] + "C" + ref[311:]
    assert mt.from_sequence(seq).notation == "315.1C"
    # one AC unit of the 515-524 repeat deleted: 523d 524d
    seq = ref[:514] + ref[516:]
    assert mt.from_sequence(seq).notation == "523d 524d"
    # the T at 16189 deleted: the PhyloTree rule writes it 16189C 16193d
    seq = ref[:16188] + ref[16189:]
    assert mt.from_sequence(seq).notation == "16189C 16193d"
    # a substitution and an IUPAC heteroplasmy
    seq = ref[:72] + "G" + ref[73:16092] + "Y" + ref[16093:]
    assert mt.from_sequence(seq).notation == "73G 16093Y"


def test_normalise_same_sequence_same_notation():
    a = mt.haplotype("16189d", canonical=True)
    b = mt.haplotype("16189C 16193d", canonical=True)
    c = mt.haplotype("310C 315d")
    assert a == b and a.notation == "16189C 16193d"
    assert c.notation == "310d"
    assert mt.to_sequence(mt.haplotype("310C 315d", canonical=False)) == mt.to_sequence(c)


def test_fasta_round_trip_50_mtgenomes():
    recs = read_fasta(FASTA)
    assert len(recs) == 50
    for name, seq in recs.items():
        h = mt.from_sequence(seq, id=name)
        assert mt.to_sequence(h, uncovered="") == seq.upper(), name
        assert len(h.range) >= 16560
        # notation -> sequence -> notation is stable
        again = mt.haplotype(h.notation, range=h.range, id=name)
        assert again == h, name


def test_hsd_round_trip_120_profiles():
    done = 0
    for name, rng, toks in hsd_rows():
        if name == "Asia34":  # the file lists 309.1C twice: a data error (tested below)
            continue
        if name == "Asia41":  # 4833G outside its stated range (tested below)
            continue
        raw = mt.haplotype(toks, range=rng, id=name, canonical=False)
        full = raw.range.intervals[0] == (1, 16569)
        arc = mt.MtRange.full() if full else mt.MtRange.parse("16024-576")
        raw = mt.restrict(raw, arc)  # the part a sequence represents
        canon = mt.normalise(raw)
        seq = mt.to_sequence(raw, uncovered="")
        assert mt.to_sequence(canon, uncovered="") == seq, name
        back = mt.from_sequence(seq, id=name, range=raw.range)
        assert back == canon, name
        assert mt.to_sequence(back, uncovered="") == seq, name
        done += 1
    assert done == 118


def test_hsd_data_errors_are_named():
    rows = {n: (r, t) for n, r, t in hsd_rows()}
    with pytest.raises(DataFormatError, match=r"'Asia34'.*'309.1C'.*twice"):
        mt.haplotype(rows["Asia34"][1], range=rows["Asia34"][0], id="Asia34")
    with pytest.raises(DataFormatError, match=r"'Asia41'.*'4833G'.*outside the range"):
        mt.haplotype(rows["Asia41"][1], range=rows["Asia41"][0], id="Asia41")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 16569), st.sampled_from(["A", "C", "G", "T", "del", "insA",
                                                                 "insC", "insCA", "Y"])),
                min_size=0, max_size=12))
def test_any_sequence_round_trips(edits):
    # random substitutions, heteroplasmies, deletions and insertions anywhere on the rCRS
    ref = list(mt.rcrs())
    out = [[b] for b in ref]
    for pos, what in edits:
        if what == "del":
            out[pos - 1] = []
        elif what.startswith("ins"):
            out[pos - 1] = [*out[pos - 1], *what[3:]]
        elif out[pos - 1]:
            out[pos - 1] = [what, *out[pos - 1][1:]]
    seq = "".join("".join(x) for x in out)
    h = mt.from_sequence(seq)
    assert mt.to_sequence(h, uncovered="") == seq
    assert mt.haplotype(h.notation, range=h.range) == h
