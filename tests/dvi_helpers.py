"""Test helpers: joint problems from dvir's golden results, a brute-force pedigree likelihood.

The golden files are dvir 3.4.1 outputs (../shared/golden/dvi, see its SCHEMA.md).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dogtag.identify.joint import JointProblem

from conftest import GOLDEN

GOLDEN_DVI = GOLDEN / "dvi"


def load(name: str) -> tuple[dict, dict]:
    case = json.loads(Path(GOLDEN_DVI, f"{name}.json").read_text())
    res = json.loads(Path(GOLDEN_DVI, f"{name}.results.json").read_text())
    return case, res


def problem_from_golden(name: str, *, brute_force: bool = False) -> tuple[JointProblem, dict, dict]:
    """The joint problem of a golden case from its pairwise LRs and log-likelihoods.

    With ``brute_force``, families with several missing persons get a joint family
    likelihood from :func:`brute_family_loglik` (small cases only).
    """
    case, res = load(name)
    fam_of = {m: f["family"] for f in case["am"] for m in f["missing"]}
    p = res["pairwise"]
    callback = None
    if brute_force:
        callback = make_family_loglik(case)
    prob = JointProblem.from_lr(
        p["victims"], p["missing"], [fam_of[m] for m in p["missing"]], p["LR"],
        {r["family"]: r["loglik"] for r in res["familyLoglik"]},
        [r["loglik"] for r in res["victimLoglik"]], callback,
    )
    return prob, case, res


def brute_family_loglik(fam: dict, markers: list[dict], genotypes: Mapping[str, Mapping[str, list[str]]]) -> float:
    """log-likelihood of one family by summing over every member's genotype (no mutation).

    ``genotypes[member][marker]`` = two allele labels. Exponential in the number of
    members: for the tiny test pedigrees only.
    """
    ped = fam["pedigree"]
    ids = [r["id"] for r in ped]
    idx = {m: k for k, m in enumerate(ids)}
    total = 0.0
    for mk in markers:
        if mk.get("mutation") is not None:
            raise ValueError("brute force handles no mutation")
        alleles = mk["alleles"]
        p = np.asarray(mk["freqs"], dtype=float)
        n = len(alleles)
        gts = [(i, j) for i in range(n) for j in range(i, n)]
        lik = 0.0
        for combo in itertools.product(range(len(gts)), repeat=len(ids)):
            prob = 1.0
            for k, r in enumerate(ped):
                g = gts[combo[k]]
                obs = genotypes.get(r["id"], {}).get(mk["name"])
                if obs is not None:
                    o = sorted(alleles.index(a) for a in obs)
                    if tuple(o) != g:
                        prob = 0.0
                        break
                if r["fid"] is None:
                    prob *= p[g[0]] * p[g[1]] * (1 if g[0] == g[1] else 2)
                else:
                    gf, gm = gts[combo[idx[r["fid"]]]], gts[combo[idx[r["mid"]]]]
                    t = 0.0
                    for a in gf:
                        for b in gm:
                            if tuple(sorted((a, b))) == g:
                                t += 0.25
                    prob *= t
                if prob == 0.0:
                    break
            lik += prob
        total += math.log(lik) if lik > 0 else -math.inf
    return total


def make_family_loglik(case: dict):
    fams = {f["family"]: f for f in case["am"]}
    pm = {v["id"]: v["genotypes"] for v in case["pm"]}

    def family_loglik(fam: str, placements: Mapping[str, str]) -> float:
        f = fams[fam]
        gt = dict(f["genotypes"])
        for m, s in placements.items():
            gt[m] = pm[s]
        return brute_family_loglik(f, case["markers"], gt)

    return family_loglik
