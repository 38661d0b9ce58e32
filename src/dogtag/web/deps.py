"""The dependencies the routes use (kept apart from the app factory, which imports the routes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dogtag.web.security import viewer


def db(request: Request) -> Iterator[Session]:
    """A registry session for this request, acting as the logged-in user."""
    with request.app.state.sessions() as session:
        v = viewer(request)
        session.info["actor"] = v.username or "anonymous"
        yield session


DbDep = Annotated[Session, Depends(db)]
