"""Long fuzzing run of every file reader: mutated seed files and random bytes.

Measured: for each reader (the io readers of tests/fuzz_readers.py, and the registry import of
missing persons on a fresh SQLite registry), ``--n`` inputs (default 2,000; the long run is
``--n 100000``), half mutations of a valid seed file and half random bytes. Checked in the same
run: every input either reads or raises a DogtagError (anything else is an escape, counted and
printed), and the registry import leaves the database unchanged after every failure (chain heads
and row counts compared). Figures per reader: inputs, accepted, refused, escapes,
changed_after_failure, wall and CPU seconds. The last line is one JSON object.

    python benchmarks/fuzz.py --n 100000 --seed 1
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from dogtag.errors import DogtagError  # noqa: E402
from fuzz_readers import mutate, readers  # noqa: E402


def _inputs(seed_file: bytes, n: int, rng: random.Random) -> Iterator[bytes]:
    for k in range(n):
        if k % 2:
            yield bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
        else:
            yield mutate(seed_file, rng)


def _escape(where: str, data: bytes, out: dict[str, Any]) -> None:
    out["escapes"] += 1
    if out["escapes"] <= 3:
        print(f"ESCAPE in {where}: {data[:200]!r}\n{traceback.format_exc()}", file=sys.stderr)


def fuzz_reader(name: str, n: int, seed: int, folder: Path) -> dict[str, Any]:
    seed_file, suffix, read = readers()[name]
    rng = random.Random(f"{seed}:{name}")
    out: dict[str, Any] = {"inputs": 0, "accepted": 0, "refused": 0, "escapes": 0}
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
    return out


MISSING = (b"SERVICE_NUMBER,LAST_NAME,BRANCH,HOME_STATE,INCIDENT_DATE,BIRTH_YEAR\n"
           b"RA7,DOE,ARMY,OHIO,19501128,1930\nRA8,ROE,NAVY,IOWA,19510203,1931\n")


def _state(engine: Any) -> tuple[Any, ...]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return (tuple(conn.execute(text("select name, seq, hash from chain_head order by name"))),
                conn.scalar(text("select count(*) from missing_person")),
                conn.scalar(text("select count(*) from audit_log")))


def fuzz_registry(n: int, seed: int, folder: Path) -> dict[str, Any]:
    from dogtag.registry.engine import make_engine, upgrade
    from dogtag.registry.imports import import_file

    engine = make_engine(f"sqlite:///{folder / 'registry.sqlite'}")
    upgrade(engine)
    rng = random.Random(f"{seed}:registry")
    out: dict[str, Any] = {"inputs": 0, "accepted": 0, "refused": 0, "escapes": 0, "changed_after_failure": 0}
    path = folder / "missing.csv"
    for data in _inputs(MISSING, n, rng):
        path.write_bytes(data)
        before = _state(engine)
        out["inputs"] += 1
        try:
            import_file(engine, "missing", path, actor="fuzz")
            out["accepted"] += 1
        except DogtagError:
            out["refused"] += 1
            if _state(engine) != before:
                out["changed_after_failure"] += 1
        except Exception:  # what the fuzzing looks for
            _escape("registry import", data, out)
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="Fuzz every file reader.")
    ap.add_argument("--n", type=int, default=2000, help="inputs per reader (100000 for the long run)")
    ap.add_argument("--registry-n", type=int, default=None, help="inputs of the registry import (default --n)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DOGTAG_LEDGER_KEY_FILE", str(Path(tmp) / "ledger.key"))
        jobs = [(name, lambda name=name: fuzz_reader(name, args.n, args.seed, Path(tmp))) for name in readers()]
        jobs.append(("registry import (missing)",
                     lambda: fuzz_registry(args.registry_n or args.n, args.seed, Path(tmp))))
        for name, job in jobs:
            t0, c0 = time.perf_counter(), time.process_time()
            r = job()
            r["wall_s"], r["cpu_s"] = round(time.perf_counter() - t0, 2), round(time.process_time() - c0, 2)
            results[name] = r
            print(f"{name:28} {r}", file=sys.stderr)
    ok = all(r["escapes"] == 0 and r.get("changed_after_failure", 0) == 0 for r in results.values())
    print(json.dumps({"benchmark": "fuzz", "n_per_reader": args.n, "seed": args.seed, "ok": ok,
                      "load": os.getloadavg()[0], "readers": results}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
