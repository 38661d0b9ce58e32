"""The workbench in a real browser: Playwright driving Debian's Chromium against the app served
by uvicorn on loopback. Skipped (with the reason) only when /usr/bin/chromium is absent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .seed import EVIDENCE, GENOTYPE_SENTINELS, PASSWORDS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium "
                                                     "(Debian package chromium)"),
]


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The browser tests run on SQLite only (the in-process tests cover PostgreSQL)."""
    from dogtag.registry.engine import make_engine

    from .seed import seed

    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    engine = make_engine(url)
    ids = seed(engine)
    engine.dispose()
    yield url, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def open_page(browser: Any, server: str) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (own cookies), logged in as ``user``."""
    contexts = []

    def make(user: str | None) -> Any:
        ctx = browser.new_context(base_url=server, accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        if user is not None:
            page.goto("/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", PASSWORDS[user])
            page.click("form.card button[type=submit]")
            page.wait_for_url(re.compile(r".*/dashboard$"))
            assert page.inner_text("#whoami").startswith(user)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def flash(page: Any) -> str:
    return str(page.inner_text(".flash"))


def no_trace(page: Any) -> None:
    assert "Traceback" not in page.content()


@pytest.mark.parametrize("user, links, absent", [
    ("ada", ["Missing persons", "Accessions", "Review queue", "Family notification", "Import"], []),
    ("ann", ["Missing persons", "Accessions", "Review queue", "Import"], ["Family notification"]),
    ("rita", ["Missing persons", "Accessions", "Review queue"], ["Import", "Family notification"]),
    ("liam", ["Missing persons", "Family notification"], ["Accessions", "Review queue", "Import"]),
])
def test_login_each_role(open_page: Any, user: str, links: list[str], absent: list[str]) -> None:
    page = open_page(user)
    nav = page.inner_text("nav")
    for link in links:
        assert link in nav
    for link in absent:
        assert link not in nav
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    assert page.locator("#whoami").count() == 0


def test_wrong_password_is_a_message(open_page: Any) -> None:
    page = open_page(None)
    page.goto("/login")
    page.fill("input[name=username]", "ann")
    page.fill("input[name=password]", "not-the-password")
    page.click("form.card button[type=submit]")
    assert "unknown user or wrong password" in page.inner_text(".flash.error")
    no_trace(page)


def test_identification_from_proposal_to_notification(open_page: Any, ids: dict[str, Any],
                                                      tmp_path: Path) -> None:
    ann = open_page("ann")
    ann.goto("/identifications")
    ann.fill("#propose input[name=service_number]", "RA-9001")
    ann.fill("#propose input[name=remains]", "S-7-1")
    ann.fill("#propose input[name=lr]", "6e6")
    ann.fill("#propose input[name=posterior]", "0.9999")
    ann.fill("#propose textarea[name=evidence]", json.dumps(EVIDENCE))
    ann.fill("#propose input[name=reason]", "blind search: top candidate, no other family close")
    ann.click("#propose button[type=submit]")
    ann.wait_for_url(re.compile(r".*/identifications/\d+$"))
    iid = int(ann.url.rsplit("/", 1)[1])
    assert "proposed" in flash(ann)
    assert ann.inner_text("#ident-status") == "proposed"
    assert "D8S1179" in ann.inner_text("#markers")
    ann.fill("#transition textarea[name=reason]", "ready for review")
    ann.click("button[value=technical_review]")
    assert ann.inner_text("#ident-status") == "technical review"

    rita = open_page("rita")
    rita.goto(f"/identifications/{iid}")
    rita.fill("#transition textarea[name=reason]", "genotypes and LRs checked")
    rita.click("button[value=administrative_review]")
    assert rita.inner_text("#ident-status") == "administrative review"
    # the same reviewer cannot sign the second review: the rule's message, not a traceback
    rita.fill("#transition textarea[name=reason]", "approve too")
    rita.click("button[value=approved]")
    assert "needs a second reviewer" in rita.inner_text(".flash.error")
    assert rita.inner_text("#ident-status") == "administrative review"
    no_trace(rita)

    rob = open_page("rob")
    rob.goto(f"/identifications/{iid}")
    rob.fill("#transition textarea[name=reason]", "records and chain of custody in order")
    rob.click("button[value=approved]")
    assert rob.inner_text("#ident-status") == "approved"

    liam = open_page("liam")
    liam.goto("/notifications")
    task = liam.locator(f"#task-{iid}")
    assert "sister" in task.inner_text()
    task.locator("input[name=recipient]").fill("Mary Zebulon")
    task.locator("input[name=relationship]").fill("sister")
    task.locator("input[name=reason]").fill("told in person at her home")
    task.locator("button[type=submit]").click()
    liam.wait_for_url(re.compile(r".*/notifications$"))
    assert "family notification recorded" in flash(liam)
    assert "Mary Zebulon" in liam.inner_text("main")

    ann.goto(f"/identifications/{iid}")
    assert ann.inner_text("#ident-status") == "family notified"
    ann.goto(f"/persons/{ids['p1']}")
    assert ann.inner_text("#person-status") == "identified"

    # the PDF report, downloaded through the link, has the whole story
    ann.goto(f"/identifications/{iid}")
    with ann.expect_download() as dl:
        ann.click("#report-pdf")
    pdf = tmp_path / "report.pdf"
    dl.value.save_as(pdf)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    for needle in ("Identification report", "family notified", "ZEBULON, AMOS", "RA-9001", "S-7-1",
                   "D8S1179", "rita", "rob", "Mary Zebulon", "0.9999", "records and chain of custody",
                   "are identified as"):
        assert needle in text, needle


def test_what_each_role_sees(open_page: Any, ids: dict[str, Any], server: str) -> None:
    anon = open_page(None)
    anon.goto("/dashboard")
    assert anon.inner_text("#count-missing_persons") .startswith("2")
    anon.goto(f"/persons/{ids['p1']}")
    assert anon.url.startswith(f"{server}/login")
    resp = anon.goto(f"/persons/{ids['p1']}.json")
    assert resp.status == 401 and "ZEBULON" not in anon.content()

    liam = open_page("liam")
    liam.goto(f"/persons/{ids['p1']}")
    body = liam.inner_text("main")
    assert "sister" in body and "missing" in liam.inner_text("#person-status")
    assert "40.4836, 127.2211" in liam.inner_text("#coordinates")
    assert not any(g in liam.content() for g in GENOTYPE_SENTINELS)
    resp = liam.goto(f"/accessions/{ids['acc']}")
    assert resp.status == 403 and "not available to the role family_liaison" in liam.inner_text("#error-message")
    resp = liam.goto(f"/samples/{ids['s1']}.json")
    assert resp.status == 403 and "77.7" not in liam.content()

    ada = open_page("ada")
    ada.goto(f"/samples/{ids['s1']}")
    assert "autosomal" in ada.inner_text("main") and "77.7" not in ada.content()

    ann = open_page("ann")
    ann.goto(f"/samples/{ids['s1']}")
    assert "77.7" in ann.inner_text("main")
    assert "DPAA laboratory" in ann.inner_text("main") or "AFDIL" in ann.inner_text("main")
    ann.goto(f"/persons/{ids['p1']}")
    svg = ann.locator("figure.pedigree img")
    assert svg.count() == 1 and svg.evaluate("img => img.naturalWidth") > 0


def test_pages_never_show_a_traceback(open_page: Any) -> None:
    page = open_page("ann")
    for path, status in (("/persons/987654", 404), ("/identifications/987654", 404),
                         ("/persons/abc", 422), ("/persons?page=0", 422)):
        resp = page.goto(path)
        assert resp.status == status, path
        no_trace(page)
        assert page.locator("#error-message").count() == 1
