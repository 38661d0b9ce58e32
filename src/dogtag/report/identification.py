"""The identification report (HTML; PDF through :func:`dogtag.report.pdf.html_to_pdf`).

Sections: summary, missing person, remains, lines of evidence, per-marker LR table, pedigree
drawings, posterior, reviewers and dates, provenance. The content is the match page's data
(``dogtag.web`` builds it from the registry), so the report and the page never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dogtag.report.render import environment


def report_html(data: dict[str, Any], pedigrees: Sequence[str] = ()) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG)."""
    env = environment()
    return env.get_template("identification.html").render(**data, pedigrees=list(pedigrees))
