"""Reports whose wording follows the review status: a draft is marked on every page and never
reads as a conclusion; the approved report names its reviewers; the liaison reads approved
reports only, without the per-marker table."""

from __future__ import annotations

import re
from typing import Any

from .seed import propose_one, review_one
from .test_app import client_for, pdf_pages


def test_a_draft_is_marked_on_every_page_and_never_concludes(app: Any, ids: dict[str, Any]) -> None:
    iid = propose_one(app.state.engine, ids)
    rita = client_for(app, "rita")
    for until in ("proposed", "technical_review", "administrative_review"):
        if until != "proposed":
            review_one(app.state.engine, iid, until=until)
        pages = pdf_pages(rita.get(f"/identifications/{iid}/report.pdf"))
        assert len(pages) >= 2  # the check below is about every page, so there must be several
        for number, text in enumerate(pages, 1):
            assert "DRAFT: proposed" in text, (until, number)
        whole = "\n".join(pages)
        assert "The evidence supports the proposal" in whole and "are identified as" not in whole
        assert "not an identification" in whole
        html = rita.get(f"/identifications/{iid}/report.html").text
        assert 'id="draft-mark"' in html and "DRAFT: proposed" in html
        page = rita.get(f"/identifications/{iid}").text
        assert 'id="draft-mark"' in page and "are identified as" not in page
        assert rita.get(f"/identifications/{iid}.json").json()["review"]["draft"] is True


def test_the_approved_report_concludes_with_reviewers_and_dates(app: Any, ids: dict[str, Any]) -> None:
    iid = propose_one(app.state.engine, ids)
    review_one(app.state.engine, iid)
    rita = client_for(app, "rita")
    r = rita.get(f"/identifications/{iid}/report.pdf")
    assert "DRAFT" not in r.headers["content-disposition"]
    text = "\n".join(pdf_pages(r))
    assert "DRAFT" not in text and "evidence supports" not in text
    flat = " ".join(text.split())
    m = re.search(r"The remains sample S-7-1 are identified as ZEBULON, AMOS \(service number RA-9001\)\. "
                  r"Technical review by Rita \(rita\) on (\d{4}-\d\d-\d\d \d\d:\d\d UTC); administrative "
                  r"review and approval by Rob \(rob\) on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)\.", flat)
    assert m, flat[:800]
    data = rita.get(f"/identifications/{iid}.json").json()
    assert data["review"]["draft"] is False and data["review"]["mark"] == ""


def test_the_liaison_reads_approved_reports_only(app: Any, ids: dict[str, Any]) -> None:
    iid = propose_one(app.state.engine, ids)
    liam = client_for(app, "liam")
    for suffix in ("pdf", "html"):
        r = liam.get(f"/identifications/{iid}/report.{suffix}")
        assert r.status_code == 403 and "draft" in r.text, suffix
    review_one(app.state.engine, iid, until="technical_review")
    assert liam.get(f"/identifications/{iid}/report.pdf").status_code == 403
    review_one(app.state.engine, iid, until="approved")
    html = liam.get(f"/identifications/{iid}/report.html")
    assert html.status_code == 200 and "are identified as" in html.text
    assert "D8S1179" not in html.text and "not shown to this role" in html.text
    pdf = liam.get(f"/identifications/{iid}/report.pdf")
    assert pdf.status_code == 200 and "D8S1179" not in "".join(pdf_pages(pdf))
    # the analyst still gets the whole table
    assert "D8S1179" in client_for(app, "ann").get(f"/identifications/{iid}/report.html").text


def test_only_pages_with_a_json_twin_link_to_one(app: Any, ids: dict[str, Any]) -> None:
    """The login page has no JSON twin and no link to one; /docs has both; /favicon.ico answers."""
    anon = client_for(app, None)
    login = anon.get("/login").text
    assert ".json" not in login
    assert anon.get("/login.json").status_code == 404
    docs = anon.get("/docs")
    assert 'href="/docs.json"' in docs.text
    ops = anon.get("/docs.json").json()["operations"]
    assert {"method": "GET", "path": "/persons/{pid}"}.items() <= next(
        o for o in ops if o["path"] == "/persons/{pid}").items()
    icon = anon.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    ann = client_for(app, "ann")
    for path in ("/dashboard", "/persons", f"/persons/{ids['p1']}", "/identifications", "/imports"):
        html = ann.get(path).text
        m = re.search(r'<p class="twin"><a href="([^"]+)">', html)
        assert m, path
        assert ann.get(m.group(1)).status_code == 200, (path, m.group(1))


def test_web_routes_do_not_import_the_app_factory() -> None:
    """The routes take their dependencies from dogtag.web.deps: importing any of them first works
    and never imports the app factory (no circle)."""
    import subprocess
    import sys
    from pathlib import Path

    routes = Path(__file__).resolve().parents[2] / "src" / "dogtag" / "web" / "routes"
    names = sorted(p.stem for p in routes.glob("*.py") if p.stem != "__init__")
    assert len(names) >= 8
    for name in names:
        code = (f"import sys; import dogtag.web.routes.{name}; "
                "assert 'dogtag.web.app' not in sys.modules, 'the app factory was imported'")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert r.returncode == 0, (name, r.stderr[-500:])
