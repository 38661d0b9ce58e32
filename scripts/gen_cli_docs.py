"""Write docs/cli.md, the CLI reference, from every command's --help.

Usage: python scripts/gen_cli_docs.py [--check]
With --check, exit 1 (and write nothing) when docs/cli.md is out of date.
Run it after adding or changing a command; tests/test_cli_docs.py fails until you do.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import click  # noqa: E402

from dogtag.cli import COMMANDS, cli  # noqa: E402

OUT = ROOT / "docs" / "cli.md"
WIDTH = 100


def _help(cmd: click.Command, name: str, parent: click.Context) -> str:
    ctx = click.Context(cmd, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)
    return cmd.get_help(ctx)


def _section(cmd: click.Command, path: list[str], parent: click.Context, level: int) -> list[str]:
    title = " ".join(path)
    out = [f"{'#' * level} `{title}`", "", "```text", _help(cmd, path[-1], parent), "```", ""]
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)
        for sub in sorted(cmd.list_commands(ctx)):
            sc = cmd.get_command(ctx, sub)
            if sc is not None:
                out += _section(sc, [*path, sub], ctx, min(level + 1, 4))
    return out


def render() -> str:
    root = click.Context(cli, info_name="dogtag", terminal_width=WIDTH, max_content_width=WIDTH,
                         **cli.context_settings)
    lines = ["# CLI reference", "",
             "Generated from `--help` by `scripts/gen_cli_docs.py`; do not edit by hand.", "",
             "```text", cli.get_help(root), "```", ""]
    for name in sorted(COMMANDS):
        cmd = cli.get_command(root, name)
        assert cmd is not None
        lines += _section(cmd, ["dogtag", name], root, 2)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date; run: python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
