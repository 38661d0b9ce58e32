"""Commingled remains in the registry: sort elements into individuals, review, apply.

:func:`propose_sorting` reads the element inventory of some accessions (or all), runs the
osteometric sort (:mod:`dogtag.osteology`) with the DNA links of the samples cut from those
elements (the same-source LR of :mod:`dogtag.identify.samesource`): DNA joins elements,
osteometry excludes (its unique matches are listed for the reviewer, and join elements only when
asked), and records the result as a
*proposed* :class:`Sorting` with its analysis run (software, parameters, inputs digest). Nothing
in the registry changes. :func:`review_sorting` by a second person then either rejects it or
applies it: each proposed group of two or more elements becomes an :class:`Individual` and its
elements point to it; elements left alone lose any previous individual label. Conflicts (a DNA
match against an osteometric exclusion, two left femora joined by DNA, ...) were never merged
and stay in the record for review. A sorting whose inputs changed since it was proposed is
refused: propose again.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dogtag import __version__
from dogtag.errors import DogtagError
from dogtag.registry.base import Base, IdMixin, str_enum, utcnow
from dogtag.registry.identification import AnalysisRun
from dogtag.registry.profiles import Profile, ProfileKind
from dogtag.registry.recovery import Accession, Element, Individual, Sample, Side

_SIDE = {Side.LEFT: "left", Side.RIGHT: "right"}


class SortingStatus(enum.Enum):
    PROPOSED = "proposed"
    APPLIED = "applied"
    REJECTED = "rejected"


class Sorting(IdMixin, Base):
    """A proposed sorting of elements into individuals, and its review."""

    __tablename__ = "sorting"

    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_run.id"), index=True)
    status: Mapped[SortingStatus] = mapped_column(str_enum(SortingStatus, "status"),
                                                  default=SortingStatus.PROPOSED)
    accessions: Mapped[list[str]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)


def load_inventory(session: Session, accessions: Sequence[str] | None = None) -> Any:
    """The registry's elements (of ``accessions``, all when None) as an osteometric inventory."""
    from dogtag.osteology.inventory import Osteometrics

    q = select(Element, Accession.key).join(Accession).order_by(Element.key)
    if accessions is not None:
        q = q.where(Accession.key.in_(list(accessions)))
    rows = session.execute(q).all()
    codes = sorted({c for e, _ in rows for c in (e.measurements or {})})
    values = np.full((len(rows), len(codes)), np.nan)
    col = {c: j for j, c in enumerate(codes)}
    for i, (e, _) in enumerate(rows):
        for c, v in (e.measurements or {}).items():
            values[i, col[c]] = v
    return Osteometrics(
        tuple(e.key for e, _ in rows), tuple(e.element.strip().lower().replace(" ", "_")
                                             for e, _ in rows),
        tuple(_SIDE.get(e.side, "") for e, _ in rows), tuple(codes), values,
        tuple(a for _, a in rows),
        tuple(tuple(sorted({z.strip() for z in (e.portion or "").lower().split(";")
                            if z.strip()} - {"complete"})) for e, _ in rows), "registry")


def dna_links(session: Session, element_keys: Sequence[str], *, frequencies: str = "nist1036-Cauc",
              min_markers: int = 6) -> tuple[list[Any], list[str]]:
    """Same-source log10 LRs between samples of different elements (autosomal STR profiles,
    drop-out allowed at the profile's ``quality``).

    Returns the :class:`~dogtag.osteology.groups.DnaLink` of every pair of samples of two
    different elements compared at ``min_markers`` markers or more, and notes (markers left
    out, samples of one element that do not match each other).
    """
    from dogtag.genetics.dropout import hardy_weinberg
    from dogtag.genetics.freqdb import load_database, observed_alleles
    from dogtag.genetics.names import match_marker_names
    from dogtag.identify.case import Sample as CaseSample
    from dogtag.identify.samesource import identity_log_lr, observations
    from dogtag.osteology.groups import DnaLink

    rows = session.execute(
        select(Sample.key, Element.key, Profile.data, Profile.quality)
        .join(Element, Sample.element_id == Element.id)
        .join(Profile, Profile.sample_id == Sample.id)
        .where(Profile.kind == ProfileKind.AUTOSOMAL, Element.key.in_(list(element_keys)))
        .order_by(Sample.key)).all()
    notes: list[str] = []
    if len(rows) < 2:
        return [], notes
    db = load_database(frequencies)
    names = sorted({m for _, _, d, _ in rows for m in d})
    mapping = match_marker_names(names, db.loci)
    absent = [m for m in names if mapping[m] is None]
    if absent:
        notes.append(f"markers not in {frequencies} left out: {', '.join(absent)}")
    keep = [m for m in names if mapping[m] is not None]
    tables = {s: {m: g for m, g in d.items() if m in keep} for s, _, d, _ in rows}
    markers = db.markers(keep, observed=observed_alleles(tables))
    # the profile's quality is the laboratory's per-allele drop-out probability (docs/formats.md)
    samples = [CaseSample(s, 0, {m: (g[0], g[1]) for m, g in tables[s].items()},
                          dropout=float(q) if q is not None and 0 <= q < 1 else 0.0)
               for s, _, _, q in rows]
    llr, cmp = identity_log_lr(observations(samples, markers),
                               [hardy_weinberg(m.freqs) for m in markers])
    links = []
    for i, j in zip(*(x.tolist() for x in np.triu_indices(len(rows), 1)), strict=True):
        if cmp[i, j] < min_markers:
            continue
        x = float(llr[i, j] / math.log(10))
        (si, ei, _, _), (sj, ej, _, _) = rows[i], rows[j]
        if ei != ej:
            links.append(DnaLink(ei, ej, x, (si, sj)))
        elif x < 0:
            notes.append(f"samples {si} and {sj} of element {ei} do not share a profile "
                         f"(log10 LR {x:.1f}): check for a mix-up")
    return links, notes


def _digest(inv: Any, links: Sequence[Any]) -> str:
    blob = json.dumps([inv.ids, inv.elements, inv.sides, inv.codes,
                       np.where(np.isnan(inv.values), -1, inv.values).round(3).tolist(),
                       inv.accessions, inv.portions,
                       sorted(((d.a, d.b, round(d.log10_lr, 6) if math.isfinite(d.log10_lr) else None)
                               for d in links), key=lambda t: (t[0], t[1], t[2] is None, t[2] or 0.0))],
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _sort(session: Session, accessions: Sequence[str] | None, reference: str | None,
          options: Any, dna_threshold: float, osteometric_links: bool
          ) -> tuple[Any, Any, list[str], str]:
    from dogtag.osteology.commingle import sort_inventory
    from dogtag.osteology.inventory import default_reference, read_reference

    inv = load_inventory(session, accessions)
    if not len(inv):
        raise DogtagError("no elements to sort" + (f" in {', '.join(accessions)}"
                                                   if accessions else ""))
    links, notes = dna_links(session, inv.ids)
    ref = read_reference(reference) if reference else default_reference()
    res = sort_inventory(inv, ref, options=options, dna=links, dna_threshold=dna_threshold,
                         osteometric_links=osteometric_links)
    return inv, res, notes, _digest(inv, links)


def propose_sorting(session: Session, actor: str, *, accessions: Sequence[str] | None = None,
                    reference: str | None = None, options: Any = None,
                    dna_threshold: float = 4.0, osteometric_links: bool = False) -> Sorting:
    """Sort the elements of ``accessions`` (all when None) and record the proposal (module doc).

    By default only DNA joins elements and osteometry excludes (``osteometric_links``: see
    :func:`dogtag.osteology.groups.propose_groups`); the unique osteometric matches are listed
    under ``candidate_links`` for the reviewer.
    """
    from dogtag.osteology.groups import unique_links
    from dogtag.osteology.sorting import SortOptions

    options = options or SortOptions()
    inv, res, notes, digest = _sort(session, accessions, reference, options, dna_threshold,
                                    osteometric_links)
    full = res.to_dict()
    result = {k: full[k] for k in ("mni", "mni_element", "mni_by_accession", "mni_by_exclusion",
                                   "pairs_possible", "mlni", "groups", "conflicts",
                                   "n_elements", "provenance")}
    tests = {"pair_matches": res.pair_matches, "articulations": res.articulations,
             "associations": res.associations}
    result["excluded"] = {k: sum(c.excluded for c in cs) for k, cs in tests.items()}
    result["tested"] = {k: sum(c.p_value is not None for c in cs) for k, cs in tests.items()}
    result["notes"] = notes
    result["candidate_links"] = [
        {"a": c.a, "b": c.b, "test": c.test, "p_value": c.p_value}
        for c in unique_links([*res.pair_matches, *res.articulations, *res.associations])]
    params = {"accessions": list(accessions) if accessions is not None else None,
              "reference": reference or "DPAA males (shipped)", "dna_threshold": dna_threshold,
              "osteometric_links": osteometric_links,
              **full["provenance"]["options"]}
    run = AnalysisRun(software_version=__version__, command="commingling sort", parameters=params,
                      inputs_digest=digest, actor=actor, finished_at=utcnow())
    session.add(run)
    session.flush()
    scope = sorted(set(inv.accessions))
    sorting = Sorting(run_id=run.id, accessions=scope, result=result, proposed_by=actor)
    session.add(sorting)
    session.flush()
    return sorting


def review_sorting(session: Session, sorting_id: int, reviewer: str, *, apply: bool,
                   note: str | None = None) -> Sorting:
    """Apply (``apply=True``) or reject a proposed sorting; the reviewer is not the proposer."""
    sorting = session.get(Sorting, sorting_id)
    if sorting is None:
        raise DogtagError(f"no sorting {sorting_id}")
    if sorting.status is not SortingStatus.PROPOSED:
        raise DogtagError(f"sorting {sorting_id} is {sorting.status.value}, not proposed")
    if reviewer == sorting.proposed_by:
        raise DogtagError(f"sorting {sorting_id} was proposed by {reviewer}: a second person "
                          "reviews it")
    sorting.reviewed_by, sorting.reviewed_at, sorting.review_note = reviewer, utcnow(), note
    if not apply:
        sorting.status = SortingStatus.REJECTED
        session.flush()
        return sorting
    run = session.get(AnalysisRun, sorting.run_id)
    assert run is not None
    inv = load_inventory(session, sorting.accessions)
    links, _ = dna_links(session, inv.ids)
    if _digest(inv, links) != run.inputs_digest:  # else the stored result is that of these inputs
        raise DogtagError(f"the elements or samples of sorting {sorting_id} changed since it was "
                          "proposed: propose it again")
    elements = {e.key: e for e in session.scalars(select(Element).where(Element.key.in_(inv.ids)))}
    _refuse_under_identification(session, sorting_id, list(elements.values()))
    for e in elements.values():
        e.individual_id = None
    for g in sorting.result["groups"]:
        if len(g["elements"]) < 2:
            continue
        ind = Individual(key=f"S{sorting.id}-{g['id']}",
                         notes=f"sorting {sorting.id}: " + "; ".join(
                             f"{lk['a']}-{lk['b']} {lk['test']}" for lk in g["links"]))
        session.add(ind)
        session.flush()
        for k in g["elements"]:
            elements[k].individual_id = ind.id
    sorting.status = SortingStatus.APPLIED
    session.flush()
    return sorting


def _refuse_under_identification(session: Session, sorting_id: int, elements: list[Element]) -> None:
    """Remains with an active identification are not regrouped under it (one remains, one
    person: :mod:`dogtag.registry.workflow`); finish or withdraw it first."""
    from sqlalchemy import or_

    from dogtag.registry.identification import Identification
    from dogtag.registry.workflow import ACTIVE

    inds = {e.individual_id for e in elements if e.individual_id is not None}
    samples = set(session.scalars(select(Sample.id).where(
        Sample.element_id.in_([e.id for e in elements]))))
    cond = []
    if inds:
        cond.append(Identification.individual_id.in_(inds))
    if samples:
        cond.append(Identification.sample_id.in_(samples))
    if not cond:
        return
    busy = session.scalars(select(Identification.id).where(
        Identification.status.in_(ACTIVE), or_(*cond))).all()
    if busy:
        raise DogtagError(f"sorting {sorting_id} would regroup remains under active "
                          f"identification{'s' if len(busy) > 1 else ''} "
                          f"{', '.join(map(str, busy))}: finish or withdraw them first")
