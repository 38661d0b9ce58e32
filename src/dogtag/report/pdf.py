"""HTML to PDF with WeasyPrint (needs Pango and fonts from the system: on Debian
``libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core``)."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """Render a self-contained HTML document (images as data: URIs, inline SVG) to PDF bytes.

    Nothing is fetched from the network or the disk: only ``data:`` URLs are allowed.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    out: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return out
