"""The ``dogtag`` command: one thin subcommand per use case.

Subcommands live in sibling modules and are imported only when invoked, so
``dogtag --help`` stays fast. Errors in user data (:class:`DogtagError`) are
turned into a one-line message and a non-zero exit here, at the edge.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from dogtag import __version__
from dogtag.cli.warn import collected_warnings
from dogtag.errors import DogtagError

# Set before NumPy loads (nothing above imports it: tests/test_cli_env.py), unless the user
# chose otherwise:
# - NumPy advises the kernel to back each array of 4 MiB or more with huge pages; where the
#   kernel's transparent huge pages "defrag" setting is madvise (a common default) and memory is
#   fragmented, each such page fault stalls on compaction (numpy/numpy#31590): the search's
#   short-lived tables then cost more system time than the arithmetic (10,000 x 10,000: 5-8 s
#   of 15-20 s CPU measured here, 1.4 s without the advice).
# - The commands run their own threads (--threads); OpenBLAS's threads, waiting busy between
#   calls, would compete with them for the same cores.
for _name, _value in (("NUMPY_MADVISE_HUGEPAGE", "0"), ("OPENBLAS_NUM_THREADS", "1")):
    os.environ.setdefault(_name, _value)

# name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "lr": "dogtag.cli.kinship:lr",
    "dvi": "dogtag.cli.dvi:dvi",
    "examples": "dogtag.cli.examples:examples",
    "init": "dogtag.cli.registry:init",
    "import": "dogtag.cli.registry:import_",
    "stats": "dogtag.cli.registry:stats",
    "verify": "dogtag.cli.registry:verify",
    "anchor": "dogtag.cli.registry:anchor_",
    "custody": "dogtag.cli.custody:custody",
    "export": "dogtag.cli.registry:export",
    "user": "dogtag.cli.registry:user",
    "search": "dogtag.cli.search:search",
    "mito": "dogtag.cli.lineage:mito",
    "ystr": "dogtag.cli.lineage:ystr",
    "serve": "dogtag.cli.web:serve",
    "simulate": "dogtag.cli.scenario:simulate",
    "validate": "dogtag.cli.validate:validate",
    "demo": "dogtag.cli.scenario:demo",
    "commingle": "dogtag.cli.commingle:commingle",
    "sorting": "dogtag.cli.sorting:sorting",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        cmd: click.Command = getattr(importlib.import_module(module), attr)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dogtag")
def cli() -> None:
    """dogtag: accounting for the missing, from registry to DNA identification."""


def main(argv: list[str] | None = None) -> Any:
    try:
        with collected_warnings():
            return cli.main(args=argv, prog_name="dogtag", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DogtagError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        click.echo(f"Error: {exc.strerror}: {exc.filename}", err=True)
        sys.exit(2)
