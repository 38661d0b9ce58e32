"""Numbers, times and genotypes as an expert writes them (the workbench and the reports share these).

- Likelihood ratios in one notation, scientific, three significant digits, with the log10 beside
  them: ``6.00 × 10⁶ (log10 6.78)``. An LR of 0 is an exclusion. An LR too large for a float is
  written from its log10.
- Posterior probabilities with the digits that matter: enough decimals to show the first two
  significant digits of the complement 1 − p, so 0.99995 is never "100 %"; very close to 1 as
  ``1 − 2.0 × 10⁻⁹``.
- Times in one style, ``2018-08-01 09:00 UTC`` (naive times are the registry's UTC), dates ISO.
- Genotypes with the alleles in order (numeric alleles by value), an uncalled allele as ``–``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
MINUS = "−"  # U+2212, the typographic minus


def sci(x: float, *, digits: int = 3) -> str:
    """``x`` as ``m.mm × 10ᵉ`` (``digits`` significant digits); 0 as ``0``."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    return _sci_from_log10(math.log10(abs(x)), digits=digits, negative=x < 0)


def _sci_from_log10(log10: float, *, digits: int = 3, negative: bool = False) -> str:
    e = math.floor(log10)
    m = 10 ** (log10 - e)
    text = f"{m:.{digits - 1}f}"
    if float(text) >= 10:  # 9.996 rounds to 10.0: carry into the exponent
        e += 1
        text = f"{m / 10:.{digits - 1}f}"
    sign = MINUS if negative else ""
    return f"{sign}{text} × 10{str(e).translate(_SUP)}"


def fmt_lr(lr: float | None, log10: float | None = None) -> str:
    """A likelihood ratio in scientific notation; from ``log10`` when ``lr`` is missing or overflows.

    >>> fmt_lr(6.0e6)
    '6.00 × 10⁶'
    >>> fmt_lr(None, 400.5)
    '3.16 × 10⁴⁰⁰'
    >>> fmt_lr(0)
    '0 (exclusion)'
    """
    if lr is None or (isinstance(lr, float) and math.isinf(lr)):
        if log10 is None or math.isnan(log10):
            return "" if lr is None else "not computed"
        if log10 == -math.inf:
            return "0 (exclusion)"
        return _sci_from_log10(float(log10))
    lr = float(lr)
    if math.isnan(lr):
        return "not computed"
    if lr == 0:
        return "0 (exclusion)"
    if lr < 0:
        return f"invalid ({lr!r})"
    return sci(lr)


def fmt_log10(x: float | None) -> str:
    """A log10 LR with two decimals (``6.78``); −∞ for an exclusion."""
    if x is None:
        return ""
    x = float(x)
    if math.isnan(x):
        return "not computed"
    if math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    return f"{x:.2f}".replace("-", MINUS)


def log10_of(lr: float | None, log10: float | None = None) -> float | None:
    """The log10 of an LR (the stored one first)."""
    if log10 is not None:
        return float(log10)
    if lr is None:
        return None
    return math.log10(lr) if lr > 0 else -math.inf


def fmt_lr_with_log10(lr: float | None, log10: float | None = None) -> str:
    """``6.00 × 10⁶ (log10 6.78)``; the exclusion as ``0 (exclusion)``."""
    text = fmt_lr(lr, log10)
    lg = log10_of(lr, log10)
    if not text or lg is None or math.isinf(lg) or math.isnan(lg):
        return text
    return f"{text} (log10 {fmt_log10(lg)})"


def fmt_posterior(p: float | None) -> str:
    """A probability with the digits that matter (never rounded to 1 or to 0).

    >>> fmt_posterior(0.99995), fmt_posterior(0.9999), fmt_posterior(0.5), fmt_posterior(1 - 2e-9)
    ('0.99995', '0.9999', '0.5', '1 − 2.0 × 10⁻⁹')
    """
    if p is None:
        return ""
    p = float(p)
    if math.isnan(p):
        return "not computed"
    if not 0 <= p <= 1:
        return f"invalid ({p!r})"
    if p == 1:
        return "1 (complement below the floating-point resolution)"
    if p == 0:
        return "0"
    if p >= 0.5:
        q = 1 - p
        if q < 1e-6:
            return f"1 {MINUS} {sci(q, digits=2)}"
        decimals = max(2, math.floor(-math.log10(q)) + 2)
        return _strip(f"{p:.{decimals}f}")
    if p < 1e-4:
        return sci(p, digits=2)
    decimals = max(2, math.floor(-math.log10(p)) + 2)
    return _strip(f"{p:.{decimals}f}")


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_when(t: dt.datetime | dt.date | str | None) -> str:
    """One style for every time: ``2018-08-01 09:00 UTC``; a date as ``2018-08-01``."""
    if t is None or t == "":
        return ""
    if isinstance(t, str):
        try:
            parsed: dt.date = (dt.datetime.fromisoformat(t) if ("T" in t or " " in t.strip())
                               else dt.date.fromisoformat(t))
        except ValueError:
            return t
        t = parsed
    if isinstance(t, dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(dt.UTC)
        return t.strftime("%Y-%m-%d %H:%M UTC")
    return t.isoformat()


def _allele_key(a: object) -> tuple[int, float, str]:
    try:
        return (0, float(str(a)), "")
    except ValueError:
        return (1, 0.0, str(a))


def fmt_genotype(value: object) -> str:
    """Alleles in order, ``/`` between them (``11/12``); an uncalled allele as ``–``.

    A string (an mtDNA range or variant list, a Y-STR value) is shown as it is.
    """
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        called = sorted((a for a in value if a is not None and a != ""), key=_allele_key)
        missing = sum(1 for a in value if a is None or a == "")
        return "/".join([*(str(a) for a in called), *("–" for _ in range(missing))]) or "–"
    return str(value)


def fmt_value(v: Any) -> str:
    """A table cell for a recorded value: lists joined, mappings as ``key: value``, floats to 6 digits."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (dt.date, dt.datetime)):
        return fmt_when(v)
    if isinstance(v, Mapping):
        return "; ".join(f"{str(k).replace('_', ' ')}: {fmt_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple, set)):
        return ", ".join(fmt_value(x) for x in v)
    return str(v)


def fmt_count(n: int | None) -> str:
    """An integer with thousands separators (``7,512``)."""
    return "" if n is None else f"{int(n):,}"
