"""Extract the air losses the scenario generator needs from the THOR Korean War records.

Usage: python scripts/make_korean_war_data.py SHARED_DATA_DIR
Writes src/dogtag/data/korean_war/air_losses.csv, mt_haplotypes.tsv and y_haplotypes.csv (see the
PROVENANCE.md next to them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "dogtag" / "data" / "korean_war"
OUT = DATA / "air_losses.csv"


def _read(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    return list(csv.DictReader(io.StringIO(text)))


def _int(s: str) -> int:
    try:
        return int(float(s.strip())) if s.strip() else 0
    except ValueError:  # free text shifted into a count column
        return 0


def _date(s: str) -> str:
    m, d, y = (int(x) for x in s.strip().split("/"))
    return dt.date(1900 + y if y < 100 else y, m, d).isoformat()


def _coord(s: str, pos: str, neg: str) -> float | None:
    s = s.strip()
    if not s:
        return None
    sign = -1.0 if s.endswith(neg) else 1.0
    try:
        return sign * float(s.rstrip(pos + neg))
    except ValueError:
        return None


def main(shared: Path) -> None:
    folder = shared / "korean-war"
    out: list[dict[str, object]] = []
    seen: set[tuple[str, ...]] = set()
    for r in _read(folder / "THOR_KOREAN_DATA.csv"):
        mia = _int(r["MIA"])
        if mia <= 0:
            continue
        key = tuple(v for k, v in r.items() if k != "KOREAN_ID")
        if key in seen:  # the release repeats some rows verbatim
            continue
        seen.add(key)
        lost = sum(_int(r[c]) for c in ("AC_LOST_TO_EAC", "AC_LOST_TO_AAA", "AC_LOST_TO_UNKNOWN_EA",
                                        "AC_LOST_TO_OTHER"))
        out.append({"source": "THOR_KOREAN_DATA", "row": r["KOREAN_ID"], "date": _date(r["MSN_DATE"]),
                    "unit": r["GROUP_OR_HIGHER_UNIT_ID"] or r["UNIT_ID"], "aircraft": r["AC_TYPE"],
                    "aircraft_lost": lost, "mia": mia, "kia": _int(r["KIA"]), "target": "",
                    "latitude": "", "longitude": ""})
    for r in _read(folder / "THOR_KOREAN_EXTR_DATA.csv"):
        lost = _int(r["NBR_LOST_AIRCRAFT"])
        lat = _coord(r["TGT_LATITUDE_WGS84"], "N", "S")
        lon = _coord(r["TGT_LONGITUDE_WGS84"], "E", "W")
        # keep losses with a target inside the Korean peninsula (some records are off by degrees)
        if lost <= 0 or lat is None or lon is None or not (33.0 <= lat <= 43.5 and 124.0 <= lon <= 131.0):
            continue
        out.append({"source": "THOR_KOREAN_EXTR_DATA", "row": r["ROW_NUMBER"], "date": _date(r["MISSION_DATE"]),
                    "unit": r["UNIT"], "aircraft": r["AIRCRAFT_TYPE_MDS"], "aircraft_lost": lost, "mia": "",
                    "kia": "", "target": r["TARGET_NAME"].strip(), "latitude": round(lat, 5),
                    "longitude": round(lon, 5)})
    out.sort(key=lambda d: (str(d["date"]), str(d["source"]), int(str(d["row"]))))
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} air losses -> {OUT}")
    mt_haplotypes(shared)
    y_haplotypes(shared)


def _mt_position(token: str) -> int:
    return int("".join(ch for ch in token.split(".")[0] if ch.isdigit()) or 0)


def mt_haplotypes(shared: Path) -> None:
    """The HaploGrep evaluation profiles, restricted to the control region (16024-16569, 1-576)."""
    rows = []
    for line in (shared / "mtdna" / "haplogrep-examples" / "haplogrep_evaluationData.hsd").read_text().splitlines():
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) < 3 or not cols[0]:
            continue
        pid = cols[0]
        tokens = [t for t in cols[3:] if t]
        keep = [t for t in tokens if _mt_position(t) >= 16024 or 1 <= _mt_position(t) <= 576]
        continent = "".join(ch for ch in pid if ch.isalpha())
        rows.append((pid, continent, " ".join(keep)))
    with (DATA / "mt_haplotypes.tsv").open("w", encoding="utf-8") as fh:
        fh.write("id\tcontinent\tvariants\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")
    print(f"{len(rows)} mtDNA haplotypes -> {DATA / 'mt_haplotypes.tsv'}")


def y_haplotypes(shared: Path) -> None:
    """The South Australian Yfiler Plus haplotypes of the European and East Asian samples."""
    with (shared / "ystr" / "disclapmix2_South_Australia_yfilerplus27.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if r[2] in ("European", "East Asian")]
    with (DATA / "y_haplotypes.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["population", *header[3:]])
        for r in rows:
            w.writerow([r[2], *r[3:]])
    print(f"{len(rows)} Y-STR haplotypes -> {DATA / 'y_haplotypes.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
