"""The password policy for registry users (NIST SP 800-63B-4, section 3.1.1.2).

A password used alone must have at least :data:`MIN_LENGTH` (15) characters; at most
:data:`MAX_LENGTH` are accepted; no composition rules. A new password is refused when it is on the
list of common passwords shipped in ``dogtag/data/passwords`` (see its PROVENANCE.md), when its
stem (without leading and trailing digits and punctuation) or the unit it repeats is on that list,
when it is one character or a short pattern repeated, or when the user name makes up half of it.
"""

from __future__ import annotations

import functools
import gzip
import re
from importlib import resources

MIN_LENGTH = 15
MAX_LENGTH = 256

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    raw = (resources.files("dogtag.data.passwords") / "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(raw).decode("utf-8").splitlines()
                     if line.strip())


def _unit(text: str) -> str:
    """The shortest string whose repetition is ``text`` (``text`` itself when it repeats nothing)."""
    m = re.fullmatch(r"(.+?)\1+", text, flags=re.DOTALL)
    return m.group(1) if m else text


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters (a passphrase of several words is easiest)"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "the password must not contain control characters"
    low = password.lower()
    stem = _EDGES.sub("", low)
    units = {u for u in (_unit(low), _unit(stem)) if u not in (low, stem)}
    guessable = {x for x in (low, stem, *units, *(_EDGES.sub("", u) for u in units)) if len(x) >= 4}
    if low in common_passwords() or guessable & common_passwords() or any(len(u) <= 3 for u in units) \
            or len(set(stem)) <= 2:
        return "the password is too common or too easy to guess; choose another (e.g. several unrelated words)"
    if username and len(username) * 2 >= len(password) and username.lower() in low:
        return "the password must not be made of the user name"
    return None


def check_password(password: str, *, username: str | None = None) -> None:
    """Raise ``ValueError`` naming the rule when ``password`` breaks the policy."""
    problem = password_problem(password, username=username)
    if problem is not None:
        raise ValueError(f"`password`: {problem}")
