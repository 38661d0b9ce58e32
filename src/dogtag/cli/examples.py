"""``dogtag examples``: list the shipped example files, or copy them where a user can run them."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import click

from dogtag.data.examples import EXAMPLES


def _copy(src: Traversable, dest: Path) -> None:
    if src.is_dir():
        dest.mkdir()
        for child in sorted(src.iterdir(), key=lambda t: t.name):
            if not child.name.startswith(("_", ".")):
                _copy(child, dest / child.name)
    else:
        dest.write_bytes(src.read_bytes())


@click.group("examples", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="List as JSON.")
@click.pass_context
def examples(ctx: click.Context, as_json: bool) -> None:
    """List the example files shipped with dogtag; `dogtag examples copy NAME` copies one here.

    Origin and licence of each are in the package's data/examples/PROVENANCE.md.

    \b
    Examples:
      dogtag examples
      dogtag examples copy planecrash paternity.fam
      dogtag dvi planecrash/
    """
    if ctx.invoked_subcommand is not None:
        return
    if as_json:
        click.echo(json.dumps(EXAMPLES, indent=2))
        return
    width = max(len(n) for n in EXAMPLES)
    for name, what in EXAMPLES.items():
        click.echo(f"{name:<{width}}  {what}")


@examples.command("copy")
@click.argument("names", nargs=-1, required=True, metavar="NAME...", type=click.Choice([*EXAMPLES, "all"]))
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to copy into (made if absent).")
@click.option("--force", is_flag=True, help="Replace files of the same name.")
def copy(names: tuple[str, ...], folder: Path, force: bool) -> None:
    """Copy example files (a folder for a CSV case) into a folder, the current one by default.

    \b
    Examples:
      dogtag examples copy paternity.fam
      dogtag examples copy all --to examples
    """
    chosen = list(EXAMPLES) if "all" in names else list(dict.fromkeys(names))
    base = resources.files("dogtag.data.examples")
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / n for n in chosen]
    clash = [str(t) for t in targets if t.exists()]
    if clash and not force:
        raise click.ClickException(f"{', '.join(clash)} already exist(s); --force replaces")
    for name, dest in zip(chosen, targets, strict=True):
        if dest.is_dir():
            shutil.rmtree(dest)
        elif dest.exists():
            dest.unlink()
        _copy(base / name, dest)
        click.echo(f"{dest}{'/' if dest.is_dir() else ''}")
