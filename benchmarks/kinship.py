"""Kinship likelihood speed: the pedigree engine against the R pedsuite's timings.

What it measures (wall time, one process, medians after warm-up):

1. ``threegen`` -- ``loglik(H1 pedigree, markers, genotypes)`` on the shipped
   example ``dogtag/data/examples/threegen.kinship.json``: 7 people over three
   generations (4 typed), 20 markers of 15 alleles, sex-specific stepwise
   mutation (female 0.001, male 0.002). The time of one whole call (encoding the
   genotype table included), the median of many calls, two ways: *warm* (the same
   pedigree object every call: what dogtag prepared for it is reused) and *cold* (a
   fresh pedigree object built from its rows every call, as R's ``likelihood()``
   starts from scratch each time). R (pedprobr 1.1.0) takes 7.5 ms for the same call
   (the project's TIMINGS.md, table i); **the speed-up against R is the cold one**;
   the goal is 50 times faster, 0.15 ms or less. The result is checked against the
   oracle's log-likelihood, -239.851968 (to 1e-6).
2. ``fifty`` -- a 50-person, four-generation family with a first-cousin marriage
   (a loop) and a marriage joining the two founding families, 25 typed members
   (none of the founders), 30 STR markers of 8-25 alleles from the shipped norSTR
   Norwegian database, sex-specific stepwise mutation (female 0.001, male 0.003,
   rate2 1e-6, range 0.1), genotypes simulated with a fixed seed. Goal: under 50 ms.
3. ``scale200`` -- ``blind_search`` of the synthetic DVI case scale200 (200 families,
   200 victims, 20 markers, stepwise mutation) of the golden data in
   ``tests/data/golden/synthetic``. dvir's
   ``pairwiseLR`` takes 165 s (TIMINGS.md, table iii); goal: 1 s or less.

Wall-clock medians (with the 10th and 90th percentiles) are the figures; the
median process CPU time per call is reported next to them, and so is the machine
load (1-minute load average, before and after), because other jobs on a shared
machine inflate wall times. Run::

    python benchmarks/kinship.py            # --quick for fewer repetitions

It prints a table and, as its last line, one JSON object with the figures (ms).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
try:
    import dogtag  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from dogtag.genetics.freqdb import load_database  # noqa: E402
from dogtag.genetics.likelihood import loglik  # noqa: E402
from dogtag.genetics.markers import Marker  # noqa: E402
from dogtag.genetics.pedigree import FEMALE, MALE, Pedigree  # noqa: E402
from dogtag.genetics.simulate import simulate_profiles  # noqa: E402
from dogtag.io.pedsuite_json import read_dvi_json, read_kinship_json  # noqa: E402

R_THREEGEN_MS = 7.5        # pedprobr likelihood(H1), TIMINGS.md table (i)
R_THREEGEN_LOGLIK = -239.851968  # its value (TIMINGS.md, table i)
DVIR_SCALE200_S = 165.3    # dvir pairwiseLR on scale200, TIMINGS.md table (iii)
GOALS_MS = {"threegen": 0.15, "fifty": 50.0, "scale200": 1000.0}
GOLDEN = ROOT / "tests" / "data" / "golden"


def timed(fn: Callable[[], object], repeat: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and process CPU times of ``repeat`` calls (ms) after ``warmup`` untimed ones.

    On a loaded machine the wall time includes waiting for a core; the CPU time does not.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return wall, cpu


def threegen_case():
    src = resources.files("dogtag").joinpath("data", "examples", "threegen.kinship.json")
    with resources.as_file(src) as path:
        return read_kinship_json(path)


def fifty_person_case(seed: int = 1) -> tuple[Pedigree, list[Marker], dict]:
    """The 50-person looped family of the module docstring, with simulated genotypes."""
    M, F = MALE, FEMALE
    rows = [
        ("GF1", None, None, M), ("GM1", None, None, F), ("GF2", None, None, M), ("GM2", None, None, F),
        ("A1", "GF1", "GM1", M), ("A2", "GF1", "GM1", F), ("A3", "GF1", "GM1", M),
        ("B1", "GF2", "GM2", F), ("B2", "GF2", "GM2", M), ("B3", "GF2", "GM2", F),
        ("SA1", None, None, F), ("SA2", None, None, M), ("SB2", None, None, F), ("SB3", None, None, M),
        ("C1", "A1", "SA1", M), ("C2", "A1", "SA1", F), ("C3", "A1", "SA1", M),
        ("D1", "SA2", "A2", F), ("D2", "SA2", "A2", M), ("D3", "SA2", "A2", F),
        ("E1", "A3", "B1", M), ("E2", "A3", "B1", F), ("E3", "A3", "B1", M),
        ("F1", "B2", "SB2", F), ("F2", "B2", "SB2", M),
        ("G1", "SB3", "B3", M), ("G2", "SB3", "B3", F),
        ("SC3", None, None, F), ("SD2", None, None, F), ("SE1", None, None, F),
        ("SF2", None, None, F), ("SG1", None, None, F), ("SE2", None, None, M),
        # C1 x D1: first cousins (through GF1 x GM1)
        ("H1", "C1", "D1", M), ("H2", "C1", "D1", F), ("H3", "C1", "D1", M),
        ("I1", "C3", "SC3", M), ("I2", "C3", "SC3", F),
        ("J1", "D2", "SD2", M), ("J2", "D2", "SD2", F),
        ("K1", "E1", "SE1", M), ("K2", "E1", "SE1", F), ("K3", "E1", "SE1", M),
        ("L1", "F2", "SF2", M), ("L2", "F2", "SF2", F),
        ("N1", "G1", "SG1", M), ("N2", "G1", "SG1", F),
        ("O1", "SE2", "E2", M), ("O2", "SE2", "E2", F), ("O3", "SE2", "E2", M),
    ]
    ped = Pedigree.from_table(*zip(*rows, strict=True))  # type: ignore[arg-type]
    typed = ["A2", "B2", "B3", "SA1", "SD2", "C2", "C3", "D1", "D3", "E2", "E3", "F1", "G1",
             "G2", "H1", "H2", "H3", "I1", "J1", "J2", "K1", "K3", "L1", "N1", "N2"]
    db = load_database("norstr-Norsk")
    names = [m for m in db.marker_names if 8 <= len(db.locus(m).alleles) <= 25][:30]
    markers = db.markers(
        names,
        mutation={"model": "stepwise", "rate": 0.001, "rate2": 1e-6, "range": 0.1},
        male_mutation={"model": "stepwise", "rate": 0.003, "rate2": 1e-6, "range": 0.1},
    )
    sim = simulate_profiles(ped, markers, members=list(ped.ids), seed=seed)[0]
    return ped, markers, {k: sim[k] for k in typed}


def summary(times: tuple[list[float], list[float]]) -> dict[str, float]:
    wall, cpu = times
    q = np.percentile(wall, [10, 50, 90])
    return {"median_ms": round(float(q[1]), 4), "p10_ms": round(float(q[0]), 4),
            "p90_ms": round(float(q[2]), 4), "cpu_median_ms": round(float(np.median(cpu)), 4),
            "runs": len(wall)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    reps = (300, 10, 2) if args.quick else (3000, 40, 5)
    load_before = os.getloadavg()[0]
    figures: dict[str, object] = {"cpus": os.cpu_count()}

    case = threegen_case()
    h1 = case.hypotheses[0].pedigree
    ll = loglik(h1, case.markers, case.genotypes)
    if abs(float(ll.sum()) - R_THREEGEN_LOGLIK) > 1e-6:
        raise SystemExit(f"threegen: loglik {float(ll.sum())} != the reference {R_THREEGEN_LOGLIK}")
    rows = h1.as_rows()

    def cold() -> object:
        return loglik(Pedigree.from_table(*zip(*rows, strict=True)), case.markers, case.genotypes)  # type: ignore[arg-type]

    t = summary(timed(lambda: loglik(h1, case.markers, case.genotypes), reps[0], 100))
    c = summary(timed(cold, reps[0] // 3, 10))
    t.update(goal_ms=GOALS_MS["threegen"], r_ms=R_THREEGEN_MS, compared_with_r="cold",
             cold=c, speedup_vs_r=round(R_THREEGEN_MS / c["median_ms"], 1),
             warm_speedup_vs_r=round(R_THREEGEN_MS / t["median_ms"], 1),
             loglik=round(float(ll.sum()), 6), reference_loglik=R_THREEGEN_LOGLIK, checked=True)
    figures["threegen"] = t

    ped, markers, geno = fifty_person_case()
    ll = loglik(ped, markers, geno)
    t = summary(timed(lambda: loglik(ped, markers, geno), reps[1], 3))
    t.update(goal_ms=GOALS_MS["fifty"], members=len(ped), typed=len(geno), markers=len(markers),
             alleles=[m.n_alleles for m in markers], loglik=round(float(ll.sum()), 6))
    figures["fifty"] = t

    path = GOLDEN / "synthetic" / "scale200.json"
    if path.is_file():
        from dogtag.identify.search import blind_search

        dvi = read_dvi_json(path)
        t = summary(timed(lambda: blind_search(dvi), reps[2], 1))
        t.update(goal_ms=GOALS_MS["scale200"], dvir_ms=DVIR_SCALE200_S * 1e3,
                 speedup_vs_dvir=round(DVIR_SCALE200_S * 1e3 / t["median_ms"], 1),
                 families=len(dvi.am), victims=len(dvi.pm))
        figures["scale200"] = t
    else:
        figures["scale200"] = None
    figures["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]

    print(f"{'case':<14} {'median ms':>10} {'p10':>9} {'p90':>9} {'cpu ms':>9} {'goal ms':>8}  reference")
    three = figures["threegen"]
    assert isinstance(three, dict)
    rows: list[tuple[str, object, str]] = [
        ("threegen warm", three, f"R {R_THREEGEN_MS} ms ({three['warm_speedup_vs_r']}x; same pedigree object)"),
        ("threegen cold", three["cold"],
         f"R {R_THREEGEN_MS} ms ({three['speedup_vs_r']}x; fresh pedigree: compared with R)"),
        ("fifty", figures["fifty"], ""),
    ]
    sc = figures["scale200"]
    rows.append(("scale200", sc, f"dvir {DVIR_SCALE200_S} s ({sc['speedup_vs_dvir']}x)" if isinstance(sc, dict) else ""))
    for name, f, ref in rows:
        if not isinstance(f, dict):
            print(f"{name:<14} {'(scale200.json not found)':>40}")
            continue
        goal = GOALS_MS["threegen" if name.startswith("threegen") else name]
        print(f"{name:<14} {f['median_ms']:>10.4f} {f['p10_ms']:>9.4f} {f['p90_ms']:>9.4f} "
              f"{f['cpu_median_ms']:>9.4f} {goal:>8g}  {ref}")
    print(f"load average (1 min) before/after: {figures['load_1min']} on {figures['cpus']} CPUs")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
