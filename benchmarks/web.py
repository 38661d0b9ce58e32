"""Page times of the workbench at scale: 100,000 missing persons and 1,000,000 samples.

1. Builds a registry (real migrations) in a temporary SQLite file and bulk-inserts synthetic rows
   with SQLAlchemy Core (seeded RNG): conflicts, loss incidents, missing persons, families with
   profiles, operations, accessions, elements, samples, sample profiles, custody transfers and
   identifications.
2. Serves it with ``uvicorn`` (one worker, a subprocess) on 127.0.0.1 and a free port.
3. Sends a fixed number of GET requests over the main pages with a fixed concurrency (httpx,
   logged in as an analyst; the dashboard also anonymously) and reports p50/p95 page times.

The last line of the output is one JSON object.

Example: python benchmarks/web.py --persons 100000 --samples 1000000 --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import insert

from dogtag.registry import ledger
from dogtag.registry.base import table_of
from dogtag.registry.engine import make_engine, session_scope, upgrade
from dogtag.registry.models import (
    Accession,
    Conflict,
    Element,
    Family,
    FamilyMember,
    FieldOperation,
    Identification,
    IdentificationEvent,
    LossIncident,
    MissingPerson,
    Profile,
    Sample,
)
from dogtag.registry.users import add_user

STATES = ["OHIO", "TEXAS", "NEW YORK", "PENNSYLVANIA", "CALIFORNIA", "ILLINOIS", "MICHIGAN",
          "GEORGIA", "VIRGINIA", "KENTUCKY", "MISSOURI", "ALABAMA", "IOWA", "OREGON", "MAINE"]
BRANCHES = ["ARMY", "MARINE CORPS", "NAVY", "AIR FORCE"]
STATUSES = ["missing", "missing_in_action", "kia_body_not_recovered", "presumed_dead",
            "non_recoverable", "buried_unknown", "identified", "returned_alive"]
CHUNK = 50_000


def _chunks(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(insert(table), rows[i:i + CHUNK])


def build(url: str, n_persons: int, n_samples: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    with session_scope(engine, "bench") as s:
        add_user(s, "analyst", "analyst-amber-lantern", "analyst")
    now = dt.datetime.now(dt.UTC)
    n_inc = max(1, n_persons // 100)
    n_acc = max(1, n_samples // 100)
    n_el = max(1, n_samples // 10)
    n_fam = max(1, n_persons // 10)
    with engine.begin() as conn:
        _chunks(conn, table_of(Conflict), [{"id": i + 1, "name": n} for i, n in enumerate(
            ["Korean War", "World War II", "Vietnam War"])])
        _chunks(conn, table_of(LossIncident), [
            {"id": i + 1, "key": f"INC-{i + 1:06d}", "conflict_id": 1 + i % 3,
             "date": dt.date(1950, 6, 25) + dt.timedelta(days=int(i % 1000)), "place": f"Hill {i}",
             "latitude": float(rng.uniform(34, 42)), "longitude": float(rng.uniform(124, 130))}
            for i in range(n_inc)])
        status = rng.choice(len(STATUSES), size=n_persons, p=[.3, .2, .15, .15, .05, .05, .07, .03])
        _chunks(conn, table_of(MissingPerson), [
            {"id": i + 1, "service_number": f"SN{i + 1:08d}", "conflict_id": 1 + i % 3,
             "incident_id": 1 + i % n_inc, "last_name": f"NAME{i % 9973:04d}", "first_name": "JOHN",
             "branch": BRANCHES[i % 4], "home_state": STATES[i % len(STATES)],
             "loss_date": dt.date(1950, 6, 25) + dt.timedelta(days=int(i % 1100)), "sex": 1,
             "status": STATUSES[int(status[i])], "version": 1}
            for i in range(n_persons)])
        _chunks(conn, table_of(Family), [{"id": f + 1, "name": f"FAM-{f + 1:06d}"} for f in range(n_fam)])
        members, fprofiles = [], []
        for f in range(n_fam):
            base = f * 4
            fam = f + 1
            members += [
                {"id": base + 1, "family_id": fam, "member": "FA", "sex": 1, "missing": False,
                 "maternal_root": "FA", "paternal_root": "FA"},
                {"id": base + 2, "family_id": fam, "member": "MO", "sex": 2, "missing": False,
                 "maternal_root": "MO", "paternal_root": "MO", "relationship_to_missing": "mother"},
                {"id": base + 3, "family_id": fam, "member": "MP", "father": "FA", "mother": "MO",
                 "sex": 1, "missing": True, "missing_person_id": f * 10 + 1, "maternal_root": "MO",
                 "paternal_root": "FA"},
                {"id": base + 4, "family_id": fam, "member": "SIS", "father": "FA", "mother": "MO",
                 "sex": 2, "missing": False, "maternal_root": "MO", "paternal_root": "FA",
                 "relationship_to_missing": "sister"}]
            fprofiles.append({"kind": "autosomal", "family_member_id": base + 4,
                              "data": {"D3S1358": ["15", "16"], "vWA": ["17", "18"]}})
        # executemany takes its columns from the first row: give every row every column
        cols = {k for m in members for k in m}
        _chunks(conn, table_of(FamilyMember), [{c: m.get(c) for c in cols} for m in members])
        _chunks(conn, table_of(Profile), fprofiles)
        _chunks(conn, table_of(FieldOperation), [
            {"id": i + 1, "key": f"OP-{i + 1:04d}", "kind": ["recovery", "turnover", "disinterment",
                                                           "investigation"][i % 4]} for i in range(100)])
        _chunks(conn, table_of(Accession), [
            {"id": i + 1, "key": f"ACC-{i + 1:07d}", "operation_id": 1 + i % 100,
             "received_date": dt.date(2000, 1, 1) + dt.timedelta(days=i % 8000)} for i in range(n_acc)])
        _chunks(conn, table_of(Element), [
            {"id": i + 1, "key": f"EL-{i + 1:08d}", "accession_id": 1 + (i * n_acc) // n_el,
             "element": ["femur", "tibia", "humerus", "cranium", "rib"][i % 5], "side": "U"}
            for i in range(n_el)])
        rows = []
        for i in range(n_samples):
            rows.append({"id": i + 1, "key": f"S-{i + 1:08d}", "element_id": 1 + (i * n_el) // n_samples,
                         "material": "bone", "sex": 0, "lab": "LAB"})
            if len(rows) == CHUNK:
                conn.execute(insert(table_of(Sample)), rows)
                rows = []
        if rows:
            conn.execute(insert(table_of(Sample)), rows)
        _chunks(conn, table_of(Profile), [
            {"kind": "autosomal", "sample_id": i + 1, "data": {"D3S1358": ["15", "16"], "vWA": ["17", "19"]}}
            for i in range(0, n_samples, 10)])
        ledger.append(conn, "custody", [
            {"item_kind": "accession", "item_key": f"ACC-{i + 1:07d}", "from_party": None,
             "to_party": "laboratory", "place": None, "at": now, "purpose": "accession",
             "actor": "bench", "recorded_at": now} for i in range(n_acc)])
        n_id = max(1, n_persons // 100)
        _chunks(conn, table_of(Identification), [
            {"id": i + 1, "missing_person_id": 1 + (i * 97) % n_persons, "sample_id": 1 + i * 10,
             "lr": 1e8, "log10_lr": 8.0, "posterior": 0.999,
             "evidence": [{"kind": "autosomal", "lr": 1e8, "markers": {"D3S1358": 10.0, "vWA": 1e7}}],
             "status": ["proposed", "technical_review", "administrative_review", "approved"][i % 4],
             "proposed_by": "analyst", "proposed_at": now, "version": 1} for i in range(n_id)])
        _chunks(conn, table_of(IdentificationEvent), [
            {"identification_id": i + 1, "to_status": "proposed", "actor": "analyst", "at": now,
             "reason": "bench"} for i in range(n_id)])
    engine.dispose()
    return {"load_s": round(time.perf_counter() - t0, 1), "persons": n_persons, "samples": n_samples,
            "accessions": n_acc, "elements": n_el, "families": n_fam, "identifications": n_id}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pages(rng: random.Random, sizes: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(kind, path, logged_in) of each request, in order."""
    n_p, n_a, n_s, n_i = sizes["persons"], sizes["accessions"], sizes["samples"], sizes["identifications"]
    kinds = [
        ("dashboard (anonymous)", lambda: "/dashboard", False),
        ("dashboard.json", lambda: "/dashboard.json", True),
        ("persons list", lambda: f"/persons?page={rng.randint(1, n_p // 50)}", True),
        ("persons search", lambda: f"/persons?q=NAME{rng.randint(0, 9972):04d}", True),
        ("person file", lambda: f"/persons/{rng.randint(1, n_p)}", True),
        ("person file (family)", lambda: f"/persons/{rng.randrange(0, n_p // 10) * 10 + 1}", True),
        ("person.json", lambda: f"/persons/{rng.randint(1, n_p)}.json", True),
        ("pedigree.svg", lambda: f"/persons/{(f := rng.randrange(0, n_p // 10)) * 10 + 1}/families/{f + 1}/pedigree.svg", True),
        ("accessions list", lambda: f"/accessions?page={rng.randint(1, max(1, n_a // 50))}", True),
        ("accession", lambda: f"/accessions/{rng.randint(1, n_a)}", True),
        ("sample", lambda: f"/samples/{rng.randint(1, n_s)}", True),
        ("review queue", lambda: "/identifications", True),
        ("match page", lambda: f"/identifications/{rng.randint(1, n_i)}", True),
    ]
    return [(k, f(), li) for k, f, li in kinds]


async def load(base: str, n_requests: int, concurrency: int, sizes: dict[str, Any], seed: int
               ) -> dict[str, list[float]]:
    import httpx

    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as user, \
            httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as anon:
        login = await user.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token is not None
        r = await user.post("/login", data={"username": "analyst", "password": "analyst-amber-lantern",
                                            "csrf_token": token.group(1)})
        assert r.status_code == 303, r.text
        plan = []
        while len(plan) < n_requests:
            plan += pages(rng, sizes)
        plan = plan[:n_requests]
        times: dict[str, list[float]] = {}
        errors: list[str] = []
        sem = asyncio.Semaphore(concurrency)

        async def one(kind: str, path: str, logged_in: bool) -> None:
            async with sem:
                t = time.perf_counter()
                resp = await (user if logged_in else anon).get(path)
                elapsed = (time.perf_counter() - t) * 1000
            if resp.status_code != 200:
                errors.append(f"{resp.status_code} {path}")
            times.setdefault(kind, []).append(elapsed)

        # warm-up: one request of each kind (fills the statistics cache, the connection pool)
        for kind, path, li in pages(rng, sizes):
            await one(kind + " (warm-up)", path, li)
        await asyncio.gather(*(one(*p) for p in plan))
        if errors:
            raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:5]}")
        return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--database", help="reuse (or keep) this SQLite file")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = Path(args.database) if args.database else Path(tmp.name) / "bench.sqlite"
    url = f"sqlite:///{path}"
    meta_file = path.with_suffix(".json")
    if path.exists() and meta_file.exists():
        sizes = json.loads(meta_file.read_text())
        print(f"reusing {path}", file=sys.stderr)
    else:
        sizes = build(url, args.persons, args.samples, args.seed)
        meta_file.write_text(json.dumps(sizes))
        print(f"loaded {sizes}", file=sys.stderr)
    port = free_port()
    env = {**os.environ, "DOGTAG_DATABASE_URL": url, "DOGTAG_SECRET_KEY": "bench",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "dogtag.web:app_from_env", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              env=env)
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        t = time.perf_counter()
        times = asyncio.run(load(f"http://127.0.0.1:{port}", args.requests, args.concurrency, sizes,
                                 args.seed))
        wall = time.perf_counter() - t
    finally:
        server.terminate()
        server.wait(timeout=30)
    measured = {k: v for k, v in times.items() if not k.endswith("(warm-up)")}
    every = np.concatenate([np.asarray(v) for v in measured.values()])
    per_page = {k: {"n": len(v), "p50_ms": round(float(np.percentile(v, 50)), 1),
                    "p95_ms": round(float(np.percentile(v, 95)), 1)} for k, v in sorted(measured.items())}
    for k, v in sorted(times.items()):
        if k.endswith("(warm-up)"):
            per_page.setdefault(k[: -len(" (warm-up)")], {})["first_ms"] = round(v[0], 1)
    for k, row in per_page.items():
        print(f"{k:24s} n={row.get('n', 0):5d} p50={row.get('p50_ms', 0):7.1f} ms "
              f"p95={row.get('p95_ms', 0):7.1f} ms first={row.get('first_ms', 0):7.1f} ms", file=sys.stderr)
    result = {"benchmark": "web", **sizes, "requests": int(every.size), "concurrency": args.concurrency,
              "p50_ms": round(float(np.percentile(every, 50)), 1),
              "p95_ms": round(float(np.percentile(every, 95)), 1),
              "max_ms": round(float(every.max()), 1), "requests_per_s": round(every.size / wall, 1),
              "goal_p95_ms": 200, "per_page": per_page}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
