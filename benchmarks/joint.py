"""Benchmark: joint identification of a synthetic 1,000-sample closed incident.

Synthetic pairwise table (no genotypes needed: joint identification starts from
the blind search's LR matrix): ``n`` pm samples, ``n`` single-missing families;
sample ``i`` is missing person ``i`` (true pairing, log10 LR ~ N(8, 3)), and has
on average ``false_rate`` other non-excluded candidates (log10 LR ~ N(-2, 2));
every other pair is excluded (LR 0). Closed incident: every sample is one of the
missing. The same case is also solved as an open incident (flat prior), and
planecrash from the golden files when they are present.

Run: ``python benchmarks/joint.py [n] [false_rate] [seed]``. The last line printed
is one JSON object with the timings (seconds) and the accuracy of the top
assignment.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from dogtag.identify.joint import JointProblem, Prior, solve_joint


def synthetic(n: int, false_rate: float, seed: int) -> JointProblem:
    rng = np.random.default_rng(seed)
    log10 = np.full((n, n), -np.inf)
    log10[np.arange(n), np.arange(n)] = rng.normal(8.0, 3.0, n)
    n_false = rng.poisson(false_rate * n)
    rows = rng.integers(0, n, n_false)
    cols = rng.integers(0, n, n_false)
    off = rows != cols
    log10[rows[off], cols[off]] = rng.normal(-2.0, 2.0, int(off.sum()))
    samples = [f"V{i + 1}" for i in range(n)]
    missing = [f"M{i + 1}" for i in range(n)]
    families = [f"F{i + 1}" for i in range(n)]
    return JointProblem(tuple(samples), tuple(missing), tuple(families), log10 * math.log(10),
                        {f: -40.0 for f in families}, np.full(n, -45.0))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    prob = synthetic(n, rate, seed)
    out: dict[str, object] = {"benchmark": "joint", "n_samples": n, "n_missing": n,
                              "false_candidates_per_sample": rate, "seed": seed}
    for name, prior in (("closed", Prior.closed(n, n)), ("open", Prior.flat())):
        t = time.perf_counter()
        res = solve_joint(prob, prior=prior, top=10)
        dt = time.perf_counter() - t
        best = res.assignments[0].pairs
        correct = sum(1 for s, m in best.items() if m != "*" and s[1:] == m[1:])
        sizes = [len(c.samples) for c in res.components]
        out[name] = {
            "seconds": round(dt, 3),
            "method": res.method,
            "components": len(res.components),
            "largest_component_samples": max(sizes),
            "component_methods": sorted({c.method for c in res.components}),
            "log10_n_assignments": None if res.n_assignments is None
            else round(math.log10(res.n_assignments), 2),
            "top_assignment_correct_pairs": correct,
        }
        print(f"{name}: {dt:.2f} s, method {res.method}, {len(res.components)} components, "
              f"largest {max(sizes)} samples, top assignment {correct}/{n} true pairs")
    golden = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden" / "dvi"
    r = json.loads((golden / "planecrash.results.json").read_text())
    case = json.loads((golden / "planecrash.json").read_text())
    fam_of = {m: f["family"] for f in case["am"] for m in f["missing"]}
    p = r["pairwise"]
    pc = JointProblem.from_lr(p["victims"], p["missing"], [fam_of[m] for m in p["missing"]],
                              p["LR"], {x["family"]: x["loglik"] for x in r["familyLoglik"]},
                              [x["loglik"] for x in r["victimLoglik"]])
    t = time.perf_counter()
    res = solve_joint(pc)
    out["planecrash"] = {"seconds": round(time.perf_counter() - t, 4),
                         "n_assignments": res.n_assignments, "dvir_seconds": 442.4}
    print(f"planecrash: {out['planecrash']}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
