"""Mutation models: pedmut 0.9.0 formulas, golden matrices, properties."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.genetics import mutation as mu

from conftest import EXAMPLES, GOLDEN


def _golden_models() -> list[tuple[str, str, list[str], list[float], dict]]:
    out = []
    for base, path in [*((GOLDEN, p) for p in sorted(GOLDEN.rglob("*.json"))),
                       *((EXAMPLES, p) for p in sorted(EXAMPLES.glob("*.json")))]:
        if path.name.endswith(".results.json"):
            continue
        data = json.loads(path.read_text())
        for m in data.get("markers", []):
            spec = m.get("mutation")
            if spec is None:
                continue
            rel = str(path.relative_to(base))
            out.append((rel, m["name"], m["alleles"], m["freqs"], spec))
            if "male" in spec:
                out.append((rel + ":male", m["name"], m["alleles"], m["freqs"], spec["male"]))
    return out


GOLDEN_MODELS = _golden_models()


def test_golden_models_found():
    # equal, proportional and stepwise (sex-specific) all occur in the golden cases.
    assert {spec["model"] for *_, spec in GOLDEN_MODELS} >= {"equal", "proportional", "stepwise"}
    assert len(GOLDEN_MODELS) > 150


@pytest.mark.parametrize(
    "where,name,alleles,freqs,spec", GOLDEN_MODELS,
    ids=[f"{w}:{n}" for w, n, *_ in GOLDEN_MODELS],
)
def test_rebuild_golden_matrix(where, name, alleles, freqs, spec):
    model = mu.from_params(
        spec["model"], alleles, freqs,
        rate=spec.get("rate"), rate2=spec.get("rate2"), range=spec.get("range"), marker=name,
    )
    expected = np.array(spec["matrix"], dtype=float)
    assert model.matrix.shape == expected.shape
    np.testing.assert_allclose(model.matrix, expected, rtol=0, atol=1e-12)


# --- hand-worked values --------------------------------------------------

def test_equal_by_hand():
    m = mu.equal(["1", "2", "3"], None, 0.06).matrix
    assert m[0, 0] == pytest.approx(0.94)
    assert m[0, 1] == pytest.approx(0.03)
    assert m[2, 1] == pytest.approx(0.03)


def test_proportional_by_hand():
    p = np.array([0.2, 0.3, 0.5])
    m = mu.proportional(["1", "2", "3"], p, 0.1).matrix
    a = 0.1 / (0.2 * 0.8 + 0.3 * 0.7 + 0.5 * 0.5)  # 0.1 / 0.62
    assert m[0, 1] == pytest.approx(a * 0.3)
    assert m[1, 1] == pytest.approx(1 - a + a * 0.3)
    # expected rate equals the given rate; stationary and reversible
    assert mu.MutationModel("proportional", m).expected_rate(p) == pytest.approx(0.1)
    assert mu.is_stationary(m, p)
    assert mu.is_reversible(m, p)


def test_stepwise_by_hand():
    # 9, 10, 11 integer class; 9.3 alone in its class.
    al = ["9", "9.3", "10", "11"]
    r, r2, rg = 0.01, 0.001, 0.1
    m = mu.stepwise(al, None, r, r2, rg).matrix
    # from 9: within class 10 (1 step, weight 0.1) and 11 (2 steps, weight 0.01)
    assert m[0, 2] == pytest.approx(r * 0.1 / 0.11)
    assert m[0, 3] == pytest.approx(r * 0.01 / 0.11)
    assert m[0, 1] == pytest.approx(r2 / 1)
    assert m[0, 0] == pytest.approx(1 - r - r2)
    # 9.3 is alone in its class: only rate2, shared by the 3 others
    assert m[1, 1] == pytest.approx(1 - r2)
    assert m[1, 0] == pytest.approx(r2 / 3)
    # from 10: neighbours 9 and 11 both at one step
    assert m[2, 0] == pytest.approx(r / 2)
    assert m[2, 3] == pytest.approx(r / 2)


def test_stepwise_single_class_ignores_rate2():
    m = mu.stepwise(["10", "11", "12"], None, 0.002, 0.5, 1.0).matrix
    np.testing.assert_allclose(np.diag(m), 0.998)
    np.testing.assert_allclose(m[0, 1:], 0.001)


def test_stepwise_microvariant_classes_match_across_tens():
    # 9.3 and 10.3 share a class (same decimal digit), 9.1 does not
    c = mu.microvariant_class(["9.3", "10.3", "9.1", "12"])
    assert c.tolist() == [3, 3, 1, 0]


def test_onestep_by_hand():
    m = mu.onestep(["8", "9", "10", "14"], None, 0.02).matrix
    assert m[0].tolist() == pytest.approx([0.98, 0.02, 0, 0])
    assert m[1].tolist() == pytest.approx([0.01, 0.98, 0.01, 0])
    assert m[3].tolist() == [0, 0, 0, 1]


def test_trivial_and_one_allele():
    assert mu.trivial(["a", "b"]).is_trivial
    assert mu.equal(["7"], None, 0.1).is_trivial


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"marker 'TH01'.*rate"):
        mu.equal(["1", "2"], None, 1.5, marker="TH01")
    with pytest.raises(ValueError, match="rate2"):
        mu.stepwise(["1", "2"], None, 0.1, None, 0.1)
    with pytest.raises(ValueError, match="range"):
        mu.stepwise(["1", "2"], None, 0.1, 0.0, 0)
    with pytest.raises(ValueError, match="numeric allele"):
        mu.stepwise(["1", "Rest allele"], None, 0.1, 0.0, 0.5)
    with pytest.raises(ValueError, match="one decimal"):
        mu.stepwise(["1", "1.25"], None, 0.1, 0.0, 0.5)
    with pytest.raises(ValueError, match="integer"):
        mu.onestep(["1", "1.2"], None, 0.1)
    with pytest.raises(ValueError, match="freqs"):
        mu.proportional(["1", "2"], None, 0.1)
    with pytest.raises(ValueError, match="smaller rate"):
        mu.proportional(["1", "2"], [0.1, 0.9], 0.9)
    with pytest.raises(ValueError, match="unknown mutation model"):
        mu.from_params("bogus", ["1"])


def test_custom_validation():
    with pytest.raises(ValueError, match=r"marker 'X'.*row 1 sums"):
        mu.custom([[1, 0], [0.5, 0.6]], marker="X")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mu.custom([[1.2, -0.2], [0, 1]])
    with pytest.raises(ValueError, match="square"):
        mu.custom([[1, 0]])
    m = mu.from_params("custom", ["1", "2"], matrix=[[0.9, 0.1], [0.2, 0.8]])
    assert m.model == "custom"
    with pytest.raises(ValueError, match="2x2 for 3 alleles"):
        mu.from_params("custom", ["1", "2", "3"], matrix=[[0.9, 0.1], [0.2, 0.8]])


@pytest.mark.parametrize("name,expected", [
    ("Equal", "equal"), ("Proportional", "proportional"), ("Stepwise", "stepwise"),
    ("Extended stepwise", "stepwise"), ("stepwise extended", "stepwise"),
    ("Stepwise (unstationary)", "stepwise"), ("Stepwise (stationary)", "stepwise-stationary"),
    ("step", "stepwise"), ("prop", "proportional"), ("onestep", "onestep"),
    ("Custom", "custom"), ("trivial", "trivial"),
])
def test_model_names(name, expected):
    assert mu.canonical_model_name(name) == expected


def test_from_params_familias_names():
    al, p = ["9", "10", "11"], [0.2, 0.3, 0.5]
    a = mu.from_params("Extended stepwise", al, p, rate=0.01, rate2=0.0, range=0.5)
    b = mu.stepwise(al, p, 0.01, 0.0, 0.5)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    s = mu.from_params("Stepwise (stationary)", al, p, rate=0.01, rate2=0.0, range=0.5)
    assert mu.is_stationary(s, p)


# --- stationarity ---------------------------------------------------------

def _naive_pm(m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Slow PM: stationary distribution from the eigenvector, then the row scaling."""
    w, vecs = np.linalg.eig(m.T)
    v = np.real(vecs[:, np.argmin(np.abs(w - 1))])
    v = v / v.sum()
    r = 1 - sum(m[i, i] * p[i] for i in range(len(p)))
    denom = 1 - sum(m[i, i] * v[i] for i in range(len(p)))
    s = np.array(m, dtype=float)
    for i in range(len(p)):
        d = r * v[i] / (denom * p[i])
        for j in range(len(p)):
            s[i, j] = d * m[i, j] if i != j else 1 - d * (1 - m[i, i])
    return s


def test_make_stationary_equal_model():
    al, p = ["10", "11", "12", "13"], np.array([0.1, 0.2, 0.3, 0.4])
    m = mu.equal(al, p, 0.01)
    assert not mu.is_stationary(m, p)
    s = mu.make_stationary(m, p)
    assert mu.is_stationary(s, p)
    # same expected mutation rate as the original
    assert s.expected_rate(p) == pytest.approx(m.expected_rate(p), rel=1e-12)
    np.testing.assert_allclose(s.matrix, _naive_pm(m.matrix, p), atol=1e-12)
    np.testing.assert_allclose(s.matrix.sum(axis=1), 1, atol=1e-12)


def test_make_stationary_of_stationary_is_identity_transform():
    al, p = ["1", "2", "3"], np.array([0.2, 0.3, 0.5])
    m = mu.proportional(al, p, 0.05)
    s = mu.make_stationary(m, p)
    np.testing.assert_allclose(s.matrix, m.matrix, atol=1e-12)


def test_make_stationary_impossible():
    al, p = ["1", "2"], np.array([0.001, 0.999])
    with pytest.raises(ValueError, match="PM stabilisation"):
        mu.make_stationary(mu.equal(al, p, 0.9), p)


# --- properties -----------------------------------------------------------

@st.composite
def _allele_sets(draw):
    ints = draw(st.lists(st.integers(3, 40), min_size=1, max_size=12, unique=True))
    micro = draw(st.lists(st.tuples(st.integers(3, 40), st.integers(1, 3)), max_size=5))
    labels = {str(i) for i in ints} | {f"{i}.{d}" for i, d in micro}
    als = sorted(labels, key=float)
    raw = draw(st.lists(st.floats(0.01, 1.0), min_size=len(als), max_size=len(als)))
    p = np.array(raw) / sum(raw)
    return als, p


rates = st.floats(0, 0.3)


@settings(max_examples=150, deadline=None)
@given(_allele_sets(), rates, rates, st.floats(0.01, 1.0))
def test_rows_sum_to_one(data, rate, rate2, rng):
    als, p = data
    ints = [a for a in als if "." not in a]
    models = [
        mu.equal(als, p, rate),
        mu.stepwise(als, p, rate, rate2, rng),
        mu.trivial(als),
    ]
    if ints:
        models.append(mu.onestep(ints, None, rate))
    with contextlib.suppress(ValueError):  # rate too large for these freqs: pedmut refuses too
        models.append(mu.proportional(als, p, rate))
    for m in models:
        assert np.all(m.matrix >= 0) and np.all(m.matrix <= 1)
        np.testing.assert_allclose(m.matrix.sum(axis=1), 1.0, atol=1e-12)
        mu.validate_matrix(m.matrix)


@settings(max_examples=100, deadline=None)
@given(_allele_sets(), st.floats(0.0001, 0.01))
def test_pm_is_stationary(data, rate):
    als, p = data
    m = mu.stepwise(als, p, rate, rate / 100, 0.5)
    try:
        s = mu.make_stationary(m, p)
    except ValueError:
        # a refusal must be a real one: the stationary distribution (an eigenvector here) and the
        # row scales d_i of Simonsson & Mostad (2016) would push a diagonal below 0
        w, vecs = np.linalg.eig(m.matrix.T)
        v = np.real(vecs[:, np.argmin(np.abs(w - 1))])
        v = v / v.sum()
        dm = np.diag(m.matrix)
        d = (1 - dm @ p) * v / ((1 - dm @ v) * p)
        assert np.any(d * (1 - dm) > 1 - 1e-9)
        return
    assert mu.is_stationary(s, p, rtol=1e-9)
    np.testing.assert_allclose(s.matrix.sum(axis=1), 1, atol=1e-12)
