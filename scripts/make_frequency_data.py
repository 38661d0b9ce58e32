"""Rebuild the shipped frequency tables in src/dogtag/data/frequencies from the shared data folder.

Usage: python scripts/make_frequency_data.py SHARED_DATA_DIR

Writes compact long CSVs (see PROVENANCE.md there) and copies the norSTR text files verbatim.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "dogtag" / "data" / "frequencies"
Y_MARKERS = {"Y indel", "DYS391"}


def main(data: Path) -> None:
    src = data / "str-frequencies"
    OUT.mkdir(parents=True, exist_ok=True)
    with open(src / "nist1036_allele_counts.csv") as f, open(OUT / "nist1036.csv", "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["population", "marker", "allele", "count", "n"])
        for r in csv.DictReader(f):
            w.writerow([r["population"], r["locus"], r["allele"], r["count"], r["n_alleles"]])
    with open(src / "fbi2015_moretti_allele_freqs.csv") as f, open(OUT / "fbi2015.csv", "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["population", "marker", "allele", "frequency", "n"])
        for r in csv.DictReader(f):
            if r["locus"] in Y_MARKERS:
                continue
            w.writerow([r["population"], r["locus"], r["allele"], repr(float(r["frequency"])),
                        r["n_alleles"]])
    with open(src / "forrel_NorwegianFrequencies.csv") as f, open(OUT / "norwegian.csv", "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(["marker", "allele", "frequency"])
        for r in csv.DictReader(f):
            w.writerow([r["locus"], r["allele"], r["frequency"]])
    (OUT / "norstr").mkdir(exist_ok=True)
    for p in sorted((src / "norstr").glob("*DB_v2023.txt")):
        shutil.copyfile(p, OUT / "norstr" / p.name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
