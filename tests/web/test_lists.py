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


def _quimby_family(engine: Any, ids: dict[str, Any]) -> None:
    """RA-9002's family: a typed father (Y-STR: paternal line) and a typed brother who is himself
    missing (his autosomal profile is an unknown's, not a reference: it must not count)."""
    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import Family, FamilyMember, Profile, ProfileKind

    with session_scope(engine, "setup") as s:
        fam = Family(name="F-QUIMBY")
        s.add(fam)
        s.flush()
        rows = [FamilyMember(family_id=fam.id, member="FA", sex=1, maternal_root="FA", paternal_root="FA",
                             relationship_to_missing="father"),
                FamilyMember(family_id=fam.id, member="MO", sex=2, maternal_root="MO", paternal_root="MO"),
                FamilyMember(family_id=fam.id, member="MP", father="FA", mother="MO", sex=1, missing=True,
                             missing_person_id=ids["p2"], maternal_root="MO", paternal_root="FA"),
                FamilyMember(family_id=fam.id, member="MP2", father="FA", mother="MO", sex=1, missing=True,
                             maternal_root="MO", paternal_root="FA")]
        s.add_all(rows)
        s.flush()
        s.add_all([Profile(kind=ProfileKind.YSTR, family_member_id=rows[0].id, data={"DYS19": "14"}),
                   Profile(kind=ProfileKind.AUTOSOMAL, family_member_id=rows[3].id, data={"vWA": ["16", "17"]}),
                   Profile(kind=ProfileKind.MTDNA, family_member_id=rows[3].id, data={"variants": "263G"})])


def test_persons_list_filters_by_unit_incident_branch_and_coverage(app: Any, ids: dict[str, Any]) -> None:
    """Worked by hand on the seed: RA-9001's sister (mtDNA, autosomal) and brother (Y) are typed;
    RA-9002 has a typed father (Y) and a typed brother who is missing too; RA-9100 has no family
    and no incident."""
    eng = app.state.engine
    _quimby_family(eng, ids)
    other_case(eng, 0)  # RA-9100, ARMY, no incident
    ada = client_for(app, "ada")

    def found(query: str) -> list[str]:
        r = ada.get(f"/persons.json?{query}")
        assert r.status_code == 200, r.text
        return [p["service_number"] for p in r.json()["persons"]]

    assert found("") == ["RA-9001", "RA-9002", "RA-9100"]
    assert found("coverage=none") == ["RA-9100"]
    assert found("coverage=any") == ["RA-9001", "RA-9002"]
    assert found("coverage=maternal_line") == ["RA-9001"]
    assert found("coverage=no_maternal_line") == ["RA-9002", "RA-9100"]
    assert found("coverage=paternal_line") == ["RA-9001", "RA-9002"]
    assert found("coverage=autosomal") == ["RA-9001"]  # MP2's profile is no reference
    assert found("unit=31st+rct") == found("unit=RCT") == ["RA-9001", "RA-9002"]  # the incident's unit
    assert found("unit=7th+cav") == []
    assert found("incident=KORWALD") == ["RA-9001", "RA-9002"] and found("incident=KORWALD-9") == []
    assert found("branch=MARINE+CORPS") == ["RA-9002"]
    assert found("branch=ARMY&coverage=none") == ["RA-9100"]
    assert found("q=RA-90&coverage=paternal_line&branch=ARMY") == ["RA-9001"]
    assert found("q=quimby&incident=KORWALD") == ["RA-9002"]
    assert ada.get("/persons.json?branch=ARMY").json()["pager"]["total"] == 2
    bad = ada.get("/persons.json?coverage=lots")
    assert bad.status_code == 400 and "coverage" in bad.json()["error"]
    html = ada.get("/persons?branch=ARMY&coverage=none").text
    assert 'id="person-filters"' in html and "RA-9100" in html and "RA-9001" not in html
    assert '<option selected>ARMY</option>' in html and '<option value="none" selected>' in html
    # the coverage filter agrees with the per-person coverage counts of the statistics
    from dogtag.registry import stats

    with eng.connect() as conn:
        cov = {r["service_number"]: r for r in stats.coverage(conn)}
    assert {k for k, r in cov.items() if r["maternal_line"] + r["paternal_line"] + r["autosomal"] == 0} == {"RA-9100"}
    assert cov["RA-9002"]["autosomal"] == 0 and cov["RA-9002"]["paternal_line"] == 1


def test_accessions_list_filters_by_incident_unit_source_and_dna(app: Any, ids: dict[str, Any]) -> None:
    """K55-BOX-07 (turnover K55, linked here to incident KORWALD-0042) has typed samples;
    X-BOX-1 (recovery R-1, no incident) has one untyped sample, received without an element."""
    from dogtag.registry.engine import session_scope
    from dogtag.registry.models import (
        Accession,
        FieldOperation,
        LossIncident,
        OperationKind,
        Sample,
    )

    eng = app.state.engine
    with session_scope(eng, "setup") as s:
        from sqlalchemy import select

        op = s.scalar(select(FieldOperation).where(FieldOperation.key == "K55"))
        inc = s.scalar(select(LossIncident).where(LossIncident.key == "KORWALD-0042"))
        assert op is not None and inc is not None
        op.incidents.append(inc)
        acc = Accession(key="X-BOX-1", operation=FieldOperation(key="R-1", kind=OperationKind.RECOVERY))
        s.add(acc)
        s.flush()
        s.add(Sample(key="S-X-BOX", accession_id=acc.id))
    ann = client_for(app, "ann")

    def found(query: str) -> list[str]:
        r = ann.get(f"/accessions.json?{query}")
        assert r.status_code == 200, r.text
        return [a["key"] for a in r.json()["accessions"]]

    assert found("") == ["K55-BOX-07", "X-BOX-1"]
    assert found("incident=KORWALD") == ["K55-BOX-07"] and found("incident=NOPE") == []
    assert found("unit=rct") == ["K55-BOX-07"]
    assert found("source=recovery") == ["X-BOX-1"] and found("source=turnover") == ["K55-BOX-07"]
    assert found("dna=profiled") == ["K55-BOX-07"] and found("dna=unprofiled") == ["X-BOX-1"]
    assert found("dna=unprofiled&source=turnover") == []
    assert ann.get("/accessions.json?dna=maybe").status_code == 400
    assert ann.get("/accessions.json?source=bogus").status_code == 400
    html = ann.get("/accessions?dna=unprofiled").text
    assert 'id="accession-filters"' in html and "X-BOX-1" in html and "K55-BOX-07" not in html
