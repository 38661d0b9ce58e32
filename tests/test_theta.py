"""The joint subpopulation correction (theta): hand-worked values, pedprobr's test, brute force.

The reference is :func:`test_likelihood_engine.naive`: every ordered genotype of every
member, all founder alleles drawn jointly by the sampling formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dogtag.errors import TooLargeError
from dogtag.genetics.likelihood import (
    MarkerData,
    conditional_genotypes,
    loglik,
    loglik_batch,
    same_shape_batch,
    same_shape_conditionals,
)
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.theta import partition_orbits, set_partitions

from test_likelihood_engine import _random_marker, assert_equals_naive, naive, random_case


def _ped(rows: list[tuple[str, str | None, str | None, int]]) -> Pedigree:
    return Pedigree.from_table(*zip(*rows, strict=True))  # type: ignore[arg-type]


AB = Marker("M", ("A", "B"), np.array([0.3, 0.7]))


def _lik(ped: Pedigree, table: dict[str, tuple[str, str]], theta: float, marker: Marker = AB) -> float:
    return math.exp(loglik(ped, [marker], {k: {marker.name: g} for k, g in table.items()}, theta=theta)[0])


def test_schema_worked_example():
    # pedprobr's own test (SCHEMA.md): founders 1, 2 -> 3; 3 and founder 4 -> 5; only 5 typed, A/A.
    # Its alleles come from founders 1 or 2 and from 4: two distinct founder draws, so
    # P = p_A (theta + (1 - theta) p_A), unlike a per-founder correction (p_A^2 = 0.09).
    ped = _ped([("1", None, None, 1), ("2", None, None, 2), ("3", "1", "2", 1),
                ("4", None, None, 2), ("5", "3", "4", 1)])
    assert _lik(ped, {"5": ("A", "A")}, 0.0) == pytest.approx(0.09, rel=1e-12)
    assert _lik(ped, {"5": ("A", "A")}, 0.01) == pytest.approx(0.3 * (0.01 + 0.99 * 0.3), rel=1e-12)
    assert round(_lik(ped, {"5": ("A", "A")}, 0.01), 4) == 0.0921


def test_nrc_ii_match_probabilities():
    # NRC II (1996) eq. 4.10: two unrelated people (one subpopulation) share a genotype
    th, p, r = 0.03, 0.3, 0.7
    two = _ped([("X", None, None, 1), ("Y", None, None, 1)])
    hom = _lik(two, {"X": ("A", "A"), "Y": ("A", "A")}, th)
    one = p * (th + (1 - th) * p)
    assert hom / one == pytest.approx((2 * th + (1 - th) * p) * (3 * th + (1 - th) * p)
                                      / ((1 + th) * (1 + 2 * th)), rel=1e-12)
    het = _lik(two, {"X": ("A", "B"), "Y": ("A", "B")}, th)
    one = 2 * (1 - th) * p * r
    assert het / one == pytest.approx(2 * (th + (1 - th) * p) * (th + (1 - th) * r)
                                      / ((1 + th) * (1 + 2 * th)), rel=1e-12)
    # the conditional distribution of Y given X = A/A is that match probability too
    dist = conditional_genotypes(two, [AB], {"X": {"M": ("A", "A")}}, "Y", theta=th)[0]
    assert dist[0] == pytest.approx((2 * th + (1 - th) * p) * (3 * th + (1 - th) * p)
                                    / ((1 + th) * (1 + 2 * th)), rel=1e-12)
    assert dist.sum() == pytest.approx(1.0, rel=1e-12)


def test_paternity_index_with_theta_by_hand():
    # AF a/a, CH a/b, mother untyped: H1 P = P(AF) P(CH's maternal b | AF's alleles) ...
    # With theta the maternal allele is a later draw: (theta * 0 + (1 - theta) p_b) / (1 + theta);
    # H2: CH's alleles are two more draws after AF's: 2 (2 theta + (1 - theta) p_a)(1 - theta) p_b
    # / ((1 + theta)(1 + 2 theta)). PI = (1 + 2 theta) / (2 (2 theta + (1 - theta) p_a)) (NRC II 4.13 form).
    th, pa = 0.02, 0.3
    h1 = _ped([("AF", None, None, 1), ("MO", None, None, 2), ("CH", "AF", "MO", 1)])
    h2 = _ped([("AF", None, None, 1), ("CH", None, None, 1)])
    g = {"AF": ("A", "A"), "CH": ("A", "B")}
    pi = _lik(h1, g, th) / _lik(h2, g, th)
    assert pi == pytest.approx((1 + 2 * th) / (2 * (2 * th + (1 - th) * pa)), rel=1e-12)


def test_theta_out_of_range_is_refused():
    ped = _ped([("X", None, None, 1)])
    for bad in (-0.01, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="theta"):
            loglik(ped, [AB], {"X": {"M": ("A", "A")}}, theta=bad)
        with pytest.raises(ValueError, match="theta"):
            loglik_batch([ped], [MarkerData(AB, {0: (0, 0)})], theta=bad)


def test_too_many_untyped_founders_is_refused_not_approximated():
    # nine untyped founders each with a typed child by a typed partner: 9 > 8 later draws
    rows: list[tuple[str, str | None, str | None, int]] = []
    table: dict[str, dict[str, tuple[str, str]]] = {}
    for i in range(9):
        rows += [(f"F{i}", None, None, 1), (f"M{i}", None, None, 2), (f"C{i}", f"F{i}", f"M{i}", 1)]
        table[f"M{i}"] = {"M": ("A", "B")}
        table[f"C{i}"] = {"M": ("A", "A")}
    with pytest.raises(TooLargeError, match="theta"):
        loglik(_ped(rows), [AB], table, theta=0.01)


def test_set_partitions_are_the_bell_numbers():
    assert [len(set_partitions(d)) for d in range(7)] == [1, 1, 2, 5, 15, 52, 203]
    assert len(set(set_partitions(4))) == 15


def test_partition_orbits_cover_every_partition_once():
    # two untyped founders (draws 0-1 and 2-3): 15 partitions fall into 9 orbits
    orbits = partition_orbits(4, (0, 2))
    assert len(orbits) == 9 and sum(c for _, c in orbits) == 15
    assert dict(orbits)[(0, 0, 1, 1)] == 1          # {f1 f2 | m1 m2} is its own image
    assert dict(orbits)[(0, 1, 0, 1)] == 2          # {f1 m1 | f2 m2} ~ {f1 m2 | f2 m1}
    for d, swaps in [(5, (0, 3)), (6, (0, 2, 4)), (3, ())]:
        orbits = partition_orbits(d, swaps)
        assert sum(c for _, c in orbits) == len(set_partitions(d))
        assert len({p for p, _ in orbits}) == len(orbits)


# --- the named cases of the issue, with and without mutation, against brute force ----------

TRIO = [("FA", None, None, 1), ("MO", None, None, 2), ("CH", "FA", "MO", 1)]
SIBS = [("FA", None, None, 1), ("MO", None, None, 2), ("S1", "FA", "MO", 1), ("S2", "FA", "MO", 2)]
HALF = [("FA", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
        ("A", "FA", "M1", 1), ("B", "FA", "M2", 2)]
UNREL = [("FA", None, None, 1), ("MO", None, None, 2), ("CH", None, None, 1)]
LOOP = [("F", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
        ("A", "F", "M1", 1), ("B", "F", "M2", 2), ("C", "A", "B", 1)]


@pytest.mark.parametrize("rows,typed", [
    (TRIO, ["FA", "MO", "CH"]),      # trio
    (TRIO, ["FA", "CH"]),            # motherless (the mother untyped)
    (TRIO, ["MO", "CH"]),            # a child with one parent typed
    (SIBS, ["S1", "S2"]),            # full siblings
    (SIBS, ["MO", "S1", "S2"]),
    (HALF, ["A", "B"]),              # paternal half siblings
    (UNREL, ["FA", "MO", "CH"]),     # three unrelated people: one subpopulation
    (LOOP, ["C"]),                   # a child of half siblings (a loop)
    (LOOP, ["F", "A", "C"]),
])
@pytest.mark.parametrize("mutation", [False, True])
@pytest.mark.parametrize("theta", [0.01, 0.05, 0.3])
def test_named_pedigrees_equal_brute_force(rows, typed, mutation, theta):
    ped = _ped(rows)
    rng = np.random.default_rng(len(rows) * 31 + len(typed))
    n = 3 if len(ped) <= 4 else 2     # the brute force costs n^(2 * members)
    for _ in range(3):
        marker = _random_marker(rng, n)
        if not mutation:
            marker = Marker("M", marker.alleles, marker.freqs)
        g = {ped.index(k): tuple(sorted(int(x) for x in rng.integers(0, n, 2))) for k in typed}
        d = MarkerData(marker, g)
        want = naive(ped, d, theta)[0]
        table = {k: {"M": tuple(marker.alleles[a] for a in g[ped.index(k)])} for k in typed}
        got = loglik(ped, [marker], table, theta=theta)[0]
        if want == 0:
            assert got == -math.inf
        else:
            assert math.exp(got) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_random_pedigrees_equal_brute_force(seed):
    # random pedigrees (loops, several unconnected parts), typed, half-typed and soft
    # evidence, conditional distributions; theta from 0.001 to 0.5
    rng = np.random.default_rng(1000 + seed)
    ped, d, target = random_case(rng, mutation=bool(seed % 2), with_target=bool(seed % 3),
                                 soft_evidence=seed % 4 == 1)
    theta = float(rng.choice([0.001, 0.01, 0.05, 0.2, 0.5]))
    assert_equals_naive(ped, d, theta, target, 1e-9)


@pytest.mark.parametrize("seed", range(30))
def test_unrelated_person_by_moments_equals_brute_force(seed):
    # the blind search's denominator: an unrelated person U added to a family, whose
    # genotype distribution comes from the moments of the family's founder-allele counts
    # (theta._unrelated), not from partitions over U's draws too
    from dogtag.genetics import theta as th

    rng = np.random.default_rng(2000 + seed)
    ped, d, _ = random_case(rng, mutation=bool(seed % 2), soft_evidence=seed % 3 == 1)
    aug = ped.add_members([("U", None, None, 0)])
    u = len(ped)
    theta = float(rng.choice([0.001, 0.01, 0.05, 0.2, 0.5]))
    assert_equals_naive(aug, d, theta, u, 1e-9)
    typed = frozenset(k for k, g in d.typed.items() if min(g) >= 0)
    assert th._net(tuple(map(int, aug.father)), tuple(map(int, aug.mother)), typed, frozenset(d.typed) - typed,
                   frozenset(d.soft or ()), u, d.marker.n_alleles, theta).unrelated


@pytest.fixture
def forced(monkeypatch):
    """Set the theta engine's program choices (:data:`theta.SPLIT`, :data:`elimination.FUSE_RATIO`),
    with its compiled networks cleared before and after."""
    from dogtag.genetics import elimination as el
    from dogtag.genetics import theta as th

    def force(split: bool | None, fuse_ratio: int) -> None:
        monkeypatch.setattr(th, "SPLIT", split)
        monkeypatch.setattr(el, "FUSE_RATIO", fuse_ratio)
        th._net.cache_clear()
        th._template.cache_clear()

    yield force
    th._net.cache_clear()
    th._template.cache_clear()


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("seed", range(16))
def test_passed_on_alleles_by_cases_and_fused_sums_equal_brute_force(forced, split, seed):
    # both ways of summing which allele an untyped parent passes to an untyped child (a
    # variable, or 2^H cases), and every three-factor sum fused (the ratio 1 fuses wherever
    # the engine may), on random pedigrees with targets and unrelated persons
    forced(split, 1)
    rng = np.random.default_rng(3000 + seed)
    ped, d, target = random_case(rng, mutation=bool(seed % 2), with_target=seed % 4 != 3)
    theta = float(rng.choice([0.001, 0.05, 0.3]))
    if seed % 4 == 3:
        ped, target = ped.add_members([("U", None, None, 0)]), len(ped)
    assert_equals_naive(ped, d, theta, target, 1e-9)


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("rows,typed,target", [
    ([*SIBS, ("MP", "FA", "MO", 1)], ["S1", "S2"], "MP"),     # the search's sibling references
    ([*SIBS, ("MP", "FA", "MO", 1)], ["MO", "S1"], "MP"),
    (LOOP, ["C"], "A"),                                       # untyped parents and a loop
    (HALF, ["A"], "B"),
])
def test_passed_on_alleles_by_cases_on_named_pedigrees(forced, split, rows, typed, target):
    forced(split, 1)
    ped = _ped(rows)
    rng = np.random.default_rng(len(rows) + len(typed))
    n = 3 if len(ped) <= 5 else 2
    for mutation in (False, True):
        marker = _random_marker(rng, n)
        if not mutation:
            marker = Marker("M", marker.alleles, marker.freqs)
        g = {ped.index(k): tuple(sorted(int(x) for x in rng.integers(0, n, 2))) for k in typed}
        assert_equals_naive(ped, MarkerData(marker, g), 0.05, ped.index(target), 1e-9)
        # the normaliser too: the search takes families' likelihoods from it
        idx = [ped.index(k) for k in typed]
        _, ll = same_shape_conditionals(ped, marker, idx, np.array([[g[i] for i in idx]]), target=ped.index(target),
                                        theta=0.05)
        want = naive(ped, MarkerData(marker, g), 0.05, ped.index(target))[1].sum()
        assert math.exp(ll[0]) == pytest.approx(want, rel=1e-9)


def test_program_choices_agree_at_many_alleles(forced):
    # full siblings' missing brother and an unrelated person at 30 alleles with mutation, where
    # the engine's choices matter (cases, fused sums): every forced choice gives the same
    # distributions and likelihoods, to rounding
    rng = np.random.default_rng(21)
    marker = _random_marker(rng, 30)
    ped = _ped([*SIBS, ("MP", "FA", "MO", 1), ("U", None, None, 1)])
    typed = [ped.index("S1"), ped.index("S2")]
    alleles = rng.integers(0, 30, size=(6, 2, 2))
    alleles[0] = [[3, 3], [3, 4]]
    got = {}
    for split, ratio in [(None, 8), (True, 10**9), (False, 10**9), (True, 1), (False, 1)]:
        forced(split, ratio)
        got[split, ratio] = [same_shape_batch(ped, marker, typed, alleles, target=t, theta=0.03)
                             for t in (-1, ped.index("MP"), ped.index("U"))]
    for other in got.values():
        for a, b in zip(got[None, 8], other, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-16)


def test_unrelated_person_by_moments_equals_the_person_typed():
    # P(G_U = g | family) = L(family and U typed g) / L(family): U typed is the other exact
    # path (its alleles are the first draws, the family's partitions start from them)
    rng = np.random.default_rng(7)
    marker = _random_marker(rng, 6)
    ped = _ped([*SIBS, ("C", None, None, 1), ("U", None, None, 0)])   # C: an unrelated typed reference
    typed = [ped.index("S1"), ped.index("S2"), ped.index("C")]
    alleles = rng.integers(0, 6, size=(5, 3, 2))
    u = ped.index("U")
    got = same_shape_batch(ped, marker, typed, alleles, target=u, theta=0.05)
    fam = same_shape_batch(ped, marker, typed, alleles, theta=0.05)
    gts = list(zip(*np.triu_indices(6), strict=True))
    for b in range(5):
        data = [MarkerData(marker, {**{typed[i]: (int(alleles[b, i, 0]), int(alleles[b, i, 1])) for i in range(3)},
                                    u: (int(x), int(y))}) for x, y in gts]
        want = np.exp(loglik_batch([ped] * len(gts), data, theta=0.05) - fam[b])
        np.testing.assert_allclose(got[b], want, rtol=1e-10, atol=1e-15)
        assert got[b].sum() == pytest.approx(1.0, rel=1e-12)


def test_relabelling_members_changes_nothing():
    rng = np.random.default_rng(5)
    marker = _random_marker(rng, 4)
    a = _ped([("FA", None, None, 1), ("MO", None, None, 2), ("S1", "FA", "MO", 1), ("S2", "FA", "MO", 2),
              ("X", None, None, 1)])
    b = _ped([("X", None, None, 1), ("S2", "FA", "MO", 2), ("MO", None, None, 2), ("S1", "FA", "MO", 1),
              ("FA", None, None, 1)])
    table = {"S1": {"M": ("8", "9")}, "S2": {"M": ("9", "10")}, "X": {"M": ("8", "8")}}
    assert loglik(a, [marker], table, theta=0.03)[0] == pytest.approx(loglik(b, [marker], table, theta=0.03)[0],
                                                                        rel=1e-12)


def test_same_shape_batch_with_theta_equals_item_by_item():
    rng = np.random.default_rng(11)
    marker = _random_marker(rng, 5)
    ped = _ped([*SIBS, ("U", None, None, 1)])
    typed = [ped.index("S1"), ped.index("S2")]
    alleles = rng.integers(0, 5, size=(7, 2, 2))
    for target in (-1, ped.index("MO"), ped.index("U")):
        got = same_shape_batch(ped, marker, typed, alleles, target=target, theta=0.02)
        for b in range(7):
            d = MarkerData(marker, {typed[i]: (int(alleles[b, i, 0]), int(alleles[b, i, 1])) for i in range(2)})
            want = loglik_batch([ped], [d], theta=0.02, target=None if target < 0 else [target])
            np.testing.assert_allclose(got[b], want[0], rtol=1e-12)


def test_same_shape_batch_with_theta_in_chunks_equals_one_batch():
    # chunks are sized by the largest array of the theta terms (theta_width); any split of a
    # batch gives the same rows
    from dogtag.genetics.theta import theta_width

    rng = np.random.default_rng(12)
    marker = _random_marker(rng, 7)
    ped = _ped([*SIBS, ("MP", "FA", "MO", 1), ("U", None, None, 1)])
    typed = [ped.index("S1"), ped.index("S2")]
    alleles = rng.integers(0, 7, size=(11, 2, 2))
    fa, mo = tuple(map(int, ped.father)), tuple(map(int, ped.mother))
    for target in (-1, ped.index("MP"), ped.index("U")):
        width = theta_width(fa, mo, frozenset(typed), target, 7, 0.02)
        assert 2 * 7 * 7 <= width < 7 ** 4
        whole = same_shape_batch(ped, marker, typed, alleles, target=target, theta=0.02)
        parts = same_shape_batch(ped, marker, typed, alleles, target=target, theta=0.02, max_floats=6 * width)
        np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-15)


def test_cli_lr_theta_is_used_and_recorded():
    # `dogtag lr --theta`: the paternity example's LRs with theta equal kinship_lr's, theta is
    # in the JSON, and a theta outside [0, 1) is a clean usage error
    import dataclasses
    import json
    from importlib import resources

    from click.testing import CliRunner

    from dogtag.cli.kinship import lr as lr_command
    from dogtag.genetics.lr import kinship_lr
    from dogtag.io.pedsuite_json import read_kinship_json

    runner = CliRunner()
    out = runner.invoke(lr_command, ["--example", "paternity", "--theta", "0.02", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["theta"] == 0.02
    with resources.as_file(resources.files("dogtag.data.examples") / "paternity.kinship.json") as p:
        case = read_kinship_json(p)
    want = kinship_lr(dataclasses.replace(case, theta=0.02))
    plain = kinship_lr(case)
    assert got["hypotheses"][0]["lr"] == pytest.approx(want.hypotheses[0].lr, rel=1e-12)
    assert want.hypotheses[0].lr != pytest.approx(plain.hypotheses[0].lr, rel=1e-6)
    bad = runner.invoke(lr_command, ["--example", "paternity", "--theta", "1.5"])
    assert bad.exit_code == 2 and "theta" in bad.output and "Traceback" not in bad.output


def _sibship_case(rng: np.random.Generator, n: int, extra: str) -> tuple[Pedigree, list[int], int, int]:
    """Untyped parents F, M; typed children; an untyped child MP (the target); one ``extra``
    (a third typed child, a typed founder in the family, a typed grandchild through an untyped
    partner, a typed half-sibling of MP through F); the unrelated person U last.
    Returns (pedigree, typed members, MP, U)."""
    rows: list[tuple[str, str | None, str | None, int]] = [
        ("F", None, None, 1), ("M", None, None, 2),
        ("S1", "F", "M", int(rng.integers(1, 3))), ("S2", "F", "M", 1), ("MP", "F", "M", int(rng.integers(1, 3)))]
    typed = ["S1", "S2"]
    if extra == "third child":
        rows.append(("S3", "F", "M", 2))
        typed.append("S3")
    elif extra == "typed founder":
        rows.append(("X", None, None, 2))
        typed.append("X")
    elif extra == "grandchild":
        rows += [("P", None, None, 2), ("GC", "S2", "P", 1)]
        typed.append("GC")
    elif extra == "half-sibling":
        rows += [("Y", None, None, 2), ("H", "F", "Y", 1)]
        typed += ["H", "Y"]
    rows.append(("U", None, None, 0))
    ped = _ped(rows)
    return ped, sorted(ped.index(x) for x in typed), ped.index("MP"), ped.index("U")


def _sibship_run(rng: np.random.Generator, n: int, extra: str, batch: int, thetas: list[float]):
    """A random :func:`_sibship_case` with a marker of ``n`` alleles, a theta of ``thetas`` and
    ``batch`` random data rows, and :func:`child_and_unrelated` on it."""
    from dogtag.genetics.likelihood import child_and_unrelated

    ped, typed, mp, u = _sibship_case(rng, n, extra)
    marker = _random_marker(rng, n)
    theta = float(rng.choice(thetas))
    alleles = rng.integers(0, n, size=(batch, len(typed), 2))
    got = child_and_unrelated(ped, marker, typed, alleles, child=mp, unrelated=u, theta=theta)
    assert got is not None
    return ped, typed, mp, u, marker, theta, alleles, got


EXTRAS = ["none", "third child", "typed founder", "grandchild", "half-sibling"]


@pytest.mark.parametrize("extra", EXTRAS)
@pytest.mark.parametrize("seed", range(6))
def test_child_and_unrelated_from_one_network_equal_brute_force(extra, seed):
    # the missing child of untyped parents and the unrelated person from the moments of one
    # network (full siblings' references in the blind search), against every genotype of everyone
    n = 2                        # the brute force runs over 2^(2 x members) allele vectors
    ped, typed, mp, u, marker, theta, alleles, (dist, ll, du) = _sibship_run(
        np.random.default_rng(seed), n, extra, 2, [0.001, 0.02, 0.2, 0.6])
    G = n * (n + 1) // 2
    for b in range(2):
        d = MarkerData(marker, {k: (int(x), int(y)) for k, (x, y) in zip(typed, alleles[b], strict=True)})
        want, want_mp = naive(ped, d, theta, mp)
        _, want_u = naive(ped, d, theta, u)
        assert math.exp(ll[b]) == pytest.approx(want, rel=1e-10)
        np.testing.assert_allclose(dist[b], want_mp / want_mp.sum(), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(du[b], want_u / want_u.sum(), rtol=1e-10, atol=1e-15)
        assert dist[b].shape == du[b].shape == (G,)


@pytest.mark.parametrize("extra", EXTRAS)
def test_child_and_unrelated_equal_the_two_networks_at_many_alleles(extra):
    # the same numbers as the child's and the unrelated person's networks apart, on batches
    # (rows of the same data give the same values bit for bit, whatever the batch)
    from dogtag.genetics.likelihood import child_and_unrelated

    rng = np.random.default_rng(len(extra))
    for _ in range(4):
        ped, typed, mp, u, marker, theta, alleles, got = _sibship_run(
            rng, int(rng.integers(2, 14)), extra, 9, [0.001, 0.01, 0.05, 0.3])
        dist, ll, du = got
        # (U is irrelevant to the child's own network)
        want, want_ll = same_shape_conditionals(ped, marker, typed, alleles, target=mp, theta=theta)
        want_u, _ = same_shape_conditionals(ped, marker, typed, alleles, target=u, theta=theta)
        assert want is not None and want_u is not None
        np.testing.assert_allclose(dist, want, rtol=1e-11, atol=1e-300)
        np.testing.assert_allclose(ll, want_ll, rtol=1e-12)
        np.testing.assert_allclose(du, want_u, rtol=1e-11, atol=1e-300)
        one = child_and_unrelated(ped, marker, typed, alleles[3:4], child=mp, unrelated=u, theta=theta)
        assert one is not None
        for a, b in zip(one, (dist, ll, du), strict=True):
            assert np.array_equal(a[0], b[3])


def test_child_and_unrelated_applies_only_where_the_moments_hold():
    from dogtag.genetics.likelihood import child_and_unrelated

    rng = np.random.default_rng(3)
    marker = _random_marker(rng, 4)
    ped = _ped([("F", None, None, 1), ("M", None, None, 2), ("S1", "F", "M", 1), ("S2", "F", "M", 2),
                ("MP", "F", "M", 1), ("K", "MP", "M", 1), ("U", None, None, 0)])
    al = rng.integers(0, 4, size=(3, 2, 2))
    # one typed child: each parent passes on one relevant allele (collapsed), not two draws
    assert child_and_unrelated(ped, marker, [2], al[:, :1], child=4, unrelated=6, theta=0.01) is None
    # a typed parent; a missing person with a child of its own; a child of a non-founder; without theta
    assert child_and_unrelated(ped, marker, [0, 2], al, child=4, unrelated=6, theta=0.01) is None
    assert child_and_unrelated(ped, marker, [2, 3], al, child=4, unrelated=6, theta=0.01) is None
    assert child_and_unrelated(ped, marker, [2, 3], al, child=5, unrelated=6, theta=0.01) is None
    assert child_and_unrelated(ped, marker, [2, 3], al, child=2, unrelated=6, theta=0.0) is None


@pytest.mark.parametrize("extra", EXTRAS)
def test_moments_by_the_partitions_symmetries_equal_every_pair(monkeypatch, extra):
    # one elimination per orbit of pairs of blocks under the swaps of founders' alleles (weighted
    # by its size) gives what every pair gives; on the sibships and on random pedigrees' U
    from dogtag.genetics import theta as th
    from dogtag.genetics.likelihood import child_and_unrelated

    rng = np.random.default_rng(7 + len(extra))
    cases = [_sibship_run(rng, int(rng.integers(2, 9)), extra, 5, [0.01, 0.3])[:7] for _ in range(3)]
    runs = []
    for sym in (False, True):
        monkeypatch.setattr(th, "SYMMETRIES", sym)
        th._net.cache_clear()
        th._template.cache_clear()
        runs.append([child_and_unrelated(ped, mk, typed, al, child=mp, unrelated=u, theta=t)
                     for ped, typed, mp, u, mk, t, al in cases])
    th._net.cache_clear()
    th._template.cache_clear()
    for with_sym, every in zip(*runs, strict=True):
        for a, b in zip(with_sym, every, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
