"""The suite's own rules: under CI=true a skip fails the run; an empty parameter list is an error."""

from __future__ import annotations

import pytest

from conftest import ROOT

pytest_plugins = ["pytester"]

SKIPS = """
import pytest

def test_runs():
    pass

@pytest.mark.postgres
def test_needs_a_server():
    pytest.skip("DOGTAG_TEST_POSTGRES_URL is not set")

@pytest.mark.xfail(reason="known")
def test_known_failure():
    assert False
"""


def _run(pytester: pytest.Pytester, ci: str | None, *args: str) -> pytest.RunResult:
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    if ci is None:
        pytester._monkeypatch.delenv("CI", raising=False)
    else:
        pytester._monkeypatch.setenv("CI", ci)
    return pytester.runpytest_subprocess("-c", str(ROOT / "pyproject.toml"), "--rootdir", str(pytester.path),
                                         "-p", "no:cacheprovider", *args, str(pytester.path))


def test_a_skip_fails_under_ci(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_skips=SKIPS)
    res = _run(pytester, "true")
    res.assert_outcomes(passed=1, errors=0, failed=1, xfailed=1)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*skipped under CI=true*DOGTAG_TEST_POSTGRES_URL is not set*"])


def test_a_skip_is_a_skip_outside_ci(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_skips=SKIPS)
    res = _run(pytester, None)
    res.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert res.ret == pytest.ExitCode.OK


def test_a_module_skip_fails_under_ci(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mod='import pytest\npytest.importorskip("no_such_module_here")\n\n'
                                 'def test_x():\n    pass\n')
    res = _run(pytester, "true")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*the skips above are failures*"])


def test_an_empty_parameter_list_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_empty='import pytest\n\n@pytest.mark.parametrize("case", [])\n'
                                   'def test_case(case):\n    pass\n')
    res = _run(pytester, None)
    assert res.ret == pytest.ExitCode.INTERRUPTED
    res.stdout.fnmatch_lines(["*Empty parameter set*"])
