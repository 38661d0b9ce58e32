"""The whole DVI analysis of a case: blind search, joint identification, undisputed, summary.

Steps (each result names the method that produced it):

1. :func:`dogtag.identify.search.blind_search` — pairwise LRs and exclusion counts.
2. :func:`dogtag.identify.joint.solve_joint` — every assignment consistent with the data,
   by independent components (exact enumeration, exact subset dynamic programming, or
   MCMC where a component is too large), posteriors of pairings and the top assignments.
   Families with several missing persons are evaluated jointly with the pedigree
   likelihood of all their placements at once (autosomal markers); the lineage LRs
   (mtDNA, Y) of each placed pair multiply in, as in the pairwise LR.
3. :func:`dogtag.identify.undisputed.find_undisputed` and
   :func:`dogtag.identify.solve.dvi_solve` — dvir's undisputed set and conclusions.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dogtag.genetics.dropout import unordered_index
from dogtag.genetics.likelihood import MarkerData, encode, loglik_batch, same_shape_batch
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family
from dogtag.identify.joint import JointProblem, JointResult, Prior, solve_joint
from dogtag.identify.lineage_search import evidence_names
from dogtag.identify.samesource import SameSourceGroup, group_same_source
from dogtag.identify.search import (
    UNRELATED,
    SampleBatch,
    SearchResult,
    blind_search,
    log_lr_given,
    sample_batch,
    sample_observation,
)
from dogtag.identify.solve import SolveResult, dvi_solve, full_sibling_pairs
from dogtag.identify.undisputed import UndisputedMatch, find_undisputed

__all__ = ["DVIResult", "FamilyLoglik", "run_dvi"]

Progress = Callable[[int, int, str], None]


class FamilyLoglik:
    """``f(family, {missing label: sample id}) -> log-likelihood`` of the family with
    those samples placed on those missing persons (all markers, natural log);
    ``f.many(family, [placements])`` computes many in one batched engine call.

    With ``lineage`` (the search's ``lineage_log_lr``, shape (S, M)) the lineage log LR of
    each placed pair is added: lineage haplotypes are independent of the autosomal markers
    given the pedigree, so the joint term is the autosomal joint family likelihood times
    the lineage LR of every placement.

    With the case's theta > 0 the family's likelihoods use the joint correction, and the
    denominator of a joint term is the family with the placed samples *unrelated* to it
    but of its subpopulation (not the family's and the samples' likelihoods apart, as
    without theta). The joint problem computes a term as ``f(...) - loglik0_f - sum of the
    placed samples' logliks``, so ``f`` then returns
    ``ll(placed) - ll(samples unrelated) + loglik0_f + sum of their logliks``, with
    ``null`` = (``family_loglik``, ``sample_loglik``) of the search, which makes each term
    the log LR of the placements against the samples unrelated (one placement: the
    search's pairwise LR).

    :meth:`conditioned` gives the function after fixing some pairings (dvir's undisputed
    steps): with theta its denominator keeps the fixed samples on their missing persons
    and only the new ones unrelated, so a conditional term is exactly the log LR of the
    new placements against those samples unrelated, given the fixed ones."""

    #: floats of conditional LR vectors kept (each vector one float per sample of the case)
    MAX_CONDITIONAL_FLOATS = 10_000_000

    def __init__(self, case: DVICase, lineage: NDArray[np.float64] | None = None,
                 null: tuple[Mapping[str, float], NDArray[np.float64]] | None = None):
        if case.theta > 0 and null is None:
            raise ValueError("with theta, FamilyLoglik needs `null` (the search's family and sample logliks)")
        self.null = null
        self.case = case
        self.fams: dict[str, Family] = {f.name: f for f in case.am}
        self.samples = {s.id: s for s in case.pm}
        labels = case.missing_labels()
        self.member: dict[tuple[str, str], str] = {}
        k = 0
        for f in case.am:
            for m in f.missing:
                self.member[(f.name, labels[k])] = m
                k += 1
        self._base: dict[str, list[MarkerData]] = {}
        self.lineage = lineage
        self._row = {s.id: i for i, s in enumerate(case.pm)}
        self._col = {lab: j for j, lab in enumerate(labels)}
        self.fixed: dict[str, dict[str, str]] = {}     # family -> {missing label: sample}, conditioned on
        self.offset: dict[str, float] = {}             # with theta: the value of the fixed placements
        self._cond: dict[tuple[str, tuple[tuple[str, str], ...], str], NDArray[np.float64]] = {}
        self._batch: SampleBatch | None = None
        # (sample id, marker index) -> its observation there (sample_observation), computed once
        self._obs: dict[tuple[str, int], tuple[int, int] | NDArray[np.float64] | None] = {}
        self._upper: dict[tuple[str, str], NDArray[np.float64]] = {}   # (family, target) -> upper_term
        self._soft_pos: list[NDArray[np.int64]] | None = None
        self._table_cache: dict[tuple[str, str], tuple[list[NDArray[np.float64] | None],
                                                        list[NDArray[np.float64]]]] = {}

    def conditioned(self, fixed: Mapping[str, Mapping[str, str]]) -> FamilyLoglik:
        """The function given more fixed pairings, ``{family: {missing label: sample}}``.

        Its value on new placements P minus its null (this function's value on the fixed
        placements) minus P's sample logliks is the log LR of P placed against P's samples
        unrelated, all fixed samples placed (:func:`dogtag.identify.undisputed.condition_on`).
        """
        new = copy.copy(self)
        new.fixed = {f: dict(v) for f, v in self.fixed.items()}
        new.offset = dict(self.offset)
        for fam, fx in fixed.items():
            if not fx:
                continue
            if self.case.theta > 0:
                new.offset[fam] = self(fam, fx)
            new.fixed.setdefault(fam, {}).update(fx)
        return new

    def _items(self, family: str, placed: Mapping[str, str], extra: Sequence[str] = ()) -> list[MarkerData]:
        """Per marker, the family's data with the samples ``placed`` on their missing persons
        and the samples ``extra`` on extra founders appended to the pedigree (:meth:`_unrelated_pedigree`)."""
        fam = self.fams[family]
        if family not in self._base:
            self._base[family] = [encode(fam.pedigree, m, fam.genotypes) for m in self.case.markers]
        where = [(fam.pedigree.index(self.member.get((family, label), label)), sid) for label, sid in placed.items()]
        where += [(len(fam.pedigree) + k, sid) for k, sid in enumerate(extra)]
        out = []
        for k_m, (marker, d) in enumerate(zip(self.case.markers, self._base[family], strict=True)):
            typed = dict(d.typed)
            soft: dict[int, NDArray[np.float64]] = {}
            for idx, sid in where:
                typed.pop(idx, None)
                key = (sid, k_m)
                if key not in self._obs:
                    o = sample_observation(self.samples[sid], marker)
                    if isinstance(o, np.ndarray):
                        o.setflags(write=False)  # shared by every placement of the sample
                    self._obs[key] = o
                o = self._obs[key]
                if isinstance(o, tuple):
                    typed[idx] = o
                elif o is not None:
                    soft[idx] = o
            out.append(MarkerData(marker, typed, soft or None))
        return out

    def _unrelated_pedigree(self, family: str, k: int) -> Pedigree:
        ped = self.fams[family].pedigree
        return ped.add_members([(f"{UNRELATED}{i}", None, None, 0) for i in range(k)])

    def many(self, family: str, placements: Sequence[Mapping[str, str]]) -> list[float]:
        theta = self.case.theta
        fx = self.fixed.get(family, {})
        data = [d for p in placements for d in self._items(family, {**fx, **p})]
        ll = loglik_batch([self.fams[family].pedigree] * len(data), data, theta=theta)
        assert isinstance(ll, np.ndarray)
        J = len(self.case.markers)
        out = ll.reshape(len(placements), J).sum(axis=1)
        if theta > 0:
            assert self.null is not None
            fam_ll, sample_ll = self.null
            peds, data = [], []
            for p in placements:
                ped = self._unrelated_pedigree(family, len(p))
                data.extend(self._items(family, fx, list(p.values())))
                peds.extend([ped] * J)
            den = loglik_batch(peds, data, theta=theta)
            assert isinstance(den, np.ndarray)
            null = self.offset.get(family, fam_ll[family])
            base = np.array([null + sum(float(sample_ll[self._row[s]]) for s in p.values()) for p in placements])
            with np.errstate(invalid="ignore"):
                out = out - den.reshape(len(placements), J).sum(axis=1) + base
            out[np.isnan(out)] = -np.inf
        if self.lineage is not None:
            lin = self.lineage
            # with theta the fixed placements' lineage LRs are in the null (offset)
            counted = [p if theta > 0 else {**fx, **p} for p in placements]
            out = out + np.array([sum(float(lin[self._row[sid], self._col[label]]) for label, sid in p.items())
                                  for p in counted])
        return out.tolist()

    def __call__(self, family: str, placed: Mapping[str, str]) -> float:
        return self.many(family, [placed])[0]

    def _cond_key(self, family: str, placed: Mapping[str, str], target: str
                  ) -> tuple[str, tuple[tuple[str, str], ...], str]:
        return family, tuple(sorted({**self.fixed.get(family, {}), **placed}.items())), target

    def prefetch_conditional(self, family: str, placements: Sequence[Mapping[str, str]], target: str) -> None:
        """The conditional LR vectors of :meth:`conditional_term` for several placements of the
        family's other missing persons, in one batched engine call (an order of magnitude less
        work per placement than one at a time). Without theta only."""
        if self.case.theta > 0:
            return
        keys = {self._cond_key(family, p, target): p for p in placements}
        todo = [(ck, p) for ck, p in keys.items() if ck not in self._cond]
        if not todo:
            return
        fam = self.fams[family]
        t_idx = fam.pedigree.index(self.member.get((family, target), target))
        items: list[MarkerData] = []
        for key, _p in todo:
            given = dict(key[1])
            if target in given:
                raise ValueError(f"family {family!r}: {target!r} is placed already")
            items += self._items(family, given)
        dists = loglik_batch([fam.pedigree] * len(items), items, target=[t_idx] * len(items))
        assert isinstance(dists, list)
        if self._batch is None:
            self._batch = sample_batch(self.case.pm, self.case.markers)
        J = len(self.case.markers)
        if (len(self._cond) + len(todo)) * len(self.case.pm) > self.MAX_CONDITIONAL_FLOATS:
            self._cond.clear()
        for i, (key, _p) in enumerate(todo):
            vec = log_lr_given(self._batch, dists[i * J:(i + 1) * J], int(fam.pedigree.sex[t_idx]))
            if self.lineage is not None:
                vec = vec + self.lineage[:, self._col[target]]
            self._cond[key] = vec

    def partner_sums(self, family: str, target: str, partner: str, samples: Sequence[str],
                     partners: Sequence[str], log_c: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """For each of ``samples`` placed on ``target``: ``log sum_{r != s} c_r LR(r on partner | s on
        target)`` over the samples ``partners`` (log weights ``log_c``, ``-inf`` = left out), the
        conditional LRs from the partner's genotype distribution given the family and ``s`` (lineage
        LR included). ``LR(s on target) * LR(r on partner | s)`` is the family's joint LR of the two
        placements, so this sums the joint terms of every partner ``r`` of ``s``
        (:mod:`dogtag.identify.bounds`). The distribution given ``s`` is read off the table of
        :meth:`upper_term` (``P(G_partner | family, G_target = x)`` for every genotype ``x``): a clean
        call picks its row, a drop-out observation ``o`` mixes the rows by ``o(x) P(x | family)``;
        where the table was too big, 1 (an upper bound). None with theta, or unless the family has
        exactly these two missing persons and nothing fixed."""
        fam = self.fams[family]
        if self.case.theta > 0 or len(fam.missing) != 2 or self.fixed.get(family):
            return None
        tab, pw_partner = self._tables(family, partner)
        _, pw_target = self._tables(family, target)
        batch = self._sample_batch()
        p_idx = fam.pedigree.index(self.member.get((family, partner), partner))
        log_c = np.asarray(log_c, dtype=np.float64)
        ok = np.isfinite(log_c)
        keep = np.array([self._row[r] for r in partners], dtype=np.int64)[ok]
        log_c = log_c[ok]
        rows = np.array([self._row[x] for x in samples], dtype=np.int64)
        soft_pos = self._soft_positions()
        # the partners' observations: a batch of their own when they are few (the LRs of the others
        # are not computed), else the case's batch
        few = keep.size * 4 < len(self.case.pm)
        p_batch = sample_batch([self.case.pm[r] for r in keep.tolist()], self.case.markers) if few else batch
        out = np.empty(len(samples))
        step = 256
        for lo in range(0, len(samples), step):
            mine = rows[lo:lo + step]
            cond = []
            for j, v in enumerate(batch.views):
                t, pw_p, pw_t = tab[j], pw_partner[j], pw_target[j]
                if t is None:
                    cond.append(np.ones((pw_p.shape[0], mine.size)))
                    continue
                if t.shape[0] == 1:
                    cond.append(np.repeat(t[0][:, None], mine.size, axis=1))
                    continue
                d = np.repeat(pw_p[:, None], mine.size, axis=1)          # untyped: the pairwise one
                g = v.clean_g[mine]
                clean = g >= 0
                d[:, clean] = t[g[clean]].T
                if v.soft is not None:
                    k = soft_pos[j][mine]
                    c = np.nonzero(k >= 0)[0]
                    if c.size:
                        wts = np.asarray(v.soft[k[c]].multiply(pw_t[None, :]).todense())   # (c, G_target)
                        tot = wts.sum(axis=1)
                        with np.errstate(invalid="ignore", divide="ignore"):
                            d[:, c] = np.nan_to_num((wts @ t).T / tot[None, :], nan=0.0, posinf=0.0)
                cond.append(d)
            lr = log_lr_given(p_batch, cond, int(fam.pedigree.sex[p_idx]))   # (partners or all, chunk)
            if not few:
                lr = lr[keep]
            if self.lineage is not None:
                lr = lr + self.lineage[keep, self._col[partner]][:, None]
            x = np.where(np.isnan(lr), -np.inf, lr) + log_c[:, None]
            x[keep[:, None] == mine[None, :]] = -np.inf   # r != s
            mx = x.max(axis=0, initial=-np.inf)
            safe = np.where(np.isfinite(mx), mx, 0.0)
            with np.errstate(divide="ignore"):
                out[lo:lo + mine.size] = np.log(np.exp(x - safe).sum(axis=0)) + safe
        return out

    #: most joint genotypes of a family's other missing persons maximised over at one marker
    #: (:meth:`upper_term`); beyond it the marker's factor is bounded by P(G = g | ...) <= 1
    MAX_UPPER_ITEMS = 20_000
    #: (family, missing person) tables of :meth:`_tables` kept (each a few MB)
    MAX_TABLES = 4

    def _sample_batch(self) -> SampleBatch:
        if self._batch is None:
            self._batch = sample_batch(self.case.pm, self.case.markers)
        return self._batch

    def _soft_positions(self) -> list[NDArray[np.int64]]:
        """Per marker, each sample's row in the batch's drop-out observations (-1: none)."""
        if self._soft_pos is None:
            out = []
            for v in self._sample_batch().views:
                pos = np.full(len(self.case.pm), -1, dtype=np.int64)
                pos[v.soft_rows] = np.arange(len(v.soft_rows))
                out.append(pos)
            self._soft_pos = out
        return self._soft_pos

    def upper_term(self, family: str, target: str, samples: Sequence[str]) -> NDArray[np.float64] | None:
        """A proven upper bound of the log LR of each of ``samples`` on missing person ``target``
        of ``family`` given ANY placement of the family's other missing persons (natural log; the
        pair's lineage LR included), or None with theta.

        Whatever samples sit on the others (their observations ``o_X``, fixed pairings included),
        ``P(G_target = g | family, o_X) = sum_x P(G_target = g | family, G_X = x) P(x | family, o_X)``
        is a mixture over the others' genotypes ``x``, so at every marker it is at most
        ``M(g) = max_x P(G_target = g | family, G_X = x)``; a sample's conditional LR
        ``sum_g o(g) P(g | ...) / sum_g o(g) P_HW(g)`` (its own drop-out model ``o``) is then at most
        ``sum_g o(g) M(g) / sum_g o(g) P_HW(g)``, per marker, and so over the markers. With nobody
        placed the mixture is the pairwise distribution, so the bound is also at least the pairwise
        LR. ``M`` is the column maximum of the table of :meth:`_tables` (1 where it is too big).
        """
        if self.case.theta > 0:
            return None
        key = (family, target)
        if key not in self._upper:
            tab, pw = self._tables(family, target)
            fam = self.fams[family]
            t_idx = fam.pedigree.index(self.member.get((family, target), target))
            ms = [np.ones_like(p) if t is None else t.max(axis=0) for t, p in zip(tab, pw, strict=True)]
            vec = log_lr_given(self._sample_batch(), ms, int(fam.pedigree.sex[t_idx]))
            if self.lineage is not None:
                vec = vec + self.lineage[:, self._col[target]]
            self._upper[key] = vec
        vec = self._upper[key]
        return np.array([vec[self._row[s]] for s in samples], dtype=np.float64)

    def _tables(self, family: str, target: str) -> tuple[list[NDArray[np.float64] | None], list[NDArray[np.float64]]]:
        """Per marker: the table ``P(G_target = g | family references, G_X = x)``, shape (X, G), over
        the joint genotypes ``x`` of the family's other missing persons (one row where the typed
        references separate the target from them, :func:`separated`; None where more than
        :data:`MAX_UPPER_ITEMS` rows), and the pairwise distribution ``P(G_target | references)``
        (fixed pairings ignored). Cached for the last :data:`MAX_TABLES` (family, target) pairs."""
        key = self._table_key(family, target)
        fam = self.fams[family]
        hit = self._table_cache.get(key)
        if hit is not None:
            return hit
        if family not in self._base:
            self._base[family] = [encode(fam.pedigree, m, fam.genotypes) for m in self.case.markers]
        t_idx = fam.pedigree.index(self.member.get((family, target), target))
        others = [fam.pedigree.index(m) for m in fam.missing if fam.pedigree.index(m) != t_idx]
        items: list[MarkerData] = []
        spans: list[tuple[int, int]] = []   # per marker: first item, table rows (0: none, -1: separated)
        for d in self._base[family]:
            k = d.marker.n_alleles
            n_g = k * (k + 1) // 2
            first = len(items)
            items.append(d)                  # the pairwise distribution
            fully = [x for x, (a, b) in d.typed.items() if a >= 0 and b >= 0]
            if not d.soft and separated(fam.pedigree, t_idx, others, fully):
                spans.append((first, -1))    # the others do not change the target's distribution
                continue
            if n_g ** len(others) > self.MAX_UPPER_ITEMS:
                spans.append((first, 0))
                continue
            i, j = unordered_index(k)
            for combo in itertools.product(range(n_g), repeat=len(others)):
                typed = dict(d.typed)
                for idx, g in zip(others, combo, strict=True):
                    typed[idx] = (int(i[g]), int(j[g]))
                items.append(MarkerData(d.marker, typed, d.soft))
            spans.append((first, len(items) - first - 1))
        dists = loglik_batch([fam.pedigree] * len(items), items, target=[t_idx] * len(items))
        assert isinstance(dists, list)
        tabs: list[NDArray[np.float64] | None] = []
        pws: list[NDArray[np.float64]] = []
        for first, n_rows in spans:
            pws.append(dists[first])
            tabs.append(None if n_rows == 0 else dists[first][None, :] if n_rows < 0
                        else np.stack(dists[first + 1:first + 1 + n_rows]))
        out = (tabs, pws)
        self._keep_table(key, out)
        return out

    def _table_key(self, family: str, target: str) -> tuple[str, str]:
        fam = self.fams[family]
        if len(fam.missing) == 2 and _exchangeable(fam.pedigree, *fam.missing):
            return (family, "")   # either missing person given the other: one table
        return (family, target)

    def _keep_table(self, key: tuple[str, str], out: tuple[list[NDArray[np.float64] | None],
                                                         list[NDArray[np.float64]]], room: int = 0) -> None:
        """Cache a table, dropping the oldest beyond :data:`MAX_TABLES` (+ ``room``)."""
        while self._table_cache and len(self._table_cache) >= self.MAX_TABLES + room:
            self._table_cache.pop(next(iter(self._table_cache)))
        self._table_cache[key] = out

    def prefetch_tables(self, pairs: Sequence[tuple[str, str]]) -> None:
        """The tables of :meth:`_tables` for many (family, missing person) pairs at once, kept
        together in the cache: per marker, the families of one shape (pedigree, fully typed
        references, target and other missing person) are one
        :func:`~dogtag.genetics.likelihood.same_shape_batch` call over every genotype of the other
        missing person, built from allele arrays (no per-genotype Python objects). Families with two
        missing persons and no half-typed reference at any marker; the others (and theta) are left
        to :meth:`_tables`. Equal to :meth:`_tables` up to rounding (test)."""
        if self.case.theta > 0:
            return
        todo: dict[tuple[str, str], tuple[str, int, int]] = {}
        for family, target in pairs:
            key = self._table_key(family, target)
            fam = self.fams[family]
            if key in self._table_cache or key in todo or len(fam.missing) != 2:
                continue
            if family not in self._base:
                self._base[family] = [encode(fam.pedigree, m, fam.genotypes) for m in self.case.markers]
            if any(d.soft or any((a < 0) != (b < 0) or a < 0 for a, b in d.typed.values())
                   for d in self._base[family]):
                continue   # half-typed or soft reference data: the general engine (_tables)
            ped = fam.pedigree
            t_idx = ped.index(self.member.get((family, target), target))
            o_idx = next(ped.index(m) for m in fam.missing if ped.index(m) != t_idx)
            todo[key] = (family, t_idx, o_idx)
        if not todo:
            return
        n_mark = len(self.case.markers)
        tabs: dict[tuple[str, str], list[NDArray[np.float64] | None]] = {k: [None] * n_mark for k in todo}
        pws: dict[tuple[str, str], list[NDArray[np.float64]]] = {k: [np.empty(0)] * n_mark for k in todo}
        for jm, marker in enumerate(self.case.markers):
            groups: dict[tuple, list[tuple[tuple[str, str], NDArray[np.intp]]]] = {}
            peds: dict[tuple, Pedigree] = {}
            for key, (family, t_idx, o_idx) in todo.items():
                ped = self.fams[family].pedigree
                d = self._base[family][jm]
                fully = sorted(d.typed)
                sep = separated(ped, t_idx, [o_idx], fully)
                shape = (tuple(int(x) for x in ped.father), tuple(int(x) for x in ped.mother),
                         tuple(int(x) for x in ped.sex), t_idx, o_idx, tuple(fully), sep)
                peds.setdefault(shape, ped)
                groups.setdefault(shape, []).append(
                    (key, np.array([d.typed[x] for x in fully], dtype=np.intp).reshape(len(fully), 2)))
            k = marker.n_alleles
            n_g = k * (k + 1) // 2
            gi, gj = unordered_index(k)
            for shape, members in groups.items():
                ped, t_idx, o_idx, fully, sep = peds[shape], shape[3], shape[4], list(shape[5]), shape[6]
                refs = np.stack([a for _, a in members])                          # (F, typed, 2)
                pw = same_shape_batch(ped, marker, fully, refs, target=t_idx)     # (F, G)
                tab = None
                if not sep and n_g <= self.MAX_UPPER_ITEMS:
                    other = np.stack([gi, gj], axis=1).astype(np.intp)            # (G, 2)
                    f = refs.shape[0]
                    both = np.concatenate([np.repeat(refs, n_g, axis=0),
                                           np.tile(other, (f, 1))[:, None, :]], axis=1)
                    tab = same_shape_batch(ped, marker, [*fully, o_idx], both, target=t_idx).reshape(f, n_g, n_g)
                for r, (key, _) in enumerate(members):
                    pws[key][jm] = pw[r]
                    tabs[key][jm] = pw[r][None, :] if sep else None if tab is None else tab[r]
        for key in todo:
            self._keep_table(key, (tabs[key], pws[key]), room=len(todo))

    def conditional_term(self, family: str, placed: Mapping[str, str], target: str, sample: str) -> float | None:
        """log LR of ``sample`` on missing person ``target`` of ``family`` given the family's
        references, its fixed pairings (:meth:`conditioned`) and the samples ``placed`` on its
        other missing persons (natural log; the pair's lineage LR included), so that by the chain
        rule a joint family term is the term of the other placements plus this one. None with
        theta (use :meth:`many`).

        Computed from the conditional genotype distribution of ``target`` (one pedigree
        computation per marker) for all samples of the case at once, and cached: a family with
        two missing persons costs one computation per sample placed on the first, not one per
        pair of samples (the blind search's formula,
        ``LR = sum_g o(g) P(g | family, placed) / sum_g o(g) P_HW(g)``).
        """
        if self.case.theta > 0:
            return None
        key = self._cond_key(family, placed, target)
        if key not in self._cond:
            self.prefetch_conditional(family, [placed], target)
        vec = self._cond[key]
        x = float(vec[self._row[sample]])
        return -math.inf if math.isnan(x) else x


def _exchangeable(ped: Pedigree, a: str, b: str) -> bool:
    """Whether swapping members ``a`` and ``b`` maps the pedigree onto itself (same parents, same
    sex, no children): for untyped ``a`` and ``b``, their joint genotype distribution given the
    others is then symmetric."""
    i, j = ped.index(a), ped.index(b)
    fa, mo = [int(x) for x in ped.father], [int(x) for x in ped.mother]
    return (fa[i] == fa[j] and mo[i] == mo[j] and int(ped.sex[i]) == int(ped.sex[j])
            and i not in fa and i not in mo and j not in fa and j not in mo)


def separated(ped: Pedigree, target: int, others: Sequence[int], typed: Sequence[int]) -> bool:
    """Whether the genotypes of members ``target`` and ``others`` of ``ped`` are independent given
    the genotypes of ``typed`` (d-separation in the pedigree's Bayesian network, by the moral graph
    of the ancestral set: Lauritzen, S. L. et al. (1990) *Networks* 20:491-505)."""
    father = [int(x) for x in ped.father]
    mother = [int(x) for x in ped.mother]
    keep: set[int] = set()
    stack = [target, *others, *typed]
    while stack:
        x = stack.pop()
        if x in keep:
            continue
        keep.add(x)
        stack += [p for p in (father[x], mother[x]) if p >= 0]
    adj: dict[int, set[int]] = {x: set() for x in keep}
    for x in keep:
        ps = [p for p in (father[x], mother[x]) if p >= 0]
        for p in ps:
            adj[x].add(p)
            adj[p].add(x)
        if len(ps) == 2:
            adj[ps[0]].add(ps[1])
            adj[ps[1]].add(ps[0])
    blocked = set(typed)
    goal = set(others)
    seen = {target}
    stack = [target]
    while stack:
        x = stack.pop()
        for y in adj[x]:
            if y in goal:
                return False
            if y not in seen and y not in blocked:
                seen.add(y)
                stack.append(y)
    return True


@dataclass
class DVIResult:
    case: DVICase
    search: SearchResult
    joint: JointResult | None
    undisputed: list[UndisputedMatch]
    solve: SolveResult | None
    settings: dict[str, Any]
    same_source: list[SameSourceGroup] | None = None

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        """The ``dogtag dvi --json`` object (natural logs; ``null`` for non-candidates)."""
        s = self.search
        out: dict[str, Any] = {"case": self.case.name, "settings": self.settings,
                               "n_samples": len(s.samples), "n_missing": len(s.missing),
                               "n_markers": len(self.case.markers)}
        method: dict[str, Any] = {"lr_matrix": s.method}
        if s.log_lr is not None and top is None:
            assert s.exclusions is not None and s.markers_used is not None
            cand = ~np.isnan(s.log_lr)
            out["lr_matrix"] = {"samples": s.samples, "missing": s.missing,
                                "lr": _grid(np.exp(s.log_lr), cand)}
            out["exclusions"] = {"samples": s.samples, "missing": s.missing,
                                 "counts": _grid(s.exclusions, cand, integer=True)}
            out["markers_used"] = {"samples": s.samples, "missing": s.missing,
                                   "counts": _grid(s.markers_used, cand, integer=True)}
            if s.evidence is not None:
                out["lr_matrix"]["evidence"] = [
                    [evidence_names(s.evidence[i, j]) if cand[i, j] else None for j in range(len(s.missing))]
                    for i in range(len(s.samples))]
        else:
            names: dict[int, list[str]] = {}   # each evidence code's names, worked out once

            def named(code: int) -> list[str]:
                if code not in names:
                    names[code] = evidence_names(code)
                return list(names[code])

            out["candidates"] = {
                sid: [{"missing": s.missing[j], "lr": _num(math.exp(llr)), "exclusions": exc,
                       **({"evidence": named(codes[k])} if codes is not None else {})}
                      for k, (j, llr, exc) in enumerate(rows)]
                for sid, rows in s.candidates.items() for codes in [s.candidate_evidence.get(sid)]
            }
        out["sample_loglik"] = dict(zip(s.samples, map(_num, s.sample_loglik), strict=True))
        out["family_loglik"] = {k: _num(v) for k, v in s.family_loglik.items()}
        if self.joint is not None:
            j = self.joint.to_dict()
            out["posterior"] = j["posterior"]
            out["assignments"] = j["assignments"]
            out["joint"] = {k: j[k] for k in ("prior", "n_assignments", "loglik0", "components", "unresolved", "notes")}
            method["joint"] = self.joint.method
            method["posterior"] = f"{self.joint.method} ({self.joint.prior} prior)"
        out["undisputed"] = [u.to_dict() for u in self.undisputed]
        method["undisputed"] = f"findUndisputed (dvir), LR threshold {self.settings['threshold']:g}"
        if self.solve is not None:
            out["summary"] = ([{"table": "am", **r.to_dict()} for r in self.solve.am]
                              + [{"table": "pm", **r.to_dict()} for r in self.solve.pm])
            method["summary"] = self.solve.method
        if self.same_source is not None:
            out["same_source"] = [g.to_dict() for g in self.same_source]
            method["same_source"] = ("identity LR between samples (drop-out aware), single-linkage "
                                     f"groups at LR >= {self.settings['threshold']:g}")
        out["method"] = method
        # the per-sample tables are made of _num values already; the walk costs a second at 10,000
        verbatim = ("candidates", "sample_loglik", "family_loglik")
        return {k: v if k in verbatim else json_safe(v) for k, v in out.items()}


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (nan, inf) replaced by None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    return obj


def _grid(values: NDArray[Any], cand: NDArray[np.bool_], *, integer: bool = False) -> list[list[Any]]:
    rows = []
    for i in range(values.shape[0]):
        row: list[Any] = []
        for j in range(values.shape[1]):
            if not cand[i, j]:
                row.append(None)
            else:
                v = values[i, j]
                row.append(int(v) if integer else _num(float(v)))
        rows.append(row)
    return rows


def _exclusions_given(case: DVICase, search: SearchResult) -> Callable[[Mapping[str, str]], NDArray[np.float64]]:
    """Exclusion counts with the samples of fixed pairings added to their families' data (as dvir)."""
    labels = case.missing_labels()
    where: dict[str, tuple[int, str]] = {}
    k = 0
    for fi, f in enumerate(case.am):
        for m in f.missing:
            where[labels[k]] = (fi, m)
            k += 1
    samples = {s.id: s for s in case.pm}

    def counts(fixed: Mapping[str, str]) -> NDArray[np.float64]:
        am = list(case.am)
        for sid, label in fixed.items():
            fi, mp = where[label]
            f = am[fi]
            smp = samples[sid]
            am[fi] = f = dataclasses.replace(f, genotypes={**f.genotypes, mp: smp.genotypes})
            if smp.mtdna is not None:
                am[fi] = f = dataclasses.replace(f, mtdna={**f.mtdna, mp: smp.mtdna})
            if smp.ystr is not None:
                am[fi] = dataclasses.replace(f, ystr={**f.ystr, mp: smp.ystr})
        res = blind_search(dataclasses.replace(case, am=am), refine=0, theta=0.0)  # exclusions ignore theta
        assert res.exclusions is not None and res.log_lr is not None
        return np.where(np.isnan(res.log_lr), np.nan, res.exclusions.astype(np.float64))

    return counts


def run_dvi(
    case: DVICase,
    *,
    threshold: float = 1e4,
    max_assign: int = 100_000,
    prior: str = "flat",
    joint: bool = True,
    top: int | None = None,
    n_top_assignments: int = 20,
    workers: int = 1,
    seed: int = 1,
    progress: Progress | None = None,
    search_fn: Callable[..., SearchResult] = blind_search,
    joint_fn: Callable[..., JointResult] = solve_joint,
    time_limit: float | None = None,
) -> DVIResult:
    """Run the whole analysis.

    Parameters
    ----------
    threshold : LR threshold for undisputed identifications and matches (dvir: 10^4).
    max_assign : largest component enumerated assignment by assignment.
    prior : "flat" (open incident: a sample may be none of the missing) or "closed"
        (every sample is one of the missing persons).
    joint : False runs the blind search only.
    top : keep only the ``top`` best candidates per sample (no full matrix, no joint).
    search_fn, joint_fn : the blind search and the joint solver (the Dask backend of
        :mod:`dogtag.scale` passes its own, with the same signatures and results).
    time_limit : seconds the joint identification and the conclusions may take after the blind
        search (None: no limit); what cannot be solved in time is reported unresolved.
    """
    if prior not in ("flat", "open", "closed"):
        raise ValueError(f"`prior` must be flat, open or closed, got {prior!r}")
    search = search_fn(case, top=top, min_lr=threshold if top else None, workers=workers,
                       progress=progress)
    settings = {"threshold": threshold, "max_assign": max_assign, "prior": prior,
                "joint": joint and top is None, "top": top, "seed": seed, "theta": search.theta,
                "time_limit": time_limit}
    if top is not None or search.log_lr is None:
        return DVIResult(case, search, None, [], None, settings)
    groups = group_same_source(case.pm, case.markers, threshold=threshold)
    if not joint:
        return DVIResult(case, search, None, [], None, settings, groups)
    problem = JointProblem(
        tuple(search.samples), tuple(search.missing), tuple(search.family), search.log_lr,
        search.family_loglik, search.sample_loglik,
        FamilyLoglik(case, search.lineage_log_lr, (search.family_loglik, search.sample_loglik)))
    pri = Prior.closed(len(search.samples), len(search.missing)) if prior == "closed" else Prior.flat()
    start = time.monotonic()
    result = joint_fn(problem, prior=pri, max_assign=max_assign, top=n_top_assignments, seed=seed,
                      time_limit=time_limit)
    found, _reduced = find_undisputed(problem, threshold=threshold)
    assert search.exclusions is not None
    exclusions = np.where(np.isnan(search.log_lr), np.nan, search.exclusions)
    solved = dvi_solve(problem, exclusions, threshold=threshold, full_siblings=full_sibling_pairs(case),
                       exclusions_given=_exclusions_given(case, search),
                       max_assign=max_assign,
                       time_limit=None if time_limit is None else max(1.0, time_limit - (time.monotonic() - start)))
    return DVIResult(case, search, result, found, solved, settings, groups)
