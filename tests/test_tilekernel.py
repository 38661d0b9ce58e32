"""The compiled tile kernel against the NumPy path it replaces: the same kept pairs, log LRs
(bit for bit), exclusions and evidence, on clean, degraded, half-typed and untyped samples,
sexes, theta, lineage evidence, ties and the min_lr extras (and its fallback past them)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import dogtag.identify.search as search
from dogtag.identify.case import DVICase
from dogtag.identify.search import blind_search, family_batch, sample_batch, tile, tile_top
from dogtag.identify.tilekernel import EXTRA
from dogtag.io.csvcase import read_case_folder
from dogtag.io.pedsuite_json import read_dvi_json

from conftest import GOLDEN
from test_dvi_lineage import mixed_case


def _hard_case() -> DVICase:
    """scale200 (200 x 200) made hard for the kernel: every 5th sample degraded, every 7th
    half-typed at one marker, every 11th untyped at two, every 13th of unknown sex, and two
    families repeated under new names (columns with equal LRs: ties broken by column)."""
    case = read_dvi_json(GOLDEN / "synthetic" / "scale200.json")
    pm = []
    for i, s in enumerate(case.pm):
        g = dict(s.genotypes)
        names = list(g)
        if i % 5 == 1:
            s = dataclasses.replace(s, dropout=0.15, dropin=0.02 if i % 10 == 1 else 0.0)
        if i % 7 == 2:
            g[names[0]] = (g[names[0]][0], None)
        if i % 11 == 3:
            for n in names[1:3]:
                g.pop(n)
        s = dataclasses.replace(s, genotypes=g, sex=0 if i % 13 == 4 else s.sex)
        pm.append(s)
    am = [*case.am, dataclasses.replace(case.am[3], name="copy3"), dataclasses.replace(case.am[0], name="copy0")]
    return dataclasses.replace(case, pm=pm, am=am)


def _same(a: search.Candidates, b: search.Candidates) -> None:
    for f in search.Candidates._FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def _kernel_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the compiled path falls back to the NumPy tile."""
    def boom(*a, **k):
        raise AssertionError("the NumPy tile was used")
    monkeypatch.setattr(search, "_tile_log_lr", boom)


def _numpy_first(monkeypatch: pytest.MonkeyPatch, case: DVICase, **kw) -> search.SearchResult:
    """The blind search by the NumPy path; afterwards the compiled path is on, and must not fall back."""
    monkeypatch.setattr(search, "COMPILED", False)
    want = blind_search(case, **kw)
    monkeypatch.setattr(search, "COMPILED", True)
    _kernel_only(monkeypatch)
    return want


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("top,min_lr", [(1, None), (3, 1e3), (7, 1.0)])
def test_kernel_equals_numpy_tiles(monkeypatch, theta, top, min_lr):
    case = _hard_case()
    fb = family_batch(case.am, case.markers, theta=theta)
    min_log = search._min_log(min_lr)
    for lo, hi in [(0, 64), (64, 150), (150, 200)]:
        rows = sample_batch(case.pm[lo:hi], case.markers, theta)
        want = tile_top(rows, fb, row0=lo, col0=5, top=top, min_log=min_log, compiled=False)
        full = tile(rows, fb)[0]
        with monkeypatch.context() as mp:
            if min_lr != 1.0:    # LR >= 1 keeps more pairs per row than the kernel holds: the fallback
                _kernel_only(mp)
            got = tile_top(rows, fb, row0=lo, col0=5, top=top, min_log=min_log, compiled=True)
            blocks = search.column_blocks(fb, 37)    # cut into blocks: the same pairs
            got_blocks = tile_top(rows, blocks, row0=lo, col0=5, top=top, min_log=min_log, compiled=True)
        _same(got, want)
        _same(got_blocks, want)
        # and the kept pairs are the full tile's best (by a slow, obvious ranking) and all >= min_lr
        for r in range(hi - lo):
            vals = full[r]
            order = sorted((j for j in range(vals.size) if not np.isnan(vals[j])), key=lambda j: (-vals[j], j))
            expect = set(order[:top]) | {j for j in order if vals[j] >= min_log}
            mine = got.col[got.row == lo + r] - 5
            assert set(mine.tolist()) == expect
            assert all(got.log_lr[(got.row == lo + r)] == vals[mine])
    assert (got.exclusions > 0).any() or theta > 0


@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_kernel_blind_search_equals_numpy_with_threads(monkeypatch, theta):
    # blind_search's kernel path (identify.topsearch: samples read once, the degraded samples'
    # log terms made once per distinct observation, the families' tables written stacked)
    case = _hard_case()
    want = _numpy_first(monkeypatch, case, top=4, min_lr=1e2, chunk=37, theta=theta)
    got = blind_search(case, top=4, min_lr=1e2, chunk=37, workers=2, theta=theta)
    assert got.candidates == want.candidates and got.candidate_evidence == want.candidate_evidence
    assert got.family_loglik == want.family_loglik
    np.testing.assert_array_equal(got.sample_loglik, want.sample_loglik)
    # the repeated families tie with their originals: the lower column comes first
    ties = [(sid, c) for sid, c in got.candidates.items()
            if len(c) > 1 and c[0][1] == c[1][1] and np.isfinite(c[0][1])]
    assert ties and all(c[0][0] < c[1][0] for _, c in ties)


def test_overflowing_rows_fall_back_to_numpy_with_the_same_result(monkeypatch):
    case = _hard_case()
    rows = sample_batch(case.pm[:40], case.markers)
    fb = family_batch(case.am, case.markers)
    low = -50.0       # far more than EXTRA pairs per row are kept
    calls = []
    real = search._tile_log_lr
    monkeypatch.setattr(search, "_tile_log_lr", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = tile_top(rows, fb, row0=0, col0=0, top=2, min_log=low, compiled=True)
    assert calls
    want = tile_top(rows, fb, row0=0, col0=0, top=2, min_log=low, compiled=False)
    _same(got, want)
    assert np.bincount(got.row).max() > EXTRA


def test_kernel_with_lineage_evidence_equals_numpy(tmp_path, monkeypatch):
    case = read_case_folder(mixed_case(tmp_path / "case"))
    want = _numpy_first(monkeypatch, case, top=2, min_lr=10.0)
    got = blind_search(case, top=2, min_lr=10.0)
    assert got.candidates == want.candidates and got.candidate_evidence == want.candidate_evidence
    assert any(e & 6 for ev in got.candidate_evidence.values() for e in ev)   # mtDNA or Y evidence in


def test_sabotaged_kernel_is_caught(monkeypatch):
    # the comparison above fails when the kernel's arithmetic changes by one ulp
    case = _hard_case()
    rows = sample_batch(case.pm[:30], case.markers)
    fb = family_batch(case.am, case.markers)
    want = tile_top(rows, fb, row0=0, col0=0, top=2, min_log=math.inf, compiled=False)
    stack = search._stacked(fb)[0]
    stack[np.isfinite(stack) & (stack != 0)] *= 1 + 2 ** -52
    got = tile_top(rows, fb, row0=0, col0=0, top=2, min_log=math.inf, compiled=True)
    assert not np.array_equal(got.log_lr, want.log_lr)


def test_a_stacked_batch_pickles_once_and_restacks_where_it_lands():
    import pickle

    case = _hard_case()
    fb = family_batch(case.am[:40], case.markers)
    plain = len(pickle.dumps(fb, protocol=5))
    search._stacked(fb)
    again = pickle.loads(pickle.dumps(fb, protocol=5))
    assert len(pickle.dumps(fb, protocol=5)) < 1.1 * plain       # the stack does not travel
    assert not hasattr(again, "_stack")
    rows = sample_batch(case.pm[:50], case.markers)
    _same(tile_top(rows, again, row0=0, col0=0, top=3, min_log=5.0),
          tile_top(rows, fb, row0=0, col0=0, top=3, min_log=5.0, compiled=False))


def test_blind_search_blocks_past_the_kernels_extras_take_the_numpy_path(monkeypatch):
    case = _hard_case()
    monkeypatch.setattr(search, "COMPILED", False)
    want = blind_search(case, top=2, min_lr=1e-22, chunk=50)
    monkeypatch.setattr(search, "COMPILED", True)
    calls = []
    real = search._tile_log_lr
    monkeypatch.setattr(search, "_tile_log_lr", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = blind_search(case, top=2, min_lr=1e-22, chunk=50, workers=2)
    assert calls and got.candidates == want.candidates and got.candidate_evidence == want.candidate_evidence
    assert max(len(c) for c in got.candidates.values()) > EXTRA


def test_sabotaged_soft_terms_are_caught(monkeypatch):
    # the degraded samples' log terms by one ulp: the blind search no longer equals the NumPy path
    from dogtag.identify import topsearch

    case = _hard_case()
    monkeypatch.setattr(search, "COMPILED", False)
    want = blind_search(case, top=3, min_lr=1e2)
    monkeypatch.setattr(search, "COMPILED", True)
    real = topsearch.soft_terms

    def nudged(*a, **k):
        si, num, den = real(*a, **k)
        num[np.isfinite(num) & (num != 0)] *= 1 + 2 ** -52
        return si, num, den

    monkeypatch.setattr(topsearch, "soft_terms", nudged)
    got = blind_search(case, top=3, min_lr=1e2)
    degraded = {s.id for s in case.pm if s.dropout > 0}
    assert any(got.candidates[sid] != want.candidates[sid] for sid in degraded)
    assert all(got.candidates[s.id] == want.candidates[s.id] for s in case.pm
               if s.id not in degraded and all(None not in g for g in s.genotypes.values()))


def test_sample_rows_equal_a_batch_of_those_samples():
    case = _hard_case()
    every = sample_batch(case.pm, case.markers)
    for lo, hi in [(0, 37), (37, 120), (120, 200), (5, 5)]:
        got, want = search.sample_rows(every, lo, hi), sample_batch(case.pm[lo:hi], case.markers)
        np.testing.assert_array_equal(got.sex, want.sex)
        np.testing.assert_array_equal(got.loglik, want.loglik)
        for a, b in zip(got.views, want.views, strict=True):
            for f in ("typed", "clean_g", "soft_rows", "log_hw"):
                np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
            assert (a.soft is None) == (b.soft is None)
            if a.soft is not None:
                assert (a.soft != b.soft).nnz == 0 and a.soft.shape == b.soft.shape


@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_families_in_threads_equal_one_thread(theta):
    # the families cut into parts, one per thread, each written into its columns of the batch
    # (and of the kernel's stacked tables): the same batch as in one piece, bit for bit
    case = _hard_case()
    case = dataclasses.replace(case, am=case.am[:57])
    want, want_ll = search._family_work(case, theta, 1, None)
    for workers, stacked in [(2, True), (3, False), (57, True), (80, False)]:
        got, got_ll = search._family_work(case, theta, workers, None, stacked=stacked)
        assert got_ll == want_ll
        for name in ("cond", "logp", "support", "cond_unrelated", "logp_unrelated"):
            a, b = getattr(got, name), getattr(want, name)
            assert (a is None) == (b is None) and (a is None) == (name.endswith("unrelated") and theta == 0)
            for x, y in zip(a or [], b or [], strict=True):
                np.testing.assert_array_equal(x, y, err_msg=name)
        np.testing.assert_array_equal(got.typed, want.typed)
        np.testing.assert_array_equal(got.sex, want.sex)
        if stacked:
            st = search._stacked(got)
            np.testing.assert_array_equal(st[0], np.concatenate(want.logp))
            if theta:
                np.testing.assert_array_equal(st[1], np.concatenate(want.logp_unrelated))


@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_blind_search_in_chunks_of_columns_equals_numpy(monkeypatch, theta):
    # the degraded observations' log terms bounded: the columns run in chunks (here of 37 and
    # of 1), each through every block of samples, the rows' pairs kept across them
    from dogtag.identify import topsearch

    case = _hard_case()
    want = _numpy_first(monkeypatch, case, top=3, min_lr=1e2, chunk=64, theta=theta)
    E = topsearch._observations(sample_batch(case.pm, case.markers, theta))[2]
    calls = []
    real = topsearch.soft_terms
    monkeypatch.setattr(topsearch, "soft_terms", lambda *a: calls.append(a[3:]) or real(*a))
    for floats, width, chunks in [(37 * E, 37, 6), (E, 1, 202)]:
        monkeypatch.setattr(topsearch, "SOFT_FLOATS", floats)
        calls.clear()
        got = blind_search(case, top=3, min_lr=1e2, chunk=64, workers=2, theta=theta)
        assert len(calls) == chunks and calls[0] == (0, width)
        assert got.candidates == want.candidates and got.candidate_evidence == want.candidate_evidence


def test_lineage_in_chunks_of_columns_equals_numpy(tmp_path, monkeypatch):
    from dogtag.identify import topsearch

    case = read_case_folder(mixed_case(tmp_path / "case"))
    case = dataclasses.replace(case, pm=[dataclasses.replace(s, dropout=0.1) if i % 2 else s
                                         for i, s in enumerate(case.pm)])
    want = _numpy_first(monkeypatch, case, top=2, min_lr=10.0)
    monkeypatch.setattr(topsearch, "SOFT_FLOATS", 1)
    calls = []
    real = topsearch.soft_terms
    monkeypatch.setattr(topsearch, "soft_terms", lambda *a: calls.append(a[3:]) or real(*a))
    got = blind_search(case, top=2, min_lr=10.0, chunk=3)
    assert len(calls) == sum(len(f.missing) for f in case.am) > 1     # a chunk per column
    assert got.candidates == want.candidates and got.candidate_evidence == want.candidate_evidence
