"""The ``dogtag`` command's process settings for NumPy and OpenBLAS (see dogtag/cli/__init__.py):
made before NumPy loads, and a user's own choice kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CODE = ("import json, os, sys; import dogtag.cli; loaded = 'numpy' in sys.modules; import numpy; "
        "from numpy._core.multiarray import _get_madvise_hugepage; "
        "print(json.dumps([loaded, os.environ['NUMPY_MADVISE_HUGEPAGE'], os.environ['OPENBLAS_NUM_THREADS'], "
        "_get_madvise_hugepage()]))")


def _run(**env: str) -> list:
    base = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", CODE], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_settings_are_made_before_numpy_loads():
    # NumPy read the setting when it loaded: no huge-page advice in this process
    assert _run() == [False, "0", "1", False]


def test_a_users_own_settings_are_kept():
    assert _run(NUMPY_MADVISE_HUGEPAGE="1", OPENBLAS_NUM_THREADS="3")[:3] == [False, "1", "3"]
