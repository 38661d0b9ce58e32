"""CSV case folders: a DVI case as a few plain tables.

Files (header row required; extra columns such as ``dataset`` are ignored):

``pedigrees.csv``
    role (pm/am; also ``PM_victim`` / ``AM_reference_family``), family, id, father,
    mother, sex (male/female/unknown or 1/2/0), missing (true/false; also
    ``missing_person``). For pm rows the family may be empty or equal to the id.
``genotypes.csv``
    family, id, marker, allele1, allele2. A marker absent for a sample is untyped;
    an empty allele (or ``F``/``-``, the Familias/Bonaparte "failed allele") is missing.
``frequencies.csv``
    marker, allele, frequency.
``mutation_models.csv`` (optional)
    marker, sex (male/female/both), model, rate, rate2, range (pedmut's names; NA = none).
``samples.csv`` (optional)
    id, dropout, dropin: per-sample probabilities for degraded remains.
``mito.csv`` (optional)
    family, id, range, variants: mtDNA haplotypes in EMPOP notation
    (``16024-16569;1-576``, ``16093C 263G 315.1C``) of samples and family members.
``ystr.csv`` (optional)
    family, id, marker, alleles: Y-STR haplotypes (``11,14`` for multi-copy loci, ``null``).
``mito_database.hsd`` / ``mito_database.csv``, ``ystr_database.csv`` (optional)
    population haplotypes for the lineage frequencies (HSD or the ``mito.csv`` layout;
    a wide Y-STR table with an optional count column), see :mod:`dogtag.io.lineage_tables`.

With ``mito.csv`` or ``ystr.csv`` present, ``genotypes.csv`` and ``frequencies.csv`` may be
absent (a lineage-only case).

Every error names the file, the line and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from itertools import pairwise
from operator import methodcaller
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError
from dogtag.genetics import mtdna as mt
from dogtag.genetics import ystr
from dogtag.genetics.freqdb import FrequencyDatabase, read_long_csv
from dogtag.genetics.markers import Marker, check_allele
from dogtag.genetics.mutation import MutationModel, from_params
from dogtag.genetics.pedigree import Pedigree, parse_sex
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.textfile import check_header, csv_records, read_bytes, read_text

__all__ = ["read_case_folder"]

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n", ""}
_FAILED = {"", "na", "-", "f", "?"}


def _rows(path: Path, required: list[str], aliases: dict[str, str] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) with lower-cased column names; checks the header."""
    aliases = aliases or {}
    if not path.exists():
        raise DataFormatError("file not found (a case folder needs it)", path=path)
    plain = _columns(path, [])
    if plain is not None:   # a plain file (every line a row): its columns, without the csv module
        names = [aliases.get(c, c) for c in plain]
        if len(set(names)) == len(names) and all(c in names for c in required):
            check_header(names, path)
            for k, values in enumerate(zip(*plain.values(), strict=True)):
                yield k + 2, dict(zip(names, values, strict=True))
            return
    records = csv_records(read_text(path).splitlines(), path)
    header = next((rec for _, rec in records), None)
    if header is None:
        raise DataFormatError(f"empty file; expected a header with {', '.join(required)}", path=path, line=1)
    cols = [aliases.get(c.strip().lower(), c.strip().lower()) for c in header]
    check_header(cols, path)
    missing = [c for c in required if c not in cols]
    if missing:
        raise DataFormatError(
            f"missing column(s) {', '.join(missing)}; the header has {', '.join(header)}", path=path, line=1)
    for line, row in records:
        if not row or all(not x.strip() for x in row):
            continue
        if len(row) != len(cols):
            raise DataFormatError(f"expected {len(cols)} fields, found {len(row)}", path=path, line=line)
        yield line, {c: v.strip() for c, v in zip(cols, row, strict=True)}


def _bool(text: str, path: Path, line: int, column: str) -> bool:
    t = text.lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise DataFormatError(f"column {column!r}: expected true/false, got {text!r}", path=path, line=line)


def _float_or_none(text: str, path: Path, line: int, column: str) -> float | None:
    if text.strip().lower() in ("", "na", "nan", "none"):
        return None
    try:
        v = float(text)
    except ValueError:
        raise DataFormatError(f"column {column!r}: expected a number, got {text!r}", path=path, line=line) from None
    if not math.isfinite(v):
        raise DataFormatError(f"column {column!r}: expected a finite number, got {text!r}", path=path, line=line)
    return v


def read_case_folder(folder: str | Path, *, prefix: str = "") -> DVICase:
    """Read a CSV case folder.

    ``prefix`` reads ``<prefix>pedigrees.csv`` etc. (e.g. ``"planecrash_"``) from a folder
    holding several cases.
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataFormatError("not a folder (a CSV case folder is expected)", path=root)

    def f(name: str) -> Path:
        return root / f"{prefix}{name}"

    # --- pedigrees -----------------------------------------------------------
    ped_path = f("pedigrees.csv")
    pm_rows: list[tuple[int, dict[str, str]]] = []
    fam_rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    sexes: dict[str, int] = {}         # each distinct sex text parsed once
    for line, row in _rows(ped_path, ["role", "family", "id", "father", "mother", "sex", "missing"],
                           {"missing_person": "missing"}):
        role = row["role"].lower()
        if not row["id"]:
            raise DataFormatError("empty `id`", path=ped_path, line=line)
        try:
            if row["sex"] not in sexes:
                sexes[row["sex"]] = parse_sex(row["sex"])
        except ValueError:
            raise DataFormatError(f"column 'sex': expected male/female/unknown, got {row['sex']!r}",
                                  path=ped_path, line=line) from None
        if role.startswith("pm"):
            if row["family"] not in ("", row["id"]):
                raise DataFormatError(
                    f"pm sample {row['id']!r} has family {row['family']!r}; leave it empty or equal to the id",
                    path=ped_path, line=line)
            pm_rows.append((line, row))
        elif role.startswith("am"):
            if not row["family"]:
                raise DataFormatError("am row with an empty `family`", path=ped_path, line=line)
            fam_rows.setdefault(row["family"], []).append((line, row))
        else:
            raise DataFormatError(f"column 'role': expected pm or am, got {row['role']!r}", path=ped_path, line=line)

    pm_ids: dict[str, int] = {}
    for line, row in pm_rows:
        if row["id"] in pm_ids:
            raise DataFormatError(f"sample {row['id']!r} appears twice (first on line {pm_ids[row['id']]})",
                                  path=ped_path, line=line)
        pm_ids[row["id"]] = line
    for name, rows in fam_rows.items():
        for line, row in rows:
            if row["id"] in pm_ids:
                raise DataFormatError(
                    f"{row['id']!r} is a pm sample (line {pm_ids[row['id']]}) and a member of family {name}",
                    path=ped_path, line=line)

    lineage_only = (f("mito.csv").exists() or f("ystr.csv").exists()) and not f("genotypes.csv").exists()

    # --- genotypes -------------------------------------------------------------
    geno_path = f("genotypes.csv")
    members = {(name, row["id"]) for name, rows in fam_rows.items() for _, row in rows}
    got = None if lineage_only else _genotypes_fast(geno_path, members, pm_ids)
    if got is None:
        got = _genotypes(geno_path, members, pm_ids, ped_path.name, lineage_only)[:3]
    genos, observed, names = got

    # --- frequencies and mutation ----------------------------------------------------
    freq_path = f("frequencies.csv")
    if not freq_path.exists() and not lineage_only:
        raise DataFormatError("file not found (a case folder needs it)", path=freq_path)
    db = read_long_csv(freq_path) if freq_path.exists() else FrequencyDatabase("none", {})
    absent = [m for m in names if m not in db.loci]
    if absent:
        raise DataFormatError(
            f"markers typed in {geno_path.name} have no frequencies: {', '.join(absent)}", path=freq_path)
    for m in db.loci:
        if m not in names:
            names.append(m)
    for m in names:
        unknown = observed.get(m, set()) - set(db.loci[m].alleles)
        if unknown:
            geno_lines = _genotypes(geno_path, members, pm_ids, ped_path.name, lineage_only)[3]
            line = min(v for (o, i, mk), v in geno_lines.items() if mk == m and
                       set(genos.get((o, i), {}).get(m, ())) & unknown)
            raise DataFormatError(
                f"allele(s) {', '.join(sorted(unknown))} of marker {m} are not in {freq_path.name}",
                path=geno_path, line=line)
    models = _mutation_models(f("mutation_models.csv"), db)
    markers = []
    for m in names:
        loc = db.loci[m]
        fem, mal = models.get(m, (None, None))
        markers.append(Marker(m, loc.alleles, np.asarray(loc.freqs), fem, mal))

    # --- samples ---------------------------------------------------------------
    rates: dict[str, tuple[float, float]] = {}
    s_path = f("samples.csv")
    if s_path.exists():
        for line, row in _rows(s_path, ["id"]):
            if row["id"] not in pm_ids:
                raise DataFormatError(f"{row['id']!r} is not a pm sample of {ped_path.name}", path=s_path, line=line)
            d = _float_or_none(row.get("dropout", ""), s_path, line, "dropout") or 0.0
            c = _float_or_none(row.get("dropin", ""), s_path, line, "dropin") or 0.0
            if not (0 <= d < 1 and 0 <= c < 1):
                raise DataFormatError("dropout and dropin must be in [0, 1)", path=s_path, line=line)
            rates[row["id"]] = (d, c)

    owners = {("", i) for i in pm_ids} | members
    mito = _read_mito(f("mito.csv"), owners, pm_ids)
    ys = _read_ystr(f("ystr.csv"), owners, pm_ids)
    pm = [
        Sample(row["id"], sexes[row["sex"]], genos.get(("", row["id"]), {}), *rates.get(row["id"], (0.0, 0.0)),
               mtdna=mito.get(("", row["id"])), ystr=ys.get(("", row["id"])))
        for _, row in pm_rows
    ]
    by_family: dict[str, dict[str, dict[str, tuple[str | None, str | None]]]] = {}
    for (fam, i), g in genos.items():
        by_family.setdefault(fam, {})[i] = g
    mt_by_family: dict[str, dict[str, mt.MtHaplotype]] = {}
    for (fam, i), h in mito.items():
        mt_by_family.setdefault(fam, {})[i] = h
    y_by_family: dict[str, dict[str, ystr.YHaplotype]] = {}
    for (fam, i), yh in ys.items():
        y_by_family.setdefault(fam, {})[i] = yh
    am = []
    # families drawn alike (the same ids, parents and sexes) share one validated pedigree
    peds: dict[tuple[tuple[str, str, str, int], ...], Pedigree] = {}
    for name, rows in fam_rows.items():
        table = tuple((r["id"], r["father"], r["mother"], sexes[r["sex"]]) for _, r in rows)
        ped = peds.get(table)
        if ped is None:
            try:
                ped = peds[table] = Pedigree.from_table(
                    [r[0] for r in table], [r[1] or None for r in table], [r[2] or None for r in table],
                    [r[3] for r in table])
            except ValueError as exc:
                named = getattr(exc, "members", ())
                line = next((ln for ln, r in rows if r["id"] in named), rows[0][0])
                raise DataFormatError(f"family {name}: {exc}", path=ped_path, line=line) from None
        missing = tuple(r["id"] for line, r in rows if _bool(r["missing"], ped_path, line, "missing"))
        am.append(Family(name, ped, missing, by_family.get(name, {}), mt_by_family.get(name, {}),
                         y_by_family.get(name, {})))
    mt_db, y_db = _lineage_databases(f)
    return DVICase(markers, pm, am, name=prefix.rstrip("_") or root.name, source=str(root.name),
                   mtdna_database=mt_db, ystr_database=y_db)


#: genotypes by owner ((family, id); ("", id) for a pm sample) and marker
_Genos = dict[tuple[str, str], dict[str, tuple[str | None, str | None]]]


def _genotypes(path: Path, members: set[tuple[str, str]], pm_ids: dict[str, int], ped_name: str,
               lineage_only: bool) -> tuple[_Genos, dict[str, set[str]], list[str], dict[tuple[str, str, str], int]]:
    """``genotypes.csv`` row by row: genotypes, observed alleles per marker, the markers in order
    of first appearance, and the line of each (owner, marker)."""
    genos: _Genos = {}
    observed: dict[str, set[str]] = {}
    geno_lines: dict[tuple[str, str, str], int] = {}
    for line, row in ([] if lineage_only else _rows(path, ["family", "id", "marker", "allele1", "allele2"])):
        key_id = row["id"]
        fam = row["family"]
        if key_id in pm_ids and fam in ("", key_id):
            owner = ("", key_id)
        elif (fam, key_id) in members:
            owner = (fam, key_id)
        else:
            raise DataFormatError(f"genotype of {key_id!r} (family {fam!r}), who is not in {ped_name}",
                                  path=path, line=line)
        marker = row["marker"]
        if not marker:
            raise DataFormatError("empty `marker`", path=path, line=line)
        k = (owner[0], owner[1], marker)
        if k in geno_lines:
            raise DataFormatError(f"second genotype of {key_id!r} at {marker} (first on line {geno_lines[k]})",
                                  path=path, line=line)
        geno_lines[k] = line
        a1 = None if row["allele1"].lower() in _FAILED else row["allele1"]
        a2 = None if row["allele2"].lower() in _FAILED else row["allele2"]
        if a1 is None and a2 is None:
            continue
        for a in (a1, a2):
            if a is not None:
                try:
                    check_allele(a)
                except ValueError as exc:
                    raise DataFormatError(f"{key_id!r} at {marker}: {exc}", path=path, line=line) from None
        genos.setdefault(owner, {})[marker] = (a1, a2)
        observed.setdefault(marker, set()).update(a for a in (a1, a2) if a is not None)
    return genos, observed, list(dict.fromkeys(k[2] for k in geno_lines)), geno_lines


def _columns(path: Path, required: list[str]) -> dict[str, list[str]] | None:
    """The columns of a plain CSV file (no quotes, no blank lines, every line with the header's
    number of fields), values trimmed; None for any other file, which :func:`_rows` reads (and
    reports on) record by record."""
    if not path.exists():
        return None
    text = read_text(path)
    if '"' in text:
        return None
    lines = text.splitlines()
    if not lines:
        return None
    header = [c.strip().lower() for c in lines[0].split(",")]
    body = lines[1:]
    if len(set(header)) != len(header) or any(c not in header for c in required):
        return None
    commas = len(header) - 1
    if set(map(methodcaller("count", ","), body)) - {commas}:
        return None
    # a blank row (every field empty) is skipped by the general reader
    if body and min(map(len, body)) <= commas:
        return None
    flat = ",".join(body).split(",") if body else []
    n = len(header)
    if not text.isascii() or any(ch in text for ch in " \t\v\f\x1f"):
        flat = [v.strip() for v in flat]
        if any(not "".join(flat[i:i + n]) for i in range(0, len(flat), n)):
            return None
    return {c: flat[k::n] for k, c in enumerate(header)}


def _codes(values: list[str]) -> tuple[list[str], NDArray[np.int64]]:
    """The distinct values in order of first appearance, and each value's index among them."""
    distinct = {v: k for k, v in enumerate(dict.fromkeys(values))}
    return list(distinct), np.fromiter(map(distinct.__getitem__, values), np.int64, len(values))


#: bytes that send a file to the string reader: NUL, tab, CR, VT, FF, 0x1f, space, quote, non-ASCII
_IRREGULAR = np.zeros(256, dtype=bool)
_IRREGULAR[[0, 9, 11, 12, 13, 31, 32, 34]] = True
_IRREGULAR[128:] = True

#: a column as its distinct values (in order of first appearance) and each row's index among them
_Coded = tuple[list[str], NDArray[np.int64]]


def _coded_columns(path: Path, required: list[str]) -> dict[str, _Coded] | None:
    """The columns of a plain CSV file, coded; what :func:`_columns` and :func:`_codes` give,
    without a Python string per field: the fields are cut by the positions of the commas and
    newlines in the file's bytes and told apart by their bytes (NumPy). Files with anything
    else (quotes, spaces, CR, non-ASCII, a BOM) go through :func:`_columns`; None as there."""
    if not path.exists():
        return None
    raw = read_bytes(path)
    buf = np.frombuffer(raw, dtype=np.uint8)
    if not buf.size or _IRREGULAR[buf].any():
        cols = _columns(path, required)
        return None if cols is None else {c: _codes(v) for c, v in cols.items()}
    newline = np.flatnonzero(buf == 10)
    ends = newline if raw.endswith(b"\n") else np.append(newline, buf.size)
    starts = np.concatenate([[0], newline + 1])[:ends.size]
    header = [c.lower() for c in raw[:ends[0]].decode().split(",")]
    if len(set(header)) != len(header) or any(c not in header for c in required):
        return None
    ncol, bs, be = len(header), starts[1:], ends[1:]
    n = bs.size
    commas = np.flatnonzero(buf == 44)
    commas = commas[commas > ends[0]]
    # every line with the header's number of fields (line i's commas are the i-th ncol - 1, all
    # between its start and end), none blank (the general reader skips a blank row)
    if commas.size != n * (ncol - 1) or (be - bs <= ncol - 1).any():
        return None
    cut = commas.reshape(n, ncol - 1)
    if ncol > 1 and ((cut[:, 0] < bs) | (cut[:, -1] > be)).any():
        return None
    fs, fe = np.column_stack([bs, cut + 1]), np.column_stack([cut, be])
    return {c: _distinct_fields(raw, buf, fs[:, k], fe[:, k]) for k, c in enumerate(header)}


def _distinct_fields(raw: bytes, buf: NDArray[np.uint8], start: NDArray[np.int64], end: NDArray[np.int64]) -> _Coded:
    """The fields raw[start:end] coded: each padded with zero bytes to a whole number of 8-byte
    words (no field holds a zero byte) and compared as those words."""
    n = start.size
    length = end - start
    words = max(1, -(-int(length.max(initial=0)) // 8))
    # 8 bytes from each field's start (the file padded with zeros so that every window exists),
    # the bytes past the field's end masked off
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([buf, np.zeros(8 * words, np.uint8)]), 8)
    keep = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
    padded = np.empty((n, words), dtype=np.uint64)
    for w in range(words):
        padded[:, w] = windows[start + 8 * w].view("<u8")[:, 0] & keep[np.clip(length - 8 * w, 0, 8)]
    keys = padded[:, 0] if words == 1 else padded.view(np.dtype((np.void, 8 * words)))[:, 0]
    _, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    values = [raw[start[i]:end[i]].decode() for i in first[order].tolist()]
    return values, rank[inv.reshape(n)]


def _genotypes_fast(path: Path, members: set[tuple[str, str]], pm_ids: dict[str, int]
                    ) -> tuple[_Genos, dict[str, set[str]], list[str]] | None:
    """:func:`_genotypes` column by column for a plain, valid file (the common case, read in a
    fraction of the time); None where the file needs the general reader, which also names the
    line of any error. The result is the same, insertion order of every dict included."""
    cols = _coded_columns(path, ["family", "id", "marker", "allele1", "allele2"])
    if cols is None:
        return None
    (f_names, f_code), (i_names, i_code), (names, row_marker), (a1_names, a1_code), (a2_names, a2_code) = (
        cols[c] for c in ("family", "id", "marker", "allele1", "allele2"))
    n = i_code.size
    if "" in names:
        return None
    # each row's person: codes of (family, id), resolved once per distinct pair
    keys, first_key, key_of_row = np.unique(f_code * len(i_names) + i_code, return_index=True,
                                            return_inverse=True)
    owners: dict[tuple[str, str], int] = {}
    key_owner = np.empty(keys.size, dtype=np.int64)
    for k in np.argsort(first_key, kind="stable").tolist():       # owners numbered in file order
        fam, key_id = f_names[keys[k] // len(i_names)], i_names[keys[k] % len(i_names)]
        if key_id in pm_ids and fam in ("", key_id):
            owner = ("", key_id)
        elif (fam, key_id) in members:
            owner = (fam, key_id)
        else:
            return None
        key_owner[k] = owners.setdefault(owner, len(owners))
    row_owner = key_owner[key_of_row.reshape(n)]
    allele: dict[str, str | None] = {}
    for a in dict.fromkeys([*a1_names, *a2_names]):
        if a.lower() in _FAILED:
            allele[a] = None
            continue
        try:
            allele[a] = check_allele(a)
        except ValueError:
            return None
    labels = list(allele)
    acode = {a: k for k, a in enumerate(labels)}
    if n and np.bincount(row_owner * len(names) + row_marker).max() > 1:
        return None                                    # a second genotype of someone at a marker
    c1, c2 = (np.array([acode[a] for a in vals], dtype=np.int64)[code]
              for vals, code in ((a1_names, a1_code), (a2_names, a2_code)))
    failed = np.array([allele[a] is None for a in labels], dtype=bool)
    valid = np.flatnonzero(~(failed[c1] & failed[c2]))
    # rows of each owner together, owners in the order of their first genotype, rows in file order
    first_owner, first_row = np.unique(row_owner[valid], return_index=True)
    rank = np.empty(len(owners), dtype=np.int64)
    rank[first_owner[np.argsort(first_row)]] = np.arange(first_owner.size)
    key = rank[row_owner[valid]]
    grouped = bool(np.all(key[1:] >= key[:-1]))    # the usual file: each owner's rows together
    order = valid if grouped else valid[np.argsort(key, kind="stable")]
    cuts = [0, *(np.flatnonzero(np.diff(rank[row_owner[order]])) + 1).tolist(), order.size]
    # one string object per marker name and per allele label, shared by every genotype
    m_sorted = list(map(names.__getitem__, row_marker[order].tolist()))
    first_allele = [allele[a] for a in labels]
    g_sorted = list(zip(map(first_allele.__getitem__, c1[order].tolist()),  # noqa: B905 (same rows)
                        map(first_allele.__getitem__, c2[order].tolist())))
    owner_ids = list(owners)
    o_sorted = row_owner[order]
    genos: _Genos = {}
    for lo, hi in pairwise(cuts if order.size else []):
        genos[owner_ids[o_sorted[lo]]] = dict(zip(m_sorted[lo:hi], g_sorted[lo:hi], strict=True))
    pairs = np.flatnonzero(np.bincount(np.concatenate([row_marker * len(labels) + c for c in (c1, c2)]),
                                       minlength=1))
    observed: dict[str, set[str]] = {}
    for mk, ak in zip((pairs // len(labels)).tolist(), (pairs % len(labels)).tolist(), strict=True):
        label = allele[labels[ak]]
        if label is not None:
            observed.setdefault(names[mk], set()).add(label)
    return genos, observed, names


def _owner(row: dict[str, str], owners: set[tuple[str, str]], pm_ids: dict[str, int], path: Path,
           line: int) -> tuple[str, str]:
    key_id, fam = row["id"], row["family"]
    if key_id in pm_ids and fam in ("", key_id):
        return ("", key_id)
    if (fam, key_id) in owners:
        return (fam, key_id)
    raise DataFormatError(f"profile of {key_id!r} (family {fam!r}), who is not in pedigrees.csv",
                          path=path, line=line)


def _read_mito(path: Path, owners: set[tuple[str, str]], pm_ids: dict[str, int]
               ) -> dict[tuple[str, str], mt.MtHaplotype]:
    out: dict[tuple[str, str], mt.MtHaplotype] = {}
    if not path.exists():
        return out
    first: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, ["family", "id", "range", "variants"]):
        owner = _owner(row, owners, pm_ids, path, line)
        if owner in first:
            raise DataFormatError(f"second mtDNA profile of {row['id']!r} (first on line {first[owner]})",
                                  path=path, line=line)
        first[owner] = line
        try:
            out[owner] = mt.haplotype(row["variants"], range=row["range"] or None, id=row["id"])
        except ValueError as exc:
            raise DataFormatError(getattr(exc, "message", str(exc)), path=path, line=line) from None
    return out


def _read_ystr(path: Path, owners: set[tuple[str, str]], pm_ids: dict[str, int]
               ) -> dict[tuple[str, str], ystr.YHaplotype]:
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if not path.exists():
        return {}
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in _rows(path, ["family", "id", "marker", "alleles"]):
        owner = _owner(row, owners, pm_ids, path, line)
        marker = row["marker"]
        if not ystr.Y_LOCUS.match(marker):
            raise DataFormatError(f"profile {row['id']!r}: unknown Y-STR locus {marker!r}", path=path, line=line)
        key = (*owner, ystr.canonical_locus(marker))
        if key in seen:
            raise DataFormatError(f"profile {row['id']!r}: locus {marker} given twice (first on line {seen[key]})",
                                  path=path, line=line)
        seen[key] = line
        try:
            ystr.parse_alleles(row["alleles"], profile=row["id"], locus=marker)
        except ValueError as exc:
            raise DataFormatError(getattr(exc, "message", str(exc)), path=path, line=line) from None
        rows.setdefault(owner, {})[marker] = row["alleles"]
    return {o: ystr.YHaplotype.parse(v, id=o[1]) for o, v in rows.items()}


def _lineage_databases(f: Callable[[str], Path]) -> tuple[tuple[mt.MtHaplotype, ...], tuple[ystr.YHaplotype, ...]]:
    from dogtag.io.lineage_tables import read_mtdna, read_ystr

    mt_db: tuple[mt.MtHaplotype, ...] = ()
    for name in ("mito_database.hsd", "mito_database.csv"):
        if f(name).exists():
            mt_db = tuple(read_mtdna(f(name)).haplotypes)
            break
    y_db: tuple[ystr.YHaplotype, ...] = ()
    if f("ystr_database.csv").exists():
        t = read_ystr(f("ystr_database.csv"))
        y_db = tuple(h for h, n in zip(t.haplotypes, t.counts, strict=True) for _ in range(n))
    return mt_db, y_db


def _mutation_models(path: Path, db: FrequencyDatabase) -> dict[str, tuple[MutationModel | None, MutationModel | None]]:
    out: dict[str, dict[str, MutationModel]] = {}
    if not path.exists():
        return {}
    for line, row in _rows(path, ["marker", "sex", "model"]):
        m = row["marker"]
        if m not in db.loci:
            raise DataFormatError(f"marker {m!r} has no frequencies", path=path, line=line)
        loc = db.loci[m]
        sex = row["sex"].lower() or "both"
        if sex not in ("male", "female", "both", "m", "f"):
            raise DataFormatError(f"column 'sex': expected male/female/both, got {row['sex']!r}", path=path, line=line)
        try:
            model = from_params(
                row["model"], loc.alleles, loc.freqs,
                rate=_float_or_none(row.get("rate", ""), path, line, "rate"),
                rate2=_float_or_none(row.get("rate2", ""), path, line, "rate2"),
                range=_float_or_none(row.get("range", ""), path, line, "range"), marker=m)
        except ValueError as exc:
            raise DataFormatError(str(exc), path=path, line=line) from None
        for s in (("male", "female") if sex == "both" else ("male",) if sex.startswith("m") else ("female",)):
            out.setdefault(m, {})[s] = model
    result: dict[str, tuple[MutationModel | None, MutationModel | None]] = {}
    for m, d in out.items():
        fem, mal = d.get("female"), d.get("male")
        if fem is not None and mal is not None and np.array_equal(mal.matrix, fem.matrix):
            mal = None
        result[m] = (fem, mal)
    return result
