"""The accounting report (public aggregates): CSV and PDF with charts."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dogtag.web.routes.dashboard import public_stats

router = APIRouter(tags=["reports"])


@router.get("/reports/accounting.csv", summary="The accounting report as one long CSV table")
def accounting_csv(request: Request) -> Response:
    from dogtag.io.spreadsheet import write_dicts
    from dogtag.report.accounting import long_table

    buf = io.StringIO()
    write_dicts(buf, ["table", "key", "measure", "value"], long_table(public_stats(request)))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="accounting.csv"'})


@router.get("/reports/accounting.pdf", summary="The accounting report as PDF, with charts")
def accounting_pdf(request: Request) -> Response:
    from dogtag.report.accounting import accounting_html
    from dogtag.report.pdf import html_to_pdf

    pdf = html_to_pdf(accounting_html(public_stats(request)))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="accounting.pdf"'})
