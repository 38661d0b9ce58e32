"""The accession's commingling page: inventory, MNI and the sortings that cover it."""

from __future__ import annotations

from typing import Any

from dogtag.registry.commingling import propose_sorting
from dogtag.registry.engine import session_scope

from .test_app import client_for


def test_sorting_page_and_json_twin(app: Any, ids: dict[str, Any]) -> None:
    c = client_for(app, "ann")
    d = c.get(f"/accessions/{ids['acc']}/sorting.json").json()
    assert d["mni"]["mni"] == 1 and d["inventory"][0]["element"] == "femur"
    assert d["sortings"] == []
    assert "dogtag sorting propose" in c.get(f"/accessions/{ids['acc']}/sorting").text
    with session_scope(app.state.engine, "ann") as s:
        sid = propose_sorting(s, "ann").id
    d = c.get(f"/accessions/{ids['acc']}/sorting.json").json()
    assert [x["id"] for x in d["sortings"]] == [sid] and d["sortings"][0]["status"] == "proposed"
    html = c.get(f"/accessions/{ids['acc']}/sorting").text
    assert f"Sorting {sid}: proposed" in html and "Traceback" not in html
    assert c.get("/accessions/999999/sorting.json").status_code == 404
