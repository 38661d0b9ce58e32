"""Numbers as an expert reads them: hand-worked values and a parse-back check over many values."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dogtag.report.numbers import (
    fmt_genotype,
    fmt_log10,
    fmt_lr,
    fmt_lr_with_log10,
    fmt_posterior,
    fmt_value,
    fmt_when,
)

_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def parse_sci(text: str) -> float:
    """'6.00 × 10⁶' -> 6e6 (the slow, obvious way back)."""
    m = re.fullmatch(r"(−?)(\d\.\d+) × 10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", text)
    assert m, text
    sign = -1 if m.group(1) else 1
    return sign * float(m.group(2)) * 10 ** int(m.group(3).translate(_SUP))


@pytest.mark.parametrize(("lr", "log10", "text"), [
    (6.0e6, None, "6.00 × 10⁶"), (12.5, None, "1.25 × 10¹"), (9672, None, "9.67 × 10³"),
    (4.19e8, None, "4.19 × 10⁸"), (0.5, None, "5.00 × 10⁻¹"), (1, None, "1.00 × 10⁰"),
    (9.996e5, None, "1.00 × 10⁶"),  # the mantissa rounds up into the exponent
    (0, None, "0 (exclusion)"), (None, None, ""), (None, 400.5, "3.16 × 10⁴⁰⁰"),
    (math.inf, 350.0, "1.00 × 10³⁵⁰"), (None, -math.inf, "0 (exclusion)"), (math.nan, None, "not computed"),
])
def test_lr_by_hand(lr: float | None, log10: float | None, text: str) -> None:
    assert fmt_lr(lr, log10) == text


def test_lr_with_its_log10() -> None:
    assert fmt_lr_with_log10(6.0e6) == "6.00 × 10⁶ (log10 6.78)"
    assert fmt_lr_with_log10(None, 5.276313245030497) == "1.89 × 10⁵ (log10 5.28)"
    assert fmt_lr_with_log10(0) == "0 (exclusion)"
    assert fmt_log10(-0.5) == "−0.50" and fmt_log10(-math.inf) == "−∞"


@given(st.floats(min_value=-300, max_value=300))
def test_lr_parses_back_within_rounding(log10: float) -> None:
    lr = 10 ** log10
    assert parse_sci(fmt_lr(lr)) == pytest.approx(lr, rel=0.0051)
    assert parse_sci(fmt_lr(None, log10)) == pytest.approx(lr, rel=0.0051)


@pytest.mark.parametrize(("p", "text"), [
    (0.99995, "0.99995"), (0.9999, "0.9999"), (0.99997, "0.99997"), (0.97, "0.97"), (0.5, "0.5"),
    (0.123456, "0.12"), (0.01234, "0.012"), (2.5e-7, "2.5 × 10⁻⁷"), (1 - 2e-9, "1 − 2.0 × 10⁻⁹"),
    (0.0, "0"), (None, ""),
])
def test_posterior_by_hand(p: float | None, text: str) -> None:
    assert fmt_posterior(p) == text


def test_posterior_one_is_not_rounded_from_below() -> None:
    assert fmt_posterior(1.0).startswith("1 (complement below")
    assert fmt_posterior(1.5).startswith("invalid")


@given(st.floats(min_value=0.5, max_value=1.0, exclude_max=True))
def test_posterior_shows_the_complement_to_two_digits(p: float) -> None:
    """Never '1' or '100 %' below 1; the complement 1 - p read off the text is within 5 %."""
    text = fmt_posterior(p)
    assert "%" not in text and text not in ("1", "1.0")
    q_shown = parse_sci(text[len("1 − "):]) if text.startswith("1 − ") else 1 - float(text)
    assert q_shown == pytest.approx(1 - p, rel=0.051)


@pytest.mark.parametrize(("alleles", "text"), [
    (["12", "11"], "11/12"), (["15", None], "15/–"), (["10", "9.3"], "9.3/10"), (["Y", "X"], "X/Y"),
    ([None, None], "–/–"), ("16111Q 263G", "16111Q 263G"), ([14, 14], "14/14"),
])
def test_genotypes_in_order(alleles: object, text: str) -> None:
    assert fmt_genotype(alleles) == text


def test_one_time_style() -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert fmt_when(dt.datetime(2018, 8, 1, 4, 30, tzinfo=eastern)) == "2018-08-01 09:30 UTC"
    assert fmt_when(dt.datetime(2018, 8, 1, 9, 0)) == "2018-08-01 09:00 UTC"  # naive = registry UTC
    assert fmt_when(dt.date(1950, 11, 28)) == "1950-11-28"
    assert fmt_when("2018-08-01T09:00:00+00:00") == "2018-08-01 09:00 UTC"
    assert fmt_when("1950-11-28") == "1950-11-28" and fmt_when(None) == ""


def test_recorded_values_as_text() -> None:
    assert fmt_value({"theta": 0.01, "samples": ["S-1", "S-2"], "ok": True}) == \
        "theta: 0.01; samples: S-1, S-2; ok: yes"
    assert fmt_value(5.276313245030497) == "5.27631"
