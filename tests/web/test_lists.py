"""The lists people work from: the reviewer's "waiting for me", sorting, filters, the samples list."""

from __future__ import annotations

from typing import Any

from .seed import other_case, propose_one, review_one
from .test_app import client_for


def test_waiting_for_me_follows_the_review_rules(app: Any, ids: dict[str, Any]) -> None:
    """A reviewer waits on what others proposed; after rita's technical review the proposal waits
    for rob (the second reviewer), not for rita; the analyst waits on her own draft."""
    eng = app.state.engine
    first = propose_one(eng, ids)  # by ann, proposed
    second = propose_one(eng, ids, by="abe", case=other_case(eng, 1))
    review_one(eng, second, until="technical_review")  # submitted for technical review
    mine = {u: {i["id"] for i in client_for(app, u).get("/identifications.json?mine=1").json()["identifications"]}
            for u in ("rita", "rob", "ann", "ada")}
    assert mine["rita"] == {second} and mine["rob"] == {second}
    assert mine["ann"] == {first} and mine["ada"] == {first, second}
    review_one(eng, second, until="administrative_review")  # rita signed the technical review
    rita = client_for(app, "rita").get("/identifications.json?mine=1").json()
    rob = client_for(app, "rob").get("/identifications.json?mine=1").json()
    assert [i["id"] for i in rita["identifications"]] == [] and rita["waiting_for_me"] == 0
    assert [i["id"] for i in rob["identifications"]] == [second] and rob["waiting_for_me"] == 1
    row = rob["identifications"][0]
    assert row["for_me"] and row["remains"] == "S-X-1" and row["days_waiting"] == 0
    html = client_for(app, "rob").get("/identifications?mine=1").text
    assert 'class="for-me"' in html and "Waiting for me (1)" in html


def test_queue_sorts_and_refuses_unknown_statuses(app: Any, ids: dict[str, Any]) -> None:
    eng = app.state.engine
    made = [propose_one(eng, ids, case=other_case(eng, n)) for n in range(3)]
    ada = client_for(app, "ada")
    by_id = [i["id"] for i in ada.get("/identifications.json?sort=id").json()["identifications"]]
    assert by_id == sorted(made)
    desc = [i["id"] for i in ada.get("/identifications.json?sort=-id").json()["identifications"]]
    assert desc == sorted(made, reverse=True)
    oldest_first = [i["id"] for i in ada.get("/identifications.json").json()["identifications"]]
    assert oldest_first == sorted(made)  # default: longest waiting first
    assert ada.get("/identifications.json?sort=nonsense").json()["sort"] == "waiting"
    r = ada.get("/identifications.json?status=bogus")
    assert r.status_code == 400 and "unknown status" in r.json()["error"]


def test_samples_list_filters_sorts_and_pages(app: Any, ids: dict[str, Any]) -> None:
    ann = client_for(app, "ann")
    data = ann.get("/samples.json").json()
    assert [x["key"] for x in data["samples"]] == ["S-7-1", "S-7-2"]
    assert data["samples"][0]["accession"] == "K55-BOX-07" and data["samples"][0]["profiles"] == ["autosomal", "mtdna"]
    assert [x["key"] for x in ann.get("/samples.json?sort=-key").json()["samples"]] == ["S-7-2", "S-7-1"]
    assert [x["key"] for x in ann.get("/samples.json?q=S-7-2").json()["samples"]] == ["S-7-2"]
    assert ann.get("/samples.json?accession=K99").json()["samples"] == []
    assert ann.get("/samples.json?lab=AFDIL").json()["pager"]["total"] == 2
    html = ann.get("/samples?sort=key").text
    assert 'href="?sort=-key"' in html and "K55-BOX-07" in html
    assert client_for(app, "liam").get("/samples").status_code == 403


def test_each_role_sees_its_work_on_the_dashboard(app: Any, ids: dict[str, Any]) -> None:
    eng = app.state.engine
    draft = propose_one(eng, ids)  # ann's draft
    approved = propose_one(eng, ids, case=other_case(eng, 1))
    review_one(eng, approved)  # rita and rob signed
    work = {u: {w["label"]: w["count"] for w in client_for(app, u).get("/dashboard.json").json()["your_work"]}
            for u in ("ann", "rita", "liam", "ada")}
    assert work["ann"]["your proposals to submit for review"] == 1
    assert work["rita"]["identifications waiting for your review"] == 0
    assert work["liam"] == {"families to notify of an approved identification": 1}
    assert work["ada"]["identifications open in review"] == 1
    public = client_for(app, None).get("/dashboard.json").json()
    assert public["your_work"] == []
    # remains with no field operation count under 'unknown' (the public dashboard crashed on them)
    assert {"source": "unknown", "identifications": 1} in public["identifications_by_source"]
    assert 'id="your-work"' in client_for(app, "liam").get("/dashboard").text
    review_one(eng, draft, until="technical_review")
    rita = client_for(app, "rita").get("/dashboard.json").json()["your_work"]
    assert rita == [{"label": "identifications waiting for your review", "count": 1, "link": "/identifications?mine=1"}]


def test_the_timeline_of_a_missing_person(app: Any, ids: dict[str, Any]) -> None:
    iid = propose_one(app.state.engine, ids)
    review_one(app.state.engine, iid)
    ann = client_for(app, "ann").get(f"/persons/{ids['p1']}.json").json()["timeline"]
    kinds = [e["kind"] for e in ann]
    assert kinds[:3] == ["loss", "recovery", "accession"] and set(kinds[3:]) <= {"identification", "status"}
    assert kinds.count("identification") == 4  # proposed, technical review, administrative review, approved
    assert ann[0]["at"] == "1950-11-28" and "Chosin Reservoir" in ann[0]["text"]
    assert ann[1]["text"] == "turnover K55 at Wonsan" and ann[2]["text"] == "accession K55-BOX-07 received"
    steps = [e["text"] for e in ann if e["kind"] == "identification"]
    assert steps[0].endswith("proposed by ann") and steps[-1].endswith("approved by rob")
    assert [e["at"] for e in ann] == sorted(e["at"] for e in ann)  # ISO dates and times sort as text
    liam = client_for(app, "liam").get(f"/persons/{ids['p1']}.json").json()["timeline"]
    assert {e["kind"] for e in liam} <= {"loss", "status", "reference", "identification", "notification"}
    assert not any("K55" in e["text"] for e in liam)  # remains and recovery: not for the liaison
    html = client_for(app, "ann").get(f"/persons/{ids['p1']}").text
    assert 'id="timeline"' in html and "1950-11-28" in html


def test_the_proposal_form_picks_and_builds_the_evidence(app: Any, ids: dict[str, Any]) -> None:
    ann = client_for(app, "ann")
    page = ann.get("/identifications/new.json?person_q=zeb&remains_q=S-7").json()
    assert [p["service_number"] for p in page["persons"]] == ["RA-9001"]
    assert [r["key"] for r in page["remains"]] == ["S-7-1", "S-7-2"]
    form = {"service_number": "RA-9001", "remains": "S-7-1", "reason": "top candidate", "auto_lr": "6e6",
            "markers": "D3S1358 12.5\nvWA\t40\n\nFGA, 300", "mtdna_result": "match", "mtdna_lr": "250",
            "anthropology": "consistent", "lr": "1.5e9", "posterior": "0.9999"}
    bad = ann.post("/identifications", data={**form, "markers": "D3S1358 12.5\nvWA forty"},
                   headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "line 2" in bad.json()["error"] and "vWA" in bad.json()["error"]
    r = ann.post("/identifications", data=form, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    data = ann.get(f"/identifications/{r.json()['id']}.json").json()
    assert [m["marker"] for m in data["markers"]] == ["D3S1358", "vWA", "FGA"]
    assert data["markers_product"] == 12.5 * 40 * 300
    assert data["evidence"] == [{"kind": "autosomal", "lr": 6e6}, {"kind": "mtdna", "result": "match", "lr": 250.0},
                                {"kind": "anthropology", "result": "consistent"}]
