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


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pairs")
    simulate_scenario(folder, ScenarioParams(seed=4, n_missing=1500, n_brothers=40, n_father_son=40))
    return folder


def _pair_rows(folder: Path) -> list[tuple[str, str, str, str]]:
    """(family, member, missing relative's service number, the family's missing person's) per pair."""
    out = []
    for r in _read(folder / "truth_references.csv"):
        if r["departure"] in ("missing brother", "missing father"):
            out.append((r["family"], r["member"], r["detail"].split()[0], r["detail"].split()[-1]))
    return out


def test_missing_relatives_are_two_missing_persons_of_one_family(pairs: Path) -> None:
    rows = _pair_rows(pairs)
    assert {m for _f, m, _j, _k in rows} == {"BR", "FA"} and len(rows) >= 8
    ped = _read(pairs / "pedigrees.csv")
    missing = {r["SERVICE_NUMBER"]: r for r in _read(pairs / "missing.csv")}
    truth = _read(pairs / "truth.csv")
    for fam, member, sn_j, sn_k in rows:
        mine = {r["id"]: r for r in ped if r["family"] == fam}
        assert mine[member]["missing"] == "True" and mine[member]["service_number"] == sn_j
        assert mine["MP"]["missing"] == "True" and mine["MP"]["service_number"] == sn_k
        assert not mine[member]["reference_sample"]            # a missing man is no donor
        assert missing[sn_j]["LOSS_INCIDENT"] == missing[sn_k]["LOSS_INCIDENT"]   # lost together
        if member == "FA":
            assert int(missing[sn_j]["BIRTH_YEAR"]) <= int(missing[sn_k]["BIRTH_YEAR"]) - 18
        for sn, other in ((sn_j, sn_k), (sn_k, sn_j)):    # both among the remains, the truth says who
            notes = {r["note"] for r in truth if r["service_number"] == sn}
            assert notes and all(f"of {other} (missing together" in n for n in notes), (sn, notes)
    # the missing relative's own family is not filed apart: he is in one family only
    linked = [r["service_number"] for r in ped if r["service_number"]]
    assert len(linked) == len(set(linked))


def _shares_an_allele(folder: Path, sn: str, fam: str, children: tuple[str, ...]) -> tuple[int, int]:
    """Loci (checked, sharing an allele) between remains of ``sn`` showing two alleles and typed
    ``children`` of ``fam``; a parent shares one with his child at every locus (no mutation here)."""
    truth = {r["sample"]: r["service_number"] for r in _read(folder / "truth.csv")}
    g: dict[str, dict[str, set[str]]] = {}
    for r in _read(folder / "genotypes.csv"):
        key = r["id"] if not r["family"] else f"{r['family']}/{r['id']}"
        g.setdefault(key, {})[r["marker"]] = {r["allele1"], r["allele2"]} - {""}
    checked = shared = 0
    for s in (s for s, t in truth.items() if t == sn and s in g):
        for c in (f"{fam}/{c}" for c in children if f"{fam}/{c}" in g):
            for m, al in g[s].items():
                if len(al) == 2 and m in g[c]:
                    checked += 1
                    shared += bool(al & g[c][m])
    return checked, shared


def test_a_missing_relative_is_the_father_of_the_family_s_children(pairs: Path) -> None:
    """The missing father (FA) of the family's MP is the father of its typed BR and SI; a missing
    brother (BR) is the father of its typed BC. Another family's children are not his."""
    rows = _pair_rows(pairs)
    checked = 0
    for fam, member, sn_j, _k in rows:
        kids = ("BR", "SI") if member == "FA" else ("BC",)
        n, ok = _shares_an_allele(pairs, sn_j, fam, kids)
        assert ok == n, (fam, member, sn_j)
        checked += n
    assert checked >= 30
    # the check can fail: against the children of the next pair's family, some locus shares nothing
    strangers = [_shares_an_allele(pairs, sn_j, rows[(i + 1) % len(rows)][0], ("BR", "SI", "BC"))
                 for i, (_f, _m, sn_j, _k) in enumerate(rows)]
    assert sum(n for n, _ in strangers) >= 30 and sum(n - ok for n, ok in strangers) > 0


def test_missing_brothers_share_the_maternal_and_paternal_lines(pairs: Path) -> None:
    truth = {r["sample"]: r["service_number"] for r in _read(pairs / "truth.csv")}
    mito = {(r["family"], r["id"]): set(r["variants"].split()) for r in _read(pairs / "mito.csv")}
    checked = 0
    for fam, member, sn_j, _k in _pair_rows(pairs):
        donors = [v for (f, _i), v in mito.items() if f == fam]
        if member != "BR" or not donors:
            continue
        hvs = {t for t in donors[0] if sg.in_hvs(t)}
        for s in (s for s, t in truth.items() if t == sn_j and ("", s) in mito):
            assert len(hvs ^ mito[("", s)]) <= 1    # the family's maternal line (a donor's heteroplasmy at most)
            checked += 1
    assert checked >= 3
