"""Departures from the identification model in the scenario generator: they really happen.

Relatives are checked by the kinship coefficient estimated from their genotypes: for a random
allele of each of two people, P(identical in state) = phi + (1 - phi) * sum(p^2) under
Hardy-Weinberg with known frequencies p, so (M - S) / (1 - S) averaged over loci is an unbiased
estimate of phi (M: the share of the four allele pairs that match; S: sum of p^2). Expected phi:
1/4 full brothers, 1/8 half-brothers and uncles, 1/16 first cousins, 0 strangers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from dogtag.scenario import departures as dep
from dogtag.scenario import genetics as sg
from dogtag.scenario.generate import ScenarioParams, simulate_scenario

PANEL = sg.MarkerPanel.nist1036()
N = 4000


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def kinship(x: NDArray[np.int16], y: NDArray[np.int16], population: int = 0) -> float:
    """Mean moment estimate of the kinship coefficient of pairs (x[i], y[i]), see the module docstring."""
    est = []
    for j, m in enumerate(PANEL.markers):
        s2 = float((PANEL.freqs[m][population] ** 2).sum())
        match = np.mean([(x[:, j, a] == y[:, j, b]) for a in (0, 1) for b in (0, 1)], axis=0)
        est.append((match.mean() - s2) / (1 - s2))
    return float(np.mean(est))


@pytest.fixture(scope="module")
def family() -> tuple[NDArray[np.int16], NDArray[np.int16], NDArray[np.int16], NDArray[np.int64]]:
    rng = np.random.default_rng(5)
    pop = np.zeros(N, dtype=np.int64)
    fa, mo = sg.sample_founders(PANEL, pop, rng), sg.sample_founders(PANEL, pop, rng)
    return fa, mo, sg.mendelian_child(fa, mo, rng), pop


@pytest.mark.parametrize(("kind", "phi"), [("paternal half-brother", 1 / 8), ("maternal half-brother", 1 / 8),
                                           ("paternal uncle", 1 / 8), ("paternal first cousin", 1 / 16)])
def test_relatives_have_their_kinship(family, kind: str, phi: float) -> None:  # type: ignore[no-untyped-def]
    fa, mo, mp, pop = family
    rel = dep.relative_of(kind, fa, mo, PANEL, pop, np.random.default_rng(11))
    assert kinship(rel, mp) == pytest.approx(phi, abs=0.012)


def test_kinship_estimate_tells_brothers_from_strangers(family) -> None:  # type: ignore[no-untyped-def]
    fa, mo, mp, pop = family
    rng = np.random.default_rng(12)
    assert kinship(sg.mendelian_child(fa, mo, rng), mp) == pytest.approx(0.25, abs=0.012)
    assert kinship(sg.sample_founders(PANEL, pop, rng), mp) == pytest.approx(0.0, abs=0.01)
    # the uncle is the father's full brother; the father's child his niece or nephew
    uncle = dep.sibling_of_founder(fa, PANEL, pop, rng)
    assert kinship(uncle, fa) == pytest.approx(0.25, abs=0.012)
    assert kinship(dep.relative_of("paternal uncle", fa, mo, PANEL, pop, rng), mo) == pytest.approx(0.0, abs=0.01)


def test_str_mutation_moves_one_step_at_its_rate(family) -> None:  # type: ignore[no-untyped-def]
    _fa, _mo, mp, _pop = family
    out = dep.mutate_str(mp, 0.05, PANEL, np.random.default_rng(3))
    moved = out != mp
    assert moved.mean() == pytest.approx(0.05, abs=0.004)
    assert np.all(np.abs(out[moved].astype(int) - mp[moved].astype(int)) == 1)
    assert dep.mutate_str(mp, 0.0, PANEL, np.random.default_rng(3)) is mp


def test_drop_in_adds_an_allele_only_where_one_shows(family) -> None:  # type: ignore[no-untyped-def]
    _fa, _mo, mp, _pop = family
    rng = np.random.default_rng(4)
    obs = sg.degrade(mp, np.zeros(N), np.full(N, 0.4), rng)
    out = dep.drop_in(obs, 0.5, PANEL, rng)
    one = (obs[:, :, 0] >= 0) ^ (obs[:, :, 1] >= 0)
    changed = np.any(out != obs, axis=2)
    assert not np.any(changed & ~one)                       # two alleles or none: untouched
    assert changed[one].mean() == pytest.approx(0.5, abs=0.02)
    assert np.all((out[changed] >= 0).all(axis=1))          # the changed loci now show two alleles


def test_contamination_shows_the_contaminants_alleles(family) -> None:  # type: ignore[no-untyped-def]
    fa, _mo, mp, _pop = family
    out = dep.contaminate(mp, fa, np.random.default_rng(6))
    assert np.all(out[:, :, 0] == mp[:, :, 0])
    from_worker = (out[:, :, 1] == fa[:, :, 0]) | (out[:, :, 1] == fa[:, :, 1])
    assert from_worker.mean() > 0.5 + 0.5 * 0.2   # half the loci replaced, the rest match by chance


@pytest.fixture(scope="module")
def departed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("departed")
    simulate_scenario(folder, ScenarioParams(
        seed=3, n_missing=1500, n_relatives=40, p_nonpaternity=0.05, p_wrong_donor=0.05, p_swapped_reference=0.05,
        p_contaminated=0.1, p_far=0.5, p_merged_labels=1.0, unlisted_population="AfAm"))
    return folder


def test_scenario_records_each_departure_apart(departed: Path) -> None:
    truth = _read(departed / "truth.csv")
    notes = " | ".join(r["note"] for r in truth)
    for word in ("paternal half-brother", "maternal half-brother", "paternal uncle", "paternal first cousin",
                 "contaminated", "recovered at the site of", "shared by two people"):
        assert word in notes, word
    refs = _read(departed / "truth_references.csv")
    kinds = {r["departure"] for r in refs}
    assert kinds == {"non-paternity", "not the stated relative", "swapped reference"}
    swapped = [r for r in refs if r["departure"] == "swapped reference"]
    pairs = {(r["family"], r["detail"].split()[3]) for r in swapped}
    assert all((b, a) in pairs for a, b in pairs)           # swapped in pairs
    # relatives are not on the list: no service number in the truth, not a missing person's row
    rel = [r for r in truth if "of " in r["note"] and "not on the list" in r["note"]]
    assert rel and all(r["service_number"] == "" and r["family"] == "" for r in rel)


def test_relatives_share_the_right_lines(departed: Path) -> None:
    """A maternal half-brother carries the missing person's mtDNA line (the family's mt donors'),
    a paternal relative the father's Y line (within a few mutations), not the other."""
    truth = _read(departed / "truth.csv")
    mito: dict[tuple[str, str], set[str]] = {}
    for r in _read(departed / "mito.csv"):
        mito[(r["family"], r["id"])] = set(r["variants"].split())
    ped = {r["service_number"]: r["family"] for r in _read(departed / "pedigrees.csv") if r["service_number"]}
    departed_refs = {r["family"] for r in _read(departed / "truth_references.csv")}
    checked = 0
    for r in truth:
        if "half-brother of" not in r["note"] or ("", r["sample"]) not in mito:
            continue
        fam = ped[r["note"].split(" of ")[1].split()[0]]
        donors = [v for (f, _i), v in mito.items() if f == fam]
        if not donors or fam in departed_refs:
            continue
        hvs = {t for t in donors[0] if sg.in_hvs(t)}
        same = len(hvs ^ mito[("", r["sample"])]) <= 1   # a donor's heteroplasmy at most
        assert same == r["note"].startswith("maternal"), r
        checked += 1
    assert checked >= 3


def test_a_remains_departure_leaves_the_families_unchanged(tmp_path: Path) -> None:
    base, off = tmp_path / "base", tmp_path / "dropin"
    simulate_scenario(base, ScenarioParams(seed=2, n_missing=300))
    simulate_scenario(off, ScenarioParams(seed=2, n_missing=300, dropin=0.3, dropout_max=0.6))
    for name in ("missing.csv", "pedigrees.csv", "mito.csv", "samples.csv"):
        assert (base / name).read_bytes() == (off / name).read_bytes(), name
    assert (base / "genotypes.csv").read_bytes() != (off / "genotypes.csv").read_bytes()
    q = [float(r["quality"]) for r in _read(off / "genotypes.csv") if r["quality"]]
    assert max(q) <= 0.3   # the lab's estimate understates the drop-out beyond 0.3
