"""Long fuzzing run of every file reader: mutated seed files and random bytes, in worker processes.

Measured: for each reader (the io readers of tests/fuzz_readers.py, and the registry imports of
missing persons, pedigrees and autosomal profiles, each on its own SQLite registry filled by
``registry_for_fuzzing``), ``--n`` inputs (default 2,000; the long run is ``--n 100000``), half
mutations of a valid seed file and half random bytes, split in chunks of ``--chunk`` inputs run
by ``--jobs`` processes (each chunk with its own random stream, ``seed:reader:chunk``). Checked in
the same run: every input either reads or raises a DogtagError (anything else is an escape,
counted and printed; each worker's address space is capped, so a reader that allocates without
bound is an escape too), and after every refused registry import the database is unchanged (chain
heads and the row count of every table compared with their values before that input). Figures
per reader: inputs, accepted, refused, escapes, changed_after_failure, CPU seconds (summed over
the workers); and the run's wall time. The last line is one JSON object. Inputs are files in a
temporary folder: point TMPDIR at a memory file system to measure the readers, not the disk.

    TMPDIR=/dev/shm python benchmarks/fuzz.py --n 100000 --seed 1 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from dogtag.errors import DogtagError  # noqa: E402
from fuzz_readers import REGISTRY_SEEDS, mutate, readers, registry_for_fuzzing  # noqa: E402

REGISTRY = {f"registry import ({kind})": kind for kind in REGISTRY_SEEDS}
COUNTS = ("inputs", "accepted", "refused", "escapes", "changed_after_failure")


def _inputs(seed_file: bytes, n: int, rng: random.Random) -> Iterator[bytes]:
    for k in range(n):
        yield rng.randbytes(rng.randint(0, 400)) if k % 2 else mutate(seed_file, rng)


def _escape(where: str, data: bytes, out: dict[str, Any]) -> None:
    out["escapes"] += 1
    if out["escapes"] <= 3:
        print(f"ESCAPE in {where}: {data[:200]!r}\n{traceback.format_exc()}", file=sys.stderr)


def _state_query() -> Any:
    from sqlalchemy import text

    from dogtag.registry.base import Base

    counts = ", ".join(f"(select count(*) from {t.name})" for t in Base.metadata.sorted_tables)
    return text(f"select {counts}"), text("select name, seq, hash, mac from chain_head order by name")


def _state(engine: Any, queries: Any) -> tuple[Any, ...]:
    """Chain heads and the row count of every table."""
    with engine.connect() as conn:
        return tuple(conn.execute(queries[0]).one()), tuple(conn.execute(queries[1]))


def _fuzz_io(name: str, n: int, rng: random.Random, folder: Path, out: dict[str, Any]) -> None:
    seed_file, suffix, read = readers()[name]
    path = folder / f"input{suffix}"
    for data in _inputs(seed_file, n, rng):
        path.write_bytes(data)
        out["inputs"] += 1
        try:
            read(path)
            out["accepted"] += 1
        except DogtagError:
            out["refused"] += 1
        except Exception:  # what the fuzzing looks for
            _escape(name, data, out)


def _fuzz_registry(kind: str, n: int, rng: random.Random, folder: Path, out: dict[str, Any]) -> None:
    from dogtag.registry.engine import make_engine, upgrade
    from dogtag.registry.imports import import_file

    engine = make_engine(f"sqlite:///{folder / 'registry.sqlite'}")
    upgrade(engine)
    registry_for_fuzzing(engine, folder)
    path = folder / f"{kind}.csv"
    queries = _state_query()
    state = _state(engine, queries)
    for data in _inputs(REGISTRY_SEEDS[kind].encode(), n, rng):
        path.write_bytes(data)
        out["inputs"] += 1
        try:
            import_file(engine, kind, path, actor="fuzz")
            out["accepted"] += 1
            state = _state(engine, queries)
        except DogtagError:
            out["refused"] += 1
            if _state(engine, queries) != state:
                out["changed_after_failure"] += 1
                state = _state(engine, queries)
        except Exception:  # what the fuzzing looks for
            _escape(f"registry import ({kind})", data, out)
            state = _state(engine, queries)
    engine.dispose()


def _limit_memory(gib: float) -> None:
    """Cap this worker's address space: a reader that allocates without bound then raises
    MemoryError (an escape, with its input printed) instead of taking the machine down."""
    import resource

    cap = int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))


def chunk(name: str, n: int, seed: int, index: int) -> dict[str, Any]:
    """Fuzz ``n`` inputs of one reader in a fresh temporary folder (a worker's task)."""
    out: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    rng = random.Random(f"{seed}:{name}:{index}")
    warnings.simplefilter("ignore")  # a reader's warnings about what it read are not failures
    c0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DOGTAG_LEDGER_KEY_FILE"] = str(Path(tmp) / "ledger.key")
        if name in REGISTRY:
            _fuzz_registry(REGISTRY[name], n, rng, Path(tmp), out)
        else:
            _fuzz_io(name, n, rng, Path(tmp), out)
    out["cpu_s"] = time.process_time() - c0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="Fuzz every file reader.")
    ap.add_argument("--n", type=int, default=2000, help="inputs per reader (100000 for the long run)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--chunk", type=int, default=5000, help="inputs per task")
    ap.add_argument("--only", default="", help="fuzz only the readers whose name contains this")
    ap.add_argument("--max-memory-gib", type=float, default=2.0, help="address space of each worker")
    args = ap.parse_args()
    names = [name for name in (*readers(), *REGISTRY) if args.only in name]
    tasks = [(name, min(args.chunk, args.n - start), args.seed, start // args.chunk)
             for name in names for start in range(0, args.n, args.chunk)]
    results: dict[str, dict[str, Any]] = {name: {**dict.fromkeys(COUNTS, 0), "cpu_s": 0.0} for name in names}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_limit_memory,
                             initargs=(args.max_memory_gib,)) as pool:
        futures = {pool.submit(chunk, name, n, seed, index): name for name, n, seed, index in tasks}
        for done, future in enumerate(as_completed(futures), 1):
            name = futures[future]
            for k, v in future.result().items():
                results[name][k] += v
            print(f"[{done}/{len(tasks)} chunks, {time.perf_counter() - t0:.0f} s] {name}: {results[name]}",
                  file=sys.stderr, flush=True)
    wall = time.perf_counter() - t0
    for name, r in results.items():
        r["cpu_s"] = round(r["cpu_s"], 1)
        if name not in REGISTRY:
            del r["changed_after_failure"]
        print(f"{name:32} {r}", file=sys.stderr)
    ok = all(r["inputs"] == args.n and r["escapes"] == 0 and r.get("changed_after_failure", 0) == 0
             for r in results.values())
    print(json.dumps({"benchmark": "fuzz", "n_per_reader": args.n, "seed": args.seed, "jobs": args.jobs,
                      "ok": ok, "wall_s": round(wall, 1),
                      "cpu_s": round(sum(r["cpu_s"] for r in results.values()), 1),
                      "load": os.getloadavg()[0], "readers": results}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
