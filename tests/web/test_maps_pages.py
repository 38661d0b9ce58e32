"""The maps on the pages: unaccounted-for by home state on the public dashboard, loss incidents and
recovery sites on /map (recovery sites for the science roles only), a person's incident."""

from __future__ import annotations

from typing import Any

from .test_app import client_for


def _locate_k55(engine: Any) -> None:
    from sqlalchemy import select

    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import FieldOperation

    with session_scope(engine, "setup") as s:
        op = s.scalar(select(FieldOperation).where(FieldOperation.key == "K55"))
        assert op is not None
        op.latitude, op.longitude = 39.15, 127.44


def test_dashboard_maps_unaccounted_for_by_home_state(app: Any) -> None:
    html = client_for(app, None).get("/dashboard").text
    assert 'id="state-map"' in html
    # the seed: RA-9001 (OHIO) and RA-9002 (TEXAS), both missing
    assert 'data-state="Ohio" data-count="1"' in html and 'data-state="Texas" data-count="1"' in html
    assert 'data-state="Maine" data-count="0"' in html and html.count("data-state=") == 51
    assert "<script" not in html and "tile" not in html


def test_sites_map_by_role(app: Any, ids: dict[str, Any]) -> None:
    _locate_k55(app.state.engine)
    ann = client_for(app, "ann").get("/map.json").json()
    assert ann["incidents"] == [{"kind": "incident", "key": "KORWALD-0042", "place": "Chosin Reservoir",
                                 "date": "1950-11-28", "latitude": 40.4836, "longitude": 127.2211, "missing": 2}]
    assert [(r["key"], r["operation"]) for r in ann["recovery_sites"]] == [("K55", "turnover")]
    assert ann["incidents_without_coordinates"] == 0 and not ann["capped"]
    html = client_for(app, "ann").get("/map").text
    assert 'data-kind="incident" data-label="KORWALD-0042"' in html and 'data-label="K55"' in html
    liam = client_for(app, "liam").get("/map.json").json()
    assert liam["recovery_sites"] == [] and len(liam["incidents"]) == 1
    assert 'data-label="K55"' not in client_for(app, "liam").get("/map").text
    assert client_for(app, None).get("/map.json").status_code == 401
    person = client_for(app, "liam").get(f"/persons/{ids['p1']}").text
    assert 'id="incident-map"' in person and 'data-label="KORWALD-0042"' in person
