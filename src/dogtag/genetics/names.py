"""STR marker names: one canonical spelling per locus, and matching between spellings.

Labs, kits and databases spell loci differently (``Penta D``, ``PENTA_D``,
``PentaD``; ``TH01``, ``THO1``; ``FGA``, ``FIBRA``; ``SE33``, ``ACTBP2``).
:func:`canonical_marker_name` maps each spelling to one canonical name, and
:func:`match_marker_names` maps the names of an input (a case file) to those of
a frequency database, so that output can keep the input's own spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# canonical name -> other spellings (compared after _key()).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "AMEL": ("Amelogenin", "AM", "AMELO", "AMG"),
    "CSF1PO": ("CSF", "CSF1", "HUMCSF1PO"),
    "D1S1656": ("D1",),
    "D3S1358": ("D3",),
    "D5S818": ("D5",),
    "D7S820": ("D7",),
    "D8S1179": ("D8",),
    "D10S1248": ("D10",),
    "D12S391": ("D12",),
    "D13S317": ("D13",),
    "D16S539": ("D16",),
    "D18S51": ("D18",),
    "D19S433": ("D19",),
    "D21S11": ("D21",),
    "D22S1045": ("D22",),
    "FGA": ("FIBRA", "FIB", "HUMFIBRA", "FGA/FIBRA"),
    "SE33": ("ACTBP2", "HUMACTBP2", "SE33/ACTBP2"),
    "TH01": ("THO1", "TH1", "HUMTH01", "HUMTHO1"),
    "TPOX": ("TPO", "HUMTPOX"),
    "vWA": ("VWA31", "VWA31A", "HUMVWA", "HUMVWA31A"),
    "F13A01": ("F13A1", "HUMF13A01", "F13A"),
    "F13B": ("HUMF13B",),
    "FESFPS": ("FES", "FES/FPS", "HUMFESFPS"),
    "LPL": ("HUMLPL",),
    "Penta B": ("PB",),
    "Penta C": ("PC",),
    "Penta D": ("PD",),
    "Penta E": ("PE",),
    "Yindel": ("Y indel", "YIND"),
}
# Note: "D2" is not an alias (D2S1338 and D2S441 are both in common kits).


def _key(name: str) -> str:
    """Upper case without blanks, '_', '-', '.', '/' and quotes."""
    return re.sub(r"[\s_\-./'\"]+", "", str(name)).upper()


_CANONICAL: dict[str, str] = {}
for _canon, _others in _SYNONYMS.items():
    for _name in (_canon, *_others):
        _CANONICAL[_key(_name)] = _canon


def canonical_marker_name(name: str) -> str:
    """The canonical spelling of a marker name.

    Known loci get their usual spelling (``D21S11``, ``Penta D``, ``vWA``, ``TH01``,
    ``AMEL``, ``FGA``, ``SE33`` ...); other names are upper-cased with blanks, ``_``,
    ``-``, ``.`` and ``/`` removed.

    >>> [canonical_marker_name(n) for n in ["PENTA_D", "PentaD", "D21", "THO1", "vwa", "ACTBP2"]]
    ['Penta D', 'Penta D', 'D21S11', 'TH01', 'vWA', 'SE33']
    """
    key = _key(name)
    if not key:
        raise ValueError(f"empty marker name: {name!r}")
    return _CANONICAL.get(key, key)


def same_marker(a: str, b: str) -> bool:
    """Whether two spellings name the same locus."""
    return canonical_marker_name(a) == canonical_marker_name(b)


def match_marker_names(names: Iterable[str], available: Iterable[str]) -> dict[str, str | None]:
    """Map each input name to the spelling used in ``available`` (None when absent).

    Parameters
    ----------
    names : marker names as the input spells them.
    available : marker names as a database spells them.

    Raises
    ------
    ValueError if two names in ``available`` (or in ``names``) are spellings of one locus.
    """
    index = _canonical_index(available, "the database")
    _canonical_index(names, "the input")
    return {n: index.get(canonical_marker_name(n)) for n in names}


def _canonical_index(names: Iterable[str], what: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for n in names:
        c = canonical_marker_name(n)
        if c in index and index[c] != n:
            raise ValueError(
                f"{what} has two spellings of marker {c}: {index[c]!r} and {n!r}"
            )
        index[c] = n
    return index


def lookup(mapping: Mapping[str, object], name: str) -> str | None:
    """The key of ``mapping`` that spells the same locus as ``name`` (exact match first)."""
    if name in mapping:
        return name
    c = canonical_marker_name(name)
    hits = [k for k in mapping if canonical_marker_name(k) == c]
    return hits[0] if len(hits) == 1 else None
