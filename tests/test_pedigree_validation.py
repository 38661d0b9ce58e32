"""Pedigrees are validated at every entry point: cycles, self-parenthood, sex of parents.

The cycle check is compared with a brute-force one (is anyone their own ancestor?), and a cycle
is refused within a second by the genetics core, the engine, CSV case folders, Familias files and
pedsuite JSON (registry and web imports: tests/registry, tests/web).
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogtag.errors import DataFormatError, PedigreeError
from dogtag.genetics.elimination import topological
from dogtag.genetics.pedigree import Pedigree, find_cycle
from dogtag.io.csvcase import read_case_folder
from dogtag.io.familias import read_fam
from dogtag.io.pedsuite_json import read_json_case
from fuzz_readers import familias as _fam


def _own_ancestor(father: list[int], mother: list[int]) -> set[int]:
    """Brute force: members reachable from themselves by parent links."""
    out = set()
    for k in range(len(father)):
        seen, todo = set(), [p for p in (father[k], mother[k]) if p >= 0]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo += [p for p in (father[x], mother[x]) if p >= 0]
        if k in seen:
            out.add(k)
    return out


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-1, n - 1), min_size=n, max_size=n),
    st.lists(st.integers(-1, n - 1), min_size=n, max_size=n))))
def test_find_cycle_agrees_with_brute_force(parents: tuple[list[int], list[int]]) -> None:
    father, mother = parents
    cyc = find_cycle(father, mother)
    on_cycle = _own_ancestor(father, mother)
    assert bool(cyc) == bool(on_cycle)
    if cyc:
        assert cyc[0] == cyc[-1] and set(cyc) <= on_cycle
        for child, parent in itertools.pairwise(cyc):
            assert parent in (father[child], mother[child])


def test_two_parent_cycle_is_refused_and_named() -> None:
    # M1's parents are M2 and R1, M2's are M1 and R1: each member has two parents (the numpy
    # booleans once added to 1, and this cycle passed)
    with pytest.raises(PedigreeError, match=r"cycle.*M1 -> M2 -> M1") as err:
        Pedigree.from_table(["M1", "R1", "M2"], ["M2", None, "M1"], ["R1", None, "R1"],
                            ["male", "female", "male"])
    assert set(err.value.members) == {"M1", "M2"}
    with pytest.raises(PedigreeError, match="own parent: A"):
        Pedigree.from_table(["A", "B"], ["A", None], ["B", None], ["male", "female"])
    with pytest.raises(PedigreeError, match="B is male but mother of C"):
        Pedigree.from_table(["A", "B", "C"], [None, None, "A"], [None, None, "B"], ["male", "male", "male"])


def test_engine_guards_itself() -> None:
    # the trusting constructor lets a cycle through; the elimination refuses it instead of looping
    ped = Pedigree(("A", "B", "C"), np.array([1, 0, -1]), np.array([2, 2, -1]), np.array([1, 1, 2], np.int8))
    t0 = time.process_time()
    with pytest.raises(PedigreeError, match="cycle"):
        topological(tuple(int(x) for x in ped.father), tuple(int(x) for x in ped.mother))
    assert time.process_time() - t0 < 1.0


CASE_HEADER = '"role","family","id","father","mother","sex","missing_person"\n'


def _case_folder(root: Path, m1_parents: tuple[str, str]) -> Path:
    root.mkdir()
    (root / "pedigrees.csv").write_text(
        CASE_HEADER + '"pm","V1","V1","","","male",FALSE\n'
        f'"am","F1","M1","{m1_parents[0]}","{m1_parents[1]}","male",TRUE\n'
        '"am","F1","R1","","","female",FALSE\n'
        '"am","F1","M2","M1","R1","male",FALSE\n')
    (root / "genotypes.csv").write_text('"family","id","marker","allele1","allele2"\n'
                                        '"V1","V1","TH01","6","7"\n"F1","M2","TH01","6","6"\n')
    (root / "frequencies.csv").write_text('"marker","allele","frequency"\n"TH01","6","0.4"\n"TH01","7","0.6"\n')
    return root


def test_case_folder_cycle_is_refused(tmp_path: Path) -> None:
    read_case_folder(_case_folder(tmp_path / "ok", ("", "")))  # the positive control reads
    t0 = time.process_time()
    with pytest.raises(DataFormatError, match=r"pedigrees.csv, line 3: family F1: .*cycle.*M1 -> M2 -> M1"):
        read_case_folder(_case_folder(tmp_path / "cyc", ("M2", "R1")))
    assert time.process_time() - t0 < 1.0


def test_familias_cycle_is_refused(tmp_path: Path) -> None:
    ok = tmp_path / "ok.fam"
    ok.write_text(_fam([(0, 2), (1, 2)]))
    assert [h.name for h in read_fam(ok).hypotheses] == ["H1", "H2"]
    bad = tmp_path / "cyc.fam"
    bad.write_text(_fam([(0, 2), (1, 2), (2, 0)]))
    t0 = time.process_time()
    with pytest.raises(DataFormatError, match=r"cyc.fam, line \d+: pedigree 'H1': .*AF -> CH -> AF"):
        read_fam(bad)
    assert time.process_time() - t0 < 1.0


def _json_case(ped: list[dict[str, object]]) -> dict[str, object]:
    return {"markers": [{"name": "TH01", "alleles": ["6", "7"], "freqs": [0.4, 0.6]}],
            "hypotheses": [{"name": "H1", "pedigree": ped},
                           {"name": "H2", "pedigree": [{"id": "A", "sex": 1}, {"id": "B", "sex": 2},
                                                       {"id": "C", "sex": 1}]}],
            "genotypes": {"C": {"TH01": ["6", "7"]}}}


def test_pedsuite_json_cycle_is_refused(tmp_path: Path) -> None:
    rows = [{"id": "A", "fid": None, "mid": None, "sex": 1}, {"id": "B", "fid": None, "mid": None, "sex": 2},
            {"id": "C", "fid": "A", "mid": "B", "sex": 1}]
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(_json_case(rows)))
    read_json_case(ok)
    rows[0] = {"id": "A", "fid": "C", "mid": "B", "sex": 1}
    bad = tmp_path / "cyc.json"
    bad.write_text(json.dumps(_json_case(rows)))
    t0 = time.process_time()
    with pytest.raises(DataFormatError, match=r"cyc.json.*cycle.*A -> C -> A"):
        read_json_case(bad)
    assert time.process_time() - t0 < 1.0
