"""Build the default osteometric reference (DPAA males) from OsteoSort v1.4's reference files.

Usage: python scripts/make_osteometric_data.py SHARED_DATA_DIR
Writes src/dogtag/data/osteometric/dpaa_males.csv.gz and articulation.csv (see the PROVENANCE.md
next to them): the male rows of DPAA's white, black, Asian, Hispanic and Korean reference
collections in one file, ids prefixed by collection (ids are not unique across collections),
measurement columns that no row fills dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "dogtag" / "data" / "osteometric"
COLLECTIONS = {"white_males": "WM", "black_males": "BM", "asian_males": "AM",
               "hispanic_males": "HM", "korean": "KM"}
META = ("id", "Side", "Element", "Sex", "Ancestry")


def main(shared: str) -> None:
    src = Path(shared) / "osteometric" / "osteosort-dpaa-reference"
    rows: list[dict[str, str]] = []
    codes: list[str] = []
    for name, prefix in COLLECTIONS.items():
        with open(src / f"DPAA_{name}.ref", newline="") as fh:
            reader = csv.DictReader(fh)
            for c in reader.fieldnames or []:
                if c not in META and c != "Stature" and c not in codes:
                    codes.append(c)
            for r in reader:
                if r["Sex"].strip().lower() != "m":
                    continue
                r["id"] = f"{prefix}-{r['id']}"
                rows.append(r)
    used = [c for c in codes if any(r.get(c, "NA") not in ("NA", "") for r in rows)]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*META, *used])
    for r in rows:
        w.writerow([r[c] for c in META] + [r.get(c, "NA") or "NA" for c in used])
    with gzip.GzipFile(DATA / "dpaa_males.csv.gz", "wb", mtime=0) as out:
        out.write(buf.getvalue().encode())
    shutil.copyfile(src / "articulation_pairs_config.csv", DATA / "articulation.csv")
    print(f"{len(rows)} rows, {len({r['id'] for r in rows})} individuals, {len(used)} measurements")


if __name__ == "__main__":
    main(sys.argv[1])
