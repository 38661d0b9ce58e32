"""Benchmark: mtDNA search of 10,000 remains haplotypes against 100,000 reference haplotypes.

Measures the wall time of :func:`dogtag.genetics.mtdna_compare.screen` (every
sample-reference pair classified match / inconclusive / exclusion; the pairs with
at most one difference are listed, the rest are exclusions) plus
:func:`dogtag.genetics.mtdna_compare.frequencies` (each sample's frequency by
counting, with its Clopper-Pearson bound, in the 100,000 references as the
database). Building the panels is not timed.

Data are simulated, with a fixed seed: 2,000 founder haplotypes of 5-25
control-region variants (a few with an insertion in the 309/315 C-stretches or
the 523-524 AC deletion), each person a founder plus 0-2 private variants;
0.5% carry a point heteroplasmy. Samples cover the control region
(16024-16569;1-576); references cover the control region (70%) or the whole
genome (30%, with 20-40 coding-region variants). The target is 10 s.

Usage: ``python benchmarks/lineage.py [--samples N] [--refs N]``; the last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from dogtag.genetics import mtdna as mt
from dogtag.genetics import mtdna_compare as mc


def simulate(n: int, founders: list[np.ndarray], rng: np.random.Generator, *, full_share: float,
             prefix: str) -> list[mt.MtHaplotype]:
    cr = mt.MtRange.parse("16024-16569;1-576")
    full = mt.MtRange.full()
    cr_pos = np.concatenate([np.arange(16024, 16570), np.arange(1, 577)])
    out = []
    base_codes = "ACGT"
    for i in range(n):
        f = founders[rng.integers(len(founders))]
        priv = rng.choice(cr_pos, size=rng.integers(0, 3), replace=False)
        extra = [mt.encode(int(p), 0, base_codes[(mt.SYMBOLS.index(mt.rcrs()[p - 1]) + 1) % 4])
                 for p in priv if mt.rcrs()[p - 1] in base_codes]
        if rng.random() < 0.005:
            extra.append(mt.encode(16093, 0, "Y"))
        is_full = rng.random() < full_share
        codes = [int(c) for c in f] + extra
        if is_full:
            coding = rng.choice(np.arange(600, 16000), size=rng.integers(20, 41), replace=False)
            codes += [mt.encode(int(p), 0, base_codes[(mt.SYMBOLS.index(mt.rcrs()[p - 1]) + 1) % 4])
                      for p in coding if mt.rcrs()[p - 1] in base_codes]
        sites: dict[int, int] = {}
        for c in codes:
            sites[c >> 4] = c
        arr = np.array(sorted(sites.values()), dtype=np.int64)
        out.append(mt.MtHaplotype(f"{prefix}{i}", full if is_full else cr, arr))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--refs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cr_pos = np.concatenate([np.arange(16024, 16570), np.arange(1, 577)])
    founders = []
    for _ in range(2000):
        pos = rng.choice(cr_pos, size=rng.integers(5, 26), replace=False)
        codes = [mt.encode(int(p), 0, "ACGT"[("ACGT".index(mt.rcrs()[p - 1]) + 2) % 4])
                 for p in pos if mt.rcrs()[p - 1] in "ACGT"]
        u = rng.random()
        if u < 0.3:
            codes.append(mt.encode(315, 1, "C"))
        if u < 0.1:
            codes.append(mt.encode(309, 1, "C"))
        if u > 0.9:
            codes += [mt.encode(523, 0, "-"), mt.encode(524, 0, "-")]
        founders.append(np.array(codes, dtype=np.int64))
    samples = mc.MtPanel.from_haplotypes(simulate(args.samples, founders, rng, full_share=0.0, prefix="S"))
    refs = mc.MtPanel.from_haplotypes(simulate(args.refs, founders, rng, full_share=0.3, prefix="R"))
    t0 = time.perf_counter()
    found = mc.screen(samples, refs)
    t1 = time.perf_counter()
    freq = mc.frequencies(samples, refs)
    t2 = time.perf_counter()
    result = {
        "benchmark": "mtdna_search",
        "samples": len(samples), "refs": len(refs),
        "pairs": len(samples) * len(refs),
        "matches": int((found.differences == 0).sum()),
        "inconclusive": int((found.differences == 1).sum()),
        "screen_s": round(t1 - t0, 3), "frequencies_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 3), "target_s": 10.0,
        "median_lr": float(np.median(freq.lr)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
