"""The ledger key: a secret kept outside the database that authenticates the audit and custody logs.

Each log entry and each chain head carries an HMAC-SHA256 (RFC 2104) under this key, so someone who
can write the database but cannot read the key cannot rewrite history and re-chain it: the hashes
would match, the MACs would not. The key is 32 random bytes, hex, in the file
``$DOGTAG_LEDGER_KEY_FILE`` (default ``ledger.key`` in the user's data directory, beside but never
inside the SQLite file). ``dogtag init`` creates it (mode 0600) when there is none. Keep it where the
database's writers cannot read it (another account, a secrets manager mount) and back it up: without
it the logs can still be hash-checked but no longer authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from dogtag.errors import DogtagError

KEY_ENV = "DOGTAG_LEDGER_KEY_FILE"
KEY_BYTES = 32


def key_path() -> Path:
    """``$DOGTAG_LEDGER_KEY_FILE``, else ``ledger.key`` in the user's data directory."""
    from dogtag.registry.engine import data_dir

    value = os.environ.get(KEY_ENV)
    return Path(value).expanduser() if value else data_dir() / "ledger.key"


def create_key(path: Path | None = None) -> tuple[Path, bool]:
    """Make a new random key at ``path`` unless one is there; returns (path, created)."""
    path = key_path() if path is None else path
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path, False
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    return path, True


_cache: dict[tuple[str, float], bytes] = {}


def ledger_key(path: Path | None = None) -> bytes:
    """The key's bytes (read once per file version); a clear error when it is absent or malformed."""
    path = key_path() if path is None else path
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        raise DogtagError(f"no ledger key at {path}: run `dogtag init` to create one, or set "
                          f"{KEY_ENV} to the registry's key file") from None
    cached = _cache.get((str(path), stamp))
    if cached is not None:
        return cached
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DogtagError(f"{path} is not a ledger key (expected {2 * KEY_BYTES} hex digits)")
    _cache[(str(path), stamp)] = key
    return key


def mac(key: bytes, *parts: object) -> str:
    """HMAC-SHA256 (hex) of the parts joined by NUL (the parts never contain one)."""
    msg = "\x00".join(str(p) for p in parts).encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A public fingerprint of the key (16 hex digits), to tell keys apart without showing them."""
    return mac(key, "dogtag-ledger-key-id")[:16]


def same(a: str | None, b: str) -> bool:
    """Constant-time comparison of MACs."""
    return a is not None and hmac.compare_digest(a, b)
