"""The accounting report: the public statistics as a long CSV table and as a PDF with charts."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from dogtag import __version__
from dogtag.report.charts import bar_png
from dogtag.report.numbers import fmt_when
from dogtag.report.render import environment

_TABLES = ("by_conflict", "by_branch", "by_home_state", "identifications_by_year",
           "identifications_by_source")


def long_table(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (table, key, measure, value): totals, then one row per group and measure."""
    rows = [{"table": "totals", "key": "", "measure": k, "value": v} for k, v in stats["totals"].items()]
    for table in _TABLES:
        for item in stats.get(table, []):
            key_col = next(iter(item))
            for measure, value in item.items():
                if measure != key_col:
                    rows.append({"table": table, "key": "" if item[key_col] is None else item[key_col],
                                 "measure": measure, "value": value})
    return rows


def _png(labels: list[Any], values: list[float], title: str, xlabel: str) -> str:
    png = bar_png(labels, values, title=title, xlabel=xlabel)
    return "data:image/png;base64," + base64.b64encode(png).decode()


def accounting_html(stats: dict[str, Any], *, top: int = 20) -> str:
    """A self-contained HTML document with the totals, tables and bar charts (PNG data URIs)."""
    charts = []
    for table, key, measure, title in (
            ("by_conflict", "conflict", "unaccounted", "Unaccounted-for by conflict"),
            ("by_branch", "branch", "unaccounted", "Unaccounted-for by branch of service"),
            ("by_home_state", "home_state", "unaccounted", f"Unaccounted-for by home state (top {top})"),
            ("identifications_by_year", "year", "identifications", "Identifications per year")):
        rows = stats.get(table, [])
        if table == "by_home_state":
            rows = sorted(rows, key=lambda r: -r[measure])[:top]
        if rows:
            xlabel = "identifications" if measure == "identifications" else "missing persons not accounted for"
            charts.append({"title": title, "src": _png([r[key] for r in rows], [r[measure] for r in rows], title,
                                                       xlabel)})
    return environment().get_template("accounting.html").render(
        stats=stats, charts=charts, generated=fmt_when(dt.datetime.now(dt.UTC)),
        software=f"dogtag {__version__}")
