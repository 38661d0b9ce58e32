"""Lifecycle rules: missing-person status (10 USC 1513) and the identification review chain."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select

from dogtag.registry import workflow as wf
from dogtag.registry.engine import session_scope, sessions
from dogtag.registry.models import (
    Identification,
    IdentificationEvent,
    IdStatus,
    MissingPerson,
    Notification,
    Sample,
    Status,
    StatusChange,
    User,
)

from .factories import small_registry


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


@pytest.fixture
def reg(engine: Engine, users: None) -> dict[str, int]:
    return small_registry(engine)


def _propose(engine: Engine, reg: dict[str, int], by: str = "ann", person: str = "p1",
             sample: str = "s1") -> int:
    with session_scope(engine, by) as s:
        ident = wf.propose(s, _user(s, by), s.get(MissingPerson, reg[person]), sample=s.get(Sample, reg[sample]),
                           lr=3.2e9, log10_lr=9.505, posterior=0.9999, reason="blind search rank 1",
                           evidence=[{"kind": "autosomal", "lr": 3.2e9}])
        return ident.id


def _step(engine: Engine, ident_id: int, by: str, to: IdStatus, why: str = "checked") -> None:
    with session_scope(engine, by) as s:
        wf.transition(s, s.get(Identification, ident_id), to, _user(s, by), why)


def _to_admin_review(engine: Engine, reg: dict[str, int]) -> int:
    i = _propose(engine, reg)
    _step(engine, i, "ann", IdStatus.TECHNICAL_REVIEW)
    _step(engine, i, "rita", IdStatus.ADMINISTRATIVE_REVIEW)
    return i


def test_full_chain_records_who_when_why_and_accounts_for_the_person(engine: Engine, reg: dict[str, int]) -> None:
    i = _to_admin_review(engine, reg)
    _step(engine, i, "rob", IdStatus.APPROVED, "second review agrees")
    with session_scope(engine, "liam") as s:
        wf.notify_family(s, s.get(Identification, i), _user(s, "liam"), recipient="Mary Doe",
                         relationship="niece", method="in person", reason="family briefing")
    with sessions(engine)() as s:
        ident = s.get(Identification, i)
        assert ident.status == IdStatus.FAMILY_NOTIFIED
        assert (ident.proposed_by, ident.technical_reviewer, ident.administrative_reviewer) == ("ann", "rita", "rob")
        events = s.scalars(select(IdentificationEvent).where(IdentificationEvent.identification_id == i)
                           .order_by(IdentificationEvent.id)).all()
        assert [(e.from_status, e.to_status, e.actor) for e in events] == [
            (None, IdStatus.PROPOSED, "ann"),
            (IdStatus.PROPOSED, IdStatus.TECHNICAL_REVIEW, "ann"),
            (IdStatus.TECHNICAL_REVIEW, IdStatus.ADMINISTRATIVE_REVIEW, "rita"),
            (IdStatus.ADMINISTRATIVE_REVIEW, IdStatus.APPROVED, "rob"),
            (IdStatus.APPROVED, IdStatus.FAMILY_NOTIFIED, "liam"),
        ]
        assert all(e.at is not None and e.at.tzinfo is not None and e.reason for e in events)
        assert [e.at for e in events] == sorted(e.at for e in events)
        person = s.get(MissingPerson, reg["p1"])
        assert person.status == Status.IDENTIFIED and person.status.accounted_for
        change = s.scalars(select(StatusChange).where(StatusChange.to_status == Status.IDENTIFIED)).one()
        assert (change.actor, change.identification_id, change.from_status) == ("rob", i, Status.MISSING)
        assert s.scalars(select(Notification)).one().recipient == "Mary Doe"


@pytest.mark.parametrize(("steps", "actor", "to", "error", "match"), [
    # the proposer (an analyst) may not do the technical review
    ([("ann", IdStatus.TECHNICAL_REVIEW)], "ann", IdStatus.ADMINISTRATIVE_REVIEW, wf.PermissionDenied, "role"),
    # an analyst is not a reviewer
    ([("ann", IdStatus.TECHNICAL_REVIEW)], "abe", IdStatus.ADMINISTRATIVE_REVIEW, wf.PermissionDenied, "role"),
    # the technical reviewer may not also do the administrative review
    ([("ann", IdStatus.TECHNICAL_REVIEW), ("rita", IdStatus.ADMINISTRATIVE_REVIEW)], "rita",
     IdStatus.APPROVED, wf.PermissionDenied, "second reviewer"),
    # nor may the proposer, even as an admin... (ada proposes below in a separate test)
    # no skipping stages
    ([], "rita", IdStatus.APPROVED, wf.WorkflowError, "no transition"),
    ([], "rita", IdStatus.ADMINISTRATIVE_REVIEW, wf.WorkflowError, "no transition"),
    ([("ann", IdStatus.TECHNICAL_REVIEW)], "rita", IdStatus.APPROVED, wf.WorkflowError, "no transition"),
    # family liaison cannot submit or review
    ([], "liam", IdStatus.TECHNICAL_REVIEW, wf.PermissionDenied, "role"),
    # a reviewer cannot withdraw someone else's proposal
    ([], "rita", IdStatus.WITHDRAWN, wf.PermissionDenied, "withdrawing"),
])
def test_refused_transitions(engine: Engine, reg: dict[str, int], steps, actor, to, error, match) -> None:
    i = _propose(engine, reg)
    for who, step in steps:
        _step(engine, i, who, step)
    with pytest.raises(error, match=match), session_scope(engine, actor) as s:
        wf.transition(s, s.get(Identification, i), to, _user(s, actor), "try")
    with sessions(engine)() as s:  # nothing changed
        assert s.get(Identification, i).status == (steps[-1][1] if steps else IdStatus.PROPOSED)


def test_admin_proposer_cannot_review_own_proposal(engine: Engine, reg: dict[str, int]) -> None:
    i = _propose(engine, reg, by="ada")
    _step(engine, i, "ada", IdStatus.TECHNICAL_REVIEW)
    with pytest.raises(wf.PermissionDenied, match="proposed"), session_scope(engine, "ada") as s:
        wf.transition(s, s.get(Identification, i), IdStatus.ADMINISTRATIVE_REVIEW, _user(s, "ada"), "ok")


def test_every_transition_needs_a_reason(engine: Engine, reg: dict[str, int]) -> None:
    i = _propose(engine, reg)
    for why in ("", "   "):
        with pytest.raises(wf.WorkflowError, match="reason"), session_scope(engine, "ann") as s:
            wf.transition(s, s.get(Identification, i), IdStatus.TECHNICAL_REVIEW, _user(s, "ann"), why)
    with pytest.raises(wf.WorkflowError, match="reason"), session_scope(engine, "ann") as s:
        wf.propose(s, _user(s, "ann"), s.get(MissingPerson, reg["p2"]), sample=s.get(Sample, reg["s2"]), reason="")


def test_rejection_and_withdrawal_end_a_proposal(engine: Engine, reg: dict[str, int]) -> None:
    i = _propose(engine, reg)
    _step(engine, i, "ann", IdStatus.TECHNICAL_REVIEW)
    _step(engine, i, "rita", IdStatus.REJECTED, "exclusions at 3 loci")
    with pytest.raises(wf.WorkflowError, match="no transition"):
        _step(engine, i, "rob", IdStatus.APPROVED)
    j = _propose(engine, reg, person="p2", sample="s2")
    _step(engine, j, "ann", IdStatus.WITHDRAWN, "duplicate sample")
    with sessions(engine)() as s:
        assert s.get(MissingPerson, reg["p1"]).status == Status.MISSING


def test_notification_only_after_approval_and_by_liaison(engine: Engine, reg: dict[str, int]) -> None:
    i = _to_admin_review(engine, reg)
    with pytest.raises(wf.WorkflowError, match="only an approved"), session_scope(engine, "liam") as s:
        wf.notify_family(s, s.get(Identification, i), _user(s, "liam"), recipient="X", method="letter", reason="r")
    _step(engine, i, "rob", IdStatus.APPROVED)
    with pytest.raises(wf.PermissionDenied), session_scope(engine, "ann") as s:
        wf.notify_family(s, s.get(Identification, i), _user(s, "ann"), recipient="X", method="letter", reason="r")
    with pytest.raises(wf.WorkflowError, match="notify_family"):
        _step(engine, i, "liam", IdStatus.FAMILY_NOTIFIED)


def test_accounted_for_only_through_approved_identification_or_recorded_determination(
        engine: Engine, reg: dict[str, int]) -> None:
    i = _propose(engine, reg)
    with pytest.raises(wf.WorkflowError, match="only through an approved"), session_scope(engine, "ada") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p1"]), Status.IDENTIFIED, _user(s, "ada"), "lab says so")
    with pytest.raises(wf.WorkflowError, match="not approved"), session_scope(engine, "ada") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p1"]), Status.IDENTIFIED, _user(s, "ada"), "x",
                         identification=s.get(Identification, i))
    # returned alive / other determination: admin only, with a reason
    with pytest.raises(wf.PermissionDenied), session_scope(engine, "ann") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p2"]), Status.RETURNED_ALIVE, _user(s, "ann"), "repatriated")
    with pytest.raises(wf.WorkflowError, match="reason"), session_scope(engine, "ada") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p2"]), Status.OTHER_DETERMINATION, _user(s, "ada"), " ")
    with session_scope(engine, "ada") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p2"]), Status.OTHER_DETERMINATION, _user(s, "ada"),
                         "board finding of 1954 on credible evidence")
    with sessions(engine)() as s:
        assert s.get(MissingPerson, reg["p2"]).status == Status.OTHER_DETERMINATION
        assert s.get(MissingPerson, reg["p1"]).status == Status.MISSING
    # an accounted-for person takes no new proposal, and only an admin may reopen the case
    with pytest.raises(wf.WorkflowError, match="already accounted"), session_scope(engine, "ann") as s:
        wf.propose(s, _user(s, "ann"), s.get(MissingPerson, reg["p2"]), sample=s.get(Sample, reg["s2"]), reason="r")
    with pytest.raises(wf.PermissionDenied, match="reopening"), session_scope(engine, "ann") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p2"]), Status.MISSING, _user(s, "ann"), "new evidence")
    with pytest.raises(wf.WorkflowError, match="already has"), session_scope(engine, "ada") as s:
        wf.change_status(s, s.get(MissingPerson, reg["p1"]), Status.MISSING, _user(s, "ada"), "no-op")


def _individual(engine: Engine, key: str, elements: list[int]) -> int:
    from dogtag.registry.models import Element, Individual

    with session_scope(engine, "ann") as s:
        ind = Individual(key=key)
        s.add(ind)
        s.flush()
        for e in elements:
            s.get(Element, e).individual_id = ind.id
        return ind.id


def _propose_individual(engine: Engine, person: int, individual: int, by: str = "ann") -> int:
    from dogtag.registry.models import Individual

    with session_scope(engine, by) as s:
        return wf.propose(s, _user(s, by), s.get(MissingPerson, person), individual=s.get(Individual, individual),
                          reason="joint identification").id


def test_same_remains_cannot_be_identified_as_two_people(engine: Engine, reg: dict[str, int]) -> None:
    i = _to_admin_review(engine, reg)                      # S1 as RA1
    for sample in ("s1", "s2"):                            # S2 is cut from the same element as S1
        with pytest.raises(wf.WorkflowError, match="same remains already have identification"):
            _propose(engine, reg, person="p2", sample=sample)
    ind = _individual(engine, "IND-1", [reg["el"]])        # S1's element belongs to an individual
    with pytest.raises(wf.WorkflowError, match="same remains already have identification"):
        _propose_individual(engine, reg["p2"], ind)
    with pytest.raises(wf.WorkflowError, match="same remains are already identified as RA1"):
        _propose_individual(engine, reg["p1"], ind)        # the same pairing twice
    _step(engine, i, "rob", IdStatus.REJECTED)              # a rejected identification frees the remains
    j = _propose_individual(engine, reg["p2"], ind)
    _step(engine, j, "ann", IdStatus.TECHNICAL_REVIEW)
    assert j > i


def test_remains_that_become_one_are_not_approved_twice(engine: Engine, reg: dict[str, int]) -> None:
    """A sample proposed as one person and an individual proposed as another, then the sample's
    element is assigned to that individual: neither can be approved while the other is active."""
    i = _to_admin_review(engine, reg)                      # S1 as RA1
    ind = _individual(engine, "IND-1", [])
    j = _propose_individual(engine, reg["p2"], ind)        # other remains (no element yet): allowed
    _step(engine, j, "ann", IdStatus.TECHNICAL_REVIEW)
    _step(engine, j, "rita", IdStatus.ADMINISTRATIVE_REVIEW)
    from dogtag.registry.models import Element

    with session_scope(engine, "ann") as s:
        s.get(Element, reg["el"]).individual_id = ind
    for k in (i, j):
        with pytest.raises(wf.WorkflowError, match="same remains"):
            _step(engine, k, "rob", IdStatus.APPROVED)


def test_one_person_one_individual_unless_merged(engine: Engine, reg: dict[str, int]) -> None:
    from dogtag.registry.models import Element, Individual

    with session_scope(engine, "setup") as s:
        el2 = Element(key="E2", accession_id=reg["acc"], element="tibia")
        s3 = Sample(key="S3", element=el2, sex=1)
        s.add_all([el2, s3])
        s.flush()
        reg = {**reg, "el2": el2.id, "s3": s3.id}
    a, b = _individual(engine, "IND-A", [reg["el"]]), _individual(engine, "IND-B", [reg["el2"]])
    _propose_individual(engine, reg["p1"], a)
    with pytest.raises(wf.WorkflowError, match=r"RA1 already has identification .* of other remains"):
        _propose(engine, reg, person="p1", sample="s3")
    with session_scope(engine, "ann") as s:
        with pytest.raises(wf.PermissionDenied):
            wf.merge_individuals(s, _user(s, "liam"), s.get(Individual, a), s.get(Individual, b), "same person")
        wf.merge_individuals(s, _user(s, "ann"), s.get(Individual, a), s.get(Individual, b),
                             "osteometric pair and DNA match")
    with sessions(engine)() as s:
        assert s.get(Element, reg["el2"]).individual_id == a
        assert "merged into IND-A" in s.get(Individual, b).notes and "ann merged IND-B" in s.get(Individual, a).notes
    with pytest.raises(wf.WorkflowError, match="same remains are already identified as RA1"):
        _propose(engine, reg, person="p1", sample="s3")     # now the same remains, already proposed
    with pytest.raises(wf.WorkflowError, match="same remains already have identification"):
        _propose(engine, reg, person="p2", sample="s3")


def test_the_database_refuses_two_active_identifications_of_one_sample(engine: Engine, reg: dict[str, int]) -> None:
    from sqlalchemy.exc import IntegrityError

    _propose(engine, reg)
    with pytest.raises(IntegrityError), session_scope(engine, "ann") as s:   # around the workflow
        s.add(Identification(missing_person_id=reg["p2"], sample_id=reg["s1"], proposed_by="ann"))
        s.flush()
    with pytest.raises(IntegrityError), session_scope(engine, "ann") as s:
        s.add(Identification(missing_person_id=reg["p1"], sample_id=reg["s2"], proposed_by="ann"))
        s.flush()
    with session_scope(engine, "ann") as s:                 # a withdrawn one does not count
        s.add(Identification(missing_person_id=reg["p2"], sample_id=reg["s1"], proposed_by="ann",
                             status=IdStatus.WITHDRAWN))


def test_inactive_user_is_refused(engine: Engine, reg: dict[str, int]) -> None:
    with session_scope(engine, "ada") as s:
        _user(s, "rita").active = False
    i = _propose(engine, reg)
    _step(engine, i, "ann", IdStatus.TECHNICAL_REVIEW)
    with pytest.raises(wf.PermissionDenied, match="inactive"):
        _step(engine, i, "rita", IdStatus.ADMINISTRATIVE_REVIEW)


def test_stale_version_is_a_conflict(engine: Engine, reg: dict[str, int]) -> None:
    i = _to_admin_review(engine, reg)
    with pytest.raises(wf.ConflictError, match="version"), session_scope(engine, "rob") as s:
        wf.approve(s, s.get(Identification, i), _user(s, "rob"), "ok", expected_version=1)
    # a session that loaded the row before someone else changed it loses
    stale = sessions(engine)()
    stale.info["actor"] = "rob"
    old = stale.get(Identification, i)
    rob = _user(stale, "rob")
    stale.commit()  # end the read transaction; the object keeps the version it was read at
    with session_scope(engine, "ann") as s:
        s.get(Identification, i).posterior = 0.99  # someone else edits the record meanwhile
    with pytest.raises(wf.ConflictError, match="someone else"):
        wf.approve(stale, old, rob, "ok")
    stale.rollback()
    stale.close()
    with sessions(engine)() as s:
        assert s.get(Identification, i).status == IdStatus.ADMINISTRATIVE_REVIEW


def test_concurrent_approval_has_one_winner(engine: Engine, reg: dict[str, int]) -> None:
    i = _to_admin_review(engine, reg)
    barrier = threading.Barrier(2, timeout=30)
    outcome: dict[str, str] = {}

    def approve(name: str) -> None:
        session = sessions(engine)()
        session.info["actor"] = name
        try:
            with session.begin():
                ident = session.get(Identification, i)
                user = _user(session, name)
                barrier.wait()  # both have read the same version before either writes
                wf.approve(session, ident, user, f"approved by {name}")
            outcome[name] = "won"
        except wf.ConflictError as exc:
            outcome[name] = f"conflict: {exc}"
        finally:
            session.close()

    threads = [threading.Thread(target=approve, args=(n,)) for n in ("rob", "ada")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(v.split(":")[0] for v in outcome.values()) == ["conflict", "won"], outcome
    winner = next(k for k, v in outcome.items() if v == "won")
    with sessions(engine)() as s:
        ident = s.get(Identification, i)
        assert ident.status == IdStatus.APPROVED and ident.administrative_reviewer == winner
        assert s.scalars(select(StatusChange).where(StatusChange.to_status == Status.IDENTIFIED)).one().actor == winner
        approvals = s.scalars(select(IdentificationEvent).where(
            IdentificationEvent.to_status == IdStatus.APPROVED)).all()
        assert [e.actor for e in approvals] == [winner]


def test_proposals_keep_their_provenance(engine: Engine, reg: dict[str, int]) -> None:
    from dogtag import __version__
    from dogtag.registry.models import AnalysisRun

    with session_scope(engine, "ann") as s:
        run = AnalysisRun(software_version=__version__, command="dogtag search", actor="ann",
                          parameters={"threshold": 1e4, "prior": "flat", "theta": 0.01},
                          frequency_database="NIST 1036 Caucasian")
        s.add(run)
        s.flush()
        ident = wf.propose(s, _user(s, "ann"), s.get(MissingPerson, reg["p1"]), sample=s.get(Sample, reg["s1"]),
                           lr=1e12, posterior=0.999, run=run, reason="search")
        i = ident.id
    with sessions(engine)() as s:
        ident = s.get(Identification, i)
        assert ident.run.parameters == {"threshold": 1e4, "prior": "flat", "theta": 0.01}
        assert (ident.run.software_version, ident.run.frequency_database) == (__version__, "NIST 1036 Caucasian")
        assert ident.run.started_at.tzinfo is not None
