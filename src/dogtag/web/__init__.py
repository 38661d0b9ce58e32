"""The web workbench: FastAPI app factory, one router per resource, Jinja2 pages with JSON twins.

``create_app(settings)`` builds the application; nothing connects at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from dogtag.web.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    from dogtag.web.app import create_app as _create

    return _create(settings)


def app_from_env() -> FastAPI:
    """The application configured from ``DOGTAG_*`` environment variables (for uvicorn --factory).

    Run uvicorn with ``--no-proxy-headers``: the application reads X-Forwarded-For itself, from
    the proxies named in ``DOGTAG_TRUSTED_PROXIES`` only (``dogtag serve`` does this).
    """
    from dogtag.web.settings import Settings

    return create_app(Settings.from_env())


__all__ = ["app_from_env", "create_app"]
