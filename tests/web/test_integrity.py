"""Integrity through the workbench: bad pedigrees refused at the import page."""

from __future__ import annotations

import time
from typing import Any

from .test_app import client_for


def test_import_page_refuses_a_pedigree_cycle(app: Any) -> None:
    ann = client_for(app, "ann")
    bad = "family,id,father,mother,sex,missing\nF9,R1,,,female,false\nF9,M1,M2,R1,male,true\nF9,M2,M1,R1,male,false\n"
    t0 = time.process_time()
    r = ann.post("/imports", data={"kind": "pedigrees"}, files={"file": ("p.csv", bad, "text/csv")},
                 headers={"Accept": "application/json"})
    assert time.process_time() - t0 < 1.0
    assert r.status_code == 400
    (err,) = r.json()["errors"]
    assert err["line"] == 3 and "cycle" in err["reason"] and "M1 -> M2 -> M1" in err["reason"]
    assert ann.get("/imports").status_code == 200


def test_accounting_csv_neutralises_formula_cells(app: Any) -> None:
    import csv
    import io

    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import MissingPerson

    with session_scope(app.state.engine, "test") as s:
        for p in s.query(MissingPerson):
            p.branch = "=HYPERLINK(\"http://x.example\",\"x\")"
            p.home_state = "@SUM(1)"
    text = client_for(app, None).get("/reports/accounting.csv").text
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'=HYPERLINK(\"http://x.example\",\"x\")" in cells and "'@SUM(1)" in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


def test_custody_transfer_from_the_accession_page(app: Any, ids: dict[str, Any]) -> None:
    ann = client_for(app, "ann")
    page = ann.get(f"/accessions/{ids['acc']}").text
    assert 'id="custody-transfer"' in page and "<option>sample S-7-1</option>" in page
    assert 'id="custody-transfer"' not in client_for(app, "rita").get(f"/accessions/{ids['acc']}").text
    form = {"item": "sample S-7-1", "to": "AFMES-AFDIL", "place": "Dover", "purpose": "DNA testing",
            "at": "2018-09-01T10:00"}
    r = ann.post(f"/accessions/{ids['acc']}/custody", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/accessions/{ids['acc']}"
    custody = ann.get(f"/accessions/{ids['acc']}.json").json()["custody"]
    last = custody[-1]
    assert (last["item"], last["from"], last["to"], last["recorded_by"]) == (
        "sample S-7-1", "AFDIL", "AFMES-AFDIL", "ann")
    assert last["at"].startswith("2018-09-01T10:00:00")
    json_headers = {"Accept": "application/json"}
    r = ann.post(f"/accessions/{ids['acc']}/custody", headers=json_headers,
                 data={**form, "from": "Someone else", "to": "X"})
    assert r.status_code == 400 and "held by 'AFMES-AFDIL'" in r.text
    r = ann.post(f"/accessions/{ids['acc']}/custody", headers=json_headers, data={**form, "item": "sample NOPE"})
    assert r.status_code == 404
    r = ann.post(f"/accessions/{ids['acc']}/custody", headers=json_headers, data={**form, "at": "yesterday"})
    assert r.status_code == 400 and "not a date" in r.text
    r = client_for(app, "rita").post(f"/accessions/{ids['acc']}/custody", headers=json_headers, data=form)
    assert r.status_code == 403
    assert len(ann.get(f"/accessions/{ids['acc']}.json").json()["custody"]) == len(custody)
