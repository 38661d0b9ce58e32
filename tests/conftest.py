"""Shared fixtures and the test data's places (all inside the repository).

``DATA`` holds copies of public reference data and ``GOLDEN`` the reference tools' outputs
(see tests/data/PROVENANCE.md); ``EXAMPLES`` is the package's shipped example folder, reused
rather than copied.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
GOLDEN = DATA / "golden"
EXAMPLES = ROOT / "src" / "dogtag" / "data" / "examples"
KINSHIP = ["paternity.kinship", "threegen.kinship"]


@pytest.fixture(autouse=True, scope="session")
def _ledger_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One ledger key per test session, in a temporary folder (never the user's own)."""
    from dogtag.registry.keys import KEY_ENV

    os.environ[KEY_ENV] = str(tmp_path_factory.mktemp("ledger-key") / "ledger.key")


def kinship_case(name: str) -> tuple[Path, Path]:
    """The shipped kinship case ``name`` and its golden pedsuite results."""
    return EXAMPLES / f"{name}.json", GOLDEN / "kinship" / f"{name}.results.json"


def strict() -> bool:
    """Under ``CI=true`` (set by scripts/test and .ci/run) a skipped test is a failure."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if strict() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which runs everything: {reason}"
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # skips outside a test (a module-level importorskip) count too
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if strict() and reporter is not None and reporter.stats.get("skipped") \
            and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if strict() and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line("CI=true: the skips above are failures (CI runs everything)", red=True)
