"""A small registry for the web tests, built through the registry API (migrations, ORM, workflow,
custody), with sentinel values that must never reach the wrong eyes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from dogtag.registry import contacts, custody
from dogtag.registry.engine import session_scope, upgrade
from dogtag.registry.models import (
    Accession,
    AnalysisRun,
    Conflict,
    Consent,
    Element,
    Family,
    FamilyMember,
    FieldOperation,
    Individual,
    LossIncident,
    MissingPerson,
    OperationKind,
    Profile,
    ProfileKind,
    Sample,
    Side,
)
from dogtag.registry.users import Role, add_user

PASSWORDS = {"ada": "ada-amber-lantern", "ann": "ann-amber-lantern", "abe": "abe-amber-lantern",
             "rita": "rita-amber-lantern", "rob": "rob-amber-lantern", "liam": "liam-amber-lantern"}
ROLES = {"ada": Role.ADMIN, "ann": Role.ANALYST, "abe": Role.ANALYST, "rita": Role.REVIEWER,
         "rob": Role.REVIEWER, "liam": Role.FAMILY_LIAISON}
#: one user per role, for the role matrix (None = anonymous)
ROLE_USERS: dict[str | None, str | None] = {None: None, "admin": "ada", "analyst": "ann",
                                            "reviewer": "rita", "family_liaison": "liam"}

GENOTYPE_SENTINELS = ("77.7", "16111Q", "DYS-SENTINEL")  # alleles, mtDNA variant, Y marker
NAME_SENTINELS = ("ZEBULON", "RA-9001", "QUIMBY", "RA-9002")  # persons' names and service numbers
#: the sister's name and contact details: for the liaison and the admin only
CONTACT_SENTINELS = ("Mary Q. Contactsentinel", "+1 555 0199 77", "mary@contact.example")

EVIDENCE = [{"kind": "autosomal", "lr": 6.0e6,
             "markers": {"D3S1358": 12.5, "vWA": 40.0, "FGA": 300.0, "D8S1179": 40.0}},
            {"kind": "mtdna", "result": "match", "lr": 250.0},
            {"kind": "anthropology", "result": "consistent: male, 20-30 years, stature 170-178 cm"}]


def seed(engine: Engine) -> dict[str, Any]:
    """Migrate and fill ``engine``; returns the ids the tests need."""
    upgrade(engine)
    with session_scope(engine, "setup") as s:
        for name, role in ROLES.items():
            add_user(s, name, PASSWORDS[name], role, full_name=name.title())
        war = Conflict(name="Korean War", start_date=dt.date(1950, 6, 25), end_date=dt.date(1953, 7, 27))
        inc = LossIncident(key="KORWALD-0042", conflict=war, date=dt.date(1950, 11, 28),
                           place="Chosin Reservoir", latitude=40.4836, longitude=127.2211,
                           unit="31st RCT", circumstances="missing after the withdrawal")
        p1 = MissingPerson(service_number="RA-9001", conflict=war, incident=inc, last_name="ZEBULON",
                           first_name="AMOS", rank="CPL", branch="ARMY", home_state="OHIO",
                           loss_date=dt.date(1950, 11, 28), sex=1)
        p2 = MissingPerson(service_number="RA-9002", conflict=war, incident=inc, last_name="QUIMBY",
                           first_name="BERT", rank="PFC", branch="MARINE CORPS", home_state="TEXAS",
                           loss_date=dt.date(1950, 12, 1), sex=1)
        s.add_all([war, inc, p1, p2])
        s.flush()
        fam = Family(name="F-ZEBULON")
        s.add(fam)
        s.flush()

        def member(mid: str, fa: str | None, mo: str | None, sex: int, **kw: Any) -> FamilyMember:
            m = FamilyMember(family_id=fam.id, member=mid, father=fa, mother=mo, sex=sex,
                             maternal_root=kw.pop("mroot"), paternal_root=kw.pop("proot"), **kw)
            s.add(m)
            return m

        member("FA", None, None, 1, mroot="FA", proot="FA")
        member("MO", None, None, 2, mroot="MO", proot="MO", relationship_to_missing="mother",
               consent=Consent.GIVEN, reference_sample="FRS-1")
        mp = member("MP", "FA", "MO", 1, mroot="MO", proot="FA", missing=True, missing_person_id=p1.id)
        sis = member("SIS", "FA", "MO", 2, mroot="MO", proot="FA", relationship_to_missing="sister",
                     consent=Consent.GIVEN, reference_sample="FRS-2")
        bro = member("BRO", "FA", "MO", 1, mroot="MO", proot="FA", relationship_to_missing="brother",
                     consent=Consent.LIMITED, reference_sample="FRS-3")
        s.flush()
        s.add_all([
            Profile(kind=ProfileKind.AUTOSOMAL, family_member_id=sis.id, kit="GlobalFiler",
                    data={"D3S1358": ["15", "77.7"], "vWA": ["16", "17"]}),
            Profile(kind=ProfileKind.MTDNA, family_member_id=sis.id,
                    data={"range": "16024-16569;1-576", "variants": "16111Q 263G 315.1C"}),
            Profile(kind=ProfileKind.YSTR, family_member_id=bro.id, data={"DYS-SENTINEL": "14"}),
        ])
        contacts.set_contact(s, sis.id, full_name=CONTACT_SENTINELS[0], phone=CONTACT_SENTINELS[1],
                             email=CONTACT_SENTINELS[2], address="12 Elm Street, Dayton, Ohio")
        op = FieldOperation(key="K55", kind=OperationKind.TURNOVER, name="K55 turnover",
                            site="Wonsan", start_date=dt.date(2018, 7, 27))
        acc = Accession(key="K55-BOX-07", operation=op, description="one box, commingled",
                        received_date=dt.date(2018, 8, 1))
        ind = Individual(key="IND-1")
        el = Element(key="E-7-1", accession=acc, individual=ind, element="femur", side=Side.LEFT)
        s1 = Sample(key="S-7-1", element=el, material="bone", sex=1, lab="AFDIL")
        s2 = Sample(key="S-7-2", element=el, material="bone", sex=1, lab="AFDIL")
        s.add_all([op, acc, ind, el, s1, s2])
        s.flush()
        s.add_all([Profile(kind=ProfileKind.AUTOSOMAL, sample_id=s1.id, kit="GlobalFiler",
                           data={"D3S1358": ["15", "77.7"], "vWA": ["16", "18"]}),
                   Profile(kind=ProfileKind.MTDNA, sample_id=s1.id,
                           data={"range": "16024-16569", "variants": "16111Q 16519C"})])
        t0 = dt.datetime(2018, 8, 1, 9, tzinfo=dt.UTC)
        custody.record_transfer(s, acc, to="DPAA laboratory", purpose="accession", at=t0,
                                from_="North Korean authorities", place="Osan")
        custody.record_transfer(s, s1, to="AFDIL", purpose="DNA testing", at=t0 + dt.timedelta(days=30),
                                place="Dover")
        _ = mp
        return {"p1": p1.id, "p2": p2.id, "family": fam.id, "sis": sis.id, "bro": bro.id, "acc": acc.id, "s1": s1.id, "s2": s2.id,
                "el": el.id}


def other_case(engine: Engine, n: int) -> tuple[int, int]:
    """A further missing person (RA-91nn) and sample (S-X-n, no element), for a further
    identification (the workflow allows one active identification per person and remains)."""
    with session_scope(engine, "setup") as s:
        from sqlalchemy import select

        war = s.scalar(select(Conflict))
        p = MissingPerson(service_number=f"RA-91{n:02d}", conflict=war, last_name=f"EXTRA{n}", first_name="C",
                          branch="ARMY", home_state="OHIO", sex=1)
        x = Sample(key=f"S-X-{n}", material="bone", sex=1, lab="AFDIL")
        s.add_all([p, x])
        s.flush()
        return p.id, x.id


def propose_one(engine: Engine, ids: dict[str, Any], *, by: str = "ann",
                case: tuple[int, int] | None = None) -> int:
    """One identification (S-7-1 as RA-9001, or ``case``: person and sample ids) proposed
    through the registry workflow."""
    from sqlalchemy import select

    from dogtag.registry import workflow
    from dogtag.registry.users import User

    pid, sid = case or (ids["p1"], ids["s1"])
    with session_scope(engine, by) as s:
        user = s.scalar(select(User).where(User.username == by))
        person = s.get(MissingPerson, pid)
        sample = s.get(Sample, sid)
        assert user is not None and person is not None and sample is not None
        run = AnalysisRun(software="dogtag", software_version="0.1.0", command="dogtag search",
                          parameters={"theta": 0.01, "dropout": 0.05}, frequency_database="NIST 1036 Cauc",
                          inputs_digest="ab" * 32, actor=by)
        s.add(run)
        s.flush()
        ident = workflow.propose(s, user, person, reason="blind search, top candidate", sample=sample,
                                 lr=6.0e6, posterior=0.9999, evidence=EVIDENCE, run=run)
        return ident.id


def review_one(engine: Engine, iid: int, *, until: str = "approved") -> None:
    """Move identification ``iid`` on from its present status through the registry workflow
    (submitted by ann, technical review by rita, approval by rob: two different reviewers) until
    it reaches the status ``until``."""
    from sqlalchemy import select

    from dogtag.registry import workflow
    from dogtag.registry.identification import Identification, IdStatus
    from dogtag.registry.users import User

    steps = [("ann", IdStatus.TECHNICAL_REVIEW, "ready for review"),
             ("rita", IdStatus.ADMINISTRATIVE_REVIEW, "genotypes and LRs checked"),
             ("rob", IdStatus.APPROVED, "records and chain of custody checked")]
    order = [IdStatus.PROPOSED, *(to for _, to, _ in steps)]
    for who, to, reason in steps:
        with session_scope(engine, who) as s:
            ident = s.get(Identification, iid)
            user = s.scalar(select(User).where(User.username == who))
            assert ident is not None and user is not None
            if order.index(ident.status) >= order.index(to):
                continue
            workflow.transition(s, ident, to, user, reason)
        if to.value == until:
            return
