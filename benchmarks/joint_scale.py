"""Benchmark: the joint step alone on a large synthetic open LR matrix (no generator, no search).

Measures :func:`dogtag.identify.joint.solve_joint` (open prior, ``p_listed = 0.5``) on an
n x 1.08 n matrix of pairwise log LRs: unrelated pairs with log10 LR ~ N(-10, 2.5), and half the
samples (at random) the remains of a distinct missing person with log10 LR ~ N(15, 5) to him.
One family per missing person, so the component is additive and, above 5 million pairs, bounded
at once (:mod:`dogtag.identify.bounds`). Reported: CPU and wall seconds of the joint step, peak
memory, the method, and, checked against the synthetic truth in the same run, the pairings with a
proven posterior lower bound >= 0.99 (right and wrong) and the most probable assignment.
It says how the joint step scales (n = 10,000: 10^8 pairs), not how real incidents behave
(``benchmarks/joint.py`` does that with the project's generator and blind search).

Run: ``python benchmarks/joint_scale.py [--n 10000]``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dogtag.identify.joint import JointProblem, Prior, solve_joint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="samples (missing persons: 1.08 n)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = args.n
    m = int(n * 1.08)
    rng = np.random.default_rng(args.seed)
    llr = rng.normal(-10.0, 2.5, size=(n, m)) * np.log(10)
    truth = np.full(n, -1)
    listed = rng.choice(n, n // 2, replace=False)
    truth[listed] = rng.choice(m, n // 2, replace=False)
    llr[listed, truth[listed]] = rng.normal(15.0, 5.0, n // 2) * np.log(10)
    fam = tuple(f"F{j}" for j in range(m))
    prob = JointProblem(tuple(f"s{i}" for i in range(n)), tuple(f"m{j}" for j in range(m)), fam, llr,
                        dict.fromkeys(fam, 0.0), np.zeros(n))
    load = os.getloadavg()[0]
    c0, w0 = time.process_time(), time.perf_counter()
    res = solve_joint(prob, prior=Prior.open(n, m, 0.5), top=1, time_limit=900)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    post = res.posterior
    j = np.argmax(post[:, :-1], axis=1)
    claim = post[np.arange(n), j] >= 0.99
    best = res.assignments[0].pairs
    map_right = sum(1 for i in range(n) if best[f"s{i}"] == ("*" if truth[i] < 0 else f"m{truth[i]}"))
    out = {"benchmark": "joint_scale", "n": n, "missing": m, "seed": args.seed, "method": res.method,
           "joint_cpu_s": round(cpu, 1), "joint_wall_s": round(wall, 1),
           "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
           "unresolved": len(res.unresolved), "listed": n // 2,
           "lower_ge_0.99_right": int((claim & (j == truth)).sum()),
           "lower_ge_0.99_wrong": int((claim & (j != truth)).sum()),
           "map_right_fraction": round(map_right / n, 5), "load_before": load, "load_after": os.getloadavg()[0]}
    out["pass"] = out["lower_ge_0.99_wrong"] == 0 and not res.unresolved
    print(json.dumps(out))


if __name__ == "__main__":
    main()
