"""The identification report (HTML; PDF through :func:`dogtag.report.pdf.html_to_pdf`).

Sections: summary, missing person, remains, lines of evidence, per-marker LR table, pedigree
drawings, posterior with its prior, reviewers and dates, provenance. The content is the match
page's data (``dogtag.web`` builds it from the registry), so the report and the page never disagree.

The wording follows the review status: until the administrative reviewer approves, the report is a
draft, marked on every page ("DRAFT: proposed, not reviewed"), and it says that the evidence
*supports* the proposal; only an approved identification is stated as a conclusion, with the
reviewers' names and dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dogtag.report.numbers import fmt_lr_with_log10, fmt_posterior, fmt_value, fmt_when
from dogtag.report.render import environment

DRAFT = frozenset({"proposed", "technical_review", "administrative_review"})
CONCLUDED = frozenset({"approved", "family_notified"})

_MARK = {
    "proposed": "DRAFT: proposed, not reviewed",
    "technical_review": "DRAFT: proposed, not reviewed (awaiting technical review)",
    "administrative_review": "DRAFT: proposed, technical review passed, awaiting administrative review",
    "rejected": "REJECTED: not an identification",
    "withdrawn": "WITHDRAWN: not an identification",
}
# evidence keys shown in their own columns (or not at all: the per-marker table has the markers)
_COLUMNS = ("kind", "lr", "LR", "log10_lr", "posterior", "markers")


def is_draft(status: str) -> bool:
    """Whether an identification in ``status`` is not (or no longer) a reviewed conclusion."""
    return status not in CONCLUDED


def review_state(data: Mapping[str, Any]) -> dict[str, Any]:
    """The wording for the identification in ``data`` (the match page's data).

    Returns ``draft`` (bool), ``mark`` (the banner on every page, "" when approved) and
    ``conclusion`` (the summary sentence).
    """
    ident, person, remains = data["identification"], data["person"], data["remains"]
    status = ident["status"]
    who = f"{person.get('name') or person['service_number']} (service number {person['service_number']})"
    what = f"{remains['kind']} {remains['key']}"
    names = data.get("reviewer_names", {})

    def named(user: str | None) -> str:
        if not user:
            return "(not recorded)"
        full = names.get(user)
        return f"{full} ({user})" if full and full != user else user

    if status in CONCLUDED:
        conclusion = (f"The remains {what} are identified as {who}. Technical review by "
                      f"{named(ident.get('technical_reviewer'))} on {fmt_when(ident.get('technical_reviewed_at'))}; "
                      f"administrative review and approval by {named(ident.get('administrative_reviewer'))} "
                      f"on {fmt_when(ident.get('approved_at'))}.")
        return {"draft": False, "mark": "", "conclusion": conclusion}
    if status in DRAFT:
        conclusion = (f"The evidence supports the proposal that the remains {what} are those of {who}. "
                      f"This proposal by {named(ident.get('proposed_by'))} "
                      f"({fmt_when(ident.get('proposed_at'))}) has not completed review: it is not an "
                      "identification and must not be communicated to the family.")
    else:
        conclusion = (f"The proposal that the remains {what} are those of {who} was {status}; "
                      "the remains are not identified by it.")
    return {"draft": True, "mark": _MARK.get(status, f"DRAFT: {status}"), "conclusion": conclusion}


def evidence_rows(evidence: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """One table row per line of evidence: kind, LR (with log10), posterior, other details."""
    rows = []
    for line in evidence or []:
        lr = line.get("lr", line.get("LR"))
        details = "; ".join(f"{str(k).replace('_', ' ')}: {fmt_value(v)}" for k, v in line.items()
                            if k not in _COLUMNS and v not in (None, "", [], {}))
        rows.append({"kind": str(line.get("kind", "")).replace("_", " "),
                     "lr": fmt_lr_with_log10(lr, line.get("log10_lr")),
                     "posterior": fmt_posterior(line.get("posterior")), "details": details})
    return rows


def provenance_rows(provenance: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The analysis run as (label, value) rows; each parameter on its own row."""
    if not provenance:
        return []
    rows = []
    for k, v in provenance.items():
        if k == "parameters" and isinstance(v, Mapping):
            rows += [{"label": f"parameter {pk}", "value": fmt_value(pv)} for pk, pv in v.items()]
        elif v not in (None, ""):
            label = {"inputs_digest": "inputs digest (SHA-256)", "actor": "run by"}.get(k, k.replace("_", " "))
            rows.append({"label": label, "value": fmt_when(v) if k.endswith("_at") else fmt_value(v)})
    return rows


def prior_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The prior behind the posterior, as recorded: a ``prior`` in a line of evidence or in the
    run's parameters, and the method that produced the posterior (``{"value": None}`` when the
    prior was not recorded)."""
    value, method = None, None
    for line in data.get("evidence") or []:
        if value is None and line.get("prior") is not None:
            value = line["prior"]
        if method is None and line.get("method"):
            method = str(line["method"])
    params = (data.get("provenance") or {}).get("parameters") or {}
    if value is None:
        value = params.get("prior")
    method = method or (str(params["method"]) if params.get("method") else None)
    return {"value": value, "text": fmt_posterior(value) if isinstance(value, (int, float)) else
            fmt_value(value) if value is not None else "not recorded with this identification",
            "method": method}


def report_html(data: dict[str, Any], pedigrees: Sequence[str] = ()) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG)."""
    env = environment()
    ctx = {**data, "review": review_state(data), "prior": prior_of(data)}
    return env.get_template("identification.html").render(
        **ctx, pedigrees=list(pedigrees),
        evidence_table=evidence_rows(data.get("evidence")),
        provenance_table=provenance_rows(data.get("provenance")))
