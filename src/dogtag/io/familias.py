"""Read Familias ``.fam`` files (kinship cases and DVI cases).

Familias (Egeland, Mostad et al. 2000, Forensic Sci. Int. 110:47-59; Kling,
Tillmar, Egeland & Mostad 2014; https://familias.name) saves a case as a
line-oriented text file. The layout, as pedFamilias' ``readFam`` reads it:

1. three header lines (the third is the version, e.g. ``3.3.1 (DVI)``), an empty line;
2. the persons of the main window: a count, then per person its name, three
   lines we do not use, ``#TRUE#`` for male, the number of genotypes and, per
   genotype, three lines: allele index, allele index, marker index (0-based,
   into the database below, in file order);
3. ``"Known relations"``: numbers of extra females and males, the number of
   fixed parent -> child relations and the pairs (person indices);
4. the number of pedigrees (hypotheses), then per pedigree its index, name,
   extra females, extra males, relations and pairs;
5. a line ``#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )`` (``#TRUE#`` would
   mean precomputed probabilities follow: not supported);
6. the database: the number of loci, ``#TRUE#`` and a name, then per locus its
   name, female and male mutation rates, female and male model codes (0 equal,
   1 proportional, 2 stepwise, 3 stepwise made stationary, 4 extended
   stepwise), the number of alleles (with a silent allele), female and male
   range, female and male rate2, ``#FALSE#`` (no silent allele) and its
   frequency, ``n<TAB>(DatabaseSize = ...)`` and ``n`` pairs of allele / frequency
   lines;
7. bracketed sections (``[DVI]``, ``[Prior]``, ``[Advanced]`` ...). A DVI file
   has ``[DVI]`` -> ``[[Unidentified persons]]`` (the victims: ``Name=``,
   ``Gender=``, ``[[[[DNA data]]]]`` with ``SystemName=``, ``Allele1=``,
   ``Allele2=``) and ``[[Reference Families]]`` (per family its persons and
   pedigrees, relations given as ``Parent=`` / ``Child=`` pairs by name).

Conversion follows pedFamilias 0.2.5 and dvir 3.4.1 (``familias2dvir``):

- mutation models are rebuilt with :mod:`dogtag.genetics.mutation` (codes 2-4 are
  pedmut's ``stepwise``; code 3 is then made stationary by the PM transformation);
  a stepwise model on non-numeric alleles falls back to ``equal`` with a warning;
  a model whose matrix is the identity (rate 0) means no mutation;
- a member with only one parent gets the other added as ``added_1``, ``added_2``
  ... (fathers first), as pedtools requires both parents or none;
- extra persons are ``extra_1`` ... (global) and ``extra_ped<k>_<j>`` (pedigree k);
- in a DVI reference family with two pedigrees, one named "Reference pedigree",
  the other is used; the family is the connected component of its typed members;
  its missing persons are the members whose names match ``missing_pattern``
  (default: starting with "Missing"); the sex of a parent with no Gender is
  taken from the other parents of its children (female if that does not decide).

Anything that cannot be read raises :class:`~dogtag.errors.DataFormatError`
naming the file, the line and what was expected.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError, DogtagError
from dogtag.genetics.cases import Genotype, Hypothesis, KinshipCase
from dogtag.genetics.freqdb import (
    DEFAULT_MIN_FREQ,
    FrequencyDatabase,
    LocusFrequencies,
    add_missing_alleles,
)
from dogtag.genetics.markers import Marker, allele_sort_key
from dogtag.genetics.mutation import MutationModel, from_params
from dogtag.genetics.names import canonical_marker_name
from dogtag.genetics.pedigree import FEMALE, MALE, UNKNOWN, Pedigree
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.textfile import decode, read_bytes

#: Familias model codes -> (pedmut model name, Familias name).
MODEL_CODES = {
    0: ("equal", "Equal"),
    1: ("proportional", "Proportional"),
    2: ("stepwise", "Stepwise (unstationary)"),
    3: ("stepwise-stationary", "Stepwise (stationary)"),
    4: ("stepwise", "Extended stepwise"),
}


# --- line cursor ----------------------------------------------------------

class _Lines:
    """The file's lines with a cursor; every read names the line on failure."""

    def __init__(self, lines: list[str], path: str):
        self.lines = lines
        self.path = path
        self.pos = 0  # 0-based index of the next line

    def error(self, what: str, line: int | None = None) -> DataFormatError:
        k = self.pos if line is None else line
        if k < len(self.lines) or line is not None:
            found = self.lines[k - 1] if 0 < k <= len(self.lines) else ""
            return DataFormatError(f"expected {what}, found {found!r}", path=self.path, line=k)
        return DataFormatError(f"expected {what}, found the end of the file", path=self.path,
                               line=len(self.lines))

    def next(self, what: str) -> str:
        if self.pos >= len(self.lines):
            raise self.error(what)
        self.pos += 1
        return self.lines[self.pos - 1]

    @property
    def line(self) -> int:
        """1-based number of the line last read."""
        return self.pos

    def int(self, what: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        text = self.next(what).strip()
        try:
            v = int(text)
        except ValueError:
            raise self.error(what) from None
        if v < minimum or (maximum is not None and v > maximum):
            raise self.error(what)
        return v

    def float(self, what: str) -> float:
        text = self.next(what).strip()
        try:
            v = float(text)
        except ValueError:
            raise self.error(what) from None
        if not math.isfinite(v):
            raise self.error(what)
        return v

    def flag(self, what: str) -> bool:
        text = self.next(what).strip()
        if text.startswith("#TRUE#"):
            return True
        if text.startswith("#FALSE#"):
            return False
        raise self.error(what)


def _unquote(s: str) -> str:
    return s.replace('"', "").strip()


# --- main part: persons, pedigrees, database -----------------------------

@dataclass
class _Locus:
    name: str
    line: int
    alleles: list[str]
    freqs: list[float]
    params: dict[str, dict[str, float | str]]  # "female"/"male" -> model, rate, rate2, range
    db_size: int | None = None


@dataclass
class _Main:
    version: str
    persons: list[tuple[str, int, int]]  # name, sex, line
    genotypes: dict[str, list[tuple[int, int, int, int]]]  # name -> (a1, a2, locus, line)
    hypotheses: list[tuple[str, list[str], list[int], list[tuple[int, int]], int]]
    theta: float
    db_name: str
    loci: list[_Locus]
    rest_start: int  # 0-based index of the first line after the database
    extra: dict[str, object] = field(default_factory=dict)


#: bounds that keep a damaged or hostile file from allocating without end: extra (untyped) persons
#: of the file or of one pedigree, and persons over all pedigrees together
MAX_EXTRA = 1000
MAX_PERSONS = 1_000_000


def _read_main(cur: _Lines) -> _Main:
    for _k in range(2):
        cur.next("the Familias header")
    version = _unquote(cur.next("the Familias version"))
    if not version or not version[0].isdigit():
        raise cur.error("a Familias version number such as 3.3.1")
    if cur.pos < len(cur.lines) and cur.lines[cur.pos].strip() in ('""', ""):
        cur.next("an empty line")
    nid = cur.int("the number of persons")
    persons: list[tuple[str, int, int]] = []
    genotypes: dict[str, list[tuple[int, int, int, int]]] = {}
    for _ in range(nid):
        name = _unquote(cur.next("a person's name"))
        line = cur.line
        if not name:
            raise cur.error("a person's name")
        if name in genotypes:
            raise cur.error(f"a new person's name ({name!r} appears twice)")
        for _k in range(3):
            cur.next(f"person {name!r}'s data")
        sex = MALE if cur.flag(f"#TRUE# or #FALSE# (is {name!r} male)") else FEMALE
        ng = cur.int(f"the number of genotypes of {name!r}")
        gl = []
        for _g in range(ng):
            a1 = cur.int(f"an allele index of {name!r}")
            a2 = cur.int(f"an allele index of {name!r}")
            mk = cur.int(f"a marker index of {name!r}")
            gl.append((a1, a2, mk, cur.line))
        persons.append((name, sex, line))
        genotypes[name] = gl
    if _unquote(cur.next('"Known relations"')) != "Known relations":
        raise cur.error('"Known relations"', cur.line)
    n_fem = cur.int(f"the number of extra females (at most {MAX_EXTRA})", maximum=MAX_EXTRA)
    n_mal = cur.int(f"the number of extra males (at most {MAX_EXTRA})", maximum=MAX_EXTRA)
    ids = [p[0] for p in persons] + [f"extra_{k + 1}" for k in range(n_fem + n_mal)]
    sexes = [p[1] for p in persons] + [FEMALE] * n_fem + [MALE] * n_mal
    fixed = _relations(cur, len(ids), "fixed relations")
    n_ped = cur.int("the number of pedigrees")
    hyps = []
    total = 0
    for _ in range(n_ped):
        idx = cur.int("a pedigree index")
        line = cur.line
        pname = _unquote(cur.next("a pedigree name"))
        nf = cur.int(f"the number of extra females in the pedigree (at most {MAX_EXTRA})", maximum=MAX_EXTRA)
        nm = cur.int(f"the number of extra males in the pedigree (at most {MAX_EXTRA})", maximum=MAX_EXTRA)
        total += len(ids) + nf + nm
        if total > MAX_PERSONS:
            raise cur.error(f"pedigrees of at most {MAX_PERSONS:,} persons in all (memory bound)")
        pids = ids + [f"extra_ped{idx + 1}_{k + 1}" for k in range(nf + nm)]
        psex = sexes + [FEMALE] * nf + [MALE] * nm
        rels = fixed + _relations(cur, len(pids), f"relations of pedigree {pname!r}")
        hyps.append((pname or f"Pedigree {idx + 1}", pids, psex, rels, line))
    head = cur.next("the database line (#FALSE# (#Databases: ...))")
    if head.strip().startswith("#TRUE#"):
        raise cur.error("#FALSE# (files with precomputed probabilities are not supported)",
                        cur.line)
    if not head.strip().startswith("#FALSE#"):
        raise cur.error("#FALSE# (#Databases: ... ;Theta/Kinship/Fst: ...)", cur.line)
    m = re.search(r"Theta/Kinship/Fst:\s*([0-9.eE+-]+)", head)
    theta = 0.0
    if m:
        try:
            theta = float(m.group(1))
        except ValueError:
            raise cur.error("a number after Theta/Kinship/Fst:", cur.line) from None
        if not (0 <= theta < 1):
            raise cur.error("a Theta/Kinship/Fst value in [0, 1)", cur.line)
    n_loc = cur.int("the number of loci")
    db_name = ""
    if cur.flag("#TRUE# or #FALSE# (database name follows)"):
        db_name = _unquote(cur.next("the database name"))
    loci = [_read_locus(cur) for _ in range(n_loc)]
    return _Main(version, persons, genotypes,
                 [(h[0], h[1], h[2], h[3], h[4]) for h in hyps], theta, db_name, loci, cur.pos)


def _relations(cur: _Lines, n: int, what: str) -> list[tuple[int, int]]:
    k = cur.int(f"the number of {what}")
    out = []
    for _ in range(k):
        text = cur.next(f"a parent index ({what})").strip()
        if "Direct" in text:
            raise cur.error("a parent index (twins, 'Direct' relations, are not supported)")
        try:
            p = int(text)
        except ValueError:
            raise cur.error(f"a parent index ({what})") from None
        c = cur.int(f"a child index ({what})")
        if not (0 <= p < n) or not (0 <= c < n) or p == c:
            raise cur.error(f"a child index below {n} and different from the parent ({what})")
        out.append((p, c))
    return out


def _read_locus(cur: _Lines) -> _Locus:
    name = _unquote(cur.next("a locus name"))
    line = cur.line
    if not name:
        raise cur.error("a locus name")
    rate_f = cur.float(f"the female mutation rate of {name}")
    rate_m = cur.float(f"the male mutation rate of {name}")
    code_f = cur.int(f"the female mutation model code (0-4) of {name}", maximum=4)
    code_m = cur.int(f"the male mutation model code (0-4) of {name}", maximum=4)
    cur.int(f"the number of alleles of {name} (with the silent allele)")
    range_f = cur.float(f"the female mutation range of {name}")
    range_m = cur.float(f"the male mutation range of {name}")
    rate2_f = cur.float(f"the female mutation rate2 of {name}")
    rate2_m = cur.float(f"the male mutation rate2 of {name}")
    if cur.flag(f"#FALSE# (no silent allele) for {name}"):
        raise cur.error(f"#FALSE# (silent alleles are not supported; locus {name})", cur.line)
    cur.float(f"the silent allele frequency of {name}")
    info = cur.next(f"the number of alleles of {name}")
    parts = info.split("\t", 1)
    try:
        n_all = int(parts[0].strip())
    except ValueError:
        raise cur.error(f"the number of alleles of {name}") from None
    if n_all < 1:
        raise cur.error(f"a positive number of alleles for {name}")
    db_size = None
    if len(parts) > 1:
        ms = re.search(r"DatabaseSize\s*=\s*(\d+)", parts[1])
        db_size = int(ms.group(1)) if ms else None
    alleles, freqs = [], []
    for _ in range(n_all):
        a = _unquote(cur.next(f"an allele of {name}"))
        if not a:
            raise cur.error(f"an allele label of {name}")
        if a in alleles:
            raise cur.error(f"a new allele of {name} ({a!r} is listed twice)")
        f = cur.float(f"the frequency of allele {a} of {name}")
        if not 0 <= f <= 1:
            raise cur.error(f"a frequency in [0, 1] for allele {a} of {name}")
        alleles.append(a)
        freqs.append(f)
    params: dict[str, dict[str, float | str]] = {
        "female": {"model": MODEL_CODES[code_f][0], "rate": rate_f, "rate2": rate2_f,
                   "range": range_f},
        "male": {"model": MODEL_CODES[code_m][0], "rate": rate_m, "rate2": rate2_m,
                 "range": range_m},
    }
    return _Locus(name, line, alleles, freqs, params, db_size)


# --- markers -------------------------------------------------------------

def _build_model(loc: _Locus, sex: str, alleles: tuple[str, ...], freqs: NDArray[np.float64],
                 path: str) -> MutationModel | None:
    p = loc.params[sex]
    model = str(p["model"])
    if model.startswith("stepwise"):
        try:
            vals = [float(a) for a in alleles]
            ok = all(math.isfinite(v) and v >= 1 and abs(v * 10 - round(v * 10)) < 1e-9
                     for v in vals)
        except ValueError:
            ok = False
        if not ok:
            warnings.warn(
                f"{path}: locus {loc.name}: alleles incompatible with the stepwise model; "
                "the equal model is used instead (as pedFamilias does)",
                UserWarning, stacklevel=4,
            )
            model = "equal"
    try:
        mm = from_params(model, alleles, freqs, rate=float(p["rate"]),
                         rate2=float(p["rate2"]), range=float(p["range"]), marker=loc.name)
    except ValueError as exc:
        raise DataFormatError(f"mutation model of locus {loc.name}: {exc}", path=path,
                              line=loc.line) from None
    return None if mm.is_trivial else mm


def _markers(loci: list[_Locus], observed: dict[str, set[str]], path: str, *,
             tol: float, min_freq: float) -> list[Marker]:
    out = []
    for loc in loci:
        total = sum(loc.freqs)
        if abs(total - 1) > tol:
            raise DataFormatError(
                f"frequencies of locus {loc.name!r} sum to {total:.6g}, not 1 (tolerance {tol:g})",
                path=path, line=loc.line,
            )
        order = sorted(range(len(loc.alleles)), key=lambda i: allele_sort_key(loc.alleles[i]))
        lf = LocusFrequencies(tuple(loc.alleles[i] for i in order),
                              np.array([loc.freqs[i] for i in order]), None)
        extra = sorted(observed.get(loc.name, set()) - set(lf.alleles), key=allele_sort_key)
        alleles, freqs = add_missing_alleles(loc.name, lf, extra, min_freq=min_freq)
        fem = _build_model(loc, "female", alleles, freqs, path)
        mal = _build_model(loc, "male", alleles, freqs, path)
        if fem is None and mal is not None:
            fem = MutationModel("trivial", np.eye(len(alleles)))
        if mal is not None and fem is not None and np.array_equal(mal.matrix, fem.matrix):
            mal = None
        out.append(Marker(loc.name, alleles, freqs, fem, mal))
    return out


# --- pedigrees -------------------------------------------------------------

def _pedigree(ids: Sequence[str], sexes: Sequence[int], rels: Sequence[tuple[str, str]],
              path: str, line: int, what: str) -> Pedigree:
    """Pedigree from parent -> child pairs by name; adds missing parents as added_k."""
    sex = dict(zip(ids, sexes, strict=True))
    fa: dict[str, str] = {}
    mo: dict[str, str] = {}
    for p, c in rels:
        s = sex[p]
        slot = fa if s == MALE else mo
        if c in slot and slot[c] != p:
            role = "father" if s == MALE else "mother"
            raise DataFormatError(f"{what}: {c!r} has two {role}s ({slot[c]!r} and {p!r})",
                                  path=path, line=line)
        slot[c] = p
    rows_f = [c for c in ids if c in mo and c not in fa]
    rows_m = [c for c in ids if c in fa and c not in mo]
    taken = set(ids)
    added: list[tuple[str, int]] = []
    k = 0

    def new_id() -> str:
        nonlocal k
        while True:
            k += 1
            cand = f"added_{k}"
            if cand not in taken:
                taken.add(cand)
                return cand

    for c in rows_f:
        fa[c] = new_id()
        added.append((fa[c], MALE))
    for c in rows_m:
        mo[c] = new_id()
        added.append((mo[c], FEMALE))
    all_ids = [*ids, *(a for a, _ in added)]
    all_sex = [*sexes, *(s for _, s in added)]
    try:
        return Pedigree.from_table(all_ids, [fa.get(i) for i in all_ids],
                                   [mo.get(i) for i in all_ids], all_sex)
    except DogtagError as exc:
        raise DataFormatError(f"{what}: {exc}", path=path, line=line) from None


def _component(ped: Pedigree, members: set[str]) -> Pedigree:
    """The connected component(s) of ``ped`` holding ``members``."""
    n = len(ped)
    adj: list[set[int]] = [set() for _ in range(n)]
    for c in range(n):
        for p in (int(ped.father[c]), int(ped.mother[c])):
            if p >= 0:
                adj[c].add(p)
                adj[p].add(c)
    seen = {ped.index(m) for m in members}
    stack = list(seen)
    while stack:
        v = stack.pop()
        for w in adj[v]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    keep = [r for k, r in enumerate(ped.as_rows()) if k in seen]
    return Pedigree.from_table(*zip(*keep, strict=True))


# --- public API ----------------------------------------------------------

def read_fam(path: str | Path, *, missing_pattern: str = r"^Missing", tol: float = 1e-3,
             min_freq: float = DEFAULT_MIN_FREQ) -> KinshipCase | DVICase:
    """Read a Familias ``.fam`` file.

    Parameters
    ----------
    path : the file.
    missing_pattern : regular expression picking the missing persons of DVI
        reference families by name (dvir's ``missingIdentifier``).
    tol : allowed deviation of a locus' frequency sum from 1.
    min_freq : frequency given to an observed allele absent from the database
        (with a warning; see :mod:`dogtag.genetics.freqdb`).

    Returns
    -------
    KinshipCase (hypotheses = the file's pedigrees, reference = the last) or, for a
    file with a ``[DVI]`` section, a DVICase (pm = the unidentified persons, am =
    the reference families).

    Raises
    ------
    DataFormatError naming the file, the line and what was expected.
    """
    p = Path(path)
    raw = read_bytes(p)
    text = decode(raw, p, fallback="latin-1")  # Familias for Windows writes Latin-1
    lines = text.splitlines()
    cur = _Lines(lines, str(p))
    main = _read_main(cur)
    dvi_at = next((k for k in range(main.rest_start, len(lines))
                   if lines[k].strip() == "[DVI]"), None)
    if dvi_at is not None:
        return _dvi_case(main, lines, dvi_at, str(p), missing_pattern, tol, min_freq)
    return _kinship_case(main, str(p), tol, min_freq)


def read_fam_database(path: str | Path, *, tol: float = 1e-3) -> FrequencyDatabase:
    """The frequency database of a ``.fam`` file (frequencies only, file order of loci)."""
    p = Path(path)
    cur = _Lines(decode(read_bytes(p), p, fallback="latin-1").splitlines(), str(p))
    main = _read_main(cur)
    freqs = {loc.name: dict(zip(loc.alleles, loc.freqs, strict=True)) for loc in main.loci}
    try:
        return FrequencyDatabase.from_dict(main.db_name or p.stem, freqs, tol=tol,
                                           provenance=f"Familias {main.version} file {p.name}")
    except DataFormatError as exc:
        raise DataFormatError(exc.message, path=p) from None


def _kinship_case(main: _Main, path: str, tol: float, min_freq: float) -> KinshipCase:
    n_loc = len(main.loci)
    geno: dict[str, dict[str, Genotype]] = {}
    for name, gl in main.genotypes.items():
        for a1, a2, mk, line in gl:
            if mk >= n_loc:
                raise DataFormatError(f"expected a marker index below {n_loc}, found {mk}",
                                      path=path, line=line)
            loc = main.loci[mk]
            if a1 >= len(loc.alleles) or a2 >= len(loc.alleles):
                raise DataFormatError(
                    f"expected allele indices below {len(loc.alleles)} for locus {loc.name}, "
                    f"found {a1} and {a2}", path=path, line=line,
                )
            geno.setdefault(name, {})[loc.name] = (loc.alleles[a1], loc.alleles[a2])
    markers = _markers(main.loci, {}, path, tol=tol, min_freq=min_freq)
    hyps = []
    if not main.hypotheses and not main.persons:
        raise DataFormatError(
            "expected persons or pedigrees (a file with only a database: "
            "use read_fam_database)", path=path,
        )
    for name, ids, sexes, rels, line in main.hypotheses:
        pairs = [(ids[a], ids[b]) for a, b in rels]
        hyps.append(Hypothesis(name, _pedigree(ids, sexes, pairs, path, line,
                                                f"pedigree {name!r}")))
    if not hyps:
        ids = [q[0] for q in main.persons]
        sexes = [q[1] for q in main.persons]
        hyps.append(Hypothesis("Pedigree 1", _pedigree(ids, sexes, [], path, 1, "persons")))
    names = [h.name for h in hyps]
    if len(set(names)) != len(names):
        raise DataFormatError(f"expected distinct pedigree names, found {', '.join(names)}",
                              path=path)
    return KinshipCase(
        markers=markers, hypotheses=hyps, genotypes=geno, theta=main.theta, reference=None,
        name=Path(path).stem, source=f"Familias {main.version} file {Path(path).name}",
        notes={"database": main.db_name,
               "database_size": {loc.name: loc.db_size for loc in main.loci}},
    )


# --- DVI section -----------------------------------------------------------

@dataclass
class _Node:
    name: str
    depth: int
    line: int
    entries: list[tuple[str, str, int]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def child(self, name: str) -> _Node | None:
        return next((c for c in self.children if c.name == name), None)

    def value(self, key: str) -> tuple[str, int] | None:
        return next(((v, k) for t, v, k in self.entries if t == key), None)


_HEAD = re.compile(r"^(\[+)\s*([^\[\]]*?)\s*(\]+)\s*$")


def _tree(lines: list[str], start: int, path: str) -> _Node:
    root = _Node("", 0, start)
    stack = [root]
    for k in range(start, len(lines)):
        line = lines[k].strip()
        if not line:
            continue
        m = _HEAD.match(line)
        if m:
            depth = len(m.group(1))
            if len(m.group(3)) != depth:
                raise DataFormatError(f"expected a section header with {depth} closing brackets",
                                      path=path, line=k + 1)
            while stack[-1].depth >= depth:
                stack.pop()
            if depth > stack[-1].depth + 1:
                raise DataFormatError(
                    f"expected a section at depth {stack[-1].depth + 1} at most, found {line!r}",
                    path=path, line=k + 1,
                )
            node = _Node(m.group(2).strip(), depth, k + 1)
            stack[-1].children.append(node)
            stack.append(node)
            continue
        if "=" in line:
            key, _, val = line.partition("=")
            stack[-1].entries.append((key.strip(), val.strip(), k + 1))
        else:
            stack[-1].entries.append(("", line, k + 1))
    return root


def _count(node: _Node, key: str, path: str) -> int:
    got = node.value(key)
    if got is None:
        raise DataFormatError(f"expected '{key}= <number>' in section [{node.name}]", path=path,
                              line=node.line)
    try:
        n = int(got[0])
    except ValueError:
        raise DataFormatError(f"expected '{key}= <number>', found {got[0]!r}", path=path,
                              line=got[1]) from None
    if n < 0:
        raise DataFormatError(f"expected '{key}' to be >= 0, found {n}", path=path, line=got[1])
    return n


def _sections(node: _Node, prefix: str, n: int, path: str) -> list[_Node]:
    subs = [c for c in node.children if c.name.startswith(prefix)]
    if len(subs) != n:
        raise DataFormatError(
            f"expected {n} [{prefix} ...] sections in [{node.name}], found {len(subs)}",
            path=path, line=node.line,
        )
    return subs


def _person(node: _Node, path: str) -> tuple[str, int, dict[str, tuple[str, str]], int]:
    got = node.value("Name")
    if got is None or not got[0]:
        raise DataFormatError(f"expected 'Name= ...' in [{node.name}]", path=path, line=node.line)
    name = got[0]
    g = node.value("Gender")
    sex = UNKNOWN
    if g is not None:
        word = g[0].lower()
        if word not in ("male", "female", "unknown", ""):
            raise DataFormatError(f"expected 'Gender= Male' or 'Female', found {g[0]!r}",
                                  path=path, line=g[1])
        sex = MALE if word == "male" else FEMALE if word == "female" else UNKNOWN
    data: dict[str, tuple[str, str]] = {}
    dna = node.child("DNA data")
    if dna is not None:
        n = _count(dna, "nSystems", path)
        keys = [(t, v, k) for t, v, k in dna.entries if t in ("SystemName", "Allele1", "Allele2")]
        if len(keys) != 3 * n:
            raise DataFormatError(
                f"expected {n} SystemName/Allele1/Allele2 triples for {name!r}, found "
                f"{len(keys)} lines", path=path, line=dna.line,
            )
        for j in range(n):
            (t1, sys_, k1), (t2, a1, _k2), (t3, a2, _k3) = keys[3 * j: 3 * j + 3]
            if (t1, t2, t3) != ("SystemName", "Allele1", "Allele2"):
                raise DataFormatError("expected SystemName=, Allele1=, Allele2= in this order",
                                      path=path, line=k1)
            if not sys_ or not a1 or not a2:
                raise DataFormatError(f"expected a marker name and two alleles for {name!r}",
                                      path=path, line=k1)
            data[sys_] = (a1, a2)
    return name, sex, data, node.line


def _parent_sexes(sex0: dict[str, int], rels: list[tuple[str, str]], path: str, line: int,
                  what: str) -> dict[str, int]:
    """Sexes with every parent of unknown sex decided.

    A parent's sex is the opposite of its co-parent's (repeated until nothing
    changes); of two co-parents both unknown, the first named is the father; a
    lone parent of unknown sex is a mother (pedFamilias' rule).
    """
    sexes = dict(sex0)
    parents: dict[str, list[str]] = {}
    for p, c in rels:
        if p not in parents.setdefault(c, []):
            parents[c].append(p)
    for c, ps in parents.items():
        if len(ps) > 2:
            raise DataFormatError(f"{what}: {c!r} has more than two parents: {', '.join(ps)}",
                                  path=path, line=line)
    other = {MALE: FEMALE, FEMALE: MALE}

    def propagate() -> None:
        changed = True
        while changed:
            changed = False
            for ps in parents.values():
                if len(ps) == 2:
                    a, b = ps
                    if sexes[a] == UNKNOWN and sexes[b] != UNKNOWN:
                        sexes[a] = other[sexes[b]]
                        changed = True
                    elif sexes[b] == UNKNOWN and sexes[a] != UNKNOWN:
                        sexes[b] = other[sexes[a]]
                        changed = True

    propagate()
    for ps in parents.values():
        if len(ps) == 2 and sexes[ps[0]] == UNKNOWN and sexes[ps[1]] == UNKNOWN:
            sexes[ps[0]], sexes[ps[1]] = MALE, FEMALE
            propagate()
    for ps in parents.values():
        for p in ps:
            if sexes[p] == UNKNOWN:
                sexes[p] = FEMALE
    return sexes


def _dvi_case(main: _Main, lines: list[str], start: int, path: str, missing_pattern: str,
              tol: float, min_freq: float) -> DVICase:
    root = _tree(lines, start, path)
    dvi = root.child("DVI")
    assert dvi is not None
    by_name = {loc.name: loc.name for loc in main.loci}
    by_canon = {canonical_marker_name(loc.name): loc.name for loc in main.loci}

    def locus_name(sysname: str, line: int) -> str:
        got = by_name.get(sysname) or by_canon.get(canonical_marker_name(sysname))
        if got is None:
            raise DataFormatError(f"expected a marker of the database, found {sysname!r}",
                                  path=path, line=line)
        return got

    observed: dict[str, set[str]] = {}

    def genos(data: dict[str, tuple[str, str]], line: int) -> dict[str, Genotype]:
        out: dict[str, Genotype] = {}
        for s, g in data.items():
            m = locus_name(s, line)
            out[m] = g
            observed.setdefault(m, set()).update(g)
        return out

    pm: list[Sample] = []
    un = dvi.child("Unidentified persons")
    if un is not None:
        n = _count(un, "nPersons", path)
        for node in _sections(un, "Person", n, path):
            name, sex, data, line = _person(node, path)
            pm.append(Sample(name, sex, genos(data, line)))
    ids_pm = [s.id for s in pm]
    if len(set(ids_pm)) != len(ids_pm):
        raise DataFormatError("expected distinct names of unidentified persons", path=path,
                              line=un.line if un else None)
    am: list[Family] = []
    refs = dvi.child("Reference Families")
    if refs is None:
        raise DataFormatError("expected a [[Reference Families]] section", path=path,
                              line=dvi.line)
    rx = re.compile(missing_pattern)
    for fnode in _sections(refs, "Family", _count(refs, "nFamilies", path), path):
        am.append(_family(fnode, path, rx, genos))
    markers = _markers(main.loci, observed, path, tol=tol, min_freq=min_freq)
    return DVICase(
        markers=markers, pm=pm, am=am, name=Path(path).stem,
        source=f"Familias {main.version} file {Path(path).name}",
        extra={"theta": main.theta, "database": main.db_name,
               "database_size": {loc.name: loc.db_size for loc in main.loci}},
        theta=main.theta,
    )


def _family(fnode: _Node, path: str, rx: re.Pattern[str],
            genos: Callable[[dict[str, tuple[str, str]], int], dict[str, Genotype]]) -> Family:
    got = fnode.value("Name")
    fname = got[0] if got and got[0] else fnode.name
    pnode = fnode.child("Persons")
    if pnode is None:
        raise DataFormatError(f"expected a [[[[Persons]]]] section in family {fname!r}",
                              path=path, line=fnode.line)
    people = [_person(nd, path) for nd in _sections(pnode, "Person", _count(pnode, "nPersons", path),
                                                    path)]
    ids = [q[0] for q in people]
    if len(set(ids)) != len(ids):
        raise DataFormatError(f"expected distinct person names in family {fname!r}", path=path,
                              line=pnode.line)
    sex0 = {q[0]: q[1] for q in people}
    typed = {q[0]: genos(q[2], q[3]) for q in people if q[2]}
    peds_node = fnode.child("Pedigrees")
    if peds_node is None:
        raise DataFormatError(f"expected a [[[[Pedigrees]]]] section in family {fname!r}",
                              path=path, line=fnode.line)
    peds = _sections(peds_node, "Pedigree", _count(peds_node, "nPedigrees", path), path)
    if not peds:
        raise DataFormatError(f"expected at least one pedigree in family {fname!r}", path=path,
                              line=peds_node.line)
    chosen = peds[-1]
    if len(peds) == 2:
        names = [(pd.value("Name") or ("", 0))[0] for pd in peds]
        if "Reference pedigree" in names:
            chosen = peds[1 - names.index("Reference pedigree")]
    rels: list[tuple[str, str]] = []
    ents = [(t, v, k) for t, v, k in chosen.entries if t in ("Parent", "Child")]
    if len(ents) % 2 or any(ents[j][0] != "Parent" or ents[j + 1][0] != "Child"
                            for j in range(0, len(ents), 2)):
        raise DataFormatError("expected Parent= / Child= pairs", path=path, line=chosen.line)
    n_rel = _count(chosen, "nRelations", path)
    if n_rel != len(ents) // 2:
        raise DataFormatError(f"expected {n_rel} Parent/Child pairs, found {len(ents) // 2}",
                              path=path, line=chosen.line)
    for j in range(0, len(ents), 2):
        if not ents[j][1] or not ents[j + 1][1] or ents[j][1] == ents[j + 1][1]:
            raise DataFormatError("expected a parent and a different child", path=path,
                                  line=ents[j][2])
        rels.append((ents[j][1], ents[j + 1][1]))
    all_ids = list(ids)
    for p, c in rels:
        for x in (p, c):
            if x not in sex0:
                sex0[x] = UNKNOWN
                all_ids.append(x)
    what = f"family {fname!r}"
    sexes = _parent_sexes(sex0, rels, path, chosen.line, what)
    ped = _pedigree(all_ids, [sexes[i] for i in all_ids], rels, path, chosen.line, what)
    if typed:
        ped = _component(ped, set(typed))
    missing = tuple(i for i in ped.ids if rx.search(i))
    return Family(fname, ped, missing, typed)
