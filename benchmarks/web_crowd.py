"""A crowd against the workbench: concurrent anonymous PDF reports, and login timing.

1. Seeds a small registry (the web tests' seed: two missing persons, one family, users) in a
   temporary SQLite file and serves it with uvicorn (one worker, in a thread of this process) on
   127.0.0.1.
2. Sends ``--crowd`` concurrent anonymous GET /reports/accounting.pdf and, while they run, GETs
   /dashboard.json every 0.1 s; reports the crowd's wall time and this process's CPU time (server
   and clients), the dashboard's worst latency, how many PDFs the server rendered, and checks that
   every answer is a PDF or a 503 (never another 5xx, never a reset).
3. Times failed logins with the default Argon2id costs: a wrong password for an existing user
   against an unknown user name (median of ``--logins`` each), in process.

The last line of the output is one JSON object.

Example: python benchmarks/web_crowd.py --crowd 30 --logins 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def crowd(base: str, n: int) -> dict[str, Any]:
    import httpx

    statuses: list[int] = []
    lock = threading.Lock()

    def fetch() -> None:
        try:
            r = httpx.get(f"{base}/reports/accounting.pdf", timeout=300)
            code = r.status_code if (r.status_code != 200 or r.content.startswith(b"%PDF")) else -1
        except httpx.TransportError:
            code = 0  # connection reset or refused
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=fetch) for _ in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    worst = 0.0
    while any(t.is_alive() for t in threads):
        t1 = time.perf_counter()
        r = httpx.get(f"{base}/dashboard.json", timeout=300)
        assert r.status_code == 200, r.status_code
        worst = max(worst, time.perf_counter() - t1)
        time.sleep(0.1)
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ok = statuses.count(200)
    assert all(s in (200, 503) for s in statuses), f"bad answers: {sorted(set(statuses))}"
    return {"crowd": n, "crowd_wall_s": round(wall, 2), "pdf_ok": ok, "pdf_busy_503": statuses.count(503),
            "dashboard_worst_s": round(worst, 3)}


def logins(url: str, n: int) -> dict[str, Any]:
    from dogtag.registry.engine import make_engine, sessions
    from dogtag.registry.users import AuthenticationError, authenticate

    engine = make_engine(url)

    def timed(name: str) -> float:
        t0 = time.perf_counter()
        with sessions(engine)() as s:
            try:
                authenticate(s, name, "wrong-password-guess")
            except AuthenticationError:
                pass
            else:
                raise AssertionError("a wrong password was accepted")
        return time.perf_counter() - t0

    timed("ann"), timed("nobody")  # warm up
    known = statistics.median(timed("ann") for _ in range(n))
    unknown = statistics.median(timed("nobody") for _ in range(n))
    engine.dispose()
    return {"login_wrong_password_s": round(known, 4), "login_unknown_user_s": round(unknown, 4),
            "login_ratio": round(unknown / known, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crowd", type=int, default=30)
    ap.add_argument("--logins", type=int, default=5)
    args = ap.parse_args()
    import uvicorn
    from tests.web.conftest import free_port
    from tests.web.seed import seed

    from dogtag.registry.engine import make_engine
    from dogtag.web import create_app
    from dogtag.web.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'registry.sqlite'}"
        engine = make_engine(url)
        seed(engine)
        engine.dispose()
        app = create_app(Settings(database_url=url, secret_key="bench"))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while not server.started:
                assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
            cpu0 = time.process_time()
            out = crowd(f"http://127.0.0.1:{port}", args.crowd)
            out["process_cpu_s"] = round(time.process_time() - cpu0, 2)
            out["pdf_renders"] = app.state.pdfs.renders
            if out["pdf_busy_503"] == 0:
                assert out["pdf_renders"] == 1, "the same report was rendered more than once"
        finally:
            server.should_exit = True
            thread.join(timeout=30)
        out.update(logins(url, args.logins))
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
