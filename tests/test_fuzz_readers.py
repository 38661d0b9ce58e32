"""Fuzzing every reader (hypothesis): only the project's own errors escape, nothing hangs.

The seeds read cleanly (the positive control); random bytes and mutated seeds (flipped, deleted,
inserted bytes: CSV and JSON syntax, NUL, bad UTF-8, huge numbers) either read or raise a
:class:`DogtagError`. The registry imports are fuzzed in tests/registry/test_import_validation.py
(there the database must also be unchanged); the long run is benchmarks/fuzz.py.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dogtag.errors import DogtagError
from fuzz_readers import mutate, readers

READERS = readers()


@pytest.mark.parametrize("name", sorted(READERS))
def test_seed_reads(name: str, tmp_path: Path) -> None:
    seed, suffix, read = READERS[name]
    path = tmp_path / f"seed{suffix}"
    path.write_bytes(seed)
    read(path)


def _read(name: str, data: bytes, folder: Path) -> None:
    _, suffix, read = READERS[name]
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(DogtagError):
        read(path)


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_input_raises_only_data_errors(name: str, seed: int, tmp_path: Path) -> None:
    _read(name, mutate(READERS[name][0], random.Random(seed)), tmp_path)


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_data_errors(name: str, data: bytes, tmp_path: Path) -> None:
    _read(name, data, tmp_path)
