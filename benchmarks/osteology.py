"""Benchmark: osteometric pair matching on reference individuals held out of the reference.

The shipped DPAA male reference (632 individuals) is dealt into k folds by id order; each fold
is sorted as an inventory against the other folds. Per element: the true left-right pairs
kept (not excluded) at alpha, with a 95 % Clopper-Pearson interval, and the false pairs
excluded; then one whole sort (MNI, pairs, articulations, regressions, groups) of a fold of
complete individuals, timed. Correctness is checked in the same run: every true pair is a
candidate, the kept rate's interval holds 1 - alpha, at least half the false pairs are
excluded, and MNI equals the number of complete individuals.

Usage: python benchmarks/osteology.py [--alpha 0.1] [--folds 5] [--elements humerus femur]
       [--absolute]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dogtag.osteology.commingle import sort_inventory
from dogtag.osteology.inventory import default_reference
from dogtag.osteology.mni import mni
from dogtag.osteology.sorting import SortOptions
from dogtag.osteology.validation import hold_out, pair_rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--elements", nargs="+", default=["humerus", "femur"])
    ap.add_argument("--absolute", action="store_true", help="Absolute D-values (upper tail).")
    args = ap.parse_args()
    ref = default_reference()
    options = SortOptions(alpha=args.alpha, absolute=args.absolute)
    figures: dict[str, object] = {"alpha": args.alpha, "folds": args.folds,
                                  "absolute": args.absolute,
                                  "load": os.getloadavg()[0], "elements": {}}
    ok = True
    for element in args.elements:
        w, c = time.perf_counter(), time.process_time()
        r = pair_rates(ref, element, k=args.folds, options=options)
        d = r.to_dict()
        d["wall_s"], d["cpu_s"] = round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)
        lo, hi = r.kept_interval()
        d["kept_consistent_with_alpha"] = lo <= 1 - args.alpha <= hi
        d["half_false_excluded"] = r.excluded_rate >= 0.5
        ok &= d["kept_consistent_with_alpha"] and d["half_false_excluded"]
        figures["elements"][element] = d  # type: ignore[index]
        print(f"{element}: true pairs kept {r.true_kept}/{r.true_pairs} = {r.kept_rate:.3f} "
              f"(95% CI {lo:.3f}-{hi:.3f}); false pairs excluded {r.false_excluded}/"
              f"{r.false_pairs} = {r.excluded_rate:.3f}; untested {r.untested}")
    # one whole sort of complete individuals (both humeri, femora and tibiae)
    kinds = {(e, s) for e in ("humerus", "femur", "tibia") for s in ("left", "right")}
    have: dict[str, set[tuple[str, str]]] = {}
    for i, e, s in zip(ref.ids, ref.elements, ref.sides, strict=True):
        have.setdefault(i, set()).add((e, s))
    complete = sorted(i for i, k in have.items() if kinds <= k)[:: args.folds]
    inv, rest = hold_out(ref, set(complete))
    w, c = time.perf_counter(), time.process_time()
    res = sort_inventory(inv, rest, options=options)
    figures["sort"] = {"individuals": len(complete), "elements": len(inv), "mni": res.mni,
                       "mni_complete_kinds": mni(inv, [i for i, (e, s) in enumerate(
                           zip(inv.elements, inv.sides, strict=True)) if (e, s) in kinds]).mni,
                       "groups": len(res.groups), "conflicts": len(res.conflicts),
                       "wall_s": round(time.perf_counter() - w, 2),
                       "cpu_s": round(time.process_time() - c, 2)}
    ok &= figures["sort"]["mni_complete_kinds"] == len(complete)  # type: ignore[index]
    print(f"whole sort of {len(complete)} held-out individuals ({len(inv)} elements): "
          f"MNI {res.mni}, {len(res.groups)} groups, {figures['sort']['wall_s']} s")  # type: ignore[index]
    figures["ok"] = bool(ok)
    print(json.dumps(figures))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
