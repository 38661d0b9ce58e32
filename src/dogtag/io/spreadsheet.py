"""CSV for spreadsheets: cells that a spreadsheet would run as a formula are neutralised.

OWASP's rule for CSV injection: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading single quote, so that Excel, LibreOffice and Google Sheets show
it as text (``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``). Numbers are written as they
are, and so is text that is a plain number (``-3``, ``+1.5e3``): neither can run anything.
See https://owasp.org/www-community/attacks/CSV_Injection.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` itself, or a text starting a formula with a single quote put before it."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_rows(fh: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``header`` and ``rows`` as CSV with every cell passed through :func:`safe_cell`."""
    w = csv.writer(fh)  # RFC 4180 CRLF rows: a cell with CR or LF is then always quoted
    w.writerow([safe_cell(h) for h in header])
    w.writerows([safe_cell(v) for v in row] for row in rows)


def write_dicts(fh: IO[str], header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """:func:`write_rows` for dicts keyed by the header's names."""
    write_rows(fh, header, ([r.get(h, "") for h in header] for r in rows))
