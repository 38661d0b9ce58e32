"""Relatives' names and contact details: seen and changed by the liaison and the admin only, every
change and every read in the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dogtag.registry import ledger
from dogtag.registry.ledger import AuditEntry

from .seed import CONTACT_SENTINELS
from .test_app import client_for


def _audit(app: Any, action: str) -> list[tuple[str, str | None, str | None]]:
    with app.state.engine.connect() as conn:
        return [(a, k, after) for a, k, after in conn.execute(
            select(AuditEntry.actor, AuditEntry.row_key, AuditEntry.after)
            .where(AuditEntry.table_name == "relative_contact", AuditEntry.action == action)
            .order_by(AuditEntry.seq))]


def _members(client: Any, pid: int) -> dict[str, dict[str, Any]]:
    data = client.get(f"/persons/{pid}.json").json()
    return {m["member"]: m for f in data["families"] for m in f["members"]}


def test_contacts_for_the_liaison_and_admin_only(app: Any, ids: dict[str, Any]) -> None:
    pid = ids["p1"]
    for user in ("liam", "ada"):
        sis = _members(client_for(app, user), pid)["SIS"]
        assert sis["contact"]["full_name"] == CONTACT_SENTINELS[0] and sis["contact"]["phone"] == CONTACT_SENTINELS[1]
        assert sis["contact"]["updated_by"] == "setup"
        html = client_for(app, user).get(f"/persons/{pid}").text
        assert CONTACT_SENTINELS[2] in html and f'id="contact-{ids["sis"]}"' in html
    for user in ("ann", "rita"):
        members = _members(client_for(app, user), pid)
        assert all("contact" not in m and "member_id" not in m for m in members.values())
        html = client_for(app, user).get(f"/persons/{pid}").text
        assert not any(c in html for c in CONTACT_SENTINELS) and "Name and contact details" not in html


def test_every_read_and_change_is_audited(app: Any, ids: dict[str, Any]) -> None:
    pid, fid = ids["p1"], ids["family"]
    url = f"/persons/{pid}/families/{fid}/members/{ids['bro']}/contact"
    reads = len(_audit(app, "read"))
    client_for(app, "ann").get(f"/persons/{pid}.json")  # the analyst reads no contact: nothing logged
    assert len(_audit(app, "read")) == reads
    liam = client_for(app, "liam")
    liam.get(f"/persons/{pid}")
    new_reads = _audit(app, "read")[reads:]
    assert [(a, after) for a, _, after in new_reads] == [("liam", f'{{"shown_on":"/persons/{pid}"}}')]
    r = liam.post(url, data={"full_name": "  John Zebulon ", "phone": "+1 555 0100", "email": "",
                             "address": "3 Oak Road"})
    assert r.status_code == 303 and r.headers["location"] == f"/persons/{pid}#family-{fid}"
    bro = _members(liam, pid)["BRO"]["contact"]
    assert (bro["full_name"], bro["phone"], bro["email"], bro["updated_by"]) == ("John Zebulon", "+1 555 0100", None, "liam")
    inserts = _audit(app, "insert")
    assert inserts[-1][0] == "liam" and '"full_name":"John Zebulon"' in (inserts[-1][2] or "")
    r = client_for(app, "ada").post(url, data={"full_name": "John A. Zebulon", "phone": "+1 555 0100"},
                                    headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["ok"]
    updates = _audit(app, "update")
    assert updates[-1][0] == "ada" and '"full_name":"John A. Zebulon"' in (updates[-1][2] or "")
    # the analyst may not change them; nothing is written
    before = len(_audit(app, "update")) + len(_audit(app, "insert"))
    r = client_for(app, "ann").post(url, data={"full_name": "X"}, headers={"Accept": "application/json"})
    assert r.status_code == 403 and len(_audit(app, "update")) + len(_audit(app, "insert")) == before
    # a missing person is no contact; a member of another family is not found
    mp = next(m for m in _members(liam, pid).values() if m["missing"])
    r = liam.post(f"/persons/{pid}/families/{fid}/members/{mp['member_id']}/contact", data={"full_name": "X"},
                  headers={"Accept": "application/json"})
    assert r.status_code == 400 and "missing person" in r.json()["error"]
    r = liam.post(f"/persons/{ids['p2']}/families/{fid}/members/{ids['bro']}/contact", data={"full_name": "X"},
                  headers={"Accept": "application/json"})
    assert r.status_code == 404
    with app.state.engine.connect() as conn:
        assert ledger.verify_chain(conn, "audit").ok
