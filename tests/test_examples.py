"""Every example runs verbatim: those of each command's --help, of the README and of docs/.

The examples are collected, not listed, so a new one is tested as soon as it is written:

- from each command's help, the commands after ``Example:`` / ``Examples:`` (lines ending in a
  backslash continue);
- from README.md and docs/*.md (docs/cli.md is the help again), every line of a fenced code block
  that runs ``dogtag``.

The examples of one help text or one document run in order, in a fresh empty folder with an empty
data directory, as a user who has just cloned the project would type them: each through bash,
with ``dogtag`` on the PATH. Each must exit 0 without a traceback. A command that serves the
workbench (``dogtag serve``, ``dogtag demo`` without ``--no-serve``) must answer HTTP on its port,
then stop cleanly on Ctrl-C. Password prompts read a fixed password from standard input.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from dogtag.cli import COMMANDS, cli

from conftest import ROOT

BIN = Path(sys.executable).parent
PASSWORD = "example-password-1"
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
EXAMPLE = re.compile(r"\bExamples?:\s*(.*)$")


def _commands(lines: list[str]) -> list[str]:
    """Join backslash continuations."""
    out: list[str] = []
    buf = ""
    for line in lines:
        s = line.strip()
        if s.endswith("\\"):
            buf += s[:-1].rstrip() + " "
            continue
        out.append(buf + s)
        buf = ""
    if buf:
        out.append(buf.strip())
    return [c for c in out if c]


def help_examples(text: str) -> list[str]:
    """The example commands of one help text (click's docstring, ``\\b`` markers included)."""
    lines = [ln for ln in text.splitlines() if ln.strip() != "\b"]
    found: list[str] = []
    k = 0
    while k < len(lines):
        m = EXAMPLE.search(lines[k])
        if not m:
            k += 1
            continue
        block = [m.group(1)] if m.group(1) else []
        k += 1
        # an inline example continues only by backslash; a block runs to the next blank line
        while k < len(lines) and lines[k].strip() and (not block or block[-1].rstrip().endswith("\\")
                                                         or lines[k].startswith((" ", "\t"))):
            block.append(lines[k])
            k += 1
        found += _commands(block)
    return found


def _all_commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = [("dogtag", cli)]
    ctx = click.Context(cli, info_name="dogtag")
    for name in sorted(COMMANDS):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        out.append((f"dogtag {name}", cmd))
        if isinstance(cmd, click.Group):
            sub_ctx = click.Context(cmd, info_name=name, parent=ctx)
            for sub in sorted(cmd.list_commands(sub_ctx)):
                sc = cmd.get_command(sub_ctx, sub)
                assert sc is not None
                out.append((f"dogtag {name} {sub}", sc))
    return out


RUNS_DOGTAG = re.compile(r"^(\w+=\S*\s+)*(\.venv/bin/)?dogtag(\s|$)")


def doc_examples(text: str) -> list[str]:
    """The dogtag command lines of a Markdown text's fenced code blocks."""
    found: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if block is not None:
                found += [c.removeprefix("$ ") for c in _commands(block)]
            block = None if block is not None else []
            continue
        if block is not None:
            block.append(line)
    return [c for c in found if RUNS_DOGTAG.match(c) or c.startswith("cd ")]


def _sources() -> list[tuple[str, list[str]]]:
    out = [(f"help: {name}", help_examples(cmd.help or "")) for name, cmd in _all_commands()]
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    out += [(f"doc: {p.relative_to(ROOT)}", doc_examples(p.read_text(encoding="utf-8")))
            for p in docs if p.name != "cli.md"]  # docs/cli.md is the help, generated
    return [(name, cmds) for name, cmds in out if cmds]


SOURCES = _sources()
# Examples that do not run yet, with the reason. Strict: once one runs, this test fails until it
# is taken off the list. They are reported as xfailed, never skipped.
NOT_YET = {
}


def test_examples_are_found():
    by = dict(SOURCES)
    # every command documents itself with an example
    for name, _ in _all_commands():
        if name != "dogtag":
            assert f"help: {name}" in by or any(s.startswith(f"help: {name} ") for s in by), \
                f"{name} has no example"
    assert "doc: docs/howto.md" in by and "doc: docs/lineage.md" in by
    assert set(NOT_YET) <= set(by), "an example source listed in NOT_YET is gone: take it off"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOGTAG_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
               COLUMNS="100", NO_COLOR="1")
    return env


def _serves(line: str) -> int | None:
    """The port a command serves the workbench on, or None if it does not serve."""
    words = shlex.split(line, comments=True)
    if "dogtag" not in words:
        return None
    cmd = words[words.index("dogtag") + 1:]
    if not cmd or cmd[0] not in ("serve", "demo") or "--no-serve" in cmd:
        return None
    return int(cmd[cmd.index("--port") + 1]) if "--port" in cmd else 8000


def _serve(line: str, port: int, cwd: Path, env: dict[str, str], timeout: float) -> None:
    proc = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert status in (200, 303), f"{line}: no answer on port {port}\n{err[-3000:]}"
    assert proc.returncode == 0 and "Traceback" not in err, f"{line}: exit {proc.returncode}\n{err[-3000:]}"


@pytest.mark.parametrize("source,commands", [
    pytest.param(s, c, marks=[pytest.mark.xfail(reason=NOT_YET[s], strict=True)] if s in NOT_YET else [])
    for s, c in SOURCES], ids=[s for s, _ in SOURCES])
def test_examples_run_verbatim(source: str, commands: list[str], tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = _env(tmp_path / "home")
    for line in commands:
        words = shlex.split(line, comments=True)
        if words[:1] == ["cd"]:
            cwd = (cwd / words[1]).resolve()
            continue
        port = _serves(line)
        if port is not None:
            _serve(line, port, cwd, env, timeout=600)
            continue
        r = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env,
                           input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True,
                           timeout=900, start_new_session=True)
        assert r.returncode == 0, f"{source}: `{line}` exited {r.returncode}\n{r.stderr[-3000:]}"
        assert "Traceback" not in r.stderr, f"{source}: `{line}`\n{r.stderr[-3000:]}"


def test_the_example_list_is_the_example_folder() -> None:
    from dogtag.data.examples import EXAMPLES

    folder = ROOT / "src" / "dogtag" / "data" / "examples"
    shipped = {p.name for p in folder.iterdir() if not p.name.startswith(("_", ".")) and p.name != "PROVENANCE.md"}
    assert set(EXAMPLES) == shipped
    provenance = (folder / "PROVENANCE.md").read_text()
    assert all(f"`{name}" in provenance for name in EXAMPLES)


def test_examples_copy_refuses_to_overwrite(tmp_path: Path) -> None:
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["examples", "copy", "planecrash", "danes.txt", "--to", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "planecrash").iterdir()) == [
        "frequencies.csv", "genotypes.csv", "mutation_models.csv", "pedigrees.csv"]
    (tmp_path / "danes.txt").write_text("mine")
    res = CliRunner().invoke(cli, ["examples", "copy", "danes.txt", "--to", str(tmp_path)])
    assert res.exit_code != 0 and "already exist" in res.output
    assert (tmp_path / "danes.txt").read_text() == "mine"
    res = CliRunner().invoke(cli, ["examples", "copy", "danes.txt", "--to", str(tmp_path), "--force"])
    assert res.exit_code == 0 and (tmp_path / "danes.txt").read_text().startswith("DYS19")
