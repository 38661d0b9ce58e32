"""Readers for lineage-marker tables: mtDNA (HSD or CSV) and Y-STR (wide or long CSV).

mtDNA
    *HSD* (HaploGrep / EMPOP export): tab-separated ``id, range, haplogroup,
    variant, variant, ...`` without a header. *CSV* with a header holding ``id``
    (or ``sample``), ``range`` and ``variants`` (space-separated EMPOP tokens), and
    optionally ``family``: the case folder's ``mito.csv``.
Y-STR
    *Wide*: one row per haplotype, one column per locus (``DYS385`` as "11,14"),
    optional ``id``/``Sample Name``/``Haplotype``, ``family`` and a count column
    (``n``, ``Count``); comma-, tab- or space-separated. *Long*: the case folder's
    ``ystr.csv`` with ``family, id, marker, alleles``.

Errors name the file, the line, the profile and the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dogtag.errors import DataFormatError
from dogtag.genetics import mtdna as mt
from dogtag.genetics import ystr
from dogtag.textfile import check_header, csv_records, read_text

_Y_LOCUS = ystr.Y_LOCUS


@dataclass
class MtTable:
    haplotypes: list[mt.MtHaplotype] = field(default_factory=list)
    families: list[str | None] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # messages of rows left out (skip_invalid)


@dataclass
class YTable:
    haplotypes: list[ystr.YHaplotype] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    families: list[str | None] = field(default_factory=list)


def _reraise(exc: ValueError, path: Path, line: int) -> DataFormatError:
    msg = exc.message if isinstance(exc, DataFormatError) else str(exc)
    return DataFormatError(msg, path=path, line=line)


def read_mtdna(path: str | Path, *, canonical: bool = True, skip_invalid: bool = False) -> MtTable:
    """Read an HSD or CSV mtDNA table (detected from the first line).

    With ``skip_invalid`` a profile with bad notation is left out and its error kept in
    ``skipped`` (for databases); otherwise the first one raises ``DataFormatError``.
    """
    p = Path(path)
    lines = read_text(p).splitlines()
    out = MtTable()
    if not lines:
        return out
    head = [h.strip().lower() for h in _split(lines[0], p, 1, ",")]
    check_header(head, p)
    if "variants" in head and "range" in head:
        idcol = "id" if "id" in head else ("sample" if "sample" in head else None)
        if idcol is None:
            raise DataFormatError("expected a column 'id' (or 'sample')", path=p, line=1)
        for k, rec in csv_records(lines[1:], p, first_line=2):
            if not "".join(rec).strip():
                continue
            row = dict(zip(head, rec, strict=False))
            pid = (row.get(idcol) or "").strip()
            if not pid:
                raise DataFormatError("empty id", path=p, line=k)
            try:
                h = mt.haplotype(row.get("variants") or "", range=(row.get("range") or "").strip() or None,
                                 id=pid, canonical=canonical)
            except ValueError as exc:
                if not skip_invalid:
                    raise _reraise(exc, p, k) from None
                out.skipped.append(str(_reraise(exc, p, k)))
                continue
            out.haplotypes.append(h)
            out.families.append((row.get("family") or "").strip() or None)
        return out
    for k, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) < 2:
            raise DataFormatError("expected HSD: id <tab> range <tab> haplogroup <tab> variants...",
                                  path=p, line=k)
        if k == 1 and f[0].strip().lower() in ("sampleid", "id") and f[1].strip().lower() == "range":
            continue  # HaploGrep's optional header
        try:
            h = mt.haplotype([t for t in f[3:] if t.strip()], range=f[1], id=f[0].strip(),
                             canonical=canonical)
        except ValueError as exc:
            if not skip_invalid:
                raise _reraise(exc, p, k) from None
            out.skipped.append(str(_reraise(exc, p, k)))
            continue
        out.haplotypes.append(h)
        out.families.append(None)
    return out


def _split(line: str, path: Path, k: int, sep: str | None = None) -> list[str]:
    """The fields of one line: CSV when it has a comma, else tab- or blank-separated."""
    if sep == "," or (sep is None and "," in line):
        return next((rec for _, rec in csv_records([line], path, first_line=k)), [])
    if "\t" in line:
        return line.split("\t")
    return line.split()


def read_ystr(path: str | Path) -> YTable:
    """Read a wide or long Y-STR table."""
    p = Path(path)
    lines = read_text(p).splitlines()
    out = YTable()
    if not lines:
        return out
    head = [h.strip() for h in _split(lines[0], p, 1)]
    low = [h.lower() for h in head]
    check_header(head, p)
    if "marker" in low and "alleles" in low:
        return _read_long(p, lines, low)
    loci = [h for h in head if _Y_LOCUS.match(h)]
    if not loci:
        raise DataFormatError("no Y-STR locus columns (DYS..., DYF..., YGATAH4)", path=p, line=1)
    idcol = next((h for h, lo in zip(head, low, strict=True)
                  if lo in ("id", "sample name", "sample", "haplotype")), None)
    ncol = next((h for h, lo in zip(head, low, strict=True) if lo in ("n", "count")), None)
    famcol = next((h for h, lo in zip(head, low, strict=True) if lo == "family"), None)
    for k, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        vals = _split(line, p, k)
        if len(vals) != len(head):
            raise DataFormatError(f"expected {len(head)} fields, found {len(vals)}", path=p, line=k)
        row = dict(zip(head, vals, strict=True))
        pid = row[idcol].strip() if idcol else f"row{k}"
        try:
            h = ystr.YHaplotype.parse({loc: row[loc] for loc in loci}, id=pid)
            n = int(row[ncol]) if ncol else 1
        except ValueError as exc:
            raise _reraise(exc, p, k) from None
        out.haplotypes.append(h)
        out.counts.append(n)
        out.families.append(row[famcol].strip() if famcol else None)
    return out


def _read_long(p: Path, lines: list[str], low: list[str]) -> YTable:
    for col in ("id", "marker", "alleles"):
        if col not in low:
            raise DataFormatError(f"expected a column {col!r}", path=p, line=1)
    rows: dict[str, dict[str, str]] = {}
    fam: dict[str, str | None] = {}
    for k, rec in csv_records(lines[1:], p, first_line=2):
        if not "".join(rec).strip():
            continue
        row = dict(zip(low, rec, strict=False))
        pid = (row.get("id") or "").strip()
        marker = (row.get("marker") or "").strip()
        if not pid or not marker:
            raise DataFormatError("empty id or marker", path=p, line=k)
        if not _Y_LOCUS.match(marker):
            raise DataFormatError(f"profile {pid!r}: unknown Y-STR locus {marker!r}", path=p, line=k)
        try:
            ystr.parse_alleles(row.get("alleles") or "", profile=pid, locus=marker)
        except ValueError as exc:
            raise _reraise(exc, p, k) from None
        if ystr.canonical_locus(marker) in {ystr.canonical_locus(m) for m in rows.get(pid, {})}:
            raise DataFormatError(f"profile {pid!r}: locus {marker} given twice", path=p, line=k)
        rows.setdefault(pid, {})[marker] = row.get("alleles") or ""
        fam[pid] = (row.get("family") or "").strip() or None
    out = YTable()
    for pid, vals in rows.items():
        out.haplotypes.append(ystr.YHaplotype.parse(vals, id=pid))
        out.counts.append(1)
        out.families.append(fam[pid])
    return out
