"""The workbench in a real browser: Playwright driving Debian's Chromium against the app served
by uvicorn on loopback. Skipped (with the reason) only when /usr/bin/chromium is absent."""

from __future__ import annotations

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
        page.set_default_timeout(60_000)  # generous: CI machines can be loaded
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
    ann.click("#propose-link")
    ann.fill("#pick input[name=person_q]", "zebu")  # a last-name prefix, any case
    ann.fill("#pick input[name=remains_q]", "S-7-1")
    ann.click("#pick button[type=submit]")
    assert ann.locator("#propose input[name=service_number]").count() == 1  # the one match, checked
    ann.check("#propose input[name=remains][value='S-7-1']")
    markers = EVIDENCE[0]["markers"]
    assert isinstance(markers, dict)
    ann.fill("#propose input[name=auto_lr]", "6e6")
    ann.fill("#propose textarea[name=markers]", "\n".join(f"{m} {v}" for m, v in markers.items()))
    ann.select_option("#propose select[name=mtdna_result]", "match")
    ann.fill("#propose input[name=mtdna_lr]", "250")
    ann.fill("#propose input[name=anthropology]", "consistent: male, 20-30 years")
    ann.fill("#propose input[name=lr]", "6e6")
    ann.fill("#propose input[name=posterior]", "0.9999")
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


# Bounding boxes (in the SVG's user units, from the real font) of everything drawn in a pedigree,
# and the pairs that overlap by more than half a pixel: text against text, text against any
# graphic, and the graphics of one member against those of another. Lines may cross lines.
OVERLAPS_JS = """svg => {
  const items = [];
  for (const el of svg.querySelectorAll('text, rect, circle, polygon, path, line')) {
    if (el.closest('defs') || el.closest('marker')) continue;
    const b = el.getBBox();
    const m = el.getCTM(), r = svg.getCTM();
    const dx = m.e - r.e, dy = m.f - r.f;  // key items are translated groups
    const owner = el.closest('g.member') ? el.closest('g.member').dataset.id
                : el.closest('g.key-item') ? 'key' + [...svg.querySelectorAll('g.key-item')].indexOf(el.closest('g.key-item'))
                : null;
    items.push({tag: el.tagName, cls: el.getAttribute('class') || '', owner, text: el.textContent,
                x0: b.x + dx, y0: b.y + dy, x1: b.x + dx + b.width, y1: b.y + dy + b.height});
  }
  const hit = (a, b) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > 0.5
                     && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > 0.5;
  const bad = [];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
    const a = items[i], b = items[j];
    const ta = a.tag === 'text', tb = b.tag === 'text';
    const check = (ta || tb) || (a.owner !== null && b.owner !== null && a.owner !== b.owner);
    const own = a.owner !== null && a.owner === b.owner && !(ta || tb);
    if (check && !own && hit(a, b)) bad.push([a.owner, a.cls || a.tag, a.text, b.owner, b.cls || b.tag, b.text]);
  }
  return {n: items.length, texts: items.filter(i => i.tag === 'text').length, bad,
          width: svg.viewBox.baseVal.width, used: Math.max(...items.map(i => i.x1))};
}"""


def hard_family() -> list[Any]:
    """Four generations with long relations, reference kinds, the missing person and the dead."""
    from dogtag.report.pedigree import Person
    from report.test_pedigree import big_family  # tests/ is on the path (rootdir-relative packages)

    people = big_family()
    relations = {"GF": "grandfather", "GM": "grandmother", "C0": "father", "S0": "mother",
                 "G00": "missing person", "G01": "brother", "T1": "brother's wife",
                 "H1a": "nephew (brother's son)", "G02": "sister",
                 "S2": "paternal aunt's husband, who married into the family in 1931 and lived in Ohio"}
    refs = {"S0": ("autosomal", "mtdna"), "G01": ("autosomal", "ystr"), "H1a": ("autosomal",)}
    return [Person(p.id, p.father, p.mother, p.sex, typed=p.typed or p.id in refs, missing=p.id == "G00",
                   deceased=p.deceased or p.id == "G00", relation=relations.get(p.id),
                   references=refs.get(p.id, ())) for p in people]


def test_pedigree_drawings_have_no_overlaps(open_page: Any, ids: dict[str, Any]) -> None:
    from dogtag.report.pedigree import pedigree_svg

    ann = open_page("ann")
    ann.goto(f"/persons/{ids['p1']}/families/{ids['family']}/pedigree.svg")
    seeded = ann.locator("svg").evaluate(OVERLAPS_JS)
    ann.goto("/dashboard")
    ann.set_content(f"<!doctype html><html><body>{pedigree_svg(hard_family(), title='hard')}</body></html>")
    hard = ann.locator("svg").evaluate(OVERLAPS_JS)
    for result, least_texts in ((seeded, 5 + 7), (hard, 34 + 10)):
        assert result["texts"] >= least_texts, result  # labels, the MP mark and the key were all measured
        assert result["bad"] == [], result["bad"][:5]
        # the drawing fills its frame (no quarter-used canvas)
        assert result["used"] >= 0.75 * result["width"], (result["used"], result["width"])


# Raw program output that must never reach a page: Python reprs, None, long floats, e-notation,
# ISO timestamps with a T, percent posteriors, half-called genotypes.
RAW = [(re.compile(p), what) for p, what in [
    (r"\[\s*'|\{\s*'|'\s*:\s", "a Python list or dict"), (r"\bNone\b", "None"),
    (r"\b(True|False)\b", "a Python bool"), (r"\d\.\d{7,}", "a float with all its digits"),
    (r"\b\d+(\.\d+)?e[+-]?\d+\b", "e-notation"), (r"\d{4}-\d\d-\d\dT\d\d:\d\d", "an ISO timestamp"),
    (r"\d+(\.\d+)? ?%", "a percentage"), (r"\d/None|None/\d", "a half-called genotype"),
    (r"Traceback", "a traceback"),
]]
PAGES = ["/dashboard", "/login", "/docs", "/persons", "/persons/{p1}", "/accessions", "/accessions/{acc}",
         "/accessions/{acc}/sorting",
         "/samples", "/samples/{s1}", "/identifications", "/identifications?mine=1", "/identifications/{iid}",
         "/identifications/new?person_q=RA&remains_q=S-7",
         "/identifications/{iid}/report.html", "/notifications", "/imports", "/map"]


def raw_output(text: str) -> list[str]:
    return [f"{what}: {m.group(0)!r}" for rx, what in RAW for m in [rx.search(text)] if m]


def test_the_raw_output_check_can_fail() -> None:
    samples = ["['S-1', 'S-2']", "{'theta': 0.01}", "consent None", "ok True", "log10_lr 5.276313245030497",
               "LR 4.19e8", "2018-08-01T09:00:00", "100 %", "15/None", "Traceback (most recent call last)"]
    assert all(raw_output(x) for x in samples)
    assert raw_output("LR 6.00 × 10⁶ (log10 6.78), posterior 0.99995, 2018-08-01 09:00 UTC, 11/12") == []


def test_every_page_for_every_role(open_page: Any, app: Any, ids: dict[str, Any], tmp_path: Path) -> None:
    """Each page, as each role: allowed pages render without raw program output, their images
    load, and the screenshot is a real picture; the others refuse with a message."""
    from .seed import propose_one

    ids["iid"] = propose_one(app.state.engine, ids)
    seen = 0
    for role in (None, "ada", "ann", "rita", "liam"):
        page = open_page(role)
        for path in PAGES:
            url = path.format(**ids)
            resp = page.goto(url)
            assert resp is not None
            text = page.inner_text("body")
            assert "Traceback" not in text, (role, url)
            if resp.status != 200 or (page.url.split("?")[0].endswith("/login") and "login" not in path):
                continue
            seen += 1
            assert raw_output(text) == [], (role, url, raw_output(text))
            broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                                   ".map(i => i.src)")
            assert broken == [], (role, url, broken)
            shot = tmp_path / f"{role}-{url.strip('/').replace('/', '-').replace('?', '-') or 'root'}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000, shot
    assert seen >= 40


def test_maps_are_drawn_offline(open_page: Any, ids: dict[str, Any], server: str, tmp_path: Path) -> None:
    """The home-state map, the sites map and a person's incident map render with every request
    outside the app refused (no tiles, scripts or fonts from the network), and fill their frame."""
    page = open_page("ann")
    outside: list[str] = []

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_app)
    for path, fig, marks, least in (("/dashboard", "#state-map", "path[data-state]", 51),
                                    ("/map", "#sites-map", "[data-kind=incident]", 1),
                                    (f"/persons/{ids['p1']}", "#incident-map", "[data-kind=incident]", 1)):
        page.goto(path)
        svg = page.locator(f"{fig} svg")
        frame = svg.bounding_box()
        assert frame is not None and frame["width"] > 600 and frame["height"] > 300, (path, frame)
        assert page.locator(f"{fig} {marks}").count() >= least, path
        for i in range(min(3, page.locator(f"{fig} {marks}").count())):
            box = page.locator(f"{fig} {marks}").nth(i).bounding_box()
            assert box is not None and box["width"] > 0, (path, i)
            assert frame["x"] - 2 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 2, (path, box)
        if fig != "#state-map":
            assert page.locator(f"{fig} path[data-country]").count() >= 1  # land drawn under the points
        shot = tmp_path / f"{fig.strip('#')}.png"
        page.locator(fig).screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000, shot
    page.goto("/dashboard")
    ohio = page.locator("#state-map path[data-state=Ohio]").evaluate("p => getComputedStyle(p).fill")
    maine = page.locator("#state-map path[data-state=Maine]").evaluate("p => getComputedStyle(p).fill")
    assert ohio != maine  # Ohio has a missing person, Maine none
    assert outside == []


def _pdf_pages(pdf: Path) -> list[str]:
    assert shutil.which("pdftotext"), "pdftotext (Debian poppler-utils, scripts/system-deps) is needed"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_a_draft_report_is_marked_on_every_page(open_page: Any, app: Any, ids: dict[str, Any],
                                                tmp_path: Path) -> None:
    """A proposed identification, as the reviewer opens it: the page and the HTML report carry the
    draft mark; Chromium's print of the HTML report and the PDF downloaded through the link carry it
    on every page, and neither states a conclusion."""
    from .seed import propose_one

    iid = propose_one(app.state.engine, ids)
    rita = open_page("rita")
    for path in (f"/identifications/{iid}", f"/identifications/{iid}/report.html"):
        rita.goto(path)
        assert rita.locator("#draft-mark").is_visible(), path
        assert "DRAFT: proposed" in rita.inner_text("#draft-mark"), path
        assert "are identified as" not in rita.inner_text("body"), path
    printed = tmp_path / "printed.pdf"
    rita.pdf(path=str(printed), format="A4")
    rita.goto(f"/identifications/{iid}")
    with rita.expect_download() as dl:
        rita.click("#report-pdf")
    served = tmp_path / "served.pdf"
    dl.value.save_as(served)
    for pdf in (printed, served):
        pages = _pdf_pages(pdf)
        assert len(pages) >= 2, pdf.name  # several pages, so "every page" is a real check
        for number, text in enumerate(pages, start=1):
            assert "DRAFT: proposed" in " ".join(text.split()), (pdf.name, number)
            assert "are identified as" not in text, (pdf.name, number)
