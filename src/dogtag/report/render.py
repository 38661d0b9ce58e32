"""The report templates (Jinja2) and their filters (shared with the workbench's templates)."""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dogtag.report.numbers import (
    fmt_count,
    fmt_genotype,
    fmt_log10,
    fmt_lr,
    fmt_lr_with_log10,
    fmt_posterior,
    fmt_value,
    fmt_when,
)

__all__ = ["add_filters", "environment", "fmt_lr"]


def add_filters(env: Environment) -> Environment:
    """The number, time and genotype filters of :mod:`dogtag.report.numbers`, under short names."""
    env.filters.update({
        "lr": fmt_lr, "lr_log10": fmt_lr_with_log10, "log10": fmt_log10, "posterior": fmt_posterior,
        "when": fmt_when, "genotype": fmt_genotype, "value": fmt_value, "count": fmt_count,
        "words": lambda s: "" if s is None else str(s).replace("_", " "),
    })
    return env


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("dogtag.report", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    add_filters(env)
    env.filters["svg"] = Markup  # our own SVG (escaped when it was built)
    return env
