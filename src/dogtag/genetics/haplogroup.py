"""Haplogroup estimate of an mtDNA haplotype against PhyloTree (optional).

Each haplogroup's expected variants (against the rCRS) accumulate down the tree
(a ``!`` back mutation removes one). A haplotype is scored against every
haplogroup with HaploGrep's weighted Kulczynski measure (Kloss-Brandstätter et
al. 2011, *Hum Mutat* 32:25-32; Weissensteiner et al. 2016, *Nucleic Acids Res*
44:W58-W63):

    K = 1/2 (W(found) / W(expected in range) + W(found) / W(haplotype's variants)),

with W the sum of the PhyloTree phylogenetic weights (``weights.txt``: rarer
mutations weigh more). Hotspots (tree.yaml's list: 309.1C, 315.1C, 523-524
indels, 3107d, 16182C, 16183C, 16193.1C, 16519C) are left out. The tree is
PhyloTree 17 Forensic Update (van Oven & Kayser 2009, *Hum Mutat* 30:E386;
Dür et al. 2021, *Genes* 12:1165).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from dogtag.genetics import mtdna as mt

_HOTSPOT_SITES = {(309, 1), (309, 2), (315, 1), (16193, 1), (16193, 2), (524, 1), (524, 2), (524, 3),
                  (524, 4), (523, 0), (524, 0), (3107, 0), (16182, 0), (16183, 0), (16519, 0)}


def _hot(code: int) -> bool:
    return ((code >> 10), (code >> 4) & 63) in _HOTSPOT_SITES


@dataclass(frozen=True)
class Tree:
    names: tuple[str, ...]
    parent: NDArray[np.int64]
    vocab: NDArray[np.int64]        # sorted variant codes
    expected: sp.csr_matrix         # (n_haplogroups, len(vocab)) weights of expected variants
    weights: NDArray[np.float64]    # weight of each vocab code


@dataclass(frozen=True)
class HaplogroupCall:
    haplogroup: str
    quality: float                  # the Kulczynski score of the best haplogroup, 0-1
    runner_up: str
    runner_up_quality: float


@cache
def _weights() -> dict[int, float]:
    text = resources.files("dogtag.data.mtdna").joinpath("weights.txt").read_text()
    out: dict[int, float] = {}
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) < 2 or f[0].endswith("!"):
            continue
        try:
            codes = mt.parse_variants([f[0]], profile="weights.txt")
        except ValueError:
            continue
        for c in codes:
            out[c] = float(f[1])
    return out


@cache
def phylotree() -> Tree:
    """The packaged PhyloTree 17 FU tree, parsed once."""
    text = resources.files("dogtag.data.mtdna").joinpath("tree.xml").read_text()
    root = ET.fromstring(text)
    names: list[str] = []
    parents: list[int] = []
    sets: list[dict[int, int]] = []   # site -> code

    def walk(node: ET.Element, parent: int, inherited: dict[int, int]) -> None:
        cur = dict(inherited)
        det = node.find("details")
        for p in (det.findall("poly") if det is not None else []):
            tok = (p.text or "").strip()
            back = tok.endswith("!")
            tok = tok.rstrip("!")
            if not re.search(r"[ACGTRYKMSWBHVNd]$", tok, re.IGNORECASE) or ".X" in tok.upper():
                continue
            try:
                codes = mt.parse_variants([tok], profile="tree.xml")
            except ValueError:
                if back:  # back mutation to the rCRS base, e.g. 263A!
                    m = re.match(r"(\d+)", tok)
                    if m:
                        cur.pop(int(m.group(1)) * 64, None)
                continue
            for c in codes:
                site = c >> 4
                if back:
                    cur.pop(site, None)
                else:
                    cur[site] = c
        k = len(names)
        names.append(node.get("name") or f"node{k}")
        parents.append(parent)
        sets.append(cur)
        for child in node.findall("haplogroup"):
            walk(child, k, cur)

    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10000))
    try:
        for top in root.findall("haplogroup"):
            walk(top, -1, {})
    finally:
        sys.setrecursionlimit(old)
    w = _weights()
    vocab = np.array(sorted({c for s in sets for c in s.values() if not _hot(c)}), dtype=np.int64)
    index = {int(c): i for i, c in enumerate(vocab)}
    wv = np.array([w.get(int(c), 1.0) for c in vocab])
    rows, cols = [], []
    for r, s in enumerate(sets):
        for c in s.values():
            if c in index:
                rows.append(r)
                cols.append(index[c])
    M = sp.csr_matrix((wv[cols], (rows, cols)), shape=(len(sets), len(vocab)))
    return Tree(tuple(names), np.array(parents), vocab, M, wv)


def estimate(h: mt.MtHaplotype) -> HaplogroupCall:
    """The best-scoring haplogroup for a haplotype, over its range."""
    tree = phylotree()
    mask = h.range.mask
    in_range = mask[(tree.vocab >> 10).astype(np.intp)].astype(float)
    codes = [int(c) for c in h.codes if not _hot(int(c))]
    idx = np.searchsorted(tree.vocab, codes)
    known = (idx < len(tree.vocab)) & (tree.vocab[np.minimum(idx, len(tree.vocab) - 1)] == codes)
    s = np.zeros(len(tree.vocab))
    s[idx[known]] = 1.0
    w = _weights()
    w_sample = float(tree.weights[idx[known]].sum()) + sum(w.get(c, 1.0) for c, k in zip(codes, known,
                                                                                          strict=True) if not k)
    found = tree.expected @ s
    expected = tree.expected @ in_range            # W(expected variants in range)
    t1 = np.divide(found, expected, out=np.ones_like(found), where=expected > 0)
    t2 = found / w_sample if w_sample > 0 else np.ones_like(found)
    k = 0.5 * (t1 + t2)
    order = np.argsort(-k, kind="stable")
    return HaplogroupCall(tree.names[order[0]], float(k[order[0]]), tree.names[order[1]], float(k[order[1]]))
