"""The few exceptions that callers catch.

Bad arguments raise ``ValueError`` naming the argument and the value; bad files
raise :class:`DataFormatError`, naming the file, the line and what was expected.
"""

from __future__ import annotations

from pathlib import Path


class DogtagError(Exception):
    """Base class of dogtag's own errors: a user mistake, never a bug."""


class DataFormatError(DogtagError, ValueError):
    """A file (or record) does not have the expected format.

    Parameters
    ----------
    message : what was expected and what was found.
    path : the file, if any.
    line : 1-based line number, if known.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f", line {self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        return where + self.message


class InconsistentCaseError(DogtagError, ValueError):
    """A case is well-formed but inconsistent (e.g. a marker with no frequencies)."""


class PedigreeError(DogtagError, ValueError):
    """A pedigree is invalid; the message names the people concerned (``members``, when known)."""

    def __init__(self, message: str, *, members: tuple[str, ...] = ()):
        self.members = members
        super().__init__(message)


class TooLargeError(DogtagError, ValueError):
    """An exact computation would exceed a stated limit; no result is given (never an approximation)."""
