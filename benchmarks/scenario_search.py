"""Benchmark: ``dogtag search`` on demo scenarios of several seeds and sizes, against the truth.

For each ``SEED:SIZE`` (missing persons): simulate the Korean War scenario
(:func:`dogtag.scenario.generate.simulate_scenario`), import its files into a fresh SQLite registry
with ``dogtag init`` and ``dogtag import``, write the scenario's population haplotypes as the
lineage databases, run ``dogtag search --json`` (default thresholds and priors) as a subprocess,
and compare every proposal with ``truth.csv``. Measured per scenario: true and false
identifications, individuals, wall time of the search command. Asserted in the same run: no false
identification at the default threshold, and at least ``--min-true`` true ones where given. Also
reported: true and false at the other thresholds of the calibration report (from the best pairing
of each individual in the same report).

The last line printed is one JSON object with the figures (a list of rows). With ``--keep`` each
scenario's folder also keeps the registry and the search report (``search.json``).

Usage: python benchmarks/scenario_search.py [1:300 5:1000 ...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dogtag.analysis.decide import DecisionOptions  # noqa: E402
from dogtag.demo import IMPORT_ORDER, lineage_databases  # noqa: E402
from dogtag.scenario.calibration import THRESHOLDS  # noqa: E402
from dogtag.scenario.generate import ScenarioParams, simulate_scenario  # noqa: E402


def dogtag(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "dogtag", *args], check=True, capture_output=True, text=True)
    return out.stdout


def run_one(folder: Path, seed: int, size: int) -> dict[str, object]:
    simulate_scenario(folder, ScenarioParams(seed=seed, n_missing=size))
    url = f"sqlite:///{folder / 'registry.sqlite'}"
    dogtag("init", "--database", url)
    for kind, name in IMPORT_ORDER:
        dogtag("import", kind, str(folder / name), "--database", url)
    mt_db, y_db = lineage_databases(folder)
    t = time.perf_counter()
    report = json.loads(dogtag("search", "--database", url, "--mito-db", mt_db, "--ystr-db", y_db, "--json"))
    wall = time.perf_counter() - t
    (folder / "search.json").write_text(json.dumps(report))
    with (folder / "truth.csv").open(newline="") as fh:
        truth = {r["sample"]: r["service_number"] for r in csv.DictReader(fh)}
    right = [p for p in report["proposals"] if {truth[s] for s in p["samples"]} == {p["missing_person"]}]
    wrong = [p for p in report["proposals"] if p not in right]
    return {"seed": seed, "size": size, "true": len(right), "false": len(wrong),
            "individuals": report["n_individuals"], "samples": report["n_samples"],
            "search_wall_s": round(wall, 1), "wrong": [(p["individual"], p["missing_person"]) for p in wrong],
            "at_threshold": at_thresholds(report, truth)}


def at_thresholds(report: dict, truth: dict[str, str]) -> dict[str, list[int]]:
    """[true, false] at other posterior thresholds: the individuals whose best pairing would be proposed
    there (nothing but its posterior stops it: LR >= the minimum, no conflict, resolved)."""
    best = []
    for ind in report["individuals"]:
        if ind["candidates"] and not [r for r in ind["reasons"] if not r.startswith("posterior ")]:
            c = ind["candidates"][0]
            best.append((c["posterior"], {truth[s] for s in ind["samples"]} == {c["missing_person"]}))
    return {f"{t:g}": [sum(ok for p, ok in best if p >= t), sum(not ok for p, ok in best if p >= t)]
            for t in sorted({*THRESHOLDS, DecisionOptions().min_posterior})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=["1:300", "5:300"], help="SEED:SIZE")
    ap.add_argument("--min-true", nargs="*", default=[], help="SEED:SIZE=N: at least N true identifications")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = ap.parse_args()
    need = {k: int(v) for k, v in (x.split("=") for x in args.min_true)}
    base = args.keep or Path(tempfile.mkdtemp(prefix="dogtag-scenario-search-"))
    rows = []
    for spec in args.scenarios:
        seed, size = (int(x) for x in spec.split(":"))
        folder = base / f"seed{seed}_size{size}"
        if folder.exists():
            for p in folder.glob("registry.sqlite*"):
                p.unlink()
        row = run_one(folder, seed, size)
        rows.append(row)
        print(f"seed {seed}, {size} missing: {row['true']} true, {row['false']} false "
              f"({row['individuals']} individuals, search {row['search_wall_s']} s)", flush=True)
    for row in rows:
        assert row["false"] == 0, f"false identifications: {row}"
        want = need.get(f"{row['seed']}:{row['size']}")
        assert want is None or int(str(row["true"])) >= want, f"fewer true identifications than {want}: {row}"
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
