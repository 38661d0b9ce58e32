"""Settings of the web application: a table of (name, default, help), read from the environment.

Every setting ``name`` is read from ``DOGTAG_<NAME>`` (upper case) by :meth:`Settings.from_env`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

#: name -> (default, help). A test checks that every field of :class:`Settings` is listed here.
SETTINGS: dict[str, tuple[Any, str]] = {
    "database_url": (None, "Database URL; default $DOGTAG_DATABASE_URL, else the user's SQLite file."),
    "secret_key": (None, "Key that signs session cookies; a random one per process when unset "
                         "(sessions then end when the server restarts)."),
    "session_max_age_s": (8 * 3600, "Seconds a login lasts."),
    "https_only": (False, "Send the session cookie over HTTPS only (set it behind a TLS proxy)."),
    "login_max_failures": (5, "Failed logins of one user name at one address, of one address or of one "
                              "known browser before each further one waits (exponential backoff; nothing "
                              "is locked for good); one user name over all addresses gets four times as many."),
    "login_backoff_s": (1.0, "The first wait, in seconds; it doubles with each further failure ..."),
    "login_backoff_max_s": (300.0, "... up to this many seconds."),
    "login_window_s": (900, "Seconds without a failure after which the count starts afresh."),
    "trusted_proxies": ("", "Comma-separated addresses or networks (CIDR) of reverse proxies whose "
                            "X-Forwarded-For header names the client; default none (the header is ignored)."),
    "pdf_workers": (2, "PDF reports rendered at once; more requests wait for a free slot."),
    "stats_ttl_s": (30.0, "Seconds the dashboard's aggregate statistics are cached (0 = never)."),
    "page_size": (50, "Rows per page of the long lists."),
}


@dataclass
class Settings:
    database_url: str | None = None
    secret_key: str | None = None
    session_max_age_s: int = 8 * 3600
    https_only: bool = False
    login_max_failures: int = 5
    login_backoff_s: float = 1.0
    login_backoff_max_s: float = 300.0
    login_window_s: int = 900
    trusted_proxies: str = ""
    pdf_workers: int = 2
    stats_ttl_s: float = 30.0
    page_size: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        if not self.secret_key:
            self.secret_key = secrets.token_urlsafe(32)
        return self.secret_key

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``DOGTAG_*`` environment variables, then ``overrides``."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = os.environ.get(f"DOGTAG_{f.name.upper()}")
            if raw is None:
                continue
            default = SETTINGS[f.name][0]
            if isinstance(default, bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                values[f.name] = int(raw)
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
