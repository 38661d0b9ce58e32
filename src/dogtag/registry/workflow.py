"""Lifecycle rules, enforced here in the data layer (never only in a user interface).

Status of a missing person (10 USC 1513):

- becomes ``identified`` (accounted for) only through an approved identification of that person;
- becomes ``returned_alive`` or ``other_determination`` only by an admin, with a recorded reason;
- every change is a :class:`StatusChange` row: who, when, why.

Identification (DPAA's review chain): proposed -> technical_review -> administrative_review ->
approved -> family_notified, or rejected / withdrawn before approval. The technical reviewer signs
the move to administrative review; the administrative reviewer signs the approval; they are two
different users and neither is the proposer. Each transition is an :class:`IdentificationEvent`.

One remains, one person: a sample, the individual its element belongs to and that individual's
other samples are *the same remains*; they resolve to at most one missing person, and one missing
person to at most one set of remains. :func:`propose` refuses an identification while another one
of the same remains, or of the same person, is active (proposed, in review, approved or notified);
a rejected or withdrawn one no longer counts. Approval checks it again. Two individuals found to
be one person are joined by :func:`merge_individuals` (a recorded action), after which they are
the same remains. Partial unique indexes on ``identification`` back this up in the database (one
active identification per sample, per individual and per missing person).

Concurrency is optimistic: the ``version`` column of a missing person and of an identification is
checked by every UPDATE, so of two concurrent transitions one wins and the other raises
:class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dogtag.errors import DogtagError
from dogtag.registry.base import utcnow
from dogtag.registry.identification import (
    AnalysisRun,
    Identification,
    IdentificationEvent,
    IdStatus,
    Notification,
)
from dogtag.registry.people import ACCOUNTED_FOR, MissingPerson, Status, StatusChange
from dogtag.registry.recovery import Element, Individual, Sample
from dogtag.registry.users import Role, User


class WorkflowError(DogtagError):
    """A transition that the rules refuse; the message says which rule."""


class PermissionDenied(WorkflowError):
    """The user's role (or their part in the case) does not allow this transition."""


class ConflictError(DogtagError):
    """Someone else changed the record first; reload it and try again."""


_OPEN = (IdStatus.PROPOSED, IdStatus.TECHNICAL_REVIEW, IdStatus.ADMINISTRATIVE_REVIEW)
_FINAL_IDS = (IdStatus.APPROVED, IdStatus.FAMILY_NOTIFIED)
#: identifications that hold their remains and their person
ACTIVE = _OPEN + _FINAL_IDS


@contextmanager
def _optimistic(what: str) -> Iterator[None]:
    try:
        yield
    except StaleDataError:
        raise ConflictError(f"{what} was changed by someone else; reload it and try again") from None
    except OperationalError as exc:  # SQLite: a stale snapshot cannot be upgraded to a writer
        if "locked" in str(exc) or "busy" in str(exc).lower():
            raise ConflictError(f"{what} is being changed by someone else; reload it and try again"
                                ) from None
        raise


def _check_actor(actor: User, roles: tuple[Role, ...], action: str) -> None:
    if not actor.active:
        raise PermissionDenied(f"user {actor.username!r} is inactive")
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise PermissionDenied(f"{action} needs the role {allowed}; {actor.username!r} is {actor.role.value}")


def _check_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise WorkflowError("every transition needs a reason (why)")
    return reason.strip()


def _check_version(obj: Any, expected: int | None, what: str) -> None:
    if expected is not None and obj.version != expected:
        raise ConflictError(f"{what} is at version {obj.version}, not {expected}: someone else changed it")


# --- missing-person status ------------------------------------------------

def change_status(session: Session, person: MissingPerson, to: Status | str, actor: User, reason: str,
                  *, identification: Identification | None = None,
                  expected_version: int | None = None) -> StatusChange:
    """Change a missing person's status under the rules above; returns the history row."""
    to = Status(to)
    why = _check_reason(reason)
    what = f"missing person {person.service_number}"
    _check_version(person, expected_version, what)
    if to == person.status:
        raise WorkflowError(f"{what} already has status {to.value}")
    if to == Status.IDENTIFIED:
        if identification is None or identification.missing_person_id != person.id:
            raise WorkflowError(f"{what} can become identified only through an approved identification "
                                "of that person")
        if identification.status not in _FINAL_IDS:
            raise WorkflowError(f"identification {identification.id} is {identification.status.value}, "
                                "not approved")
    elif to in (Status.RETURNED_ALIVE, Status.OTHER_DETERMINATION):
        _check_actor(actor, (Role.ADMIN,), f"recording {to.value}")
    elif person.status in ACCOUNTED_FOR:
        _check_actor(actor, (Role.ADMIN,), f"reopening an accounted-for case ({what})")
    else:
        _check_actor(actor, (Role.ADMIN, Role.ANALYST), "changing a status")
    change = StatusChange(missing_person_id=person.id, from_status=person.status, to_status=to,
                          actor=actor.username, at=utcnow(), reason=why,
                          identification_id=None if identification is None else identification.id)
    person.status = to
    session.add(change)
    with _optimistic(what):
        session.flush()
    return change


# --- identifications -------------------------------------------------------

def propose(session: Session, actor: User, person: MissingPerson, *, reason: str,
            sample: Sample | None = None, individual: Individual | None = None,
            lr: float | None = None, log10_lr: float | None = None, posterior: float | None = None,
            evidence: list[dict[str, Any]] | None = None, run: AnalysisRun | None = None) -> Identification:
    """Propose that remains (a sample or an individual) are ``person``."""
    _check_actor(actor, (Role.ANALYST, Role.ADMIN), "proposing an identification")
    why = _check_reason(reason)
    if sample is None and individual is None:
        raise ValueError("give `sample` or `individual` (the remains)")
    if person.status in ACCOUNTED_FOR:
        raise WorkflowError(f"missing person {person.service_number} is already accounted for "
                            f"({person.status.value})")
    check_one_identification(session, person, sample_id=None if sample is None else sample.id,
                             individual_id=None if individual is None else individual.id)
    ident = Identification(
        missing_person_id=person.id, sample_id=None if sample is None else sample.id,
        individual_id=None if individual is None else individual.id,
        analysis_run_id=None if run is None else run.id, lr=lr, log10_lr=log10_lr,
        posterior=posterior, evidence=evidence, status=IdStatus.PROPOSED,
        proposed_by=actor.username, proposed_at=utcnow(),
    )
    session.add(ident)
    session.flush()
    session.add(IdentificationEvent(identification_id=ident.id, from_status=None,
                                    to_status=IdStatus.PROPOSED, actor=actor.username, at=utcnow(),
                                    reason=why))
    session.flush()
    return ident


def transition(session: Session, ident: Identification, to: IdStatus | str, actor: User, reason: str,
               *, expected_version: int | None = None) -> IdentificationEvent:
    """Move an identification one step (see the module docstring for who may do what)."""
    to = IdStatus(to)
    why = _check_reason(reason)
    what = f"identification {ident.id}"
    _check_version(ident, expected_version, what)
    frm = ident.status
    now = utcnow()
    reviewers = (Role.REVIEWER, Role.ADMIN)
    if to == IdStatus.WITHDRAWN and frm in _OPEN:
        if actor.username != ident.proposed_by:
            _check_actor(actor, (Role.ADMIN,), "withdrawing someone else's proposal")
    elif frm == IdStatus.PROPOSED and to == IdStatus.TECHNICAL_REVIEW:
        _check_actor(actor, (Role.ANALYST, Role.ADMIN), "submitting for technical review")
    elif frm == IdStatus.TECHNICAL_REVIEW and to in (IdStatus.ADMINISTRATIVE_REVIEW, IdStatus.REJECTED):
        _check_actor(actor, reviewers, "technical review")
        if actor.username == ident.proposed_by:
            raise PermissionDenied(f"{actor.username!r} proposed {what} and cannot review it")
        ident.technical_reviewer, ident.technical_reviewed_at = actor.username, now
    elif frm == IdStatus.ADMINISTRATIVE_REVIEW and to in (IdStatus.APPROVED, IdStatus.REJECTED):
        _check_actor(actor, reviewers, "administrative review")
        if actor.username == ident.proposed_by:
            raise PermissionDenied(f"{actor.username!r} proposed {what} and cannot review it")
        if actor.username == ident.technical_reviewer:
            raise PermissionDenied(f"{actor.username!r} did the technical review of {what}; the "
                                   "administrative review needs a second reviewer")
        if to == IdStatus.APPROVED:
            _check_approvable(session, ident)
            ident.approved_at = now
        ident.administrative_reviewer = actor.username
    elif frm == IdStatus.APPROVED and to == IdStatus.FAMILY_NOTIFIED:
        raise WorkflowError("use notify_family() to record a family notification")
    else:
        raise WorkflowError(f"{what}: no transition from {frm.value} to {to.value}")
    ident.status = to
    event = IdentificationEvent(identification_id=ident.id, from_status=frm, to_status=to,
                                actor=actor.username, at=now, reason=why)
    session.add(event)
    with _optimistic(what):
        session.flush()
        if to == IdStatus.APPROVED:
            person = session.get(MissingPerson, ident.missing_person_id)
            assert person is not None
            change_status(session, person, Status.IDENTIFIED, actor, f"identification {ident.id} "
                          f"approved: {why}", identification=ident)
    return event


def _check_approvable(session: Session, ident: Identification) -> None:
    person = session.get(MissingPerson, ident.missing_person_id)
    assert person is not None
    if person.status in ACCOUNTED_FOR:
        raise WorkflowError(f"missing person {person.service_number} is already accounted for "
                            f"({person.status.value})")
    check_one_identification(session, person, sample_id=ident.sample_id, individual_id=ident.individual_id,
                             exclude=ident.id)


def same_remains(session: Session, *, sample_id: int | None = None,
                 individual_id: int | None = None) -> tuple[set[int], set[int]]:
    """The samples and individuals that are the same remains as a sample and/or an individual:
    the samples cut from the same element, the element's individual, and every sample cut from an
    element of those individuals."""
    samples = {sample_id} if sample_id is not None else set()
    individuals = {individual_id} if individual_id is not None else set()
    if sample_id is not None:
        row = session.execute(select(Element.id, Element.individual_id).join(Sample, Sample.element_id == Element.id)
                              .where(Sample.id == sample_id)).first()
        if row is not None:
            samples |= set(session.scalars(select(Sample.id).where(Sample.element_id == row[0])))
            if row[1] is not None:
                individuals.add(row[1])
    if individuals:
        samples |= set(session.scalars(select(Sample.id).join(Element, Sample.element_id == Element.id)
                                       .where(Element.individual_id.in_(individuals))))
    return samples, individuals


def check_one_identification(session: Session, person: MissingPerson, *, sample_id: int | None,
                             individual_id: int | None, exclude: int | None = None) -> None:
    """Refuse a second active identification of the same remains or of the same person."""
    samples, individuals = same_remains(session, sample_id=sample_id, individual_id=individual_id)
    active = select(Identification).where(Identification.status.in_(ACTIVE))
    if exclude is not None:
        active = active.where(Identification.id != exclude)
    cond = []
    if samples:
        cond.append(Identification.sample_id.in_(samples))
    if individuals:
        cond.append(Identification.individual_id.in_(individuals))
    for other in session.scalars(active.where(or_(*cond))).all() if cond else []:
        who = session.get(MissingPerson, other.missing_person_id)
        name = who.service_number if who is not None else other.missing_person_id
        if other.missing_person_id == person.id:
            raise WorkflowError(f"the same remains are already identified as {name} (identification {other.id}, "
                                f"{other.status.value})")
        raise WorkflowError(f"the same remains already have identification {other.id} as {name} "
                            f"({other.status.value}): one remains resolve to one missing person; reject or "
                            "withdraw that identification first")
    for other in session.scalars(active.where(Identification.missing_person_id == person.id)):
        raise WorkflowError(f"missing person {person.service_number} already has identification {other.id} "
                            f"({other.status.value}) of other remains: one person resolves to one individual; "
                            "merge the individuals (merge_individuals) or withdraw that identification first")


def merge_individuals(session: Session, actor: User, keep: Individual, other: Individual, reason: str) -> None:
    """Join ``other`` into ``keep`` (one person): its elements and active identifications move to ``keep``.

    Refused when the two hold active identifications of different missing persons. The move is in
    the audit log (element and identification rows), and both individuals' notes say why and who.
    """
    _check_actor(actor, (Role.ANALYST, Role.ADMIN), "merging individuals")
    why = _check_reason(reason)
    if keep.id == other.id:
        raise WorkflowError(f"individual {keep.key} cannot be merged with itself")
    held = {}
    for ind in (keep, other):
        s_ids, i_ids = same_remains(session, individual_id=ind.id)
        held[ind.id] = list(session.scalars(select(Identification).where(
            Identification.status.in_(ACTIVE),
            or_(Identification.individual_id.in_(i_ids), Identification.sample_id.in_(s_ids)))))
    persons = {i.missing_person_id for rows in held.values() for i in rows}
    if len(persons) > 1:
        raise WorkflowError(f"individuals {keep.key} and {other.key} have active identifications of different "
                            "missing persons; reject or withdraw one first")
    for el in session.scalars(select(Element).where(Element.individual_id == other.id)):
        el.individual_id = keep.id
    for ident in held[other.id]:
        if ident.individual_id == other.id:
            ident.individual_id = keep.id
    now = utcnow().isoformat(timespec="seconds")
    keep.notes = ((keep.notes + "\n") if keep.notes else "") + f"{now} {actor.username} merged {other.key} into this individual: {why}"
    other.notes = ((other.notes + "\n") if other.notes else "") + f"{now} {actor.username} merged into {keep.key}: {why}"
    session.flush()


def submit(session: Session, ident: Identification, actor: User, reason: str) -> IdentificationEvent:
    return transition(session, ident, IdStatus.TECHNICAL_REVIEW, actor, reason)


def technical_review(session: Session, ident: Identification, actor: User, reason: str, *,
                     accept: bool = True) -> IdentificationEvent:
    to = IdStatus.ADMINISTRATIVE_REVIEW if accept else IdStatus.REJECTED
    return transition(session, ident, to, actor, reason)


def approve(session: Session, ident: Identification, actor: User, reason: str, *,
            expected_version: int | None = None) -> IdentificationEvent:
    return transition(session, ident, IdStatus.APPROVED, actor, reason, expected_version=expected_version)


def notify_family(session: Session, ident: Identification, actor: User, *, recipient: str,
                  method: str, reason: str, relationship: str | None = None,
                  notes: str | None = None) -> Notification:
    """Record that the family was told (approved -> family_notified), by a family liaison."""
    _check_actor(actor, (Role.FAMILY_LIAISON, Role.ADMIN), "notifying a family")
    why = _check_reason(reason)
    if ident.status != IdStatus.APPROVED:
        raise WorkflowError(f"identification {ident.id} is {ident.status.value}; only an approved "
                            "identification can be notified")
    if not recipient.strip() or not method.strip():
        raise WorkflowError("a notification needs a recipient and a method")
    now = utcnow()
    note = Notification(identification_id=ident.id, recipient=recipient.strip(),
                        relationship=relationship, method=method.strip(), at=now,
                        actor=actor.username, notes=notes)
    ident.status, ident.notified_at = IdStatus.FAMILY_NOTIFIED, now
    session.add_all([note, IdentificationEvent(identification_id=ident.id,
                                               from_status=IdStatus.APPROVED,
                                               to_status=IdStatus.FAMILY_NOTIFIED,
                                               actor=actor.username, at=now, reason=why)])
    with _optimistic(f"identification {ident.id}"):
        session.flush()
    return note
