"""Benchmark: ``dogtag search`` on a registry of 10,000 samples and 7,500 families (SQLite).

Builds a fresh SQLite registry (seeded) through the ordinary CSV imports: N missing persons with
one family each (father, mother, the missing son, a sister; mother and sister typed at the 20
CODIS core loci, alleles drawn from NIST 1036 Caucasian frequencies), S samples of which
``--true`` are the missing sons (one allele from the mother, one from the population) and the
rest unrelated. Then runs the search twice and reports the split of its wall time:

- ``read``: loading samples, families and profiles from the database and building the case;
- ``engine``: the grouping into individuals, the blind search (top-K per individual plus every
  pair with LR >= the candidate LR) and the decisions (open-world prior, joint identification);
- ``write``: the one write transaction (analysis run, stored pairs, digests, proposals, audit).

The second run has no new data (no LR is recomputed, nothing new is proposed). The issue's goal is
that the engine, not the database, takes most of the time of the first run. Correctness is
asserted in the same run: no proposal names the wrong missing person (the samples are numbered
like their missing person), at least 90 % of the true samples are proposed (each has LR >> 10^4
from a typed mother and sister), and the rerun computes no pair and proposes nothing. The last
line printed is one JSON object with the figures.

Usage: python benchmarks/registry_search.py [--samples 10000] [--families 7500] [--true 2000]
       [--workers 4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dogtag.analysis.search import SearchOptions, search_registry  # noqa: E402
from dogtag.genetics.freqdb import load_database  # noqa: E402
from dogtag.registry.engine import make_engine, upgrade  # noqa: E402
from dogtag.registry.imports import import_file  # noqa: E402

CODIS20 = ["CSF1PO", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539", "D18S51", "D21S11",
           "FGA", "TH01", "TPOX", "vWA", "D1S1656", "D2S441", "D2S1338", "D10S1248", "D12S391", "D19S433",
           "D22S1045"]


def generate(folder: Path, n_fam: int, n_samples: int, n_true: int, seed: int = 1) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    db = load_database("nist1036-Cauc")
    loc = {m: db.locus(m) for m in CODIS20}
    probs = {m: np.asarray(v.freqs) / np.sum(v.freqs) for m, v in loc.items()}

    def draw(m: str, k: int) -> np.ndarray:
        return rng.choice(len(probs[m]), size=k, p=probs[m])

    files = {k: folder / f"{k}.csv" for k in ("missing", "pedigrees", "samples", "genotypes")}
    with open(files["missing"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SERVICE_NUMBER", "LAST_NAME", "BRANCH", "SEX", "CONFLICT"])
        w.writerows([f"SN{k:06d}", f"LAST{k}", "ARMY", "M", "Korean War"] for k in range(n_fam))
    with open(files["pedigrees"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["role", "family", "id", "father", "mother", "sex", "missing", "service_number"])
        for k in range(n_fam):
            f = f"FAM{k:06d}"
            w.writerows([["am", f, "FA", "", "", "male", "false", ""], ["am", f, "MO", "", "", "female", "false", ""],
                         ["am", f, "MP", "FA", "MO", "male", "true", f"SN{k:06d}"],
                         ["am", f, "SIS", "FA", "MO", "female", "false", ""]])
    with open(files["samples"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "sex"])
        w.writerows([f"X{k:06d}", "M"] for k in range(n_samples))
    with open(files["genotypes"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["family", "id", "marker", "allele1", "allele2"])
        for m in CODIS20:
            al = loc[m].alleles
            mo, fa = draw(m, 2 * n_fam).reshape(n_fam, 2), draw(m, 2 * n_fam).reshape(n_fam, 2)
            pick = rng.integers(0, 2, size=(n_fam, 2))
            sis = np.stack([mo[np.arange(n_fam), pick[:, 0]], fa[np.arange(n_fam), pick[:, 1]]], axis=1)
            for k in range(n_fam):
                f = f"FAM{k:06d}"
                w.writerow([f, "MO", m, al[mo[k, 0]], al[mo[k, 1]]])
                w.writerow([f, "SIS", m, al[sis[k, 0]], al[sis[k, 1]]])
            son = np.stack([mo[np.arange(n_fam), rng.integers(0, 2, n_fam)],
                            fa[np.arange(n_fam), rng.integers(0, 2, n_fam)]], axis=1)
            other = draw(m, 2 * n_samples).reshape(n_samples, 2)
            for k in range(n_samples):
                a, b = (son[k] if k < n_true else other[k])
                w.writerow(["", f"X{k:06d}", m, al[a], al[b]])
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--families", type=int, default=7_500)
    ap.add_argument("--true", type=int, default=2_000, help="samples that are missing persons")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = ap.parse_args()
    if args.true > min(args.samples, args.families):
        ap.error("--true must be at most --samples and --families")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dogtag-search-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    files = generate(folder, args.families, args.samples, args.true)
    figures: dict[str, object] = {"samples": args.samples, "families": args.families, "true": args.true,
                                  "markers": len(CODIS20), "workers": args.workers,
                                  "generate_s": round(time.perf_counter() - t, 2)}
    for p in folder.glob("registry.sqlite*"):
        p.unlink()
    engine = make_engine(f"sqlite:///{folder / 'registry.sqlite'}")
    upgrade(engine)
    t = time.perf_counter()
    for kind in ("missing", "pedigrees", "samples"):
        import_file(engine, kind, files[kind], actor="bench")
    import_file(engine, "profiles", files["genotypes"], actor="bench")
    figures["import_s"] = round(time.perf_counter() - t, 2)
    opts = SearchOptions(workers=args.workers)
    for label in ("first", "rerun"):
        t = time.perf_counter()
        rep = search_registry(engine, options=opts)
        wall = time.perf_counter() - t
        sec = rep.seconds
        total = sec["read"] + sec["engine"] + sec["write"]
        right = sum(1 for p in rep.proposals if p["individual"][1:] == p["missing_person"][2:])
        figures[label] = {**sec, "wall_s": round(wall, 2), "engine_share": round(sec["engine"] / total, 3),
                          "database_share": round((sec["read"] + sec["write"]) / total, 3),
                          "proposals": len(rep.proposals), "proposals_right": right,
                          "pairs_computed": rep.pairs_computed, "pairs_stored": rep.pairs_stored}
        print(f"{label}: read {sec['read']} s, engine {sec['engine']} s, write {sec['write']} s "
              f"(engine {100 * sec['engine'] / total:.1f} %); {len(rep.proposals)} proposals, {right} right",
              flush=True)
    first, rerun = figures["first"], figures["rerun"]
    assert isinstance(first, dict) and isinstance(rerun, dict)
    assert first["proposals"] == first["proposals_right"], f"false identifications: {first}"
    assert first["proposals_right"] >= 0.9 * args.true, f"too few true identifications: {first}"
    assert rerun["proposals"] == 0 and rerun["pairs_computed"] == 0, f"the rerun recomputed or proposed: {rerun}"
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
