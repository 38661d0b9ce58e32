"""The blind search on a Dask cluster: same arguments and results as :func:`dogtag.identify.search.blind_search`.

The work is the single-process engine's, cut differently:

- the families are cut into batches of about ``family_batch`` missing persons; each
  batch's conditional genotype distributions and its families' null log-likelihoods
  (:func:`~dogtag.identify.search.family_batch_logliks`, one engine run) are computed on a worker;
- the samples are cut into chunks of ``chunk``; each chunk's observation vectors
  (:func:`~dogtag.identify.search.sample_batch`) are computed on a worker;
- the LR matrix is computed in tiles, one per (sample chunk, family batch)
  (:func:`~dogtag.identify.search.tile`), and each tile is reduced on its worker to
  what users keep (:func:`~dogtag.identify.search.tile_top`, exclusions counted for the
  kept pairs only): per sample the ``top`` best
  candidates and every pair with LR >= ``min_lr``. The tiles of a sample chunk are
  merged on a worker (:func:`~dogtag.identify.search.merge`); the selection order is
  total, so the merge of per-tile selections equals the selection over the whole row.
  Only with ``top=None`` (the full matrix asked for) do whole tiles travel to the client.

Tiles run family batch by family batch (task priorities), so a worker holds a few
family batches at a time, and the scheduler forgets a batch once its tiles are done.
Every task is a pure function of data held by the scheduler, so a worker lost
mid-run only costs recomputation: Dask reruns the lost tasks elsewhere and the
answer is the same (Rocklin, M. (2015) Dask: parallel computation with blocked
algorithms and task scheduling. *Proc. 14th Python in Science Conf.*, 130-136).
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dogtag.errors import DogtagError
from dogtag.genetics.markers import Marker
from dogtag.genetics.theta import check_theta
from dogtag.identify.case import DVICase, Family
from dogtag.identify.lineage_search import LineageEvidence
from dogtag.identify.search import (
    Candidates,
    FamilyBatch,
    Progress,
    SampleBatch,
    SearchResult,
    Tile,
    _min_log,
    check_case,
    family_batch_logliks,
    finish,
    merge,
    sample_batch,
    tile,
    tile_top,
)

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["blind_search", "family_batches"]


def family_batches(families: Sequence[Family], size: int) -> list[tuple[int, int, int]]:
    """Cut families into batches of about ``size`` missing persons.

    Returns (first family, end family, first missing-person column) per batch; a
    family is never split.
    """
    out: list[tuple[int, int, int]] = []
    lo, col, n = 0, 0, 0
    for i, fam in enumerate(families):
        n += len(fam.missing)
        if n >= size:
            out.append((lo, i + 1, col))
            lo, col, n = i + 1, col + n, 0
    if lo < len(families):
        out.append((lo, len(families), col))
    return out


def _loads(blob: bytes) -> Any:
    return pickle.loads(blob)


def _family_task(blob: bytes, markers: list[Marker], theta: float) -> tuple[FamilyBatch, dict[str, float]]:
    return family_batch_logliks(pickle.loads(blob), markers, theta=theta)


def _part(pair: tuple[Any, Any], i: int) -> Any:
    return pair[i]


def _sample_task(blob: bytes, markers: list[Marker], theta: float) -> SampleBatch:
    return sample_batch(pickle.loads(blob), markers, theta)


def _tile_task(rows: SampleBatch, fams: FamilyBatch, row0: int, col0: int, top: int | None,
               min_log: float) -> Tile | Candidates:
    if top is None:
        return tile(rows, fams)
    return tile_top(rows, fams, row0=row0, col0=col0, top=top, min_log=min_log)


def _merge_task(*parts: Candidates, top: int, min_log: float) -> Candidates:
    return merge(parts, top=top, min_log=min_log)


def _sex(fams: FamilyBatch) -> np.ndarray:
    return fams.sex


def _loglik(rows: SampleBatch) -> np.ndarray:
    return rows.loglik


def blind_search(
    case: DVICase,
    *,
    client: Client,
    top: int | None = None,
    min_lr: float | None = None,
    chunk: int = 512,
    workers: int = 1,
    refine: int = 200_000,
    progress: Progress | None = None,
    family_batch_size: int = 1000,
    merge_every: int = 8,
    theta: float | None = None,
) -> SearchResult:
    """LR of every sample against every missing person, on the cluster behind ``client``.

    Parameters are those of :func:`dogtag.identify.search.blind_search` (``workers``
    is accepted for the same signature and unused: the cluster's workers do the work),
    plus ``client`` (a :class:`distributed.Client`), ``family_batch_size`` (missing
    persons per family batch: columns per tile) and ``merge_every`` (family batches
    whose kept pairs are merged into a sample chunk's running result at once).
    ``progress`` is called on the client as the cluster finishes work:
    ``(done, total, "families")`` per family batch and ``(done, total, "pairs")`` per
    tile. Errors in the data raised on a worker (:class:`~dogtag.errors.InconsistentCaseError`)
    reach the caller as they are.

    Returns
    -------
    :class:`~dogtag.identify.search.SearchResult`, equal to the single-process one.
    """
    from distributed import as_completed

    if min(chunk, family_batch_size, merge_every) < 1:
        raise ValueError("`chunk`, `family_batch_size` and `merge_every` must be >= 1, got "
                         f"{chunk}, {family_batch_size}, {merge_every}")
    check_case(case)
    theta = check_theta(case.theta if theta is None else theta)
    if case.has_lineage and LineageEvidence(case).active:
        # the lineage part is built from the whole case (haplotype panels, database
        # frequencies) and is not cut into tiles yet
        raise DogtagError("the Dask backend does not take mtDNA or Y-STR evidence yet; "
                          "run this case with the single-process engine (no --scheduler/--workers)")
    markers = case.markers
    S = len(case.pm)
    M = sum(len(f.missing) for f in case.am)
    if S == 0 or M == 0:
        from dogtag.identify.search import blind_search as local
        return local(case, top=top, min_lr=min_lr, chunk=chunk, refine=refine, progress=progress, theta=theta)
    k = None if top is None else int(top)
    min_log = _min_log(min_lr)
    run = uuid.uuid4().hex[:12]

    # Inputs travel as pickled bytes: Dask would otherwise walk every sample and family
    # object of a task's arguments looking for futures, which costs more than the search.
    # The markers are one task, so a lost worker can recompute them like any other result.
    markers_fut = client.submit(_loads, pickle.dumps(markers, protocol=5), key=f"dogtag-markers-{run}",
                                priority=len(case.am) + 2)
    batches = family_batches(case.am, family_batch_size)
    n_fam = len(batches)
    fam_blobs = [pickle.dumps(case.am[a:b], protocol=5) for a, b, _ in batches]
    # a family batch's columns and its families' null log-likelihoods come from the same engine runs
    both_futs = [client.submit(_family_task, blob, markers_fut, theta, key=f"dogtag-familyrun-{run}-{j}",
                               priority=n_fam - j)
                 for j, blob in enumerate(fam_blobs)]
    fam_futs = [client.submit(_part, f, 0, key=f"dogtag-family-{run}-{j}", priority=n_fam - j)
                for j, f in enumerate(both_futs)]
    famll_futs = [client.submit(_part, f, 1, key=f"dogtag-familyll-{run}-{j}", priority=n_fam - j)
                  for j, f in enumerate(both_futs)]
    del both_futs
    del fam_blobs
    sex_futs = [client.submit(_sex, f, key=f"dogtag-sex-{run}-{j}") for j, f in enumerate(fam_futs)]
    chunks = [(lo, min(lo + chunk, S)) for lo in range(0, S, chunk)]
    row_futs = [client.submit(_sample_task, pickle.dumps(case.pm[lo:hi], protocol=5), markers_fut, theta,
                              key=f"dogtag-samples-{run}-{i}", priority=n_fam + 1)
                for i, (lo, hi) in enumerate(chunks)]
    ll_futs = [client.submit(_loglik, r, key=f"dogtag-samplell-{run}-{i}") for i, r in enumerate(row_futs)]
    # tiles, family batch by family batch
    tiles: dict[Any, tuple[int, int]] = {}
    tile_futs = []
    for j, (_a, _b, col0) in enumerate(batches):
        for i, (lo, _hi) in enumerate(chunks):
            f = client.submit(_tile_task, row_futs[i], fam_futs[j], lo, col0, k, min_log,
                              key=f"dogtag-tile-{run}-{i}-{j}", priority=n_fam - j)
            tiles[f.key] = (i, j)
            tile_futs.append(f)
    # per sample chunk, a chain of merges, each taking the previous one and the tiles of
    # ``merge_every`` family batches: kept pairs never pile up for the whole run
    merged: list[Any] = []
    if k is not None:
        grid = {(i, j): f for f, (i, j) in zip(tile_futs, tiles.values(), strict=True)}
        for i in range(len(chunks)):
            prev: list[Any] = []
            for g0 in range(0, n_fam, merge_every):
                parts = [grid[i, j] for j in range(g0, min(g0 + merge_every, n_fam))]
                last = min(g0 + merge_every, n_fam) - 1
                prev = [client.submit(_merge_task, *prev, *parts, top=k, min_log=min_log,
                                      key=f"dogtag-merge-{run}-{i}-{g0}", priority=n_fam - last)]
            merged.extend(prev)
        del grid, prev

    widths = [b[2] for b in batches[1:]] + [M]
    ncols = [widths[j] - batches[j][2] for j in range(n_fam)]
    full = None
    if k is None:
        full = (np.empty((S, M)), np.empty((S, M), dtype=np.int64), np.empty((S, M), dtype=np.int64))
    done_fam = done_pairs = 0
    fam_of = {f.key: j for j, f in enumerate(fam_futs)}
    watch = as_completed([*fam_futs, *tile_futs], with_results=k is None)
    del fam_futs, row_futs, tile_futs, markers_fut
    for item in watch:
        fut, res = item if k is None else (item, None)
        if fut.key in fam_of:
            done_fam += ncols[fam_of[fut.key]]
            if progress:
                progress(done_fam, M, "families")
            continue
        i, j = tiles.pop(fut.key)
        del fut
        lo, hi = chunks[i]
        if full is not None:
            c0 = batches[j][2]
            assert res is not None
            for arr, part in zip(full, res, strict=True):
                arr[lo:hi, c0:c0 + ncols[j]] = part
        done_pairs += (hi - lo) * ncols[j]
        if progress:
            progress(done_pairs, S * M, "pairs")
    kept = merge(client.gather(merged), top=k, min_log=min_log) if k is not None else None
    sample_ll = np.concatenate(client.gather(ll_futs))
    msex = np.concatenate(client.gather(sex_futs)).astype(np.int8)
    fam_ll: dict[str, float] = {}
    for part in client.gather(famll_futs):
        for name, v in part.items():
            fam_ll[name] = fam_ll.get(name, 0.0) + v
    fam_ll = {f.name: fam_ll[f.name] for f in case.am}
    return finish(case, msex=msex, sample_ll=sample_ll, fam_ll=fam_ll, full=full, kept=kept, refine=refine,
                  theta=theta)


def _register_sizes() -> None:
    """Tell Dask the memory of our batch objects (for its memory manager and transfer counts)."""
    from dask.sizeof import sizeof

    @sizeof.register(FamilyBatch)
    def _family(b: FamilyBatch) -> int:
        extra = [*(b.cond_unrelated or ()), *(b.logp_unrelated or ())]
        return int(sum(a.nbytes for a in (*b.cond, *b.logp, *b.support, *extra)) + b.typed.nbytes + b.sex.nbytes)

    @sizeof.register(SampleBatch)
    def _samples(b: SampleBatch) -> int:
        n = b.sex.nbytes + b.loglik.nbytes
        for v in b.views:
            n += v.typed.nbytes + v.clean_g.nbytes + v.soft_rows.nbytes + v.log_hw.nbytes
            if v.soft is not None:
                n += v.soft.data.nbytes + v.soft.indices.nbytes + v.soft.indptr.nbytes
        return int(n)

    @sizeof.register(Candidates)
    def _candidates(c: Candidates) -> int:
        return int(sum(getattr(c, f).nbytes for f in Candidates._FIELDS))


_register_sizes()
