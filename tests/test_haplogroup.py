"""Haplogroup estimate: self-consistency on the tree and continental sanity on 50 1000G mtGenomes."""

from __future__ import annotations

import numpy as np
import pytest

from dogtag.genetics import haplogroup as hg
from dogtag.genetics import mtdna as mt
from test_mtdna import FASTA, read_fasta

from conftest import DATA


def expected_haplotype(k):
    tree = hg.phylotree()
    row = tree.expected.getrow(k)
    codes = np.sort(tree.vocab[row.indices])
    return mt.MtHaplotype(tree.names[k], mt.MtRange.full(), codes)


def test_a_haplogroups_own_motif_scores_top():
    tree = hg.phylotree()
    assert len(tree.names) == 6380
    rng = np.random.default_rng(5)
    for k in rng.choice(len(tree.names), size=25, replace=False):
        call = hg.estimate(expected_haplotype(int(k)))
        assert call.quality == pytest.approx(1.0, abs=1e-12)
        got = set(tree.vocab[tree.expected.getrow(tree.names.index(call.haplogroup)).indices])
        assert got == set(tree.vocab[tree.expected.getrow(int(k)).indices])  # same motif (ties allowed)


def test_continental_sanity_on_1000g():
    pops = {}
    for line in (DATA / "mtdna" / "1000G_50_mtgenomes_populations.csv").read_text().splitlines()[1:]:
        f = line.split(",")
        pops[f[0]] = f[2]
    for name, seq in read_fasta(FASTA).items():
        call = hg.estimate(mt.from_sequence(seq, id=name))
        assert call.quality > 0.75, name
        if pops[name] == "AFR":
            assert call.haplogroup.startswith("L"), (name, call)
        else:
            assert not call.haplogroup.startswith("L"), (name, call)
        if pops[name] == "AMR":
            assert call.haplogroup[0] in "ABCD", (name, call)
