"""The blind search with theta equals ``dogtag lr`` (kinship_lr) on the same pair hypotheses.

H1: the sample is the missing person; H2: the sample is unrelated to the family but of
the same subpopulation (one more founder in the family's pedigree). Both with all
founder alleles drawn jointly.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dogtag.genetics.cases import Hypothesis, KinshipCase
from dogtag.genetics.lr import kinship_lr
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.identify.search import blind_search
from dogtag.io.pedsuite_json import read_dvi_json

from test_likelihood_engine import _random_marker


def _ped(rows: list[tuple[str, str | None, str | None, int]]) -> Pedigree:
    return Pedigree.from_table(*zip(*rows, strict=True))  # type: ignore[arg-type]


def _case(theta: float) -> DVICase:
    rng = np.random.default_rng(3)
    markers = [_random_marker(rng, 5, "M1"), _random_marker(rng, 6, "M2")]
    plain = _random_marker(rng, 4, "M3")
    markers.append(Marker("M3", plain.alleles, plain.freqs))    # no mutation

    def g() -> dict[str, tuple[str | None, str | None]]:
        return {m.name: (str(rng.choice(m.alleles)), str(rng.choice(m.alleles))) for m in markers}

    trio = _ped([("FA", None, None, 1), ("MO", None, None, 2), ("MP1", "FA", "MO", 1)])
    sibs = _ped([("F2", None, None, 1), ("M2", None, None, 2), ("S2", "F2", "M2", 2), ("MP2", "F2", "M2", 1)])
    half = _ped([("F3", None, None, 1), ("W3", None, None, 2), ("X3", None, None, 2),
                 ("H3", "F3", "W3", 1), ("MP3", "F3", "X3", 0)])
    fams = [
        Family("T", trio, ("MP1",), {"FA": g(), "MO": g()}),
        Family("S", sibs, ("MP2",), {"S2": g()}),
        # a half-typed reference (one allele known at M1): the general engine's path
        Family("H", half, ("MP3",), {"H3": {**g(), "M1": ("8", None)}}),
    ]
    pm = [Sample(f"V{i}", int(rng.integers(0, 3)), g()) for i in range(4)]
    pm.append(Sample("D", 0, g(), dropout=0.2))     # a degraded profile: soft evidence
    pm.append(Sample("U", 1, {"M1": g()["M1"]}))     # typed at one marker only
    return DVICase(markers, pm, fams, theta=theta)


def _pair_lr(case: DVICase, fam: Family, mp: str, sample: Sample, theta: float) -> float:
    """log LR of ``dogtag lr`` on H1 (sample = MP) against H2 (sample unrelated, same subpopulation)."""
    h1 = fam.pedigree.relabel({mp: sample.id})
    h2 = fam.pedigree.add_members([(sample.id, None, None, 0)])
    geno = {**fam.genotypes, sample.id: sample.genotypes}
    res = kinship_lr(KinshipCase(case.markers, [Hypothesis("H1", h1), Hypothesis("H2", h2)], geno, theta))
    with np.errstate(divide="ignore"):
        return float(np.log(res.hypotheses[0].lr_per_marker).sum())


@pytest.mark.parametrize("theta", [0.0, 0.02, 0.2])
@pytest.mark.parametrize("refine", [0, 10**6])
def test_search_with_theta_equals_kinship_lr(theta, refine):
    case = _case(theta)
    res = blind_search(case, refine=refine)
    assert res.theta == theta
    assert res.log_lr is not None
    checked = 0
    for i, s in enumerate(case.pm):
        for j, (fam, mp) in enumerate((f, m) for f in case.am for m in f.missing):
            got = res.log_lr[i, j]
            if math.isnan(got):
                continue  # not a candidate (sex)
            if s.dropout > 0:
                continue  # kinship_lr takes clean genotypes only; see the next test
            want = _pair_lr(case, fam, mp, s, theta)
            if want == -math.inf:
                assert got == -math.inf
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
            checked += 1
    assert checked >= 10
    if theta > 0:
        assert "theta = " in res.method


#: the reference families of the search, each with its missing person MP: parent and child,
#: trio, full and half siblings, grandparents, uncle, first cousin, MP as a parent
FAMILIES = {
    "parent": ([("FA", None, None, 1), ("MO", None, None, 2), ("MP", "FA", "MO", 1)], ["MO"]),
    "trio": ([("FA", None, None, 1), ("MO", None, None, 2), ("MP", "FA", "MO", 1)], ["FA", "MO"]),
    "siblings": ([("FA", None, None, 1), ("MO", None, None, 2), ("S1", "FA", "MO", 2), ("S2", "FA", "MO", 1),
                  ("MP", "FA", "MO", 1)], ["S1", "S2"]),
    "half": ([("FA", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2), ("H", "FA", "M1", 1),
              ("MP", "FA", "M2", 1)], ["H"]),
    "grandparents": ([("GF", None, None, 1), ("GM", None, None, 2), ("FA", "GF", "GM", 1), ("MO", None, None, 2),
                      ("MP", "FA", "MO", 1)], ["GF", "GM", "MO"]),
    "uncle": ([("GF", None, None, 1), ("GM", None, None, 2), ("FA", "GF", "GM", 1), ("UN", "GF", "GM", 1),
               ("MO", None, None, 2), ("MP", "FA", "MO", 1)], ["UN", "MO"]),
    "cousin": ([("GF", None, None, 1), ("GM", None, None, 2), ("FA", "GF", "GM", 1), ("AU", "GF", "GM", 2),
                ("MO", None, None, 2), ("UF", None, None, 1), ("CO", "UF", "AU", 1), ("MP", "FA", "MO", 1)],
               ["CO"]),
    "child": ([("MP", None, None, 1), ("WI", None, None, 2), ("CH", "MP", "WI", 2)], ["WI", "CH"]),
}


@pytest.mark.parametrize("seed", range(4))
def test_search_with_theta_equals_kinship_lr_on_random_families(seed):
    # every kind of reference family, random frequencies, genotypes (relatives and not),
    # mutation or not and theta: the search's matrix (refine=0) equals `dogtag lr` on
    # H1 (the sample is MP) against H2 (the sample unrelated, of the same subpopulation)
    rng = np.random.default_rng(100 + seed)
    markers = [_random_marker(rng, int(rng.integers(3, 6)), f"M{j}") for j in range(3)]
    plain = _random_marker(rng, 4, "M3")
    markers.append(Marker("M3", plain.alleles, plain.freqs))
    theta = float(rng.choice([0.005, 0.03, 0.25]))

    def g() -> dict[str, tuple[str | None, str | None]]:
        return {m.name: (str(rng.choice(m.alleles)), str(rng.choice(m.alleles))) for m in markers}

    fams = [Family(k, _ped(rows), ("MP",), {t: g() for t in typed}) for k, (rows, typed) in FAMILIES.items()]
    pm = [Sample(f"V{i}", 1, g()) for i in range(3)]
    # a sample sharing the first family's reference alleles (a relative, not unrelated)
    ref = fams[0].genotypes["MO"]
    pm.append(Sample("R", 1, {m: (a, str(rng.choice(mk.alleles))) for mk in markers for m, (a, _) in [(mk.name,
                                                                                             ref[mk.name])]}))
    case = DVICase(markers, pm, fams, theta=theta)
    res = blind_search(case, refine=0)
    assert res.log_lr is not None
    finite = 0
    for i, s in enumerate(case.pm):
        for j, fam in enumerate(case.am):
            want = _pair_lr(case, fam, "MP", s, theta)
            got = res.log_lr[i, j]
            if want == -math.inf or math.isnan(want):   # nan: the family's own data impossible (0 / 0)
                assert got == -math.inf
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (s.id, fam.name)
                finite += 1
    assert finite >= len(case.pm) * len(case.am) // 2


def test_degraded_sample_matrix_equals_direct_with_theta():
    case = _case(0.05)
    a = blind_search(case, refine=0)
    b = blind_search(case, refine=10**6)
    assert a.log_lr is not None and b.log_lr is not None
    np.testing.assert_allclose(a.log_lr, b.log_lr, rtol=1e-9, atol=1e-9)


def test_theta_changes_the_lr_and_goes_with_the_case():
    case = _case(0.0)
    base = blind_search(case, refine=0)
    th = blind_search(case, refine=0, theta=0.03)
    assert th.theta == 0.03 and base.theta == 0.0
    assert base.log_lr is not None and th.log_lr is not None
    ok = np.isfinite(base.log_lr)
    assert not np.allclose(base.log_lr[ok], th.log_lr[ok])
    same = blind_search(dataclasses.replace(case, theta=0.03), refine=0)
    assert same.log_lr is not None
    np.testing.assert_array_equal(same.log_lr, th.log_lr)
    with pytest.raises(ValueError, match="theta"):
        blind_search(case, theta=1.0)


def test_top_k_with_theta_equals_full_matrix():
    case = _case(0.02)
    full = blind_search(case, refine=0)
    top = blind_search(case, top=2)
    assert full.log_lr is not None
    for i, sid in enumerate(full.samples):
        row = full.log_lr[i]
        for col, llr, _exc in top.candidates[sid]:
            assert llr == pytest.approx(row[col], rel=1e-12, abs=1e-12)


def test_theta_is_read_from_a_json_dvi_case(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"schema": "pedsuite-json/1", "theta": 0.02, "markers": '
                 '[{"name": "M", "alleles": ["1", "2"], "freqs": [0.4, 0.6]}], "pm": [], "am": []}')
    assert read_dvi_json(p).theta == 0.02
    p.write_text('{"schema": "pedsuite-json/1", "theta": "x", "markers": [], "pm": [], "am": []}')
    with pytest.raises(ValueError, match="theta"):
        read_dvi_json(p)


def test_joint_family_terms_with_theta_equal_kinship_lr():
    # a family with two missing brothers: the joint term of two placements is the LR of
    # (both samples placed) against (both samples unrelated, of the family's subpopulation)
    from dogtag.identify.dvi import FamilyLoglik

    theta = 0.03
    base = _case(theta)
    ped = _ped([("F", None, None, 1), ("M", None, None, 2), ("S", "F", "M", 2), ("B1", "F", "M", 1),
                ("B2", "F", "M", 1)])
    fam = Family("B", ped, ("B1", "B2"), {"S": base.am[0].genotypes["FA"]})
    pm = [dataclasses.replace(s, sex=1) for s in base.pm if s.dropout == 0][:3]
    case = DVICase(base.markers, pm, [fam], theta=theta)
    res = blind_search(case, refine=0)
    assert res.log_lr is not None
    f = FamilyLoglik(case, None, (res.family_loglik, res.sample_loglik))
    v0, v1 = pm[0].id, pm[1].id
    one = f("B", {"B1": v0}) - res.family_loglik["B"] - res.sample_loglik[0]
    assert one == pytest.approx(res.log_lr[0, 0], rel=1e-9, abs=1e-9)
    two = f("B", {"B1": v0, "B2": v1}) - res.family_loglik["B"] - res.sample_loglik[0] - res.sample_loglik[1]
    h1 = ped.relabel({"B1": v0, "B2": v1})
    h2 = ped.add_members([(v0, None, None, 1), (v1, None, None, 1)])
    geno = {**fam.genotypes, v0: pm[0].genotypes, v1: pm[1].genotypes}
    want = kinship_lr(KinshipCase(case.markers, [Hypothesis("H1", h1), Hypothesis("H2", h2)], geno, theta))
    assert two == pytest.approx(float(np.log(want.hypotheses[0].lr_per_marker).sum()), rel=1e-9)
    with pytest.raises(ValueError, match="theta"):
        FamilyLoglik(case)


def test_theta_of_a_familias_dvi_file_is_used_and_recorded(tmp_path):
    # a Familias DVI file's Theta/Kinship/Fst goes into the case, the search and the output;
    # `dogtag dvi --theta` overrides it
    import json

    from click.testing import CliRunner

    from dogtag.cli.dvi import dvi as dvi_command
    from dogtag.identify.dvi import run_dvi
    from dogtag.io.familias import read_fam

    from conftest import DATA

    text = (DATA / "dvi-cases" / "familias-fam" / "dvi-example.fam").read_text()
    p = tmp_path / "theta.fam"
    p.write_text(text.replace("Theta/Kinship/Fst: 0 )", "Theta/Kinship/Fst: 0.02 )"))
    case = read_fam(p)
    assert isinstance(case, DVICase) and case.theta == 0.02
    res = run_dvi(case)
    assert res.settings["theta"] == 0.02 and res.search.theta == 0.02
    plain = blind_search(dataclasses.replace(case, theta=0.0))
    assert res.search.log_lr is not None and plain.log_lr is not None
    ok = np.isfinite(plain.log_lr)
    assert not np.allclose(res.search.log_lr[ok], plain.log_lr[ok])
    out = CliRunner().invoke(dvi_command, [str(p), "--json", "--no-joint"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["settings"]["theta"] == 0.02
    out = CliRunner().invoke(dvi_command, [str(p), "--json", "--no-joint", "--theta", "0"])
    assert json.loads(out.output)["settings"]["theta"] == 0.0
    out = CliRunner().invoke(dvi_command, [str(p), "--theta", "-0.1"])
    assert out.exit_code == 2 and "theta" in out.output


def test_conditioning_on_fixed_pairs_with_theta_is_exact():
    # dvir's undisputed steps fix pairings and recompute the LRs of the family's other
    # missing persons. With theta the conditional LR of v on B3 given v0 = B1, v1 = B2 is
    # L(all three placed) / L(v0, v1 placed, v unrelated of the same subpopulation):
    # `dogtag lr` on those two pedigrees. Two successive conditionings compose.
    from dogtag.identify.dvi import FamilyLoglik
    from dogtag.identify.joint import JointProblem
    from dogtag.identify.undisputed import condition_on

    theta = 0.05
    base = _case(theta)
    ped = _ped([("F", None, None, 1), ("M", None, None, 2), ("S", "F", "M", 2), ("B1", "F", "M", 1),
                ("B2", "F", "M", 1), ("B3", "F", "M", 1)])
    fam = Family("B", ped, ("B1", "B2", "B3"), {"S": base.am[0].genotypes["FA"]})
    pm = [dataclasses.replace(s, sex=1) for s in base.pm if s.dropout == 0][:4]
    case = DVICase(base.markers, pm, [fam], theta=theta)
    res = blind_search(case, refine=0)
    assert res.log_lr is not None
    problem = JointProblem(tuple(res.samples), tuple(res.missing), tuple(res.family), res.log_lr,
                           res.family_loglik, res.sample_loglik,
                           FamilyLoglik(case, None, (res.family_loglik, res.sample_loglik)))
    v = [s.id for s in pm]
    one = condition_on(problem, {v[0]: "B1"})
    two = condition_on(one, {v[1]: "B2"})
    geno = {**fam.genotypes, **{s.id: s.genotypes for s in pm}}

    def lr(placed: dict[str, str], new: str, on: str) -> float:
        h1 = ped.relabel({**placed, on: new})
        h2 = ped.relabel(placed).add_members([(new, None, None, 1)])
        got = kinship_lr(KinshipCase(case.markers, [Hypothesis("H1", h1), Hypothesis("H2", h2)],
                                     {k: g for k, g in geno.items() if k in h2.ids}, theta))
        with np.errstate(divide="ignore"):
            return float(np.log(got.hypotheses[0].lr_per_marker).sum())

    for s in (v[1], v[2], v[3]):
        want = lr({"B1": v[0]}, s, "B2")
        got = one.log_lr[one.samples.index(s), one.missing.index("B2")]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
        # conditioning changes the LR (the fixed sample's alleles are in the family now)
        assert got != pytest.approx(res.log_lr[res.samples.index(s), res.missing.index("B2")], rel=1e-6)
    for s in (v[2], v[3]):
        want = lr({"B1": v[0], "B2": v[1]}, s, "B3")
        got = two.log_lr[two.samples.index(s), two.missing.index("B3")]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    # a joint term after conditioning: v2 on B2 and v3 on B3 given v0 = B1, against both unrelated
    assert one.family_loglik is not None
    term = one.family_loglik("B", {"B2": v[2], "B3": v[3]}) - one.loglik0_family["B"] \
        - float(res.sample_loglik[2] + res.sample_loglik[3])
    h1 = ped.relabel({"B1": v[0], "B2": v[2], "B3": v[3]})
    h2 = ped.relabel({"B1": v[0]}).add_members([(v[2], None, None, 1), (v[3], None, None, 1)])
    want = kinship_lr(KinshipCase(case.markers, [Hypothesis("H1", h1), Hypothesis("H2", h2)],
                                  {k: g for k, g in geno.items() if k in h2.ids}, theta))
    assert term == pytest.approx(float(np.log(want.hypotheses[0].lr_per_marker).sum()), rel=1e-9)
