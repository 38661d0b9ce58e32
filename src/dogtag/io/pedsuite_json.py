"""Reader for the pedsuite JSON cases (schema ``pedsuite-json/1``): kinship and DVI cases.

The layout is that of the R pedsuite export (pedtools/pedmut/dvir); see the
project's golden-data SCHEMA. Mutation matrices are authoritative: a model is
rebuilt from its matrix, keeping the recorded parameters for provenance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dogtag.errors import DataFormatError
from dogtag.genetics.cases import GenotypeTable, Hypothesis, KinshipCase
from dogtag.genetics.markers import Marker
from dogtag.genetics.mtdna import MtHaplotype
from dogtag.genetics.mtdna import haplotype as mt_haplotype
from dogtag.genetics.mutation import MutationModel
from dogtag.genetics.pedigree import Pedigree
from dogtag.genetics.ystr import YHaplotype
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.textfile import read_text

__all__ = ["read_dvi_json", "read_json_case", "read_kinship_json"]


class _Ctx:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text

    def fail(self, message: str, needle: str | None = None) -> DataFormatError:
        line = 1  # a whole-document problem is reported at the first line
        if needle is not None:
            pos = self.text.find(needle)
            if pos >= 0:
                line = self.text.count("\n", 0, pos) + 1
        return DataFormatError(message, path=self.path, line=line)


def _load(path: str | Path) -> tuple[_Ctx, dict[str, Any]]:
    p = Path(path)
    text = read_text(p)
    ctx = _Ctx(p, text)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=p, line=exc.lineno) from None
    if not isinstance(obj, dict):
        raise DataFormatError("expected a JSON object at the top level", path=p, line=1)
    return ctx, obj


def _mutation(ctx: _Ctx, name: str, spec: Any, n: int) -> MutationModel:
    if not isinstance(spec, dict) or "matrix" not in spec:
        raise ctx.fail(f"marker {name!r}: `mutation` must be null or an object with a `matrix`", f'"{name}"')
    m = np.asarray(spec["matrix"], dtype=float)
    if m.shape != (n, n):
        raise ctx.fail(f"marker {name!r}: mutation matrix is {m.shape}, expected {n}x{n}", f'"{name}"')
    rows = m.sum(axis=1)
    if np.any(m < -1e-12) or np.any(np.abs(rows - 1) > 1e-6):
        raise ctx.fail(f"marker {name!r}: mutation matrix rows must be probabilities summing to 1", f'"{name}"')
    return MutationModel(str(spec.get("model", "custom")), m, spec.get("rate"), spec.get("rate2"), spec.get("range"))


def _markers(ctx: _Ctx, obj: dict[str, Any]) -> list[Marker]:
    specs = obj.get("markers")
    if not isinstance(specs, list) or not specs:
        raise ctx.fail("expected a non-empty `markers` array", '"markers"')
    out = []
    for s in specs:
        if not isinstance(s, dict) or not {"name", "alleles", "freqs"} <= set(s):
            raise ctx.fail("each marker needs `name`, `alleles` and `freqs`", '"markers"')
        name = str(s["name"])
        alleles = [str(a) for a in s["alleles"]]
        freqs = np.asarray(s["freqs"], dtype=float)
        if len(alleles) != freqs.size:
            raise ctx.fail(f"marker {name!r}: {len(alleles)} alleles but {freqs.size} frequencies", f'"{name}"')
        if abs(freqs.sum() - 1) > 1e-3:
            raise ctx.fail(f"marker {name!r}: frequencies sum to {freqs.sum():.6g}, expected 1", f'"{name}"')
        mut = s.get("mutation")
        female = male = None
        if mut is not None:
            female = _mutation(ctx, name, mut, len(alleles))
            if mut.get("male") is not None:
                male = _mutation(ctx, name, mut["male"], len(alleles))
        try:
            out.append(Marker(name, tuple(alleles), freqs, female, male))
        except ValueError as exc:
            raise ctx.fail(str(exc), f'"{name}"') from None
    return out


def _pedigree(ctx: _Ctx, rows: Any, where: str) -> Pedigree:
    if not isinstance(rows, list) or not rows:
        raise ctx.fail(f"{where}: expected a non-empty `pedigree` array")
    try:
        return Pedigree.from_table(
            [str(r["id"]) for r in rows],
            [r.get("fid") for r in rows],
            [r.get("mid") for r in rows],
            [r.get("sex", 0) for r in rows],
        )
    except (KeyError, TypeError):
        raise ctx.fail(f"{where}: each pedigree row needs `id`, `fid`, `mid`, `sex`") from None
    except ValueError as exc:
        raise ctx.fail(f"{where}: {exc}") from None


def _genotypes(ctx: _Ctx, table: Any, where: str) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ctx.fail(f"{where}: `genotypes` must be an object member -> marker -> [a1, a2]")
    out: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    for member, row in table.items():
        if not isinstance(row, dict):
            raise ctx.fail(f"{where}: genotypes of {member!r} must be an object marker -> [a1, a2]", f'"{member}"')
        out[str(member)] = {}
        for marker, g in row.items():
            if not isinstance(g, list) or len(g) != 2:
                raise ctx.fail(f"{where}: genotype of {member!r} at {marker!r} must be [a1, a2]", f'"{member}"')
            out[str(member)][str(marker)] = (
                None if g[0] is None else str(g[0]), None if g[1] is None else str(g[1]))
    return out


def _check_alleles(ctx: _Ctx, markers: list[Marker], table: GenotypeTable) -> None:
    by_name = {m.name: m for m in markers}
    for member, row in table.items():
        for marker, g in row.items():
            mk = by_name.get(marker)
            if mk is None:
                raise ctx.fail(f"{member!r} is typed at {marker!r}, which has no frequencies", f'"{member}"')
            for a in g:
                if a is not None and not mk.has_allele(a):
                    raise ctx.fail(f"allele {a!r} of {member!r} at {marker!r} is not among the marker's alleles", f'"{member}"')


def read_kinship_json(path: str | Path) -> KinshipCase:
    """Read a kinship case (``hypotheses`` + ``genotypes``)."""
    ctx, obj = _load(path)
    markers = _markers(ctx, obj)
    hyps = obj.get("hypotheses")
    if not isinstance(hyps, list) or len(hyps) < 2:
        raise ctx.fail("expected a `hypotheses` array with at least two pedigrees", '"hypotheses"')
    hypotheses = []
    for k, h in enumerate(hyps):
        name = str(h.get("name", f"H{k + 1}")) if isinstance(h, dict) else f"H{k + 1}"
        hypotheses.append(Hypothesis(name, _pedigree(ctx, h.get("pedigree") if isinstance(h, dict) else None, f"hypothesis {name}")))
    genotypes = _genotypes(ctx, obj.get("genotypes"), "case")
    _check_alleles(ctx, markers, genotypes)
    for member in genotypes:
        for h in hypotheses:
            if member not in h.pedigree:
                raise ctx.fail(f"typed member {member!r} is not in hypothesis {h.name!r}", f'"{member}"')
    reference = obj.get("reference")
    names = [h.name for h in hypotheses]
    if reference is not None and reference not in names:
        raise ctx.fail(f"`reference` {reference!r} is not a hypothesis ({', '.join(names)})", '"reference"')
    return KinshipCase(markers, hypotheses, genotypes, _theta(ctx, obj), reference,
                       str(obj.get("name", "")), str(obj.get("source", "")))


def _theta(ctx: _Ctx, obj: dict[str, Any]) -> float:
    """The optional `theta` (subpopulation correction), a number in [0, 1)."""
    raw = obj.get("theta")
    if raw is None:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw < 1:
        raise ctx.fail(f"`theta` must be a number in [0, 1), got {raw!r}", '"theta"')
    return float(raw)


def read_dvi_json(path: str | Path) -> DVICase:
    """Read a DVI case (``pm`` samples and ``am`` families)."""
    ctx, obj = _load(path)
    markers = _markers(ctx, obj)
    pm = []
    for v in obj.get("pm") or []:
        if not isinstance(v, dict) or "id" not in v:
            raise ctx.fail("each `pm` entry needs an `id`", '"pm"')
        g = _genotypes(ctx, {v["id"]: v.get("genotypes") or {}}, f"sample {v['id']}")
        sid = str(v["id"])
        pm.append(Sample(sid, int(v.get("sex") or 0), g[sid], mtdna=_mt(ctx, v.get("mtdna"), sid),
                         ystr=_y(ctx, v.get("ystr"), sid)))
    am = []
    for k, f in enumerate(obj.get("am") or []):
        name = str(f.get("family", f"F{k + 1}"))
        ped = _pedigree(ctx, f.get("pedigree"), f"family {name}")
        missing = tuple(str(m) for m in f.get("missing") or [])
        for m in missing:
            if m not in ped:
                raise ctx.fail(f"family {name}: missing person {m!r} is not in its pedigree", f'"{m}"')
        g = _genotypes(ctx, f.get("genotypes"), f"family {name}")
        for member in g:
            if member not in ped:
                raise ctx.fail(f"family {name}: typed member {member!r} is not in its pedigree", f'"{member}"')
        lin: dict[str, dict[str, Any]] = {"mtdna": {}, "ystr": {}}
        for kind, parse in (("mtdna", _mt), ("ystr", _y)):
            table = f.get(kind) or {}
            if not isinstance(table, dict):
                raise ctx.fail(f"family {name}: `{kind}` must map members to profiles", f'"{kind}"')
            for member, prof in table.items():
                if member not in ped:
                    raise ctx.fail(f"family {name}: typed member {member!r} is not in its pedigree", f'"{member}"')
                lin[kind][str(member)] = parse(ctx, prof, f"{name}:{member}")
        am.append(Family(name, ped, missing, g, lin["mtdna"], lin["ystr"]))
    for s in pm:
        _check_alleles(ctx, markers, {s.id: s.genotypes})
    for fam in am:
        _check_alleles(ctx, markers, fam.genotypes)
    mt_db = tuple(_mt(ctx, h, str(h.get("id", f"db{k}")) if isinstance(h, dict) else f"db{k}")
                  for k, h in enumerate(obj.get("mtdna_database") or []))
    y_db = tuple(_y(ctx, h, f"ydb{k}") for k, h in enumerate(obj.get("ystr_database") or []))
    return DVICase(markers, pm, am, str(obj.get("name", "")), str(obj.get("source", "")),
                   mtdna_database=tuple(h for h in mt_db if h is not None),
                   ystr_database=tuple(h for h in y_db if h is not None), theta=_theta(ctx, obj))


def _mt(ctx: _Ctx, prof: Any, pid: str) -> MtHaplotype | None:
    """An optional mtDNA profile ``{"range": "16024-16569;1-576", "variants": "16093C 263G"}``."""
    if prof is None:
        return None
    if not isinstance(prof, dict) or "variants" not in prof:
        raise ctx.fail(f"{pid}: `mtdna` must be an object with `variants` (and `range`)", f'"{pid}"')
    try:
        return mt_haplotype(prof["variants"], range=prof.get("range") or None, id=pid)
    except ValueError as exc:
        raise ctx.fail(str(getattr(exc, "message", exc)), f'"{pid}"') from None


def _y(ctx: _Ctx, prof: Any, pid: str) -> YHaplotype | None:
    """An optional Y-STR profile ``{"DYS19": "14", "DYS385": "11,14"}``."""
    if prof is None:
        return None
    if not isinstance(prof, dict):
        raise ctx.fail(f"{pid}: `ystr` must map loci to alleles", f'"{pid}"')
    try:
        return YHaplotype.parse({str(k): str(v) for k, v in prof.items()}, id=pid)
    except ValueError as exc:
        raise ctx.fail(str(getattr(exc, "message", exc)), f'"{pid}"') from None


def read_json_case(path: str | Path) -> KinshipCase | DVICase:
    """Read either kind of pedsuite JSON case, by its keys."""
    ctx, obj = _load(path)
    if "hypotheses" in obj:
        return read_kinship_json(path)
    if "pm" in obj or "am" in obj:
        return read_dvi_json(path)
    raise ctx.fail("expected a kinship case (`hypotheses`) or a DVI case (`pm`, `am`)", None)
