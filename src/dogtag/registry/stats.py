"""Accounting statistics, computed with SQL aggregates (GROUP BY), never row by row in Python.

- unaccounted-for and accounted-for, by conflict, branch, home state, year of loss, loss incident;
- approved identifications by year of approval and by source of remains (the kind of field
  operation the remains came from: turnover, recovery, disinterment, investigation);
- family-reference coverage per missing person: maternal-line references with an mtDNA profile,
  paternal-line male references with a Y-STR profile (for a male or unknown-sex missing person),
  relatives with an autosomal profile, and the relative who would add most.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, case, extract, func, literal, select, union_all
from sqlalchemy.orm import aliased

from dogtag.registry.base import table_of
from dogtag.registry.families import FamilyMember
from dogtag.registry.identification import Identification, IdStatus
from dogtag.registry.people import ACCOUNTED_FOR, Conflict, LossIncident, MissingPerson
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import Accession, Element, FieldOperation, Sample

_ACCOUNTED = [s.value for s in ACCOUNTED_FOR]


def accounting(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Counts of unaccounted-for and accounted-for persons along each dimension."""
    mp = table_of(MissingPerson)
    acc = func.sum(case((mp.c.status.in_(_ACCOUNTED), 1), else_=0))
    dims: dict[str, Any] = {
        "conflict": (table_of(Conflict).c.name, mp.outerjoin(table_of(Conflict))),
        "branch": (mp.c.branch, mp),
        "home_state": (mp.c.home_state, mp),
        "year_of_loss": (extract("year", mp.c.loss_date), mp),
        "loss_incident": (table_of(LossIncident).c.key, mp.outerjoin(table_of(LossIncident))),
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for name, (col, src) in dims.items():
        q = select(col.label("key"), func.count().label("total"), acc.label("accounted")
                   ).select_from(src).group_by(col).order_by(col)
        out[f"by_{name}"] = [
            {name: None if r.key is None else (int(r.key) if name == "year_of_loss" else r.key),
             "unaccounted": int(r.total) - int(r.accounted or 0),
             "accounted": int(r.accounted or 0), "total": int(r.total)}
            for r in conn.execute(q)
        ]
    return out


def identifications(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Approved identifications by year of approval and by source of remains."""
    ident = table_of(Identification)
    done = ident.c.status.in_([IdStatus.APPROVED.value, IdStatus.FAMILY_NOTIFIED.value])
    year = extract("year", ident.c.approved_at)
    by_year = [{"year": int(y) if y is not None else None, "identifications": int(n)}
               for y, n in conn.execute(select(year, func.count()).where(done).group_by(year).order_by(year))]
    s, el, ac, op = (table_of(Sample), table_of(Element), table_of(Accession), table_of(FieldOperation))
    # remains of a sample: its accession (directly or through its element)
    via_sample = (select(ident.c.id.label("ident"), op.c.kind.label("kind"))
                  .select_from(ident.join(s, s.c.id == ident.c.sample_id)
                               .outerjoin(el, el.c.id == s.c.element_id)
                               .outerjoin(ac, ac.c.id == func.coalesce(s.c.accession_id, el.c.accession_id))
                               .outerjoin(op, op.c.id == ac.c.operation_id))
                  .where(done, ident.c.individual_id.is_(None)))
    # remains of an individual: the operation of its elements (the first, if they differ)
    via_individual = (select(ident.c.id.label("ident"), func.min(op.c.kind).label("kind"))
                      .select_from(ident.join(el, el.c.individual_id == ident.c.individual_id)
                                   .join(ac, ac.c.id == el.c.accession_id)
                                   .outerjoin(op, op.c.id == ac.c.operation_id))
                      .where(done).group_by(ident.c.id))
    sources = union_all(via_sample, via_individual).subquery()
    # typed as text: 'unknown' (remains with no field operation) is no operation kind
    kind = func.coalesce(sources.c.kind, literal("unknown"), type_=String)
    by_source = [{"source": getattr(k, "value", k), "identifications": int(n)}
                 for k, n in conn.execute(select(kind, func.count(func.distinct(sources.c.ident)))
                                          .group_by(kind).order_by(kind))]
    return {"by_year": by_year, "by_source": by_source}


def _references() -> Any:
    """Subquery (mp, maternal, paternal, autosomal): per missing person in a family, counts of
    maternal-line (mtDNA), paternal-line (Y) and autosomal references among the typed, non-missing
    members of the families the person belongs to (persons without any typed relative: no row)."""
    m = aliased(table_of(FamilyMember), name="m")
    d = aliased(table_of(FamilyMember), name="d")
    p = table_of(Profile)
    kind = p.c.kind
    # a member has at most one profile of each kind (unique constraint), so sums count donors
    maternal = func.sum(case(
        (and_(kind == ProfileKind.MTDNA.value, d.c.maternal_root == m.c.maternal_root), 1), else_=0))
    paternal = func.sum(case(
        (and_(kind == ProfileKind.YSTR.value, d.c.sex == 1, d.c.paternal_root == m.c.paternal_root), 1), else_=0))
    autosomal = func.sum(case((kind == ProfileKind.AUTOSOMAL.value, 1), else_=0))
    refs = (select(m.c.missing_person_id.label("mp"), maternal.label("maternal"),
                   paternal.label("paternal"), autosomal.label("autosomal"))
            .select_from(m.join(d, and_(d.c.family_id == m.c.family_id, d.c.missing.is_(False)))
                         .join(p, p.c.family_member_id == d.c.id))
            .where(m.c.missing.is_(True), m.c.missing_person_id.is_not(None))
            .group_by(m.c.missing_person_id))
    return refs.subquery()


#: the reference-coverage filters of the persons list: name -> what it keeps
COVERAGE_FILTERS = {"none": "no typed reference", "any": "some typed reference",
                    "maternal_line": "a maternal-line reference (mtDNA)",
                    "paternal_line": "a paternal-line reference (Y-STR)",
                    "autosomal": "an autosomal reference",
                    "no_maternal_line": "no maternal-line reference"}


def coverage_condition(name: str) -> Any:
    """A WHERE condition on ``missing_person.id`` for the coverage filter ``name``
    (see :data:`COVERAGE_FILTERS`); ``ValueError`` for an unknown name."""
    if name not in COVERAGE_FILTERS:
        raise ValueError(f"`coverage` must be one of {', '.join(COVERAGE_FILTERS)}; got {name[:80]!r}")
    refs = _references()
    mp_id = table_of(MissingPerson).c.id
    has = {"any": refs.c.maternal + refs.c.paternal + refs.c.autosomal > 0,
           "none": refs.c.maternal + refs.c.paternal + refs.c.autosomal > 0,
           "maternal_line": refs.c.maternal > 0, "no_maternal_line": refs.c.maternal > 0,
           "paternal_line": refs.c.paternal > 0, "autosomal": refs.c.autosomal > 0}[name]
    ids = select(refs.c.mp).where(has)
    return mp_id.not_in(ids) if name in ("none", "no_maternal_line") else mp_id.in_(ids)


def _coverage_query(*, unaccounted_only: bool = True) -> Any:
    """One row per missing person: counts of maternal-line (mtDNA), paternal-line (Y) and autosomal
    references (:func:`_references`)."""
    mp = table_of(MissingPerson)
    refs = _references()
    mat, pat, aut = (func.coalesce(refs.c.maternal, 0), func.coalesce(refs.c.paternal, 0),
                     func.coalesce(refs.c.autosomal, 0))
    # the relative who would add most: mtDNA first (often the only DNA that old, degraded remains
    # still give), then a second close autosomal relative, then the paternal line of a male
    advice = case((mat == 0, literal(ADVICE[0])), (aut < 2, literal(ADVICE[1])),
                  (and_(pat == 0, mp.c.sex != 2), literal(ADVICE[2])), else_=literal(ADVICE[3]))
    q = (select(mp.c.service_number.label("service_number"), mat.label("maternal_line"),
                pat.label("paternal_line"), aut.label("autosomal"), advice.label("most_useful_next"))
         .select_from(mp.outerjoin(refs, refs.c.mp == mp.c.id)))
    if unaccounted_only:
        q = q.where(mp.c.status.not_in(_ACCOUNTED))
    return q


ADVICE = ("maternal-line relative (mtDNA)", "parent, child or full sibling (autosomal)",
          "paternal-line male relative (Y-STR)", "none needed")


def coverage(conn: Connection, *, unaccounted_only: bool = True,
             missing_person_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Reference coverage per missing person (one row per person, persons without families too).

    ``missing_person_ids`` limits the rows (and the work) to those persons.
    """
    q = _coverage_query(unaccounted_only=unaccounted_only)
    if missing_person_ids is not None:
        q = q.where(table_of(MissingPerson).c.id.in_(list(missing_person_ids)))
    return [dict(r._mapping) for r in conn.execute(q.order_by("service_number"))]


def coverage_summary(conn: Connection) -> dict[str, int]:
    """How many unaccounted-for persons have each kind of reference, and what each needs next."""
    cov = _coverage_query().subquery()
    def n_where(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    q = select(func.count(), n_where(cov.c.maternal_line > 0), n_where(cov.c.paternal_line > 0),
               n_where(cov.c.autosomal > 0),
               n_where(cov.c.maternal_line + cov.c.paternal_line + cov.c.autosomal == 0),
               *[n_where(cov.c.most_useful_next == a) for a in ADVICE])
    n, mat, pat, aut, none, *advice = conn.execute(q).one()
    return {
        "persons": int(n), "with_maternal_line_reference": int(mat or 0),
        "with_paternal_line_reference": int(pat or 0), "with_autosomal_references": int(aut or 0),
        "without_any_reference": int(none or 0),
        **{f"next: {k}": int(v or 0) for k, v in zip(ADVICE, advice, strict=True)},
    }


def all_stats(conn: Connection, *, per_person: bool = False) -> dict[str, Any]:
    """Everything ``dogtag stats`` shows; ``per_person`` adds the coverage row of every person."""
    acc = accounting(conn)
    total = sum(r["total"] for r in acc["by_conflict"])
    accounted = sum(r["accounted"] for r in acc["by_conflict"])
    out: dict[str, Any] = {
        "totals": {"missing_persons": total, "accounted": accounted, "unaccounted": total - accounted},
        "accounting": acc,
        "identifications": identifications(conn),
        "coverage": {"summary": coverage_summary(conn)},
    }
    if per_person:
        out["coverage"]["per_person"] = coverage(conn)
    return out


def long_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The stats as one long table (table, key, measure, value) for CSV export."""
    rows: list[dict[str, Any]] = []
    for k, v in stats["totals"].items():
        rows.append({"table": "totals", "key": "", "measure": k, "value": v})
    for section in ("accounting", "identifications"):
        for table, items in stats[section].items():
            for item in items:
                key_col = next(iter(item))
                for measure, value in item.items():
                    if measure != key_col:
                        rows.append({"table": table, "key": item[key_col], "measure": measure, "value": value})
    for k, v in stats["coverage"]["summary"].items():
        rows.append({"table": "coverage", "key": "", "measure": k, "value": v})
    for r in stats["coverage"].get("per_person", []):
        for measure in ("maternal_line", "paternal_line", "autosomal", "most_useful_next"):
            rows.append({"table": "coverage_per_person", "key": r["service_number"], "measure": measure,
                         "value": r[measure]})
    return rows
