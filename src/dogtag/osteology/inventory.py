"""Element inventories and osteometric reference samples in OsteoSort's CSV layout.

One row per skeletal element: ``id, Side, Element`` and then one column per measurement in the
ARDS / OsteoSort codes (``Hum_01`` maximum length of the humerus, ``Fem_01`` of the femur, ...;
millimetres). Empty cells and ``NA`` are unmeasured. An inventory may add ``Accession`` (the
box or casket the element came from) and ``Portion``: the zones of a fragmentary element that
are present, ``;``-separated (``proximal;shaft``); empty means complete. A reference file
(OsteoSort's ``.ref``) is the same layout for known individuals, whose ``id`` joins their
elements; ``Sex``, ``Ancestry`` and ``Stature`` columns are carried along unread.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError

#: An ARDS / OsteoSort measurement code: ``Hum_01``, ``MC1_01``, ``Cf3_01``, ``Osc_17``.
CODE = re.compile(r"^[A-Z][A-Za-z0-9]{1,3}_[0-9]{2}$")
SIDES = {"left": "left", "l": "left", "right": "right", "r": "right",
         "": "", "na": "", "m": "", "midline": "", "u": "", "unknown": "", "axial": ""}
_META = {"id", "side", "element", "accession", "portion", "sex", "ancestry", "stature", "notes"}
_MISSING = {"", "na", "nan"}


@dataclass(frozen=True)
class Osteometrics:
    """Skeletal elements and their measurements.

    Attributes
    ----------
    ids : element ids (inventory) or individual ids (reference), length n.
    elements : element names, lower case (``humerus``, ``os_coxa``, ``metacarpal_1``).
    sides : ``"left"``, ``"right"`` or ``""`` (unpaired or unsided).
    codes : measurement codes, length m.
    values : ndarray, float, shape (n, m); millimetres, NaN where unmeasured.
    accessions : the accession of each element (``""`` when the file has none).
    portions : the zones present of each element; empty tuple when complete.
    source : the file read, for messages.
    """

    ids: tuple[str, ...]
    elements: tuple[str, ...]
    sides: tuple[str, ...]
    codes: tuple[str, ...]
    values: NDArray[np.float64]
    accessions: tuple[str, ...] = ()
    portions: tuple[tuple[str, ...], ...] = ()
    source: str = ""
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not self.accessions:
            object.__setattr__(self, "accessions", ("",) * n)
        if not self.portions:
            object.__setattr__(self, "portions", ((),) * n)
        if self.values.shape != (n, len(self.codes)):
            raise ValueError(f"values: shape {self.values.shape}, expected {(n, len(self.codes))}")
        for name in ("elements", "sides", "accessions", "portions"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name}: length {len(getattr(self, name))}, expected {n}")
        self._index.update({c: j for j, c in enumerate(self.codes)})

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, code: str) -> int | None:
        """Index of measurement ``code``, or None when the file has no such column."""
        return self._index.get(code)

    def rows(self, element: str, side: str | None = None) -> NDArray[np.intp]:
        """Indices of the rows of ``element`` (and ``side``, when given)."""
        return np.array([i for i, (e, s) in enumerate(zip(self.elements, self.sides, strict=True))
                         if e == element and (side is None or s == side)], dtype=np.intp)

    def measures(self, rows: NDArray[np.intp], codes: Sequence[str]) -> NDArray[np.float64]:
        """Values of ``codes`` for ``rows``, shape (len(rows), len(codes)); NaN for absent codes."""
        out = np.full((len(rows), len(codes)), np.nan)
        for k, c in enumerate(codes):
            j = self.column(c)
            if j is not None:
                out[:, k] = self.values[rows, j]
        return out

    def subset(self, rows: Sequence[int] | NDArray[np.intp]) -> Osteometrics:
        """The rows ``rows`` as a new table (same columns)."""
        idx = np.asarray(rows, dtype=np.intp)
        pick = [int(i) for i in idx]
        return Osteometrics(tuple(self.ids[i] for i in pick), tuple(self.elements[i] for i in pick),
                            tuple(self.sides[i] for i in pick), self.codes, self.values[idx],
                            tuple(self.accessions[i] for i in pick),
                            tuple(self.portions[i] for i in pick), self.source)


def element_name(text: str) -> str:
    """OsteoSort's element spelling: lower case, words joined by ``_`` (``Os Coxa`` -> ``os_coxa``)."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                              path=path) from None


def read_osteometrics(path: str | Path, *, reference: bool = False) -> Osteometrics:
    """Read an inventory (or, with ``reference=True``, a reference sample) in OsteoSort's layout.

    Raises :class:`DataFormatError` naming the file, the line and what was expected: a missing
    ``id``/``Side``/``Element`` column, a column that is neither a known one nor a measurement
    code, a side other than left/right, a measurement that is not a positive number of mm, a
    repeated element id (inventory) or a repeated (id, side, element) (reference).
    """
    path = Path(path)
    reader = csv.reader(io.StringIO(_open_text(path)))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise DataFormatError("empty file; expected a header with id, Side, Element and "
                              "measurement codes such as Hum_01", path=path, line=1)
    names = [h.strip() for h in header]
    lower = [h.lower() for h in names]
    for need in ("id", "side", "element"):
        if need not in lower:
            raise DataFormatError(f"no {need!r} column; OsteoSort's layout starts with "
                                  "id, Side, Element", path=path, line=1)
    meas = []
    for j, (h, lo) in enumerate(zip(names, lower, strict=True)):
        if lo in _META:
            continue
        if not CODE.match(h):
            raise DataFormatError(f"column {h!r} is neither id/Side/Element/Accession/Portion "
                                  "nor a measurement code such as Hum_01", path=path, line=1)
        meas.append(j)
    if len({names[j] for j in meas}) != len(meas) or len(set(lower)) != len(lower):
        raise DataFormatError("a column name is repeated", path=path, line=1)
    col = {lo: j for j, lo in enumerate(lower)}
    ids: list[str] = []
    elements: list[str] = []
    sides: list[str] = []
    accs: list[str] = []
    portions: list[tuple[str, ...]] = []
    rows: list[list[float]] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, rec in enumerate(reader, start=2):
        if not any(c.strip() for c in rec):
            continue
        if len(rec) != len(names):
            raise DataFormatError(f"{len(rec)} fields, expected {len(names)} as in the header",
                                  path=path, line=line)
        ident = rec[col["id"]].strip()
        if not ident:
            raise DataFormatError("empty id", path=path, line=line)
        side = SIDES.get(rec[col["side"]].strip().lower())
        if side is None:
            raise DataFormatError(f"Side {rec[col['side']].strip()!r}: expected left or right "
                                  "(or empty for an unpaired element)", path=path, line=line)
        element = element_name(rec[col["element"]])
        if not element:
            raise DataFormatError("empty Element", path=path, line=line)
        key = (ident, side, element) if reference else (ident,)
        if key in seen:
            what = "element" if reference else "id"
            raise DataFormatError(f"{what} {' '.join(key)!r} repeated (first on line {seen[key]})",
                                  path=path, line=line)
        seen[key] = line
        vals = []
        for j in meas:
            cell = rec[j].strip()
            if cell.lower() in _MISSING:
                vals.append(math.nan)
                continue
            try:
                v = float(cell)
            except ValueError:
                v = math.nan
            if not (math.isfinite(v) and v > 0):
                raise DataFormatError(f"{names[j]} = {cell!r}: expected a positive number of mm "
                                      "or empty", path=path, line=line)
            vals.append(v)
        ids.append(ident)
        elements.append(element)
        sides.append(side)
        accs.append(rec[col["accession"]].strip() if "accession" in col else "")
        zones = rec[col["portion"]].strip().lower() if "portion" in col else ""
        portions.append(tuple(sorted({z.strip() for z in zones.split(";") if z.strip()}
                                     - {"complete"})))
        rows.append(vals)
    if not ids:
        raise DataFormatError("no elements (the file has only a header)", path=path, line=2)
    values = np.array(rows, dtype=np.float64).reshape(len(ids), len(meas))
    return Osteometrics(tuple(ids), tuple(elements), tuple(sides), tuple(names[j] for j in meas),
                        values, tuple(accs), tuple(portions), str(path))


def write_osteometrics(path: str | Path, table: Osteometrics, *, reference: bool = False) -> None:
    """Write ``table`` in OsteoSort's layout (gzip when ``path`` ends in ``.gz``); the readers
    read it back. An inventory keeps its Accession and Portion columns."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    extra = [] if reference else ["Accession", "Portion"]
    w.writerow(["id", "Side", "Element", *extra, *table.codes])
    for k in range(len(table)):
        more = [] if reference else [table.accessions[k], ";".join(table.portions[k])]
        w.writerow([table.ids[k], table.sides[k], table.elements[k], *more,
                    *("NA" if math.isnan(v) else f"{v:g}" for v in table.values[k])])
    data = buf.getvalue().encode()
    Path(path).write_bytes(gzip.compress(data, mtime=0) if str(path).endswith(".gz") else data)


def read_inventory(path: str | Path) -> Osteometrics:
    """Read an element inventory (see :func:`read_osteometrics`)."""
    return read_osteometrics(path)


def read_reference(path: str | Path) -> Osteometrics:
    """Read a reference sample of known individuals (OsteoSort ``.ref`` layout)."""
    return read_osteometrics(path, reference=True)


def default_reference_path() -> Path:
    """The shipped DPAA male reference (OsteoSort v1.4; see data/osteometric/PROVENANCE.md)."""
    return Path(str(resources.files("dogtag.data.osteometric") / "dpaa_males.csv.gz"))


def default_reference() -> Osteometrics:
    """The shipped DPAA male reference sample (632 individuals, 16,377 elements)."""
    return read_reference(default_reference_path())


def articulation_config(path: str | Path | None = None) -> list[tuple[str, str]]:
    """Articulating measurement pairs (OsteoSort's configuration: ``Hum_06, Uln_11``, ...)."""
    p = Path(path) if path is not None else Path(
        str(resources.files("dogtag.data.osteometric") / "articulation.csv"))
    out = []
    for line, rec in enumerate(csv.reader(io.StringIO(_open_text(p))), start=1):
        if line == 1 or not rec:
            continue
        if len(rec) < 2 or not (CODE.match(rec[0].strip()) and CODE.match(rec[1].strip())):
            raise DataFormatError("expected two measurement codes (Measurementa, Measurementb)",
                                  path=p, line=line)
        out.append((rec[0].strip(), rec[1].strip()))
    return out
