"""Benchmark: osteometric pair matching on reference individuals held out of the reference.

On the shipped DPAA male reference (632 individuals):

1. leave-one-out (``loo``): every individual with a left and a right element is tested alone,
   his own pair against the reference of all the others; per element, the true pairs kept (not
   excluded) at alpha with a 95 % Clopper-Pearson interval, split into pairs compared on all
   the element's measurements (``complete``: as many as any pair has) and on a subset
   (``partial``); the calibration at every level (a Kolmogorov-Smirnov test that the true
   pairs' p-values are uniform; at alpha 0.01, 0.05, 0.1, 0.2 the pairs excluded, the number
   expected and the binomial probability of excluding at least as many); the kept rate pooled
   over every paired element of the reference; and whether the reference of a pair measured on
   a subset S (everyone measured on all of S) is spread like the individuals measured on S
   only (``reference_patterns``: standard-deviation ratios and F-tests per pattern);
2. k folds (``elements``): the individuals are dealt into k folds by id order, each fold sorted
   as an inventory against the others: true pairs kept and false pairs excluded per element
   (and pooled over every paired element unless ``--no-pooled``);
3. one whole sort (MNI, pairs, articulations, regressions, groups) of a fold of complete
   individuals, timed.

Correctness is checked in the same run: every kept rate's interval holds 1 - alpha, the
leave-one-out p-values of true pairs pass the uniformity test (KS p > 0.01), at least half the
false pairs are excluded, and MNI equals the number of complete individuals. Whether
each kept rate is at least 1 - alpha is reported (``kept_at_least``), not asserted: a
calibrated test falls below it about half the time.

Usage: python benchmarks/osteology.py [--alpha 0.1] [--folds 5] [--elements humerus femur]
       [--absolute] [--yeo-johnson] [--log] [--no-pooled]
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

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dogtag.osteology.commingle import sort_inventory
from dogtag.osteology.inventory import default_reference
from dogtag.osteology.mni import mni
from dogtag.osteology.sorting import SortOptions, element_codes, reference_pairs
from dogtag.osteology.validation import (
    PairRates,
    hold_out,
    leave_one_out_p,
    pair_rates,
    paired_elements,
)


def loo_figures(ref, element: str, options: SortOptions) -> tuple[dict[str, object], PairRates]:
    """Leave-one-out kept rates of one element: all pairs, complete and partial ones."""
    _, p, used = leave_one_out_p(ref, element, options=options)
    full = used == used.max() if len(used) else used.astype(bool)
    out: dict[str, object] = {}
    rates = {}
    for name, pick in (("all", np.ones(len(p), bool)), ("complete", full), ("partial", ~full)):
        tested = p[pick & ~np.isnan(p)]
        rates[name] = PairRates(element, len(tested), int((tested > options.alpha).sum()), 0, 0,
                                int(np.isnan(p[pick]).sum()))
        d = rates[name].to_dict()
        out[name] = {k: d[k] for k in ("true_pairs", "true_kept", "kept_rate", "kept_ci95",
                                       "untested")}
    # calibration at every level: a calibrated test's p-values of true pairs are uniform
    tested = p[~np.isnan(p)]
    if not len(tested):
        return out, rates["all"]
    out["ks_uniform_p"] = round(float(stats.kstest(tested, "uniform").pvalue), 4)
    out["excluded_at"] = {
        str(a): {"excluded": int((tested <= a).sum()), "expected": round(a * len(tested), 1),
                 "p_at_least": round(float(stats.binom.sf((tested <= a).sum() - 1,
                                                          len(tested), a)), 4)}
        for a in (0.01, 0.05, 0.1, 0.2)}
    return out, rates["all"]


def pattern_check(ref, element: str, min_n: int = 15) -> list[tuple[str, float, float]]:
    """Does a reference measured on a superset stand in for individuals measured on a subset?

    For each measurement pattern S of the element (some but not all of its measurements, both
    sides) held by ``min_n`` or more individuals, with ``min_n`` or more measured on a strict
    superset of S: the ratio of the standard deviations of D over S (those measured exactly on
    S / those on a superset) and the two-sided F-test p-value of equal variances.
    """
    codes = element_codes(ref, ref, element)
    x, y = reference_pairs(ref, element, "left", element, "right", codes, codes)
    both = ~np.isnan(x) & ~np.isnan(y)
    diff = np.where(both, x - y, 0.0)
    out = []
    patterns, counts = np.unique(both, axis=0, return_counts=True)
    for m, c in zip(patterns, counts, strict=True):
        if c < min_n or m.all() or not m.any():
            continue
        exact = (both == m).all(axis=1)
        sup = both[:, m].all(axis=1) & ~exact
        if sup.sum() < min_n:
            continue
        de, ds = diff[exact][:, m].sum(axis=1), diff[sup][:, m].sum(axis=1)
        f = de.var(ddof=1) / ds.var(ddof=1)
        dfs = (len(de) - 1, len(ds) - 1)
        p = 2 * min(stats.f.sf(f, *dfs), stats.f.cdf(f, *dfs))
        out.append(("".join("1" if v else "0" for v in m), float(np.sqrt(f)), float(p)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--elements", nargs="+", default=["humerus", "femur"])
    ap.add_argument("--absolute", action="store_true", help="Absolute D-values (upper tail).")
    ap.add_argument("--yeo-johnson", action="store_true", help="Yeo-Johnson transformed D.")
    ap.add_argument("--log", action="store_true", help="D on natural logs: sum ln(left/right).")
    ap.add_argument("--no-pooled", dest="pooled", action="store_false",
                    help="Skip the figure pooled over every paired element.")
    args = ap.parse_args()
    ref = default_reference()
    options = SortOptions(alpha=args.alpha, absolute=args.absolute, yeo_johnson=args.yeo_johnson,
                          log=args.log)
    figures: dict[str, object] = {"alpha": args.alpha, "folds": args.folds,
                                  "absolute": args.absolute, "yeo_johnson": args.yeo_johnson,
                                  "log": args.log, "load": os.getloadavg()[0], "loo": {},
                                  "elements": {}}
    ok = True
    target = 1 - args.alpha
    w, c = time.perf_counter(), time.process_time()
    loo_all = []
    for element in paired_elements(ref):
        d, r = loo_figures(ref, element, options)
        loo_all.append(r)
        if element not in args.elements:
            continue
        lo, hi = r.kept_interval()
        d["kept_consistent_with_alpha"] = lo <= target <= hi
        d["kept_at_least"] = r.kept_rate >= target
        ok &= d["kept_consistent_with_alpha"] and d.get("ks_uniform_p", 0) > 0.01  # type: ignore[operator]
        figures["loo"][element] = d  # type: ignore[index]
        print(f"leave-one-out {element}: true pairs kept {r.true_kept}/{r.true_pairs} = "
              f"{r.kept_rate:.3f} (95% CI {lo:.3f}-{hi:.3f}); complete "
              f"{d['complete']['true_kept']}/{d['complete']['true_pairs']}, partial "  # type: ignore[index]
              f"{d['partial']['true_kept']}/{d['partial']['true_pairs']}")  # type: ignore[index]
    pooled = reduce(operator.add, (r for r in loo_all if r.true_pairs))
    lo, hi = pooled.kept_interval()
    figures["loo"]["pooled"] = {  # type: ignore[index]
        "elements": sum(1 for r in loo_all if r.true_pairs), "true_pairs": pooled.true_pairs,
        "true_kept": pooled.true_kept, "kept_rate": round(pooled.kept_rate, 4),
        "kept_ci95": [round(lo, 4), round(hi, 4)],
        "per_element_kept": {r.element: [r.true_kept, r.true_pairs] for r in loo_all
                             if r.true_pairs},
        "kept_consistent_with_alpha": lo <= target <= hi,
        "kept_at_least": pooled.kept_rate >= target,
        "wall_s": round(time.perf_counter() - w, 2), "cpu_s": round(time.process_time() - c, 2)}
    ok &= lo <= target <= hi
    checks = [chk for e in paired_elements(ref) for chk in pattern_check(ref, e)]
    ratios = np.array([r for _, r, _ in checks])
    figures["reference_patterns"] = {
        "patterns": len(checks), "sd_ratio_median": round(float(np.median(ratios)), 3),
        "sd_ratio_range": [round(float(ratios.min()), 2), round(float(ratios.max()), 2)],
        "f_test_p_below_0.05": sum(p < 0.05 for *_, p in checks),
        "expected_below_0.05": round(0.05 * len(checks), 1)}
    print(f"leave-one-out pooled over {figures['loo']['pooled']['elements']} paired elements: "  # type: ignore[index]
          f"true pairs kept {pooled.true_kept}/{pooled.true_pairs} = {pooled.kept_rate:.3f} "
          f"(95% CI {lo:.3f}-{hi:.3f})")
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
        d["kept_consistent_with_alpha"] = lo <= target <= hi
        d["kept_at_least"] = pooled.kept_rate >= target
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
        d["kept_consistent_with_alpha"] = lo <= target <= hi
        d["kept_at_least"] = r.kept_rate >= target
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
