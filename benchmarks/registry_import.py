"""Benchmark: registry imports and `dogtag stats` at Korean-War-and-beyond scale, on SQLite.

Measures, on a fresh SQLite file (WAL, foreign keys on), the wall time of:

1. importing N missing persons (default 100,000) from a DCAS-layout CSV;
2. importing their reference families from a case-folder ``pedigrees.csv`` (one family per
   missing person: father, mother, the missing son, a sister; father, mother and sister are
   donors, so 3 donors per family, 300,000 by default);
3. importing the donors' autosomal profiles from ``genotypes.csv`` (23 STR loci each,
   6.9 million rows by default);
4. ``dogtag stats --json`` as a subprocess (Python start-up included) and the statistics call
   in-process;
5. re-importing the missing-person file (nothing changes).

The goal (issue 5) is 2 min or less for 100,000 missing persons plus 300,000 donor profiles,
and 1 s or less for ``dogtag stats``. The input CSVs are generated here (seeded). The last line
printed is one JSON object with the figures.

Usage: python benchmarks/registry_import.py [--persons 100000] [--markers 23] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dogtag.registry.engine import make_engine, upgrade  # noqa: E402
from dogtag.registry.imports import import_file  # noqa: E402
from dogtag.registry.stats import all_stats  # noqa: E402

LOCI = ["CSF1PO", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317", "D16S539", "D18S51", "D21S11",
        "FGA", "TH01", "TPOX", "vWA", "D1S1656", "D2S441", "D2S1338", "D10S1248", "D12S391", "D19S433",
        "D22S1045", "Penta D", "Penta E", "SE33"]
STATES = ["CALIFORNIA", "TEXAS", "NEW YORK", "PENNSYLVANIA", "OHIO", "ILLINOIS", "MICHIGAN", "GEORGIA"]
BRANCHES = ["ARMY", "MARINE CORPS", "NAVY", "AIR FORCE"]


def generate(folder: Path, n: int, n_markers: int, seed: int = 1) -> dict[str, Path]:
    rng = random.Random(seed)
    loci = (LOCI * (n_markers // len(LOCI) + 1))[:n_markers]
    loci = [f"{m}_{k // len(LOCI)}" if k >= len(LOCI) else m for k, m in enumerate(loci)]
    files = {k: folder / f"{k}.csv" for k in ("missing", "pedigrees", "genotypes")}
    with open(files["missing"], "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SERVICE_NUMBER", "LAST_NAME", "FIRST_NAME", "RANK", "BRANCH", "DIVISION", "BIRTH_YEAR",
                    "INCIDENT_DATE", "HOME_STATE", "SEX", "CONFLICT", "FATALITY", "HOSTILITY_CONDITIONS"])
        for k in range(n):
            w.writerow([f"SN{k:08d}", f"LAST{k}", f"FIRST{k % 997}", "PFC", BRANCHES[k % 4],
                        f"{k % 25 + 1} INF DIV", 1920 + k % 15,
                        f"{1950 + k % 4}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                        STATES[k % len(STATES)], "M", "Korean War", "KIA", "H"])
    with open(files["pedigrees"], "w", newline="") as ped, open(files["genotypes"], "w", newline="") as gen:
        pw, gw = csv.writer(ped), csv.writer(gen)
        pw.writerow(["role", "family", "id", "father", "mother", "sex", "missing", "service_number"])
        gw.writerow(["family", "id", "marker", "allele1", "allele2"])
        for k in range(n):
            fam = f"FAM{k:08d}"
            pw.writerows([["am", fam, "FA", "", "", "male", "false", ""],
                          ["am", fam, "MO", "", "", "female", "false", ""],
                          ["am", fam, "MP", "FA", "MO", "male", "true", f"SN{k:08d}"],
                          ["am", fam, "SIS", "FA", "MO", "female", "false", ""]])
            for who in ("FA", "MO", "SIS"):
                for m in loci:
                    a, b = sorted((rng.randint(8, 20), rng.randint(8, 20)))
                    gw.writerow([fam, who, m, a, b])
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--markers", type=int, default=23)
    ap.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dogtag-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    files = generate(folder, args.persons, args.markers)
    gen_s = time.perf_counter() - t
    db = folder / "registry.sqlite"
    for p in folder.glob("registry.sqlite*"):
        p.unlink()
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    figures: dict[str, float | int | str] = {"persons": args.persons, "donors": 3 * args.persons,
                                             "markers": args.markers, "generate_s": round(gen_s, 2)}
    total = cpu = 0.0
    for kind, name in [("missing", "missing"), ("pedigrees", "pedigrees"), ("profiles", "genotypes")]:
        t, c = time.perf_counter(), time.process_time()
        res = import_file(engine, kind, files[name], actor="bench")
        dt_s = time.perf_counter() - t
        total += dt_s
        cpu += time.process_time() - c
        figures[f"import_{kind}_s"] = round(dt_s, 2)
        print(f"import {kind}: {res.rows} rows, {res.inserted} inserted in {dt_s:.1f} s", file=sys.stderr)
    figures["import_total_s"] = round(total, 2)
    figures["import_total_cpu_s"] = round(cpu, 2)  # this process only; wall time suffers on a busy machine
    t = time.perf_counter()
    res = import_file(engine, "missing", files["missing"], actor="bench")
    figures["reimport_missing_s"] = round(time.perf_counter() - t, 2)
    assert res.inserted == res.updated == 0
    with engine.connect() as conn:
        t = time.perf_counter()
        stats = all_stats(conn)
        figures["stats_in_process_s"] = round(time.perf_counter() - t, 3)
    assert stats["totals"]["missing_persons"] == args.persons
    assert stats["coverage"]["summary"]["with_maternal_line_reference"] == 0
    assert stats["coverage"]["summary"]["with_autosomal_references"] == args.persons
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dogtag", "stats", "--json", "--database", url], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        best = min(best, time.perf_counter() - t)
    figures["stats_cli_s"] = round(best, 3)
    figures["database_mb"] = round(sum(p.stat().st_size for p in folder.glob("registry.sqlite*")) / 2**20, 1)
    engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
