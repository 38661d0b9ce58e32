"""Imports of reference families (pedigrees) and of DNA profiles, in the CSV case-folder layout.

- ``pedigrees.csv``: role (pm/am), family, id, father, mother, sex, missing; optional
  service_number (links a missing member to the registry), relationship, consent, consent_date,
  reference_sample. ``pm`` rows name samples already in the registry.
- ``genotypes.csv``: family, id, marker, allele1, allele2 (autosomal STR profiles).
- ``mito.csv``: family, id, range, variants (mtDNA, EMPOP notation).
- ``ystr.csv``: family, id, marker, alleles (Y-STR; multi-copy loci as "11,14").
Profiles belong to the family member (family, id) or, failing that, to the sample ``id``.
Optional lab, kit and quality columns describe a profile (from its first row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from dogtag.errors import PedigreeError
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
            rows.error(items[0][0], "family", f"family {fam!r}: {exc}")
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
    members = {(fam, m): i for i, fam, m in conn.execute(
        select(FamilyMember.id, Family.name, FamilyMember.member).join(Family))}
    samples = {k: i for i, k in conn.execute(select(Sample.id, Sample.key))}
    return members, samples


def _import_profiles(conn: Connection, path: str, actor: str, kind: ProfileKind, required: list[str],
                     row_data: Callable[[Rows, int, Callable[..., Any], dict[str, Any]], None]) -> ImportResult:
    f = CsvFile(path, required=["family", "id", *required])
    rows = Rows(f)
    members, samples = _owners(conn)
    profiles: dict[tuple[str | None, str], dict[str, Any]] = {}
    for line, get in rows:
        fam, pid = get("family", text(64)), get("id", text(64), required=True)
        if pid is None:
            continue
        owner = (fam, pid)
        prof = profiles.get(owner)
        if prof is None:
            if fam is not None and (fam, pid) in members:
                ref = {"family_member_id": members[(fam, pid)], "sample_id": None}
            elif (fam is None or fam == pid) and pid in samples:
                ref = {"family_member_id": None, "sample_id": samples[pid]}
            else:
                where = f"family {fam!r}" if fam else "the registry"
                rows.error(line, "id", f"{pid!r} is neither a member of {where} nor a registered sample")
                continue
            prof = profiles[owner] = {"kind": kind, **ref, "lab": get("lab", text(64)),
                                      "kit": get("kit", text(64)), "quality": get("quality", number()),
                                      "data": {}}
        row_data(rows, line, get, prof["data"])
    rows.check()
    result = ImportResult(kind.value, str(path), f.sha256, len(f.rows))
    if profiles:
        upsert(conn, table_of(Profile), ["sample_id", "family_member_id", "kind"],
               list(profiles.values()), actor=actor, result=result)
        result.details["profiles"] = len(profiles)
    return result


def import_genotypes(conn: Connection, path: str, actor: str) -> ImportResult:
    """Autosomal STR profiles from ``genotypes.csv`` (one row per person and marker)."""
    def add(rows: Rows, line: int, get: Callable[..., Any], data: dict[str, Any]) -> None:
        marker = get("marker", text(64), required=True)
        a1, a2 = get("allele1", text(16)), get("allele2", text(16))
        if marker is None:
            return
        if marker in data:
            rows.error(line, "marker", f"marker {marker!r} given twice for this person")
        elif a1 is None and a2 is None:
            rows.error(line, "allele1", "both alleles are empty (leave an untyped marker out)")
        data[marker] = [a1, a2]
    return _import_profiles(conn, path, actor, ProfileKind.AUTOSOMAL, ["marker", "allele1", "allele2"], add)


def import_mito(conn: Connection, path: str, actor: str) -> ImportResult:
    """mtDNA haplotypes from ``mito.csv`` (one row per person: range and EMPOP variants)."""
    def add(rows: Rows, line: int, get: Callable[..., Any], data: dict[str, Any]) -> None:
        if data:
            rows.error(line, "id", "a second mtDNA row for the same person")
            return
        rng = get("range", text(200), required=True)
        variants = " ".join((get("variants") or "").split())
        data.update({"range": rng, "variants": variants})
    return _import_profiles(conn, path, actor, ProfileKind.MTDNA, ["range", "variants"], add)


def import_ystr(conn: Connection, path: str, actor: str) -> ImportResult:
    """Y-STR haplotypes from ``ystr.csv`` (one row per person and locus)."""
    def add(rows: Rows, line: int, get: Callable[..., Any], data: dict[str, Any]) -> None:
        marker = get("marker", text(64), required=True)
        alleles = get("alleles", text(64), required=True)
        if marker is None or alleles is None:
            return
        if marker in data:
            rows.error(line, "marker", f"locus {marker!r} given twice for this person")
        data[marker] = ",".join(a.strip() for a in alleles.split(","))
    return _import_profiles(conn, path, actor, ProfileKind.YSTR, ["marker", "alleles"], add)
