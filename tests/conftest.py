"""Shared fixtures. ``SHARED`` is the project's shared folder (data and golden outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOGTAG_SHARED") or ROOT.parent / "shared")
GOLDEN = SHARED / "golden"
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED} (set DOGTAG_SHARED)")
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _ledger_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One ledger key per test session, in a temporary folder (never the user's own)."""
    from dogtag.registry.keys import KEY_ENV

    os.environ[KEY_ENV] = str(tmp_path_factory.mktemp("ledger-key") / "ledger.key")
