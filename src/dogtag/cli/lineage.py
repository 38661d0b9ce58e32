"""``dogtag mito`` and ``dogtag ystr``: lineage-marker comparisons and frequencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dogtag.errors import DogtagError

if TYPE_CHECKING:
    from dogtag.genetics.mtdna import MtHaplotype
    from dogtag.genetics.ystr import YHaplotype, YPanel
    from dogtag.io.lineage_tables import YTable

RANGE_HELP = "EMPOP range of both profiles, e.g. '16024-16569;1-576' (default: whole genome)"


def _emit(obj: dict[str, object], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(obj, indent=2))
    else:
        for line in lines:
            click.echo(line)


def _num(x: object) -> str:
    return "NA" if x is None else f"{float(x):.6g}"  # type: ignore[arg-type]


def _mt(text: str, rng: str | None, pid: str) -> MtHaplotype:
    """A haplotype from EMPOP notation, or from a FASTA file (its first record), aligned to the rCRS."""
    from dogtag.genetics import mtdna as mt
    from dogtag.textfile import read_text

    path = Path(text)
    if path.suffix.lower() in (".fasta", ".fa", ".fas", ".fna") or (path.is_file() and
                                                                    read_text(path)[:1] == ">"):
        lines = read_text(path).splitlines()
        if not lines or not lines[0].startswith(">"):
            raise DogtagError(f"{path}: expected a FASTA file starting with '>'")
        seq = []
        for line in lines[1:]:
            if line.startswith(">"):
                break
            seq.append(line.strip())
        name = lines[0][1:].strip() or pid
        return mt.from_sequence("".join(seq), id=name, range=rng)
    return mt.haplotype(text, range=rng, id=pid)


@click.group()
def mito() -> None:
    """mtDNA haplotypes in EMPOP notation: compare two, or count one in a database."""


@mito.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--range", "rng", default=None, help=RANGE_HELP)
@click.option("--range-a", default=None, help="range of A (overrides --range)")
@click.option("--range-b", default=None, help="range of B (overrides --range)")
@click.option("--count-length-heteroplasmy", is_flag=True,
              help="count indels in the 16184-16193 and 303-315 C-stretches (ignored by default)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def mito_compare(a: str, b: str, rng: str | None, range_a: str | None, range_b: str | None,
                 count_length_heteroplasmy: bool, as_json: bool) -> None:
    """Compare two mtDNA haplotypes over the range both cover (SWGDAM verdicts).

    A and B are EMPOP notation or FASTA files (aligned to the rCRS).

    \b
    Example:
      dogtag mito compare "16093C 16189C 263G 315.1C" "16189C 263G 309.1C 315.1C" \\
          --range "16024-16569;1-576" --json
    """
    from dogtag.genetics import mtdna_compare as mc

    ha = _mt(a, range_a or rng, "A")
    hb = _mt(b, range_b or rng, "B")
    res = mc.compare(ha, hb, ignore=None if count_length_heteroplasmy else mc.DEFAULT_IGNORE)
    out = res.as_dict()
    out["a"], out["b"] = ha.notation, hb.notation
    lines = [f"A: {ha.notation}  [{ha.range}]", f"B: {hb.notation}  [{hb.range}]",
             f"range compared: {res.range}", f"verdict: {res.verdict} ({len(res.differences)} differences)"]
    lines += [f"  {d.site}: {d.a} / {d.b}" for d in res.differences]
    _emit(out, as_json, lines)


@mito.command("freq")
@click.argument("haplotype")
@click.option("--db", "db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="database: HSD or CSV (id, range, variants)")
@click.option("--range", "rng", default=None, help="range of the haplotype (default: whole genome)")
@click.option("--skip-invalid", is_flag=True, help="leave out database profiles with bad notation")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def mito_freq(haplotype: str, db: Path, rng: str | None, skip_invalid: bool, as_json: bool) -> None:
    """Frequency by counting of a haplotype in a database, its 95% upper bound and LR = 1/bound.

    \b
    Examples:
      dogtag examples copy evaluation.hsd      # 120 HaploGrep evaluation profiles
      dogtag mito freq "263G 315.1C" --range "16024-16569;1-576" --db evaluation.hsd --skip-invalid --json
    """
    from dogtag.genetics import mtdna_compare as mc
    from dogtag.io.lineage_tables import read_mtdna

    h = _mt(haplotype, rng, "query")
    table = read_mtdna(db, skip_invalid=skip_invalid)
    for msg in table.skipped:
        click.echo(f"skipped: {msg}", err=True)
    f = mc.frequencies(mc.MtPanel.from_haplotypes([h]), mc.MtPanel.from_haplotypes(table.haplotypes))
    out = {"haplotype": h.notation, "range": str(h.range), "count": int(f.count[0]), "n": int(f.n[0]),
           "frequency": float(f.frequency[0]), "upper_bound": float(f.upper_bound[0]),
           "lr": float(f.lr[0]), "confidence": 0.95, "method": "counting, Clopper-Pearson one-sided"}
    _emit(out, as_json, [f"{h.notation}  [{h.range}]",
                         f"count {out['count']} of {out['n']} covering the range",
                         f"frequency {_num(out['frequency'])}, 95% upper bound {_num(out['upper_bound'])}",
                         f"LR {_num(out['lr'])}"])


@click.group()
def ystr() -> None:
    """Y-STR haplotypes: compare two (paternal relatives), or estimate a frequency."""


def _parse_y(text: str, pid: str) -> YHaplotype:

    values: dict[str, str] = {}
    for tok in text.replace(";", " ").split():
        if "=" not in tok:
            raise DogtagError(f"profile {pid!r}: token {tok!r} is not LOCUS=ALLELES (e.g. DYS385=11,14)")
        k, v = tok.split("=", 1)
        values[k] = v
    if not values:
        raise DogtagError(f"profile {pid!r}: no loci given")
    from dogtag.genetics.ystr import YHaplotype as YH

    return YH.parse(values, id=pid)


@ystr.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--meioses", type=click.IntRange(0, 40), default=1, show_default=True,
              help="meioses between the two men under the relationship hypothesis")
@click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="database for B's frequency (LR = likelihood / upper bound)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def ystr_compare(a: str, b: str, meioses: int, db: Path | None, as_json: bool) -> None:
    """Compare two Y-STR haplotypes given as LOCUS=ALLELES lists.

    \b
    Example:
      dogtag ystr compare "DYS19=14 DYS390=24 DYS385=11,14" "DYS19=15 DYS390=24 DYS385=11,14" \\
          --meioses 2 --json
    """
    from dogtag.genetics import ystr as y

    ha, hb = _parse_y(a, "A"), _parse_y(b, "B")
    res = y.compare(ha, hb, meioses=meioses)
    lr = ub = None
    if db is not None:
        from dogtag.io.lineage_tables import read_ystr

        t = read_ystr(db)
        dbp = _expand(t)
        _, _, u = y.count_frequencies(y.YPanel.from_haplotypes([hb], loci=dbp.loci), dbp)
        ub = float(u[0])
        lr = res.likelihood / ub
    verdict = res.verdict
    out = {"verdict": verdict, "loci": list(res.loci), "range": list(res.loci),
           "differences": [{"locus": loc, "a": va, "b": vb} for loc, va, vb in res.differences],
           "incompatible": list(res.incompatible), "meioses": meioses,
           "likelihood": res.likelihood, "upper_bound": ub, "lr": lr}
    lines = [f"{len(res.loci)} loci compared; {len(res.differences)} differ; verdict {verdict}"]
    lines += [f"  {loc}: {va} / {vb}" for loc, va, vb in res.differences]
    lines += [f"P(haplotypes | paternal relatives, {meioses} meioses) = {_num(res.likelihood)}"]
    if lr is not None:
        lines += [f"LR {_num(lr)}"]
    _emit(out, as_json, lines)


def _expand(t: YTable) -> YPanel:
    from dogtag.genetics.ystr import YPanel

    hs = [h for h, c in zip(t.haplotypes, t.counts, strict=True) for _ in range(c)]
    return YPanel.from_haplotypes(hs)


@ystr.command("freq")
@click.argument("haplotype")
@click.option("--db", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="database: wide CSV/TXT with one column per locus (and optional count)")
@click.option("--model", type=click.Choice(["counting", "laplace"]), default="counting", show_default=True)
@click.option("--clusters", type=click.IntRange(1, 100), default=5, show_default=True,
              help="discrete Laplace clusters")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def ystr_freq(haplotype: str, db: Path, model: str, clusters: int, seed: int, as_json: bool) -> None:
    """Frequency of a Y-STR haplotype: by counting (95% upper bound) or discrete Laplace.

    \b
    Examples:
      dogtag examples copy danes.txt           # 185 Danish men, 10 loci (disclapmix)
      dogtag ystr freq "DYS19=14 DYS389I=13 DYS389II=29 DYS390=24 DYS391=11 DYS392=13 \\
          DYS393=13 DYS437=15 DYS438=12 DYS439=12" --db danes.txt --model laplace --json
    """
    import numpy as np

    from dogtag.genetics import ystr as y
    from dogtag.io.lineage_tables import read_ystr

    h = _parse_y(haplotype, "query")
    t = read_ystr(db)
    dbp = _expand(t)
    q = y.YPanel.from_haplotypes([h], loci=dbp.loci)
    x, n, ub = y.count_frequencies(q, dbp)
    out: dict[str, object] = {"count": int(x[0]), "n": int(n[0]),
                              "frequency": float(x[0] / n[0]) if n[0] else 0.0,
                              "upper_bound": float(ub[0]), "lr": float(1 / ub[0]), "model": model}
    if model == "laplace":
        loci = tuple(loc for loc in dbp.loci if loc in h.alleles)
        missing = [loc for loc in dbp.loci if loc not in h.alleles]
        if missing:
            raise DogtagError(f"profile 'query': the model needs every database locus; missing {', '.join(missing)}")
        xs, _ = y.integer_matrix(y.YPanel.from_haplotypes(t.haplotypes, loci=loci))
        xq, _ = y.integer_matrix(y.YPanel.from_haplotypes([h], loci=loci))
        fit = y.fit_discrete_laplace(xs, clusters, counts=np.array(t.counts, dtype=float), seed=seed)
        p = float(fit.prob(xq)[0])
        out.update({"frequency": p, "upper_bound": None, "lr": 1 / p, "clusters": clusters,
                    "loglik": fit.loglik})
    _emit(out, as_json, [f"count {out['count']} of {out['n']}",
                         f"frequency {_num(out['frequency'])} ({model}), "
                         f"upper bound {_num(out['upper_bound'])}",
                         f"LR {_num(out['lr'])}"])
