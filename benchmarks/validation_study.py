"""Benchmark: the validation study (``dogtag validate``) at its default size, timed and checked.

Runs :func:`dogtag.validation.study.run_study` (every departure scenario and all together; the
threshold chosen on the tuning seeds, figures on the report seeds) and measures its wall time and
CPU time (this process and its worker processes). Checked in the same run: at the default
threshold, no false identification in any scenario; every scenario's proposals are counted once
(true + false = proposals); the study finished within ``--limit`` seconds of wall time.

The last line printed is one JSON object: the settings, wall and CPU seconds, the machine's load,
and per scenario true, false, the false rate's 95% upper bound and sensitivity.

Usage: python benchmarks/validation_study.py [--missing 800] [--tune-seeds 1] [--report-seeds 2,3,4]
       [--workers 2] [--scenario NAME ...] [--limit 600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dogtag.validation.study import SCENARIOS, StudySettings, run_study  # noqa: E402


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missing", type=int, default=StudySettings.n_missing)
    ap.add_argument("--tune-seeds", default=",".join(map(str, StudySettings.tune_seeds)))
    ap.add_argument("--report-seeds", default=",".join(map(str, StudySettings.report_seeds)))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", action="append", default=[])
    ap.add_argument("--limit", type=float, default=600.0, help="wall seconds the study must finish in")
    ap.add_argument("--keep", type=Path, help="keep the scenarios and registries here")
    args = ap.parse_args()
    settings = StudySettings(scenarios=tuple(args.scenario) or (*SCENARIOS, "all"),
                             tune_seeds=tuple(int(x) for x in args.tune_seeds.split(",")),
                             report_seeds=tuple(int(x) for x in args.report_seeds.split(",")),
                             n_missing=args.missing, workers=args.workers)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu()
    res = run_study(settings, folder=args.keep,
                    progress=lambda d, t, w: print(f"  {d}/{t} {w}", file=sys.stderr, flush=True))
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = {}
    for name, s in res["scenarios"].items():
        rows[name] = {k: s[k] for k in ("true", "false", "false_rate_upper_95", "sensitivity", "on_list",
                                         "conflicts", "unconverged")}
        print(f"{name:<18} true {s['true']:>4}  false {s['false']:>3}  upper 95% {s['false_rate_upper_95']:.3f}  "
              f"sensitivity {s['sensitivity']}", flush=True)
    for name, s in res["scenarios"].items():
        assert s["false"] == 0, f"{name}: false identifications at the default threshold: {s['false_proposals']}"
        assert s["false"] == len(s["false_proposals"]), name
        assert not s["failed"], f"{name}: cases that could not be run: {s['failed']}"
    assert wall <= args.limit, f"the study took {wall:.0f} s, over {args.limit:.0f} s"
    print(json.dumps({"settings": res["settings"], "chosen_threshold": res["chosen_threshold"],
                      "default_threshold": res["default_threshold"], "wall_s": round(wall, 1),
                      "cpu_s": round(cpu, 1), "load_1min_at_start": round(load, 1),
                      "load_1min_at_end": round(os.getloadavg()[0], 1), "scenarios": rows}))


if __name__ == "__main__":
    main()
