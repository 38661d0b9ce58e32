"""Lineage evidence (mtDNA, Y-STR) for the blind search.

For each missing person MP the pedigree says which typed donor stands for MP on the
maternal line (mtDNA) and which on the paternal line (Y), with the meioses between
them (:func:`dogtag.genetics.lineage.nearest_typed`: the nearest typed donor on the
line; donors on neither line are not used). Per (sample, MP) pair:

- mtDNA: LR = 1 / (95 % Clopper-Pearson upper bound of the sample haplotype's count in
  the database) for a match, 0 for an exclusion (2 or more differences, SWGDAM 2019),
  1 for an inconclusive pair (:func:`dogtag.genetics.mtdna_compare.lr_matrix`);
- Y: LR = P(sample haplotype | reference haplotype, m meioses of single-step mutation)
  / f(sample haplotype) (:func:`dogtag.genetics.ystr.relative_likelihood_matrix`), 0 when
  the mutation model cannot produce the difference.

**Independence assumption.** mtDNA and the Y chromosome are each inherited as one
haplotype without recombination, and are treated as independent of the autosomal STRs
given the pedigree, and of each other. The pair's LR is then the product
``LR_autosomal x LR_mtDNA x LR_Y`` of the evidence present. (Population substructure
makes this an approximation; the haplotype frequencies' upper bounds keep it
conservative.) A pair with no lineage data on either side gets lineage LR 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics import lineage, ystr
from dogtag.genetics import mtdna_compare as mc
from dogtag.genetics.mtdna import MtHaplotype
from dogtag.identify.case import DVICase

__all__ = ["AUTOSOMAL", "EVIDENCE", "MTDNA", "YSTR", "LineageEvidence", "evidence_names"]

#: bits of the evidence code of a pair
AUTOSOMAL, MTDNA, YSTR = 1, 2, 4
EVIDENCE = (("autosomal", AUTOSOMAL), ("mtdna", MTDNA), ("ystr", YSTR))


def evidence_names(code: int) -> list[str]:
    """``["autosomal", "mtdna"]`` for a code ``AUTOSOMAL | MTDNA``."""
    return [name for name, bit in EVIDENCE if int(code) & bit]


@dataclass
class _Refs:
    column: NDArray[np.intp]      # (M,) row in the reference panel standing for each MP, -1 none
    donors: list[str]             # per MP: the donor id ("" none)
    meioses: NDArray[np.int64]    # (M,) meioses to that donor (0 none)


class LineageEvidence:
    """Per-pair lineage LRs of a case, computed block by block of samples.

    Attributes
    ----------
    mt_donor, y_donor : per missing person, the donor standing for them ("" when none).
    y_meioses : ndarray, int, shape (M,): meioses between MP and the Y donor.
    """

    def __init__(self, case: DVICase):
        self.case = case
        fam_of = [(f, mp) for f in case.am for mp in f.missing]
        M = len(fam_of)
        mt_refs: list[MtHaplotype] = []
        y_refs: list[ystr.YHaplotype] = []
        mt = _Refs(np.full(M, -1, np.intp), [""] * M, np.zeros(M, np.int64))
        y = _Refs(np.full(M, -1, np.intp), [""] * M, np.zeros(M, np.int64))
        for c, (f, mp) in enumerate(fam_of):
            typed_mt = [m for m in f.mtdna if m != mp]
            d = lineage.nearest_typed(f.pedigree, mp, typed_mt, lineage.MATERNAL) if typed_mt else None
            if d is not None:
                mt.column[c], mt.donors[c], mt.meioses[c] = len(mt_refs), d.id, d.meioses
                mt_refs.append(f.mtdna[d.id])
            typed_y = [m for m in f.ystr if m != mp]
            d = lineage.nearest_typed(f.pedigree, mp, typed_y, lineage.PATERNAL) if typed_y else None
            if d is not None:
                y.column[c], y.donors[c], y.meioses[c] = len(y_refs), d.id, d.meioses
                y_refs.append(f.ystr[d.id])
        self._mt, self._y = mt, y
        self.mt_donor, self.y_donor, self.y_meioses = mt.donors, y.donors, y.meioses
        self._mt_panel = mc.MtPanel.from_haplotypes(mt_refs) if mt_refs else None
        self._mt_db = mc.MtPanel.from_haplotypes(list(case.mtdna_database))
        s_y = [s.ystr for s in case.pm if s.ystr is not None]
        self._y_rows = np.array([i for i, s in enumerate(case.pm) if s.ystr is not None], dtype=np.intp)
        self._y_freq = np.ones(0)
        self._y_loci: tuple[str, ...] = ()
        self._y_panel: ystr.YPanel | None = None
        if y_refs and s_y:
            self._y_loci = tuple(sorted({k for h in [*y_refs, *s_y] for k in h.alleles}))
            self._y_panel = ystr.YPanel.from_haplotypes(y_refs, self._y_loci)
            queries = ystr.YPanel.from_haplotypes(s_y, self._y_loci)
            if case.ystr_database:
                db = ystr.YPanel.from_haplotypes(list(case.ystr_database))
                self._y_freq = ystr.haplotype_frequencies(queries, db, method=case.ystr_method)
            else:
                self._y_freq = np.ones(len(s_y))

    @property
    def active(self) -> bool:
        """Whether any pair can have lineage evidence."""
        return (self._mt_panel is not None and any(s.mtdna is not None for s in self.case.pm)) or (
            self._y_panel is not None)

    def block(self, lo: int, hi: int) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int8]]:
        """Samples ``lo:hi`` against every missing person.

        Returns
        -------
        log_lr : ndarray, float64, shape (hi - lo, M): natural-log lineage LR (-inf: excluded).
        exclusions : ndarray, int, shape (hi - lo, M): lineage exclusions (0, 1 or 2).
        evidence : ndarray, int8, shape (hi - lo, M): ``MTDNA | YSTR`` bits of the evidence used.
        """
        M = len(self._mt.column)
        out = np.zeros((hi - lo, M))
        exc = np.zeros((hi - lo, M), dtype=np.int64)
        ev = np.zeros((hi - lo, M), dtype=np.int8)
        samples = self.case.pm[lo:hi]
        rows = [i for i, s in enumerate(samples) if s.mtdna is not None]
        has = self._mt.column >= 0
        if rows and self._mt_panel is not None and has.any():
            panel = mc.MtPanel.from_haplotypes([samples[i].mtdna for i in rows])  # type: ignore[misc]
            lr, verdict = mc.lr_matrix(panel, self._mt_panel, self._mt_db)
            cols = np.flatnonzero(has)
            r = np.array(rows, dtype=np.intp)[:, None]
            with np.errstate(divide="ignore"):
                out[r, cols] += np.log(lr)
            exc[r, cols] += verdict == 2
            ev[r, cols] |= MTDNA
        has = self._y.column >= 0
        if self._y_panel is not None and has.any():
            sel = np.flatnonzero((self._y_rows >= lo) & (self._y_rows < hi))
            if sel.size:
                q = ystr.YPanel.from_haplotypes([self.case.pm[int(k)].ystr for k in self._y_rows[sel]],  # type: ignore[misc]
                                                self._y_loci)
                cols = np.flatnonzero(has)
                # one reference row per MP with a donor, in column order
                like = ystr.relative_likelihood_matrix(q, self._y_panel, self._y.meioses[cols])
                lr = like / self._y_freq[sel][:, None]
                r = (self._y_rows[sel] - lo)[:, None]
                with np.errstate(divide="ignore"):
                    out[r, cols] += np.log(lr)
                exc[r, cols] += like == 0
                ev[r, cols] |= YSTR
        return out, exc, ev
