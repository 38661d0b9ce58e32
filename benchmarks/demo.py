"""Benchmark: `dogtag demo --no-serve` end to end (simulate, import, identify, store, calibrate).

Runs the real command as a subprocess (Python start-up included) on a fresh SQLite file, with the
default scenario (7,500 missing persons, seed 1) unless told otherwise, and reports the wall time
of the whole command and of each step (from the command's --json summary). The goal (issue 7) is
10 minutes or less on 2 cores; pin the cores with `taskset -c 0,1` to measure that.

Usage: python benchmarks/demo.py [--missing 7500] [--seed 1] [--keep DIR]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missing", type=int, default=7500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="Keep the database and scenario in this folder.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "demo.sqlite"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        cmd = [sys.executable, "-m", "dogtag", "demo", "--no-serve", "--json", "--force", "--db", str(db),
               "--folder", str(folder / "scenario"), "--missing", str(args.missing), "--seed", str(args.seed)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            sys.exit(proc.returncode)
        summary = json.loads(proc.stdout)
    figures = {
        "benchmark": "demo", "missing_persons": summary["missing_persons"], "samples": summary["samples"],
        "individuals": summary["individuals"], "proposed": summary["proposed_identifications"],
        "true": summary["calibration"]["true"], "false": summary["calibration"]["false"],
        "wall_s": round(wall, 1), "steps_s": summary["timings_s"], "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    print(f"demo: {figures['missing_persons']} missing, {figures['samples']} samples -> {figures['proposed']} "
          f"proposals ({figures['false']} false) in {wall:.0f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
