"""mtDNA haplotypes in EMPOP/HSD notation against the rCRS.

A haplotype is a covered range of rCRS positions plus its differences from the
rCRS, written the EMPOP way: ``16093C`` (substitution), ``16093Y`` (point
heteroplasmy, IUPAC code), ``523d`` / ``523DEL`` (deletion), ``315.1C``
(insertion after 315; ``315.1CC`` means ``315.1C 315.2C``) and ``573.XC``
(a C insertion of unknown length). Ranges are EMPOP ranges such as
``16024-16569;1-576`` (``16024-576`` wraps round the circle).

Each variant is stored as one integer, ``code = (position * 64 + insertion) * 16
+ base`` (insertion 0 for substitutions and deletions, 63 for ``.X``), so that a
haplotype is a sorted int64 array and a database is a few flat arrays
(see :mod:`dogtag.genetics.mtdna_compare`).

Notation is made canonical by re-aligning around indels to the rCRS, placing
indels 3' (the highest position, as EMPOP and PhyloTree do) and then applying
the PhyloTree alignment rules (Dür et al. 2021, *Genes* 12:1165; HaploGrep's
``rules.csv``), so that the same sequence always gets the same notation
(Bandelt & Parson 2008, *Int J Legal Med* 122:11-21; Parson et al. 2014,
*FSI: Genetics* 13:134-142, the ISFG mtDNA recommendations).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from dogtag.errors import DataFormatError

RCRS_LENGTH = 16569
INS_X = 63  # insertion index of ".X" (length heteroplasmy of unknown length)

#: base symbols by code; "-" is a deletion. Two-base IUPAC codes are heteroplasmies.
SYMBOLS = "ACGT-RYKMSWBHVN"
#: bit mask of each code (A=1, C=2, G=4, T=8, deletion=16); N is any base.
_MASK_OF = {"A": 1, "C": 2, "G": 4, "T": 8, "-": 16, "R": 5, "Y": 10, "K": 12, "M": 3,
            "S": 6, "W": 9, "B": 14, "H": 11, "V": 7, "N": 15}
BASE_MASK = np.array([_MASK_OF[s] for s in SYMBOLS], dtype=np.uint8)
DELETION = SYMBOLS.index("-")
_CODE_OF = {s: k for k, s in enumerate(SYMBOLS)}

_TOKEN = re.compile(r"^(\d+)(?:\.(\d+|X))?(DEL|[ACGTRYKMSWBHVND-]+)$")


@cache
def rcrs() -> str:
    """The revised Cambridge Reference Sequence (NC_012920.1), 16,569 bases, N at 3107."""
    text = resources.files("dogtag.data.mtdna").joinpath("rCRS.fasta").read_text()
    seq = "".join(line.strip() for line in text.splitlines() if not line.startswith(">")).upper()
    if len(seq) != RCRS_LENGTH:  # pragma: no cover - packaging error
        raise RuntimeError(f"packaged rCRS has {len(seq)} bases, expected {RCRS_LENGTH}")
    return seq


def encode(position: int, insertion: int, symbol: str) -> int:
    """Integer code of one variant (see the module docstring)."""
    return (position * 64 + insertion) * 16 + _CODE_OF[symbol]


def decode(code: int) -> tuple[int, int, str]:
    """(position, insertion index, base symbol) of a variant code."""
    return code >> 10, (code >> 4) & 63, SYMBOLS[code & 15]


def token(code: int) -> str:
    """EMPOP token of a variant code: ``16093C``, ``523d``, ``315.1C``, ``573.XC``."""
    pos, ins, sym = decode(code)
    if ins == 0:
        return f"{pos}d" if sym == "-" else f"{pos}{sym}"
    return f"{pos}.{'X' if ins == INS_X else ins}{sym}"


# --- ranges --------------------------------------------------------------------------
@dataclass(frozen=True)
class MtRange:
    """Covered rCRS positions as sorted, merged, non-wrapping (start, end) intervals, 1-based inclusive."""

    intervals: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str, *, profile: str = "?") -> MtRange:
        """Parse ``16024-16569;1-576``, ``16024-576`` (wraps), ``1-16569; 3107``; spaces are ignored."""
        parts = [p.strip() for p in text.strip().strip('"').split(";")]
        out: list[tuple[int, int]] = []
        for part in parts:
            if not part:
                continue
            m = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
            if not m:
                raise DataFormatError(f"profile {profile!r}: range token {part!r} is not 'start-end' or a position")
            a = int(m.group(1))
            b = int(m.group(2)) if m.group(2) else a
            for x in (a, b):
                if not 1 <= x <= RCRS_LENGTH:
                    raise DataFormatError(
                        f"profile {profile!r}: range token {part!r}: position {x} outside 1-{RCRS_LENGTH}")
            out.extend([(a, RCRS_LENGTH), (1, b)] if a > b else [(a, b)])
        if not out:
            raise DataFormatError(f"profile {profile!r}: empty range {text!r}")
        return cls.from_intervals(out)

    @classmethod
    def from_intervals(cls, intervals: Iterable[tuple[int, int]]) -> MtRange:
        merged: list[list[int]] = []
        for a, b in sorted(intervals):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return cls(tuple((a, b) for a, b in merged))

    @classmethod
    def from_mask(cls, mask: NDArray[np.bool_]) -> MtRange:
        """From a boolean mask indexed by position (length 16570; index 0 unused)."""
        m = np.concatenate([[False], np.asarray(mask[1:], dtype=bool), [False]])
        d = np.diff(m.astype(np.int8))
        starts, ends = np.flatnonzero(d == 1) + 1, np.flatnonzero(d == -1)
        return cls.from_intervals(zip(starts.tolist(), ends.tolist(), strict=True))

    @classmethod
    def full(cls) -> MtRange:
        return cls(((1, RCRS_LENGTH),))

    @property
    def mask(self) -> NDArray[np.bool_]:
        """ndarray, bool, shape (16570,): True at covered positions (index 0 unused)."""
        return _mask(self.intervals)

    def __contains__(self, position: object) -> bool:
        return any(a <= position <= b for a, b in self.intervals)  # type: ignore[operator]

    def __and__(self, other: MtRange) -> MtRange:
        return MtRange.from_mask(self.mask & other.mask)

    def covers(self, other: MtRange) -> bool:
        return bool(np.all(self.mask[other.mask]))

    def __len__(self) -> int:
        return sum(b - a + 1 for a, b in self.intervals)

    def __str__(self) -> str:
        iv = list(self.intervals)
        # EMPOP writes the control region first: 16024-16569;1-576
        if len(iv) > 1 and iv[0][0] == 1 and iv[-1][1] == RCRS_LENGTH:
            iv = [iv[-1], *iv[:-1]]
        return ";".join(f"{a}-{b}" if a != b else f"{a}" for a, b in iv)


@cache
def _mask(intervals: tuple[tuple[int, int], ...]) -> NDArray[np.bool_]:
    m = np.zeros(RCRS_LENGTH + 1, dtype=bool)
    for a, b in intervals:
        m[a:b + 1] = True
    m.setflags(write=False)
    return m


# --- haplotypes ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MtHaplotype:
    """One mtDNA haplotype.

    Attributes
    ----------
    id : profile name (used in error messages).
    range : covered positions.
    codes : ndarray, int64, shape (n_variants,); sorted variant codes (see :func:`encode`).
    """

    id: str
    range: MtRange
    codes: NDArray[np.int64] = field(repr=False)

    @property
    def variants(self) -> list[str]:
        """EMPOP tokens in position order; multi-base insertions as ``315.1C 315.2C``."""
        return [token(int(c)) for c in self.codes]

    @property
    def notation(self) -> str:
        return " ".join(self.variants)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, MtHaplotype) and self.range == other.range
                and np.array_equal(self.codes, other.codes))

    def __hash__(self) -> int:
        return hash((self.range, self.codes.tobytes()))

    def __repr__(self) -> str:
        return f"MtHaplotype({self.id!r}, {str(self.range)!r}, {self.notation!r})"


def parse_variants(tokens: Iterable[str], *, profile: str = "?") -> list[int]:
    """Variant codes of EMPOP/HSD tokens; errors name the profile and the token."""
    ref = rcrs()
    out: list[int] = []
    for raw in tokens:
        tok = raw.strip()
        if not tok:
            continue
        m = _TOKEN.match(tok.upper())
        if not m:
            raise DataFormatError(f"profile {profile!r}: token {tok!r} is not EMPOP notation "
                                  "(e.g. 16093C, 16093Y, 315.1C, 523d)")
        pos = int(m.group(1))
        if not 1 <= pos <= RCRS_LENGTH:
            raise DataFormatError(f"profile {profile!r}: token {tok!r}: position {pos} outside 1-{RCRS_LENGTH}")
        ins_s, what = m.group(2), m.group(3)
        deletion = what in ("DEL", "D", "-")
        if ins_s is None:
            if deletion:
                out.append(encode(pos, 0, "-"))
                continue
            if len(what) != 1:
                raise DataFormatError(f"profile {profile!r}: token {tok!r}: a substitution has one base")
            if what == ref[pos - 1]:
                raise DataFormatError(f"profile {profile!r}: token {tok!r}: base equals the rCRS base")
            out.append(encode(pos, 0, what))
            continue
        if deletion:
            raise DataFormatError(f"profile {profile!r}: token {tok!r}: an insertion cannot be a deletion")
        if ins_s == "X":
            if len(what) != 1:
                raise DataFormatError(f"profile {profile!r}: token {tok!r}: '.X' takes one base")
            out.append(encode(pos, INS_X, what))
            continue
        first = int(ins_s)
        if first < 1 or first + len(what) - 1 >= INS_X:
            raise DataFormatError(f"profile {profile!r}: token {tok!r}: insertion index out of 1-62")
        out.extend(encode(pos, first + k, b) for k, b in enumerate(what))
    return out


def haplotype(variants: str | Sequence[str], *, range: str | MtRange | None = None,
              id: str = "?", canonical: bool = True) -> MtHaplotype:
    """Build a haplotype from EMPOP notation (a string or tokens) and a range (default: whole genome).

    Every variant must lie in the range; repeated sites and gaps in an insertion are errors.
    With ``canonical`` (default) the notation is made canonical (:func:`normalise`).
    """
    toks = variants.replace(",", " ").split() if isinstance(variants, str) else list(variants)
    rng = range if isinstance(range, MtRange) else (
        MtRange.full() if range is None else MtRange.parse(range, profile=id))
    codes = parse_variants(toks, profile=id)
    mask = rng.mask
    seen: dict[int, str] = {}
    for c, tok in zip(codes, _tokens_for(toks, codes), strict=True):
        pos, _ins, _ = decode(c)
        if not mask[pos]:
            raise DataFormatError(f"profile {id!r}: token {tok!r}: position {pos} outside the range {rng}")
        site = c >> 4
        if site in seen:
            raise DataFormatError(f"profile {id!r}: token {tok!r}: site given twice ({seen[site]})")
        seen[site] = tok
    arr = np.array(sorted(codes), dtype=np.int64)
    _check_insertions(arr, id)
    h = MtHaplotype(id, rng, arr)
    return normalise(h) if canonical else h


def _tokens_for(tokens: Sequence[str], codes: Sequence[int]) -> list[str]:
    # the source token of each code (multi-base insertions expand to several codes)
    out: list[str] = []
    for t in tokens:
        t = t.strip()
        if not t:
            continue
        m = _TOKEN.match(t.upper())
        n = len(m.group(3)) if m and m.group(2) not in (None, "X") else 1
        out.extend([t] * n)
    return out[:len(codes)]


def _check_insertions(codes: NDArray[np.int64], profile: str) -> None:
    ins: dict[int, list[int]] = {}
    for c in codes.tolist():
        pos, k, _ = decode(c)
        if 0 < k < INS_X:
            ins.setdefault(pos, []).append(k)
    for pos, ks in ins.items():
        if sorted(ks) != list(range(1, len(ks) + 1)):
            raise DataFormatError(f"profile {profile!r}: insertion after {pos} skips an index: "
                                  + " ".join(f"{pos}.{k}" for k in sorted(ks)))


# --- sequence <-> notation -----------------------------------------------------------
def to_sequence(h: MtHaplotype, *, uncovered: str = "N") -> str:
    """The sequence of a haplotype: the rCRS with its variants applied.

    Positions outside the range are written ``uncovered`` (``"N"``; ``""`` drops them,
    and then a range that wraps round 16569/1 is read in circular order).
    An insertion of unknown length (``.X``) has no sequence and raises ``ValueError``.
    """
    ref = rcrs()
    mask = h.range.mask
    sub: dict[int, str] = {}
    ins: dict[int, list[tuple[int, str]]] = {}
    for c in h.codes.tolist():
        pos, k, sym = decode(c)
        if k == INS_X:
            raise ValueError(f"profile {h.id!r}: {token(c)} (unknown insertion length) has no sequence")
        if k:
            ins.setdefault(pos, []).append((k, sym))
        else:
            sub[pos] = "" if sym == "-" else sym
    out: list[str] = []
    start = 1
    iv = h.range.intervals
    if uncovered == "" and len(iv) > 1 and iv[0][0] == 1 and iv[-1][1] == RCRS_LENGTH:
        start = iv[-1][0]  # a wrapping range reads in circular order: 16024..16569, 1..576
    for pos in [*range(start, RCRS_LENGTH + 1), *range(1, start)]:
        if not mask[pos]:
            out.append(uncovered)
            continue
        out.append(sub.get(pos, ref[pos - 1]))
        if pos in ins:
            out.extend(s for _, s in sorted(ins[pos]))
    return "".join(out)


def from_sequence(seq: str, *, id: str = "?", range: str | MtRange | None = None) -> MtHaplotype:
    """Notation of a sequence (e.g. a FASTA record) by alignment to the rCRS.

    The query is aligned (k-mer anchors plus affine-gap alignment of the gaps between
    them, free end gaps on the rCRS); indels are placed 3' and the PhyloTree rules
    applied. Query ``N`` (and unaligned rCRS ends) are uncovered. A control-region
    sequence that starts before 16569 and wraps to 1 is handled. With ``range``,
    variants are limited to it (and the range to what the sequence covers).
    """
    from dogtag.genetics.mtdna_align import align_columns, columns_to_variants

    q = re.sub(r"\s+", "", seq).upper()
    bad = set(q) - set(SYMBOLS) - {"D"}
    if bad:
        raise DataFormatError(f"profile {id!r}: sequence has characters {''.join(sorted(bad))!r} "
                              "that are not IUPAC bases")
    q = q.replace("D", "N")  # IUPAC D (A/G/T) in a sequence: treat as unknown
    ref = rcrs()
    given = None if range is None else (
        range if isinstance(range, MtRange) else MtRange.parse(range, profile=id))
    cols = align_columns(ref, q)
    codes, covered = columns_to_variants(cols, ref, q, offset=0, n_is_variant=given is not None)
    rng = MtRange.from_mask(covered)
    if given is not None:
        rng = rng & given
    mask = rng.mask
    keep = [c for c in codes if mask[c >> 10]]
    arr = _apply_rules(np.array(sorted(keep), dtype=np.int64))
    return MtHaplotype(id, rng, arr)


def normalise(h: MtHaplotype) -> MtHaplotype:
    """The canonical notation of ``h``: indels re-aligned 3' around each indel, then the PhyloTree rules.

    Substitution-only stretches are already canonical; only windows of ±30 bp around
    indels are re-aligned, so this is fast enough for whole databases.
    """
    from dogtag.genetics.mtdna_align import realign_window

    codes = h.codes.tolist()
    indel = [c for c in codes if ((c >> 4) & 63) or (c & 15) == DELETION]
    if not indel or any(((c >> 4) & 63) == INS_X for c in indel):
        return MtHaplotype(h.id, h.range, _apply_rules(h.codes))
    windows: list[list[int]] = []
    for c in sorted(indel):
        p = c >> 10
        lo, hi = max(1, p - 30), min(RCRS_LENGTH, p + 30)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    out = [c for c in codes if not any(lo <= (c >> 10) <= hi for lo, hi in windows)]
    for lo, hi in windows:
        inside = [c for c in codes if lo <= (c >> 10) <= hi]
        out.extend(realign_window(inside, lo, hi))
    mask = h.range.mask
    bad = [token(c) for c in out if not mask[c >> 10]]
    if bad:  # a shift left the range: keep the given notation rather than invent coverage
        out = codes
    return MtHaplotype(h.id, h.range, _apply_rules(np.array(sorted(set(out)), dtype=np.int64)))


@cache
def _rules() -> tuple[tuple[frozenset[int], tuple[int, ...]], ...]:
    from dogtag.genetics.mtdna_align import compile_rules

    text = resources.files("dogtag.data.mtdna").joinpath("rules.csv").read_text()
    return compile_rules(text)


def _apply_rules(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    from dogtag.genetics.mtdna_align import apply_rules

    return apply_rules(codes, _rules())


def restrict(h: MtHaplotype, rng: MtRange) -> MtHaplotype:
    """``h`` over the positions it shares with ``rng`` (variants outside are dropped)."""
    new = h.range & rng
    mask = new.mask
    keep = mask[(h.codes >> 10).astype(np.intp)]
    return MtHaplotype(h.id, new, h.codes[keep])
