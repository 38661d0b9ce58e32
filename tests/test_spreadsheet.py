"""CSV written for spreadsheets: formula cells get a leading quote (OWASP), the rest is untouched."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from dogtag.io.spreadsheet import safe_cell, write_rows


def test_owasp_characters() -> None:
    for bad in ("=1+1", "+1+1", "-1+cmd", "@SUM(1)", "\tx", "\rx", "=", "-", "+-1"):
        assert safe_cell(bad) == "'" + bad
    for ok in ("x=1", "'=1", "", "-3", "+1.5e3", ".5", "Korean War", "a@b"):
        assert safe_cell(ok) == ok
    for number in (-3, -1.5, 0, None, True):
        assert safe_cell(number) is number


def test_carriage_returns_survive() -> None:
    buf = io.StringIO()
    write_rows(buf, ["a", "b"], [["", "\r"], ["x\ry", "\n"]])
    assert list(csv.reader(io.StringIO(buf.getvalue(), newline=""))) == [["a", "b"], ["", "'\r"], ["x\ry", "\n"]]


@given(st.lists(st.lists(st.text(), min_size=2, max_size=2), max_size=5))
def test_written_cells_read_back(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    write_rows(buf, ["a", "b"], rows)
    back = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert back[0] == ["a", "b"]
    got = [c for r in back[1:] for c in r]
    want = [c for r in rows for c in r]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == safe_cell(w)  # the only change: a leading quote before a formula
        assert g == w or (g == "'" + w and w[:1] in "=+-@\t\r")
