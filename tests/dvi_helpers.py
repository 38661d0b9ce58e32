"""Test helpers: joint problems from dvir's golden results, a brute-force pedigree likelihood.

The golden files are dvir 3.4.1 outputs (tests/data/golden/dvi, see tests/data/golden/SCHEMA.md).
"""

from __future__ import annotations

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
    """log-likelihood of one family by summing over the untyped members' genotypes (no mutation).

    ``genotypes[member][marker]`` = two allele labels. Alleles seen in nobody are
    lumped into one (exact without mutation). Exponential in the number of untyped
    members: for the small test pedigrees only.
    """
    ped = fam["pedigree"]
    ids = [r["id"] for r in ped]
    total = 0.0
    for mk in markers:
        if mk.get("mutation") is not None:
            raise ValueError("brute force handles no mutation")
        obs = {m: genotypes[m][mk["name"]] for m in ids if mk["name"] in genotypes.get(m, {})}
        seen = sorted({mk["alleles"].index(a) for g in obs.values() for a in g})
        freqs = np.asarray(mk["freqs"], dtype=float)
        p = np.append(freqs[seen], max(0.0, 1.0 - freqs[seen].sum()))
        n = len(p)
        gts = [(i, j) for i in range(n) for j in range(i, n)]
        gidx = {g: k for k, g in enumerate(gts)}
        hw = np.array([p[i] * p[j] * (1 if i == j else 2) for i, j in gts])
        trans = np.zeros((len(gts),) * 3)
        for a, gf in enumerate(gts):
            for b, gm in enumerate(gts):
                for x in gf:
                    for y in gm:
                        trans[a, b, gidx[tuple(sorted((x, y)))]] += 0.25
        fixed = {m: gidx[tuple(sorted(seen.index(mk["alleles"].index(a)) for a in g))]
                 for m, g in obs.items()}
        untyped = [m for m in ids if m not in fixed]
        n_rows = len(gts) ** len(untyped)
        if n_rows > 5_000_000:
            raise ValueError("too many untyped members for brute force")
        grid = np.indices((len(gts),) * len(untyped)).reshape(len(untyped), -1) if untyped \
            else np.zeros((0, 1), dtype=int)
        cols = {m: np.full(grid.shape[1], fixed[m]) if m in fixed else grid[untyped.index(m)]
                for m in ids}
        prob = np.ones(grid.shape[1])
        for r in ped:
            g = cols[r["id"]]
            if r["fid"] is None:
                prob *= hw[g]
            else:
                prob *= trans[cols[r["fid"]], cols[r["mid"]], g]
        lik = float(prob.sum())
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


def full_sibling_pairs(case: dict) -> list[tuple[str, str]]:
    """Pairs of missing persons of one family with the same father and mother."""
    out = []
    for f in case["am"]:
        ped = {r["id"]: r for r in f["pedigree"]}
        ms = f["missing"]
        for k, a in enumerate(ms):
            for b in ms[k + 1:]:
                pa, pb = ped[a], ped[b]
                if pa["fid"] and pa["fid"] == pb["fid"] and pa["mid"] == pb["mid"]:
                    out.append((a, b))
    return out
