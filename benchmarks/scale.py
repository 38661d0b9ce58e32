"""Benchmark: the blind search on a local Dask cluster vs the single-process engine.

A synthetic registry is drawn from the NIST 1036 Caucasian frequencies shipped
with dogtag (``load_database("nist1036-Cauc")``), 23 autosomal STRs (the 20
expanded CODIS core loci, Penta D, Penta E, SE33) with the stepwise mutation
model (rate 0.001 female, 0.003 male, rate2 1e-6, range 0.1). Reference families
alternate between trios (father and mother typed, the missing person their son)
and sibling references (two full siblings typed, parents untyped). Genotypes are
dropped down the pedigrees with mutation. One sample in ten is the missing person
of a family; the rest are unrelated; every sample misses each locus with
probability 0.05.

The same search (top 5 candidates per sample and every pair with LR >= 1e4) runs
once single-process (``dogtag.identify.search.blind_search``, one thread) and once
on a local cluster of ``--workers`` worker processes of one thread each, each with
a memory limit (``--memory-limit``). The results are checked equal. Reported:
per-core throughput (sample x missing-person pairs per second per core, the whole
search: conditional distributions, tiles, reduction) of both, their ratio, the
peak resident memory of each worker process, the data moved between workers and
to/from the client, and, when run on a fraction of the target size, the time the
target size would take at the measured throughput (linear in samples x families:
both the family phase and the tiles are linear in the number of families, the
tiles in samples too).

Usage::

    python benchmarks/scale.py                       # 100,000 x 20,000 (the target)
    python benchmarks/scale.py --families 2000       # a tenth of the families, extrapolated

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import pickle
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dogtag import scale
from dogtag.genetics.freqdb import load_database
from dogtag.genetics.markers import Marker
from dogtag.genetics.pedigree import Pedigree
from dogtag.identify.case import DVICase, Family, Sample
from dogtag.identify.search import blind_search

LOCI = ["CSF1PO", "FGA", "TH01", "TPOX", "vWA", "D3S1358", "D5S818", "D7S820", "D8S1179",
        "D13S317", "D16S539", "D18S51", "D21S11", "D1S1656", "D2S441", "D2S1338", "D10S1248",
        "D12S391", "D19S433", "D22S1045", "Penta_D", "Penta_E", "SE33"]
TARGET = (100_000, 20_000)


def _markers() -> list[Marker]:
    db = load_database("nist1036-Cauc")
    return db.markers(LOCI, mutation={"model": "stepwise", "rate": 0.001, "rate2": 1e-6, "range": 0.1},
                      male_mutation={"model": "stepwise", "rate": 0.003, "rate2": 1e-6, "range": 0.1})


def _transmit(parent: np.ndarray, M: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """One allele of each parent (shape (F, 2)), mutated with matrix M."""
    a = parent[np.arange(parent.shape[0]), rng.integers(0, 2, parent.shape[0])]
    if M is None:
        return a
    cum = np.cumsum(M[a], axis=1)
    return np.minimum((rng.random(a.shape[0])[:, None] > cum).sum(axis=1), M.shape[0] - 1)


def synthesise(n_samples: int, n_families: int, seed: int = 2026) -> DVICase:
    rng = np.random.default_rng(seed)
    markers = _markers()
    trio = Pedigree.from_table(["FA", "MO", "MP"], [None, None, "FA"], [None, None, "MO"], [1, 2, 1])
    sibs = Pedigree.from_table(["FA", "MO", "MP", "S1", "S2"], [None, None, "FA", "FA", "FA"],
                               [None, None, "MO", "MO", "MO"], [1, 2, 1, 1, 2])
    F = n_families
    n_true = min(n_samples // 10, F)
    truth_rows = rng.permutation(n_samples)[:n_true]
    fam_rows: list[dict[str, dict[str, tuple[str, str]]]] = [
        {"FA": {}, "MO": {}} if f % 2 == 0 else {"S1": {}, "S2": {}} for f in range(F)]
    samp_rows: list[dict[str, tuple[str | None, str | None]]] = [{} for _ in range(n_samples)]
    for m in markers:
        q = m.freqs / m.freqs.sum()
        lab = np.array(m.alleles, dtype=object)
        fa = rng.choice(m.n_alleles, size=(F, 2), p=q)
        mo = rng.choice(m.n_alleles, size=(F, 2), p=q)
        male, female = m.mutation_matrix(1), m.mutation_matrix(2)

        def child(fa=fa, mo=mo, male=male, female=female):
            return np.sort(np.column_stack([_transmit(fa, male, rng), _transmit(mo, female, rng)]), axis=1)

        mp, s1, s2 = child(), child(), child()
        fa.sort(axis=1)
        mo.sort(axis=1)
        for f in range(F):
            row = fam_rows[f]
            if f % 2 == 0:
                row["FA"][m.name] = (lab[fa[f, 0]], lab[fa[f, 1]])
                row["MO"][m.name] = (lab[mo[f, 0]], lab[mo[f, 1]])
            else:
                row["S1"][m.name] = (lab[s1[f, 0]], lab[s1[f, 1]])
                row["S2"][m.name] = (lab[s2[f, 0]], lab[s2[f, 1]])
        g = np.sort(rng.choice(m.n_alleles, size=(n_samples, 2), p=q), axis=1)
        g[truth_rows] = mp[:n_true]
        typed = rng.random(n_samples) >= 0.05
        for s in np.nonzero(typed)[0]:
            samp_rows[s][m.name] = (lab[g[s, 0]], lab[g[s, 1]])
    am = [Family(f"F{f}", trio if f % 2 == 0 else sibs, ("MP",), fam_rows[f]) for f in range(F)]
    pm = [Sample(f"S{s}", 0, samp_rows[s]) for s in range(n_samples)]
    return DVICase(markers, pm, am, name=f"synthetic {n_samples} x {n_families}")


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _outgoing(dask_worker) -> int:
    return int(dask_worker.transfer_outgoing_bytes_total)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=TARGET[0])
    ap.add_argument("--families", type=int, default=TARGET[1])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="4GiB")
    ap.add_argument("--chunk", type=int, default=2048, help="samples per tile")
    ap.add_argument("--family-batch", type=int, default=1000, help="missing persons per tile")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--min-lr", type=float, default=1e4)
    ap.add_argument("--skip-single", action="store_true", help="do not run the single-process engine")
    ap.add_argument("--skip-dask", action="store_true", help="do not run the Dask backend")
    args = ap.parse_args()

    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    case = synthesise(args.samples, args.families)
    t_synth = time.perf_counter() - t
    S, M = len(case.pm), len(case.am)
    pairs = S * M
    print(f"synthesised {S} samples x {M} families x {len(case.markers)} loci in {t_synth:.1f} s",
          flush=True)

    out: dict[str, object] = {"samples": S, "families": M, "loci": len(case.markers),
                              "pairs": pairs, "workers": args.workers,
                              "memory_limit": args.memory_limit, "chunk": args.chunk,
                              "family_batch": args.family_batch, "top": args.top,
                              "min_lr": args.min_lr}
    single = None
    if not args.skip_single:
        marks: dict[str, float] = {}
        cpu_marks: dict[str, float] = {}

        def mark(done: int, total: int, what: str) -> None:
            marks.setdefault(what, time.perf_counter())
            cpu_marks.setdefault(what, _cpu_s())
            if what == "samples" and done == total:
                cpu_marks["tiles_done"] = _cpu_s()

        t, c0 = time.perf_counter(), _cpu_s()
        single = blind_search(case, top=args.top, min_lr=args.min_lr, chunk=512, workers=1,
                              progress=mark)
        wall = time.perf_counter() - t
        cpu = _cpu_s() - c0
        fam_phase = marks.get("samples", t) - t
        fam_cpu = cpu_marks["samples"] - c0
        tile_cpu = cpu_marks["tiles_done"] - cpu_marks["samples"]
        rest_cpu = cpu - fam_cpu - tile_cpu
        out["single"] = {"wall_s": round(wall, 2), "family_phase_s": round(fam_phase, 2),
                         "pairs_per_s_per_core": pairs / wall,
                         "families_per_s_per_core": M / fam_phase if fam_phase > 0 else None,
                         "tile_pairs_per_s_per_core": pairs / (wall - fam_phase),
                         "cpu_s": round(cpu, 2), "pairs_per_cpu_s": pairs / cpu,
                         "cpu_s_conditionals": round(fam_cpu, 2),
                         "cpu_s_samples_and_tiles": round(tile_cpu, 2),
                         "cpu_s_null_logliks_and_result": round(rest_cpu, 2),
                         "cpu_s_per_family": (fam_cpu + rest_cpu) / M,
                         "pairs_per_cpu_s_tiles": pairs / tile_cpu,
                         "peak_rss_mib": round(_peak_rss_mib(), 1)}
        print("single-process:", out["single"], flush=True)

    if args.skip_dask:
        out["loadavg_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
        print(json.dumps(out))
        return
    graph_bytes = len(pickle.dumps(case.pm, protocol=5)) + len(pickle.dumps(case.am, protocol=5))
    with scale.client(None, args.workers, memory_limit=args.memory_limit) as client:
        client.wait_for_workers(args.workers)
        client.run(lambda: __import__("dogtag.scale.blindsearch"))  # warm imports
        # background CPU of idle workers, scheduler and client (heartbeats, memory monitor):
        # it accrues per second of wall time, so it weighs more on a busy machine
        b0, bc0 = client.run(_cpu_s), _cpu_s()
        time.sleep(10)
        b1, bc1 = client.run(_cpu_s), _cpu_s()
        idle_rate = (sum(b1[k] - b0[k] for k in b1) + bc1 - bc0) / 10.0
        w0 = client.run(_cpu_s)
        t, c0 = time.perf_counter(), _cpu_s()
        res = scale.search(case, client=client, top=args.top, min_lr=args.min_lr, chunk=args.chunk,
                           family_batch_size=args.family_batch)
        wall = time.perf_counter() - t
        client_cpu = _cpu_s() - c0
        w1 = client.run(_cpu_s)
        worker_cpu = sum(w1[k] - w0[k] for k in w1)
        peaks = client.run(_peak_rss_mib)
        moved = client.run(_outgoing)
    kept = sum(len(v) for v in res.candidates.values())
    per_core = pairs / (wall * args.workers)
    out["dask"] = {"wall_s": round(wall, 2), "pairs_per_s_per_core": per_core,
                   "worker_cpu_s": round(worker_cpu, 2),
                   "client_and_scheduler_cpu_s": round(client_cpu, 2),
                   "pairs_per_cpu_s": pairs / (worker_cpu + client_cpu),
                   "idle_background_cpu_s_per_wall_s": round(idle_rate, 4),
                   "pairs_per_cpu_s_less_background":
                       pairs / (worker_cpu + client_cpu - idle_rate * wall),
                   "worker_peak_rss_mib": sorted(round(v, 1) for v in peaks.values()),
                   "bytes_between_workers": int(sum(moved.values())),
                   "bytes_client_to_cluster": graph_bytes,
                   "bytes_cluster_to_client": kept * 28 + S * 8 + M * 9,
                   "pairs_kept": kept}
    print("dask:", out["dask"], flush=True)
    if single is not None:
        assert single.candidates == res.candidates, "the backends disagree"
        assert np.array_equal(single.sample_loglik, res.sample_loglik)
        assert single.family_loglik == res.family_loglik
        s = out["single"]
        assert isinstance(s, dict)
        out["per_core_ratio_dask_over_single"] = per_core / s["pairs_per_s_per_core"]
        d = out["dask"]
        assert isinstance(d, dict)
        out["per_cpu_second_ratio_dask_over_single"] = d["pairs_per_cpu_s"] / s["pairs_per_cpu_s"]
        out["per_cpu_second_ratio_less_background"] = (d["pairs_per_cpu_s_less_background"]
                                                      / s["pairs_per_cpu_s"])
        out["results_identical"] = True
    tgt = TARGET[0] * TARGET[1]
    out["measured_fraction_of_target"] = pairs / tgt
    if pairs != tgt:
        out["extrapolated_target_wall_s"] = tgt / (per_core * args.workers)
    out["loadavg_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    out["cores_on_machine"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
