"""Small registries built through the ORM, for the registry tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from dogtag.registry.engine import session_scope
from dogtag.registry.models import (
    Accession,
    Conflict,
    Element,
    FieldOperation,
    LossIncident,
    MissingPerson,
    OperationKind,
    Sample,
    Side,
)


def small_registry(engine: Engine) -> dict[str, int]:
    """Two missing persons (one incident), a turnover with one box, one element and two samples."""
    with session_scope(engine, "setup") as s:
        war = Conflict(name="Korean War")
        inc = LossIncident(key="KORWALD-1", conflict=war, date=dt.date(1950, 11, 28), place="Chosin")
        p1 = MissingPerson(service_number="RA1", conflict=war, incident=inc, last_name="DOE",
                           branch="ARMY", home_state="OHIO", loss_date=dt.date(1950, 11, 28), sex=1)
        p2 = MissingPerson(service_number="RA2", conflict=war, incident=inc, last_name="ROE",
                           branch="ARMY", home_state="TEXAS", loss_date=dt.date(1950, 12, 1), sex=1)
        op = FieldOperation(key="K55", kind=OperationKind.TURNOVER)
        acc = Accession(key="K55-01", operation=op)
        el = Element(key="E1", accession=acc, element="femur", side=Side.LEFT)
        s1 = Sample(key="S1", element=el, sex=1)
        s2 = Sample(key="S2", element=el, sex=1)
        s.add_all([war, inc, p1, p2, op, acc, el, s1, s2])
        s.flush()
        return {"p1": p1.id, "p2": p2.id, "s1": s1.id, "s2": s2.id, "acc": acc.id, "el": el.id}
