"""Warnings at the command line: collected while a command runs, printed once at the end, grouped.

A search over thousands of samples can raise the same kind of warning many times (an allele
missing from the frequency database, in each family that carries it); the user reads each kind
once, with its count and a few examples, not one line with source code per occurrence.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
EXAMPLES = 3


def kind_of(message: str) -> str:
    """The message with its particulars (quoted names, numbers) blanked: one kind per template."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", message))


def grouped(messages: list[tuple[str, str]]) -> list[str]:
    """Lines for ``(category, message)`` pairs: each kind once, in order of first appearance."""
    kinds: dict[tuple[str, str], dict[str, int]] = {}
    for category, message in messages:
        seen = kinds.setdefault((category, kind_of(message)), {})
        seen[message] = seen.get(message, 0) + 1
    lines = []
    for (category, _), seen in kinds.items():
        total = sum(seen.values())
        first = next(iter(seen))
        if len(seen) == 1:
            lines.append(f"{category}: {first}" + (f" ({total} times)" if total > 1 else ""))
            continue
        lines.append(f"{category} ({total} times, {len(seen)} different): {first}")
        for m in list(seen)[1:EXAMPLES]:
            lines.append(f"  also: {m}")
        if len(seen) > EXAMPLES:
            lines.append(f"  and {len(seen) - EXAMPLES} more of this kind")
    return lines


def _print(messages: list[tuple[str, str]]) -> None:
    for line in grouped(messages):
        click.echo(line, err=True)


def _label(category: type[Warning]) -> str:
    return "warning" if category is UserWarning else category.__name__


_collecting: list[tuple[list[tuple[str, str]], Any]] = []  # (caught so far, the display replaced)


@contextmanager
def collected_warnings() -> Iterator[None]:
    """Record every warning raised inside; print them grouped to stderr on the way out."""
    caught: list[tuple[str, str]] = []

    def keep(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        caught.append((_label(category), str(message)))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        _collecting.append((caught, warnings.showwarning))
        warnings.showwarning = keep
        try:
            yield
        finally:
            _collecting.pop()
            _print(caught)


def release_warnings() -> None:
    """Print what was collected so far, then show warnings as they come (for a server's log)."""
    if _collecting:
        caught, show = _collecting[-1]
        _print(caught)
        caught.clear()
        warnings.showwarning = show
        warnings.simplefilter("default")
