"""The report templates (Jinja2) and their filters."""

from __future__ import annotations

import functools
import math

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup


def fmt_lr(x: float | None) -> str:
    """An LR for people: 3.1e+09 -> '3.1e9'; 0 -> '0 (exclusion)'."""
    if x is None:
        return ""
    x = float(x)
    if x == 0:
        return "0 (exclusion)"
    if not math.isfinite(x):
        return str(x)
    if 0.01 <= abs(x) < 10_000:
        return f"{x:.4g}"
    return f"{x:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("dogtag.report", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["lr"] = fmt_lr
    env.filters["pct"] = lambda x: "" if x is None else f"{100 * float(x):.4g} %"
    env.filters["when"] = lambda t: "" if t is None else str(t)[:16].replace("T", " ")
    env.filters["svg"] = Markup  # our own SVG (escaped when it was built)
    return env
