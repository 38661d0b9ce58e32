"""Benchmark: osteometric pair matching on reference individuals held out of the reference.

The shipped DPAA male reference (632 individuals) is dealt into k folds by id order; each fold
is sorted as an inventory against the other folds. Per element: the true left-right pairs
kept (not excluded) at alpha, with a 95 % Clopper-Pearson interval, and the false pairs
excluded; the same pooled over every paired element of the reference (``--pooled``, the
calibration over thousands of held-out pairs); then one whole sort (MNI, pairs, articulations,
regressions, groups) of a fold of complete individuals, timed. Correctness is checked in the
same run: the kept rate's interval holds 1 - alpha (per element and pooled), at least half
the false pairs are excluded, and MNI equals the number of complete individuals.

Usage: python benchmarks/osteology.py [--alpha 0.1] [--folds 5] [--elements humerus femur]
       [--absolute] [--yeo-johnson] [--no-pooled]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import sys
import time
from functools import reduce
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dogtag.osteology.commingle import sort_inventory
from dogtag.osteology.inventory import default_reference
from dogtag.osteology.mni import mni
from dogtag.osteology.sorting import SortOptions
from dogtag.osteology.validation import hold_out, pair_rates, paired_elements


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--elements", nargs="+", default=["humerus", "femur"])
    ap.add_argument("--absolute", action="store_true", help="Absolute D-values (upper tail).")
    ap.add_argument("--yeo-johnson", action="store_true", help="Yeo-Johnson transformed D.")
    ap.add_argument("--no-pooled", dest="pooled", action="store_false",
                    help="Skip the figure pooled over every paired element.")
    args = ap.parse_args()
    ref = default_reference()
    options = SortOptions(alpha=args.alpha, absolute=args.absolute, yeo_johnson=args.yeo_johnson)
    figures: dict[str, object] = {"alpha": args.alpha, "folds": args.folds,
                                  "absolute": args.absolute, "yeo_johnson": args.yeo_johnson,
                                  "load": os.getloadavg()[0], "elements": {}}
    ok = True
    if args.pooled:
        w, c = time.perf_counter(), time.process_time()
        rates = [pair_rates(ref, e, k=args.folds, options=options) for e in paired_elements(ref)]
        pooled = reduce(operator.add, (r for r in rates if r.true_pairs))
        d = pooled.to_dict()
        d["element"] = f"{sum(1 for r in rates if r.true_pairs)} paired elements"
        d["per_element_kept"] = {r.element: [r.true_kept, r.true_pairs] for r in rates
                                 if r.true_pairs}
        d["wall_s"], d["cpu_s"] = round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)
        lo, hi = pooled.kept_interval()
        d["kept_consistent_with_alpha"] = lo <= 1 - args.alpha <= hi
        ok &= d["kept_consistent_with_alpha"]
        figures["pooled"] = d
        print(f"pooled over {d['element']}: true pairs kept {pooled.true_kept}/{pooled.true_pairs}"
              f" = {pooled.kept_rate:.3f} (95% CI {lo:.3f}-{hi:.3f}); false pairs excluded "
              f"{pooled.excluded_rate:.3f}")
    for element in args.elements:
        w, c = time.perf_counter(), time.process_time()
        r = pair_rates(ref, element, k=args.folds, options=options)
        d = r.to_dict()
        d["wall_s"], d["cpu_s"] = round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)
        lo, hi = r.kept_interval()
        elo, ehi = r.excluded_interval()
        d["kept_consistent_with_alpha"] = lo <= 1 - args.alpha <= hi
        d["half_false_excluded"] = r.excluded_rate >= 0.5
        ok &= d["kept_consistent_with_alpha"] and d["half_false_excluded"]
        figures["elements"][element] = d  # type: ignore[index]
        print(f"{element}: true pairs kept {r.true_kept}/{r.true_pairs} = {r.kept_rate:.3f} "
              f"(95% CI {lo:.3f}-{hi:.3f}); false pairs excluded {r.false_excluded}/"
              f"{r.false_pairs} = {r.excluded_rate:.3f} (95% CI {elo:.3f}-{ehi:.3f}); untested "
              f"{r.untested}")
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
