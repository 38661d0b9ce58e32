"""Reading text files that may not be text: one place that turns bad bytes into clear errors.

Every reader (registry imports, case folders, Familias and pedsuite files, frequency and
lineage tables) reads through here, so that binary input, bad UTF-8, a NUL byte, a field over the
csv module's limit or a duplicated column name is a :class:`DataFormatError` naming the file and
the line, never a traceback. Like :mod:`dogtag.errors` it imports nothing else of ours, so every
layer may use it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from dogtag.errors import DataFormatError


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode(raw: bytes, path: str | Path, *, fallback: str | None = None) -> str:
    """``raw`` as text (UTF-8, an optional BOM dropped); ``fallback`` (e.g. ``"latin-1"``) is tried
    when it is not UTF-8. A NUL byte, or bytes that are not text, raise :class:`DataFormatError`."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataFormatError(f"binary data (a NUL byte at byte {nul + 1}): expected a text file",
                              path=path, line=_line_of(raw, nul))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if fallback is not None:
            return raw.decode(fallback)
        raise DataFormatError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1}): "
                              "expected a UTF-8 text file", path=path, line=_line_of(raw, exc.start)) from None


def scan(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Check, streaming, that a file is UTF-8 text without NUL bytes; returns its SHA-256 (hex)."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    lines = offset = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
            nul = block.find(b"\x00")
            if nul >= 0:
                raise DataFormatError(f"binary data (a NUL byte at byte {offset + nul + 1}): expected a text "
                                      "file", path=path, line=lines + _line_of(block, nul))
            try:
                utf8.decode(block)
            except UnicodeDecodeError as exc:
                at = max(exc.start, 0)
                raise DataFormatError("not UTF-8 text: expected a UTF-8 text file", path=path,
                                      line=lines + block.count(b"\n", 0, at) + 1) from None
            lines += block.count(b"\n")
            offset += len(block)
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataFormatError("not UTF-8 text (cut off at the end)", path=path, line=lines + 1) from None
    return digest.hexdigest()


def read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except IsADirectoryError:
        raise DataFormatError("expected a file, found a folder", path=p) from None


def read_text(path: str | Path, *, fallback: str | None = None) -> str:
    """The text of the file at ``path`` (see :func:`decode`)."""
    return decode(read_bytes(path), path, fallback=fallback)


def csv_records(lines: Iterable[str], path: str | Path, *, first_line: int = 1,
                **fmt: str) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each CSV record of ``lines``, with the line where the record starts.

    A CSV error (a field over the csv module's limit, a broken quote) raises
    :class:`DataFormatError` with the line it happened on.
    """
    reader = csv.reader(lines, **fmt)  # type: ignore[arg-type]
    start = first_line
    try:
        for rec in reader:
            yield start, rec
            start = first_line + reader.line_num
    except csv.Error as exc:
        msg = str(exc)
        if "field larger than field limit" in msg:
            msg = f"a field longer than {csv.field_size_limit():,} characters (the CSV field limit)"
        raise DataFormatError(f"unreadable CSV: {msg}", path=path,
                              line=first_line + max(reader.line_num - 1, 0)) from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"not UTF-8 text ({exc.reason})", path=path,
                              line=first_line + reader.line_num) from None


def check_header(names: Sequence[str], path: str | Path, *, line: int = 1) -> None:
    """Refuse a header that names a column twice (compared trimmed and case-blind), or has a NUL."""
    seen: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key and key in seen:
            raise DataFormatError(f"column {name.strip()!r} appears twice in the header", path=path, line=line)
        seen.add(key)
