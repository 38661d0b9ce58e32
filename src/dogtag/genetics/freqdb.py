"""STR allele-frequency databases: readers, checks, the missing-allele rule, shipped databases.

A :class:`FrequencyDatabase` holds, per marker, allele labels, frequencies and
optionally ``n``, the number of alleles sampled (twice the number of people).
:meth:`FrequencyDatabase.markers` turns it into :class:`~dogtag.genetics.markers.Marker`
objects for a case, matching marker names through their aliases
(:mod:`dogtag.genetics.names`) and adding alleles that the case observed but the
database lacks.

Missing-allele rule
-------------------
An allele absent from the database gets frequency 5/(2N) when the database
gives the sample size (N people, so 2N = ``n`` alleles): the minimum allele
frequency of NRC II (National Research Council 1996, *The Evaluation of
Forensic DNA Evidence*, recommendation 4.3; Budowle, Monson & Chakraborty 1996,
Int. J. Legal Med. 108:173-176). Without a sample size it gets ``min_freq``
(default 0.001, the minimum frequency the Oslo norSTR databases use). A
``UserWarning`` names the marker and the allele. The database's own frequencies
are then multiplied by (1 - added) / (their sum), so that the vector sums to 1
and their ratios are kept.

Sum check
---------
Frequencies of a marker must sum to 1 within ``tol`` (default 1e-3; published
tables are rounded). Otherwise a :class:`~dogtag.errors.DataFormatError` names
the marker and the sum, unless ``rest_allele=True`` (a ``"Rest allele"`` takes
the remainder when the sum is below 1) or ``normalise=True`` (divide by the sum).

Readers: :func:`read_long_csv` (``marker, allele, frequency[, n]``),
:func:`read_wide_csv` (an ``Allele`` column and one column per marker, row ``N``),
:func:`read_locus_blocks` (norSTR and Familias text files) and
:func:`read_frequencies`, which picks one. :func:`write_long_csv` writes the first.

Shipped databases (:func:`list_databases`, :func:`load_database`), read lazily
with :mod:`importlib.resources`; see ``dogtag/data/frequencies/PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError, InconsistentCaseError
from dogtag.genetics.markers import Marker, allele_sort_key
from dogtag.genetics.mutation import MutationModel, from_params
from dogtag.genetics.names import canonical_marker_name, match_marker_names
from dogtag.textfile import csv_records, read_text

REST_ALLELE = "Rest allele"
DEFAULT_MIN_FREQ = 0.001
DEFAULT_TOL = 1e-3


@dataclass(frozen=True, eq=False)
class LocusFrequencies:
    """Frequencies of one marker in a database.

    Attributes
    ----------
    alleles : tuple of str, in numeric order.
    freqs : ndarray, float64, shape (n_alleles,).
    n : number of alleles sampled (2N for N people), or None if unknown.
    """

    alleles: tuple[str, ...]
    freqs: NDArray[np.float64]
    n: int | None = None

    def __post_init__(self) -> None:
        f = np.array(self.freqs, dtype=np.float64)
        f.setflags(write=False)
        object.__setattr__(self, "freqs", f)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.alleles, self.freqs.tolist(), strict=True))

    @property
    def min_allele_freq(self) -> float | None:
        """5/(2N) (NRC II), or None when the sample size is unknown."""
        return None if not self.n else 5.0 / self.n


def _clean_locus(marker: str, alleles: Sequence[str], freqs: Sequence[float], n: int | None, *,
                 tol: float, rest_allele: bool, normalise: bool,
                 path: str | Path | None, line: int | None) -> LocusFrequencies:
    if len(alleles) == 0:
        raise DataFormatError(f"marker {marker!r} has no alleles", path=path, line=line)
    seen: set[str] = set()
    for a in alleles:
        if a in seen:
            raise DataFormatError(f"marker {marker!r}: allele {a!r} is listed twice",
                                  path=path, line=line)
        seen.add(a)
    f = np.array(freqs, dtype=np.float64)
    if not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f > 1):
        raise DataFormatError(f"marker {marker!r}: frequencies must lie in [0, 1]",
                              path=path, line=line)
    total = float(f.sum())
    als = list(alleles)
    if abs(total - 1.0) > tol:
        if rest_allele and total < 1.0 and REST_ALLELE not in seen:
            als.append(REST_ALLELE)
            f = np.append(f, 1.0 - total)
        elif normalise and total > 0:
            f = f / total
        else:
            raise DataFormatError(
                f"frequencies of marker {marker!r} sum to {total:.6g}, not 1 (tolerance {tol:g}); "
                "pass rest_allele=True or normalise=True to accept them",
                path=path, line=line,
            )
    order = sorted(range(len(als)), key=lambda i: allele_sort_key(als[i]))
    if n is not None and n <= 0:
        raise DataFormatError(f"marker {marker!r}: sample size must be positive, got {n}",
                              path=path, line=line)
    return LocusFrequencies(tuple(als[i] for i in order), f[order], n)


@dataclass(frozen=True, eq=False)
class FrequencyDatabase:
    """Allele frequencies per marker, keyed by the database's own marker names.

    Build with :meth:`from_dict` or a reader (:func:`read_frequencies`); those check sums.
    """

    name: str
    loci: Mapping[str, LocusFrequencies]
    provenance: str = ""
    _by_canon: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by: dict[str, str] = {}
        for m in self.loci:
            c = canonical_marker_name(m)
            if c in by:
                raise DataFormatError(
                    f"database {self.name!r} has two spellings of marker {c}: {by[c]!r} and {m!r}"
                )
            by[c] = m
        object.__setattr__(self, "_by_canon", by)

    @classmethod
    def from_dict(cls, name: str, freqs: Mapping[str, Mapping[str, float]], *,
                  n: Mapping[str, int | None] | None = None, provenance: str = "",
                  tol: float = DEFAULT_TOL, rest_allele: bool = False,
                  normalise: bool = False) -> FrequencyDatabase:
        """From ``{marker: {allele: frequency}}`` (and optional ``{marker: n_alleles}``)."""
        loci = {
            m: _clean_locus(m, [str(a) for a in d], list(d.values()), (n or {}).get(m),
                            tol=tol, rest_allele=rest_allele, normalise=normalise,
                            path=None, line=None)
            for m, d in freqs.items()
        }
        return cls(name, loci, provenance)

    # --- queries --------------------------------------------------------
    @property
    def marker_names(self) -> list[str]:
        return list(self.loci)

    def __contains__(self, marker: object) -> bool:
        return isinstance(marker, str) and self.database_name(marker) is not None

    def __len__(self) -> int:
        return len(self.loci)

    def database_name(self, marker: str) -> str | None:
        """The database's spelling of ``marker`` (aliases allowed), or None."""
        if marker in self.loci:
            return marker
        return self._by_canon.get(canonical_marker_name(marker))

    def locus(self, marker: str) -> LocusFrequencies:
        key = self.database_name(marker)
        if key is None:
            raise InconsistentCaseError(
                f"marker {marker!r} is not in frequency database {self.name!r}"
            )
        return self.loci[key]

    def markers(self, names: Iterable[str] | None = None, *,
                observed: Mapping[str, Iterable[str | None]] | None = None,
                min_freq: float = DEFAULT_MIN_FREQ,
                mutation: Mapping[str, object] | None = None,
                male_mutation: Mapping[str, object] | None = None) -> list[Marker]:
        """Markers for a case, in the order of ``names``, alleles in numeric order.

        Parameters
        ----------
        names : marker names as the case spells them (default: all, database order);
            the markers keep these spellings.
        observed : marker name -> alleles seen in the case; those missing from the
            database are added by the missing-allele rule (module docstring), with a warning.
        min_freq : frequency for a missing allele when the sample size is unknown.
        mutation : parameters for :func:`~dogtag.genetics.mutation.from_params`
            (``model``, ``rate``, ``rate2``, ``range``) for female (or both) meioses.
        male_mutation : the same for male meioses, when they differ.

        Raises
        ------
        InconsistentCaseError naming the markers absent from the database.
        """
        wanted = list(self.loci) if names is None else list(names)
        mapping = match_marker_names(wanted, self.loci)
        absent = [m for m, k in mapping.items() if k is None]
        if absent:
            raise InconsistentCaseError(
                f"markers not in frequency database {self.name!r}: {', '.join(absent)}"
            )
        obs_by_canon: dict[str, set[str]] = {}
        for m, als in (observed or {}).items():
            obs_by_canon.setdefault(canonical_marker_name(m), set()).update(
                str(a) for a in als if a is not None
            )
        out = []
        for m in wanted:
            key = mapping[m]
            assert key is not None
            loc = self.loci[key]
            extra = sorted(obs_by_canon.get(canonical_marker_name(m), set()) - set(loc.alleles),
                           key=allele_sort_key)
            alleles, freqs = add_missing_alleles(m, loc, extra, min_freq=min_freq)
            fem = _model(mutation, m, alleles, freqs)
            mal = _model(male_mutation, m, alleles, freqs)
            out.append(Marker(m, alleles, freqs, fem, mal))
        return out


def observed_alleles(*tables: Mapping[str, Mapping[str, Sequence[str | None]]]
                     ) -> dict[str, set[str]]:
    """Marker -> alleles seen in genotype tables (member -> marker -> (a1, a2)).

    For the ``observed`` argument of :meth:`FrequencyDatabase.markers`; None (a
    missing allele) is skipped.
    """
    out: dict[str, set[str]] = {}
    for table in tables:
        for per_marker in table.values():
            for m, g in per_marker.items():
                out.setdefault(m, set()).update(str(a) for a in g if a is not None)
    return out


def _model(params: Mapping[str, object] | None, marker: str, alleles: tuple[str, ...],
           freqs: NDArray[np.float64]) -> MutationModel | None:
    if params is None:
        return None
    p = dict(params)
    model = str(p.pop("model"))
    return from_params(model, alleles, freqs, marker=marker, **p)  # type: ignore[arg-type]


def add_missing_alleles(marker: str, locus: LocusFrequencies, extra: Sequence[str], *,
                        min_freq: float = DEFAULT_MIN_FREQ
                        ) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """Alleles and frequencies with ``extra`` alleles added (missing-allele rule).

    Each extra allele gets 5/``n`` (NRC II minimum allele frequency, ``n`` = 2N alleles
    sampled) or ``min_freq`` when ``n`` is unknown; the database's frequencies are
    scaled by (1 - added) / (their sum). Warns once per added allele.

    Returns
    -------
    alleles : tuple of str, numeric order; freqs : ndarray, shape (n_alleles,), sums to 1.
    """
    if not extra:
        return locus.alleles, locus.freqs
    f_new = locus.min_allele_freq or min_freq
    if not (0 < f_new < 1):
        raise ValueError(f"`min_freq` must lie in (0, 1), got {f_new!r}")
    added = f_new * len(extra)
    if added >= 1:
        raise InconsistentCaseError(
            f"marker {marker!r}: {len(extra)} alleles missing from the database would take "
            f"frequency {added:g} >= 1"
        )
    how = f"5/(2N) = 5/{locus.n}" if locus.min_allele_freq else "the minimum frequency"
    for a in extra:
        warnings.warn(
            f"marker {marker!r}: allele {a!r} is not in the frequency database; "
            f"given frequency {f_new:.4g} ({how}), other frequencies rescaled",
            UserWarning, stacklevel=3,
        )
    base = locus.freqs * ((1.0 - added) / float(locus.freqs.sum()))
    als = [*locus.alleles, *extra]
    fr = np.concatenate([base, np.full(len(extra), f_new)])
    order = sorted(range(len(als)), key=lambda i: allele_sort_key(als[i]))
    return tuple(als[i] for i in order), fr[order]


# --- readers -------------------------------------------------------------

_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _float(text: str, what: str, path: str | Path, line: int) -> float:
    t = text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text else text.strip()
    if not _NUM.match(t):
        raise DataFormatError(f"expected {what} (a number), found {text!r}", path=path, line=line)
    return float(t)


def _int(text: str, what: str, path: str | Path, line: int) -> int:
    v = _float(text, what, path, line)
    if v != int(v):
        raise DataFormatError(f"expected {what} (a whole number), found {text!r}",
                              path=path, line=line)
    return int(v)


def _text(source: str | Path | io.TextIOBase) -> tuple[str, str]:
    if isinstance(source, io.TextIOBase):
        return source.read(), getattr(source, "name", "<stream>")
    p = Path(source)
    return read_text(p, fallback="latin-1"), str(p)


_COLS = {
    "marker": ("marker", "locus", "system", "systemname"),
    "allele": ("allele", "alleles"),
    "frequency": ("frequency", "freq", "frequencies", "p"),
    "count": ("count", "counts"),
    "n": ("n", "n_alleles", "nalleles", "total", "2n"),
    "population": ("population", "pop", "database", "db"),
}


def read_long_csv(source: str | Path | io.TextIOBase, *, name: str | None = None,
                  population: str | None = None, tol: float = DEFAULT_TOL,
                  rest_allele: bool = False, normalise: bool = False,
                  provenance: str = "") -> FrequencyDatabase:
    """Read a long table: ``marker, allele, frequency[, n]`` (header required).

    Column names are matched case-insensitively (``locus`` for marker, ``freq``,
    ``n_alleles`` for n, ``count``: frequency = count / n when no frequency column).
    A ``population`` column needs ``population=`` unless it has one value.
    """
    text, where = _text(source)
    return _parse_long(text, where, name=name, population=population, tol=tol,
                       rest_allele=rest_allele, normalise=normalise, provenance=provenance)


def _parse_long(text: str, where: str, *, name: str | None, population: str | None, tol: float,
                rest_allele: bool, normalise: bool, provenance: str) -> FrequencyDatabase:
    rows = [rec for _, rec in csv_records(io.StringIO(text, newline=""), where)]
    if not rows or not any(c.strip() for c in rows[0]):
        raise DataFormatError("expected a header line with marker, allele, frequency",
                              path=where, line=1)
    header = [c.strip().lower() for c in rows[0]]
    col: dict[str, int] = {}
    for key, names in _COLS.items():
        for i, h in enumerate(header):
            if h in names:
                col[key] = i
                break
    if "marker" not in col or "allele" not in col or not ("frequency" in col or
                                                           ("count" in col and "n" in col)):
        raise DataFormatError(
            "expected columns marker (or locus), allele and frequency (or count and n); "
            f"found {', '.join(rows[0])}", path=where, line=1,
        )
    pops = {r[col["population"]].strip() for r in rows[1:] if "population" in col
            and len(r) > col["population"] and any(c.strip() for c in r)}
    if "population" in col:
        if population is None:
            if len(pops) != 1:
                raise DataFormatError(
                    f"the table has several populations ({', '.join(sorted(pops))}); "
                    "choose one with population=", path=where,
                )
            population = next(iter(pops))
        elif population not in pops:
            raise DataFormatError(
                f"population {population!r} is not in the table; it has {', '.join(sorted(pops))}",
                path=where,
            )
    data: dict[str, tuple[list[str], list[float], int | None, int]] = {}
    width = max(col.values()) + 1
    for k, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) < width:
            raise DataFormatError(f"expected at least {width} fields, found {len(r)}",
                                  path=where, line=k)
        if "population" in col and r[col["population"]].strip() != population:
            continue
        m, a = r[col["marker"]].strip(), r[col["allele"]].strip()
        if not m or not a:
            raise DataFormatError("expected a marker name and an allele label", path=where, line=k)
        n = None
        if "n" in col and r[col["n"]].strip():
            n = _int(r[col["n"]], "n (number of alleles sampled)", where, k)
        if "frequency" in col:
            fr = _float(r[col["frequency"]], "a frequency", where, k)
        elif n is None or n <= 0:
            raise DataFormatError("expected n (a positive number of alleles) with a count",
                                  path=where, line=k)
        else:
            fr = _int(r[col["count"]], "an allele count", where, k) / n
        als, frs, n0, first = data.setdefault(m, ([], [], n, k))
        if n != n0:
            raise DataFormatError(f"marker {m!r}: n is {n}, but {n0} on line {first}",
                                  path=where, line=k)
        als.append(a)
        frs.append(fr)
    if not data:
        raise DataFormatError("expected at least one frequency row", path=where)
    loci = {
        m: _clean_locus(m, als, frs, n, tol=tol, rest_allele=rest_allele, normalise=normalise,
                        path=where, line=first)
        for m, (als, frs, n, first) in data.items()
    }
    dbname = name or (population if population else Path(where).stem)
    return FrequencyDatabase(dbname, loci, provenance)


def read_wide_csv(source: str | Path | io.TextIOBase, *, name: str | None = None,
                  tol: float = DEFAULT_TOL, rest_allele: bool = False, normalise: bool = False,
                  provenance: str = "") -> FrequencyDatabase:
    """Read the wide ("FSI: Genetics") layout: an ``Allele`` column, one column per marker.

    Empty cells and zero frequencies are skipped; a last row ``N`` gives the number
    of alleles sampled per marker (0 or empty = unknown). Markers with no positive
    frequency (e.g. a Y marker without data) are left out.
    """
    text, where = _text(source)
    return _parse_wide(text, where, name=name, tol=tol, rest_allele=rest_allele,
                       normalise=normalise, provenance=provenance)


def _parse_wide(text: str, where: str, *, name: str | None, tol: float, rest_allele: bool,
                normalise: bool, provenance: str) -> FrequencyDatabase:
    rows = [rec for _, rec in csv_records(io.StringIO(text, newline=""), where)]
    if not rows or len(rows[0]) < 2 or rows[0][0].strip().lower() != "allele":
        raise DataFormatError("expected a header 'Allele,<marker>,<marker>,...'", path=where,
                              line=1)
    header = [h.strip() for h in rows[0]]
    if any(not h for h in header[1:]):
        raise DataFormatError("expected a marker name in every header column", path=where,
                              line=1)
    cols: list[tuple[list[str], list[float]]] = [([], []) for _ in header[1:]]
    ns: list[int | None] = [None] * (len(header) - 1)
    for k, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) > len(header):
            raise DataFormatError(f"expected at most {len(header)} fields, found {len(r)}",
                                  path=where, line=k)
        label = r[0].strip()
        if not label:
            raise DataFormatError("expected an allele label in the first column", path=where,
                                  line=k)
        is_n = label.upper() == "N"
        for j, cell in enumerate(r[1:]):
            if not cell.strip():
                continue
            if is_n:
                v = _int(cell, f"n for marker {header[j + 1]}", where, k)
                ns[j] = v if v > 0 else None
                continue
            f = _float(cell, f"a frequency for marker {header[j + 1]}", where, k)
            if f > 0:
                cols[j][0].append(label)
                cols[j][1].append(f)
    loci = {
        m: _clean_locus(m, als, frs, n, tol=tol, rest_allele=rest_allele, normalise=normalise,
                        path=where, line=1)
        for m, (als, frs), n in zip(header[1:], cols, ns, strict=True) if als
    }
    if not loci:
        raise DataFormatError("expected at least one positive frequency", path=where)
    return FrequencyDatabase(name or Path(where).stem, loci, provenance)


def read_locus_blocks(source: str | Path | io.TextIOBase, *, name: str | None = None,
                      tol: float = DEFAULT_TOL, rest_allele: bool = False,
                      normalise: bool = False, provenance: str = "") -> FrequencyDatabase:
    """Read the block format of norSTR and Familias frequency files.

    A marker-name line, then ``allele<TAB>frequency`` lines (blanks or ``;`` also
    separate), blank lines between markers. Example::

        TPOX
        8\t0.55224
        9\t0.103071
    """
    text, where = _text(source)
    return _parse_blocks(text, where, name=name, tol=tol, rest_allele=rest_allele,
                         normalise=normalise, provenance=provenance)


def _parse_blocks(text: str, where: str, *, name: str | None, tol: float, rest_allele: bool,
                  normalise: bool, provenance: str) -> FrequencyDatabase:
    data: dict[str, tuple[list[str], list[float], int]] = {}
    current: str | None = None
    for k, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if "\t" in line:
            parts = [p.strip() for p in line.split("\t") if p.strip()]
            if len(parts) != 2:
                raise DataFormatError(
                    f"expected 'allele<TAB>frequency' or a marker name, found {raw!r}",
                    path=where, line=k,
                )
        else:
            parts = line.rsplit(None, 1)
            if len(parts) != 2 or " " in parts[0] or not _NUM.match(parts[1]):
                parts = [line]
        if len(parts) == 1:
            current = parts[0]
            if current in data:
                raise DataFormatError(f"marker {current!r} appears twice", path=where, line=k)
            data[current] = ([], [], k)
            continue
        if current is None:
            raise DataFormatError(f"expected a marker name before allele line {raw!r}",
                                  path=where, line=k)
        data[current][0].append(parts[0].strip())
        data[current][1].append(_float(parts[1], "a frequency", where, k))
    if not data:
        raise DataFormatError("expected marker blocks (a name line, then allele<TAB>frequency)",
                              path=where)
    loci = {}
    for m, (als, frs, first) in data.items():
        loci[m] = _clean_locus(m, als, frs, None, tol=tol, rest_allele=rest_allele,
                               normalise=normalise, path=where, line=first)
    return FrequencyDatabase(name or Path(where).stem, loci, provenance)


def read_frequencies(source: str | Path, *, name: str | None = None, tol: float = DEFAULT_TOL,
                     rest_allele: bool = False, normalise: bool = False,
                     population: str | None = None, provenance: str = "") -> FrequencyDatabase:
    """Read a frequency file, choosing the reader by its first line.

    A comma-separated header starting with ``Allele`` -> :func:`read_wide_csv`; one
    naming an allele column elsewhere -> :func:`read_long_csv`; otherwise the block
    format (:func:`read_locus_blocks`: norSTR, Familias).
    """
    text, where = _text(source)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if "," in first and first.split(",")[0].strip().strip('"').lower() == "allele":
        return _parse_wide(text, where, name=name, tol=tol, rest_allele=rest_allele,
                           normalise=normalise, provenance=provenance)
    if "," in first and "allele" in first.lower():
        return _parse_long(text, where, name=name, population=population, tol=tol,
                           rest_allele=rest_allele, normalise=normalise, provenance=provenance)
    return _parse_blocks(text, where, name=name, tol=tol, rest_allele=rest_allele,
                         normalise=normalise, provenance=provenance)


def write_long_csv(db: FrequencyDatabase) -> str:
    """The database as a long CSV (``marker,allele,frequency,n``), readable by
    :func:`read_long_csv`; frequencies are written with full precision (``repr``)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["marker", "allele", "frequency", "n"])
    for m, loc in db.loci.items():
        for a, f in zip(loc.alleles, loc.freqs.tolist(), strict=True):
            w.writerow([m, a, repr(f), "" if loc.n is None else loc.n])
    return out.getvalue()


# --- shipped databases ---------------------------------------------------

_NIST_POPS = ("AfAm", "Cauc", "Hisp", "Asian")
_FBI_POPS = (
    "Caucasian", "SW Hispanic", "SE Hispanic", "African Amer Bahamian Jamaican",
    "African American", "Bahamian", "Jamaican", "Trinidadian", "Chamorro", "Filipino",
    "Apache", "Navajo",
)
_NORSTR = ("Norsk", "Europa", "Afrika", "SydAmerika", "VestAsia", "MidtAsia", "OstAsia")


def _slug(s: str) -> str:
    return re.sub(r"\s+", "-", s.strip())


def _catalogue() -> dict[str, tuple[str, str, str | None, str]]:
    """name -> (file, kind, population, description)."""
    cat: dict[str, tuple[str, str, str | None, str]] = {}
    for p in _NIST_POPS:
        cat[f"nist1036-{p}"] = ("nist1036.csv", "long", p,
                                f"NIST 1036 U.S. population samples, {p} (Hill et al. 2013; "
                                "Steffen et al. 2017), 29 autosomal STRs, counts with N")
    for p in _FBI_POPS:
        cat[f"fbi2015-{_slug(p)}"] = ("fbi2015.csv", "long", p,
                                      f"FBI 2015 expanded CODIS, {p} (Moretti et al. 2016), "
                                      "23 autosomal STRs, with N")
    cat["norwegian"] = ("norwegian.csv", "long", None,
                        "forrel's NorwegianFrequencies (Dupuy et al. 2013), 35 STRs; "
                        "the pedsuite/Familias default")
    for d in _NORSTR:
        cat[f"norstr-{d}"] = (f"norstr/{d}DB_v2023.txt", "blocks", None,
                              f"norSTR {d} database v2023 (Oslo University Hospital), "
                              "minimum frequency 0.001, no sample sizes")
    return cat


def list_databases() -> dict[str, str]:
    """Names of the shipped databases -> one-line descriptions.

    ``nist1036-{AfAm,Cauc,Hisp,Asian}``, ``fbi2015-<population>`` (12 populations,
    spaces as ``-``: ``fbi2015-Caucasian``, ``fbi2015-SW-Hispanic`` ...), ``norwegian``,
    ``norstr-{Norsk,Europa,Afrika,SydAmerika,VestAsia,MidtAsia,OstAsia}``.
    """
    return {k: v[3] for k, v in _catalogue().items()}


def load_database(name: str) -> FrequencyDatabase:
    """Load a shipped database by name (case-insensitive; see :func:`list_databases`)."""
    cat = _catalogue()
    key = {k.lower(): k for k in cat}.get(name.strip().lower())
    if key is None:
        raise ValueError(
            f"unknown frequency database {name!r}; available: {', '.join(cat)}"
        )
    fname, kind, pop, desc = cat[key]
    res = resources.files("dogtag").joinpath("data", "frequencies", *fname.split("/"))
    text = res.read_text(encoding="utf-8")
    where = f"dogtag/data/frequencies/{fname}"
    prov = f"{desc}. See dogtag/data/frequencies/PROVENANCE.md."
    if kind == "long":
        return _parse_long(text, where, name=key, population=pop, tol=DEFAULT_TOL,
                           rest_allele=False, normalise=False, provenance=prov)
    return _parse_blocks(text, where, name=key, tol=DEFAULT_TOL, rest_allele=False,
                         normalise=False, provenance=prov)


#: markers typed without frequencies: amelogenin (sex, alleles X and Y) is in every kit but never
#: enters a likelihood
SEX_MARKERS = frozenset({"AMEL"})


@cache
def known_markers() -> frozenset[str]:
    """Canonical names (:func:`~dogtag.genetics.names.canonical_marker_name`) of every autosomal STR
    marker of the shipped databases, and of :data:`SEX_MARKERS`: the markers a registry search can
    use (it takes its frequencies from a shipped database)."""
    names = set(SEX_MARKERS)
    for db in list_databases():
        names.update(canonical_marker_name(m) for m in load_database(db).loci)
    return frozenset(names)

