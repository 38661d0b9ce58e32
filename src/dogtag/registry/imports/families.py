"""Imports of reference families (pedigrees) and of DNA profiles, in the CSV case-folder layout.

- ``pedigrees.csv``: role (pm/am), family, id, father, mother, sex, missing; optional
  service_number (links a missing member to the registry), relationship, consent, consent_date,
  reference_sample. ``pm`` rows name samples already in the registry.
- ``genotypes.csv``: family, id, marker, allele1, allele2 (autosomal STR profiles; markers of the
  shipped frequency databases only, stored under their canonical names).
- ``mito.csv``: family, id, range, variants (mtDNA, EMPOP notation).
- ``ystr.csv``: family, id, marker, alleles (Y-STR; multi-copy loci as "11,14").
Profiles belong to the family member (family, id) or, failing that, to the sample ``id``.
Optional lab, kit and quality columns describe a profile (from its first row).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from dogtag.errors import PedigreeError
from dogtag.genetics import mtdna as mt
from dogtag.genetics import ystr
from dogtag.genetics.freqdb import SEX_MARKERS, known_markers
from dogtag.genetics.markers import check_allele
from dogtag.genetics.names import canonical_marker_name
from dogtag.genetics.pedigree import Pedigree, parse_sex
from dogtag.registry.base import table_of
from dogtag.registry.families import Consent, Family, FamilyMember
from dogtag.registry.imports.core import (
    CsvFile,
    ImportResult,
    Rows,
    boolean,
    choice,
    date,
    number,
    text,
    upsert,
)
from dogtag.registry.people import MissingPerson
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import Sample


def _parent(value: str | None) -> str | None:
    return None if value is None or value in ("0", "NA") else value


def _root(k: str, parent: dict[str, str | None]) -> str:
    seen = set()
    while parent.get(k) is not None and k not in seen:
        seen.add(k)
        k = parent[k]  # type: ignore[assignment]
    return k


def import_pedigrees(conn: Connection, path: str, actor: str) -> ImportResult:
    """Reference families and their members (donors, missing persons, untyped connectors)."""
    f = CsvFile(path, required=["family", "id", "father", "mother", "sex"])
    rows = Rows(f)
    fams: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    missing_col = "missing" if "missing" in f.columns or "missing_person" not in f.columns else "missing_person"
    pm: list[tuple[int, str]] = []
    for line, get in rows:
        role = (get("role") or "am").lower()[:2]  # also "PM_victim", "AM_reference_family"
        fam, mid = get("family", text(64)), get("id", text(64), required=True)
        if role == "pm":
            if mid is not None:
                pm.append((line, mid))
            continue
        if role != "am":
            rows.error(line, "role", f"{get('role')!r} is not pm or am")
            continue
        if fam is None:
            rows.error(line, "family", "required value is empty for an am row")
            continue
        fams.setdefault(fam, []).append((line, {
            "member": mid, "father": _parent(get("father", text(64))),
            "mother": _parent(get("mother", text(64))), "sex": get("sex", parse_sex) or 0,
            "missing": bool(get(missing_col, boolean)), "sn": get("service_number", text(32)),
            "relationship_to_missing": get("relationship", text(64)),
            "consent": get("consent", choice(Consent)), "consent_date": get("consent_date", date),
            "reference_sample": get("reference_sample", text(64)),
        }))
    samples = {k for (k,) in conn.execute(select(Sample.key))}
    for line, sid in pm:
        if sid not in samples:
            rows.error(line, "id", f"pm sample {sid!r} is not in the registry (import samples first)")
    persons = {sn: i for i, sn in conn.execute(select(MissingPerson.id, MissingPerson.service_number))}
    members: list[tuple[str, dict[str, Any]]] = []
    for fam, items in fams.items():
        recs = [r for _, r in items]
        if any(r["member"] is None for r in recs):
            continue
        try:
            Pedigree.from_table([r["member"] for r in recs], [r["father"] for r in recs],
                                [r["mother"] for r in recs], [r["sex"] for r in recs])
        except (PedigreeError, ValueError) as exc:
            named = getattr(exc, "members", ())
            line = next((ln for ln, r in items if r["member"] in named), items[0][0])
            rows.error(line, "family", f"family {fam!r}: {exc}")
            continue
        fathers = {r["member"]: r["father"] for r in recs}
        mothers = {r["member"]: r["mother"] for r in recs}
        for line, r in items:
            sn = r.pop("sn")
            if sn is not None and not r["missing"]:
                rows.error(line, "service_number", "only a missing member links to a missing person")
            if sn is not None and sn not in persons:
                rows.error(line, "service_number", f"unknown missing person {sn!r}")
            r["missing_person_id"] = persons.get(sn) if sn else None
            r["maternal_root"] = _root(r["member"], mothers)
            r["paternal_root"] = _root(r["member"], fathers)
            members.append((fam, r))
    rows.check()
    result = ImportResult("pedigrees", str(path), f.sha256, len(f.rows))
    if not members:
        return result
    fam_ids = upsert(conn, table_of(Family), ["name"], [{"name": n} for n in fams], actor=actor,
                     result=ImportResult("families", str(path), f.sha256, len(fams)))
    out = [{"family_id": fam_ids[(fam,)], **r} for fam, r in members]
    upsert(conn, table_of(FamilyMember), ["family_id", "member"], out, actor=actor, result=result)
    result.details["families"] = len(fams)
    result.unchanged += len(pm)
    return result


def _owners(conn: Connection) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Profile owners: family members by (family, id) and samples by key."""
    members = {(fam, m): i for i, fam, m in conn.execute(
        select(FamilyMember.id, Family.name, FamilyMember.member).join(Family))}
    samples = {k: i for i, k in conn.execute(select(Sample.id, Sample.key))}
    return members, samples


Cell = Callable[[str], str]  # a row's cell by column name ("" when absent or empty)
RowData = Callable[[Rows, int, Cell, dict[str, Any]], None]
FastRow = Callable[[Rows, int, list[str], dict[str, Any]], None]


def _import_profiles(conn: Connection, path: str, actor: str, kind: ProfileKind, required: list[str],
                     row_data: RowData | None = None,
                     fast: Callable[[dict[str, int]], FastRow] | None = None) -> ImportResult:
    f = CsvFile(path, required=["family", "id", *required])
    rows = Rows(f)
    members, samples = _owners(conn)
    idx = {c: i for i, c in enumerate(f.columns)}
    i_fam, i_id = idx["family"], idx["id"]
    optional = [(c, idx[c]) for c in ("lab", "kit", "quality") if c in idx]
    profiles: dict[tuple[str, str], dict[str, Any]] = {}
    bad_owners: set[tuple[str, str]] = set()
    fast_row = fast(idx) if fast is not None else None
    n = 0
    for line, rec in f.iter_rows():  # streamed: genotype files have millions of rows
        n += 1
        fam, pid = rec[i_fam].strip(), rec[i_id].strip()
        if not pid:
            rows.error(line, f.names["id"], "required value is empty")
            continue
        owner = (fam, pid)
        prof = profiles.get(owner)
        if prof is None:
            if owner in bad_owners:
                continue
            if fam and owner in members:
                ref = {"family_member_id": members[owner], "sample_id": None}
            elif (not fam or fam == pid) and pid in samples:
                ref = {"family_member_id": None, "sample_id": samples[pid]}
            else:
                where = f"family {fam!r}" if fam else "the registry"
                rows.error(line, f.names["id"], f"{pid!r} is neither a member of {where} nor a registered sample")
                bad_owners.add(owner)
                continue
            extra = {c: rec[i].strip() or None for c, i in optional}
            quality: Any = extra.get("quality")
            if quality is not None:
                try:
                    quality = number()(quality)
                except ValueError as exc:
                    rows.error(line, f.names["quality"], str(exc))
            prof = profiles[owner] = {"kind": kind, **ref, "lab": extra.get("lab"), "kit": extra.get("kit"),
                                      "quality": quality, "data": {}}
        if fast_row is not None:
            fast_row(rows, line, rec, prof["data"])
            continue
        def cell(column: str, _rec: list[str] = rec) -> str:
            i = idx.get(column)
            return "" if i is None else _rec[i].strip()
        assert row_data is not None
        row_data(rows, line, cell, prof["data"])
    rows.check()
    result = ImportResult(kind.value, str(path), f.sha256, n)
    if profiles:
        upsert(conn, table_of(Profile), ["sample_id", "family_member_id", "kind"],
               list(profiles.values()), actor=actor, result=result)
        result.details["profiles"] = len(profiles)
    return result


def _required(rows: Rows, line: int, column: str, value: str, max_len: int = 64) -> bool:
    if not value:
        rows.error(line, rows.file.names.get(column, column), "required value is empty")
        return False
    if len(value) > max_len:
        rows.error(line, rows.file.names.get(column, column), f"longer than {max_len} characters")
        return False
    return True


def _valid(rows: Rows, line: int, column: str, check: Callable[[str], object], value: str) -> bool:
    """Whether ``check`` (the engine's own validation) accepts ``value``; else a row error."""
    try:
        check(value)
    except ValueError as exc:
        rows.error(line, rows.file.names.get(column, column), getattr(exc, "message", str(exc)))
        return False
    return True


def _marker_check() -> Callable[[str], tuple[str, str | None]]:
    """marker as written -> (canonical name, why it is refused or None), memoised per import."""
    known = known_markers()
    seen: dict[str, tuple[str, str | None]] = {}

    def check(marker: str) -> tuple[str, str | None]:
        if marker not in seen:
            name = canonical_marker_name(marker) if marker.strip(" _-./'\"") else marker
            why = None
            if name not in known:
                near = difflib.get_close_matches(name, sorted(known), n=1)
                why = (f"{marker!r} is not a known autosomal STR marker: no shipped frequency database "
                       "has it, so no search could use it" + (f" (did you mean {near[0]!r}?)" if near else ""))
            seen[marker] = (name, why)
        return seen[marker]
    return check


def import_genotypes(conn: Connection, path: str, actor: str) -> ImportResult:
    """Autosomal STR profiles from ``genotypes.csv`` (one row per person and marker).

    Markers are stored under their canonical names (``THO1`` and ``TH01`` are one locus,
    :func:`~dogtag.genetics.names.canonical_marker_name`). A marker that no shipped frequency
    database has (a misspelling, a kit's non-STR locus) is refused with its line, as are amelogenin
    (``AMEL``) alleles other than X/Y and X/Y at any other marker.
    """
    def fast(idx: dict[str, int]) -> FastRow:
        im, i1, i2 = idx["marker"], idx["allele1"], idx["allele2"]
        known = _marker_check()

        def add(rows: Rows, line: int, rec: list[str], data: dict[str, Any]) -> None:
            marker, a1, a2 = rec[im].strip(), rec[i1].strip(), rec[i2].strip()
            if not marker or len(marker) > 64:
                _required(rows, line, "marker", marker)
                return
            name, why = known(marker)
            sex = name in SEX_MARKERS
            if why is not None:
                rows.error(line, rows.file.names["marker"], why)
            elif len(a1) > 16 or len(a2) > 16:
                rows.error(line, "allele1", "an allele label is longer than 16 characters")
            elif not all(
                    _valid(rows, line, col, check_allele, a) for col, a in (("allele1", a1), ("allele2", a2)) if a):
                pass
            elif any(a and (a in "XY") != sex for a in (a1, a2)):
                rows.error(line, "allele1", f"amelogenin alleles are X and Y, at {name} only; got {a1!r}, {a2!r}")
            elif name in data:
                rows.error(line, "marker", f"marker {name!r} given twice for this person")
            elif not a1 and not a2:
                rows.error(line, "allele1", "both alleles are empty (leave an untyped marker out)")
            else:
                data[name] = [a1 or None, a2 or None]
        return add
    return _import_profiles(conn, path, actor, ProfileKind.AUTOSOMAL, ["marker", "allele1", "allele2"],
                            fast=fast)


def import_mito(conn: Connection, path: str, actor: str) -> ImportResult:
    """mtDNA haplotypes from ``mito.csv`` (one row per person: range and EMPOP variants)."""
    def add(rows: Rows, line: int, cell: Cell, data: dict[str, Any]) -> None:
        if data:
            rows.error(line, "id", "a second mtDNA row for the same person")
            return
        rng, variants = cell("range"), " ".join(cell("variants").split())
        if _required(rows, line, "range", rng, 200) and _valid(
                rows, line, "variants", lambda v: mt.haplotype(v, range=rng, id=cell("id")), variants):
            data.update({"range": rng, "variants": variants})
    return _import_profiles(conn, path, actor, ProfileKind.MTDNA, ["range", "variants"], add)


def import_ystr(conn: Connection, path: str, actor: str) -> ImportResult:
    """Y-STR haplotypes from ``ystr.csv`` (one row per person and locus)."""
    def add(rows: Rows, line: int, cell: Cell, data: dict[str, Any]) -> None:
        marker, alleles = cell("marker"), cell("alleles")
        if not (_required(rows, line, "marker", marker) and _required(rows, line, "alleles", alleles)):
            return
        if not ystr.Y_LOCUS.match(marker):
            rows.error(line, rows.file.names.get("marker", "marker"),
                       f"{marker!r} is not a Y-STR locus (DYS..., DYF..., Y-GATA-H4)")
            return
        if not _valid(rows, line, "alleles", lambda a: ystr.parse_alleles(a, profile=cell("id"), locus=marker),
                      alleles):
            return
        if marker in data:
            rows.error(line, "marker", f"locus {marker!r} given twice for this person")
        data[marker] = ",".join(a.strip() for a in alleles.split(","))
    return _import_profiles(conn, path, actor, ProfileKind.YSTR, ["marker", "alleles"], add)
