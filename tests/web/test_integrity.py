"""Integrity through the workbench: bad pedigrees refused at the import page."""

from __future__ import annotations

import time
from typing import Any

from .test_app import client_for


def test_import_page_refuses_a_pedigree_cycle(app: Any) -> None:
    ann = client_for(app, "ann")
    bad = "family,id,father,mother,sex,missing\nF9,R1,,,female,false\nF9,M1,M2,R1,male,true\nF9,M2,M1,R1,male,false\n"
    t0 = time.perf_counter()
    r = ann.post("/imports", data={"kind": "pedigrees"}, files={"file": ("p.csv", bad, "text/csv")},
                 headers={"Accept": "application/json"})
    assert time.perf_counter() - t0 < 1.0
    assert r.status_code == 400
    (err,) = r.json()["errors"]
    assert err["line"] == 3 and "cycle" in err["reason"] and "M1 -> M2 -> M1" in err["reason"]
    assert ann.get("/imports").status_code == 200
