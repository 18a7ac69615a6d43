"""Load test of the production shape through gunicorn (4 workers), loopback only, bounded.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/bench_load.py [--requests 300] [--concurrency 8] [--rounds 3]

Starts deploy/serve (supervisord: gunicorn WEB_CONCURRENCY=4, a Celery worker -c 2, beat) on
127.0.0.1:9750 against a fresh database of that name (dropped and re-created: give it its own
name) loaded with the demo data, then times, with a thread pool of HTTP clients (requests):

- ``GET /api/v1/samples/?limit=50`` — the sample list, as the web list and scripts read it;
- ``POST /api/v1/measurements/`` — uploads of distinct PL spectra (each a new file, 201);

each as ``--rounds`` rounds of ``--requests`` requests at ``--concurrency`` clients, after a
warm-up. Prints p50/p95/max latency and requests/s per round, the median over rounds and the
spread, and how long the worker took to analyse every upload. Every request goes to 127.0.0.1,
counts and time are bounded (it stops by itself). The machine is shared: figures are indicative.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
from _server import pg_args, port_free_or_exit, sh, stop_group, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PORT = 9750
BASE = f"http://127.0.0.1:{PORT}"  # loopback only
MAX_SECONDS = 900  # the whole run stops by itself
ANALYSIS_WAIT_S = 240  # how long to watch the worker drain the uploads afterwards


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("ledger_bench"):
        sys.exit(f"refusing to drop {name!r}: the benchmark database's name must start with ledger_bench")
    with psycopg.connect(**pg_args(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(session_factory, make_request, n: int, concurrency: int) -> tuple[list[float], float, int]:
    sessions = [session_factory() for _ in range(concurrency)]

    def one(i: int) -> tuple[float, int]:
        started = time.perf_counter()
        status = make_request(sessions[i % concurrency], i)
        return time.perf_counter() - started, status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    errors = sum(1 for _, status in results if status >= 400)
    return [t for t, _ in results], wall, errors


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    q = statistics.quantiles(latencies, n=20, method="inclusive")
    return {"p50_ms": statistics.median(latencies) * 1000, "p95_ms": q[18] * 1000, "max_ms": max(latencies) * 1000,
            "rps": len(latencies) / wall}


def report(name: str, rounds: list[dict[str, float]]) -> None:
    print(f"\n{name}")
    for i, r in enumerate(rounds, 1):
        print(f"  round {i}: p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms  {r['rps']:6.1f} req/s")
    for key, unit in (("p50_ms", "ms"), ("p95_ms", "ms"), ("rps", "req/s")):
        values = [r[key] for r in rounds]
        print(f"  median {key:6s} {statistics.median(values):7.1f} {unit}  (spread {min(values):.1f}–{max(values):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops the servers (finally below)
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ledger_bench")
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/7")
    if not db_url.startswith("postgres"):
        sys.exit("DATABASE_URL must be PostgreSQL (the production shape)")
    port_free_or_exit(PORT)
    deadline = time.monotonic() + MAX_SECONDS
    recreate_database(db_url)
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    env = {**os.environ, "DATABASE_URL": db_url, "MEDIA_ROOT": str(work / "media"), "SECRET_KEY": secrets.token_urlsafe(50),
           "LEDGER_HTTPS": "false", "LEDGER_BIND": f"127.0.0.1:{PORT}", "WEB_CONCURRENCY": "4",
           "LEDGER_RUN_DIR": str(work / "run"), "CELERY_QUEUE": f"ledger-bench-{secrets.token_hex(4)}",
           "LOG_LEVEL": "WARNING", "LEDGER_CELERY_LOG_LEVEL": "warning"}
    env.pop("CELERY_BROKER_URL", None)  # the demo's own files are analysed in-process while loading
    sh([PY, "manage.py", "migrate", "--noinput", "-v0"], env)
    sh([PY, "manage.py", "load_demo"], env)
    env["CELERY_BROKER_URL"] = broker
    key = sh([PY, "manage.py", "issue_token", "demo", "--name", "bench"], env).strip().splitlines()[-1]
    film = sh([PY, "manage.py", "shell", "-c",
               "from samples.models import Sample; print(Sample.objects.filter(kind='film').order_by('id').first().label)"],
              env).strip().splitlines()[-1]
    log = open(work / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([str(ROOT / "deploy" / "serve")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_ready(proc, f"{BASE}/readyz", what="deploy/serve", timeout_s=240, interval_s=1)
        headers = {"Authorization": f"Token {key}"}

        def session():
            s = requests.Session()
            s.headers.update(headers)
            return s

        def list_samples(s, i):
            return s.get(f"{BASE}/api/v1/samples/", params={"limit": 50}, timeout=60).status_code

        pl = (ROOT / "tests" / "data" / "public" / "pl_spectrum.txt").read_text()
        counter = iter(range(10**9))

        def upload(s, i):
            n = next(counter)
            body = pl.replace("User: lab", f"User: bench-{n}").encode()
            return s.post(f"{BASE}/api/v1/measurements/", files={"file": (f"pl_bench_{n}.txt", body)},
                          data={"sample": film, "kind": "pl"}, timeout=60).status_code

        print(f"gunicorn: 4 workers; {args.rounds} rounds × {args.requests} requests, {args.concurrency} clients; "
              f"{os.cpu_count()} CPUs (shared: indicative figures)")
        for name, func in (("GET /api/v1/samples/?limit=50", list_samples), ("POST /api/v1/measurements/ (PL upload)", upload)):
            timed(session, func, 20, args.concurrency)  # warm-up: imports, connections, caches
            rounds = []
            for _ in range(args.rounds):
                if time.monotonic() > deadline:
                    sys.exit("time budget used up")
                latencies, wall, errors = timed(session, func, args.requests, args.concurrency)
                if errors:
                    sys.exit(f"{name}: {errors} error responses")
                rounds.append(summary(latencies, wall))
            report(name, rounds)
        uploads = 20 + args.rounds * args.requests

        def by_status():
            return requests.get(f"{BASE}/readyz", timeout=30).json().get("files", {}).get("by_status", {})

        first, started = by_status(), time.perf_counter()
        files = first
        while time.perf_counter() - started < ANALYSIS_WAIT_S and time.monotonic() < deadline:
            files = by_status()
            if files.get("queued", 1) == 0 and files.get("running", 1) == 0:
                break
            time.sleep(2)
        waited = time.perf_counter() - started
        analysed = files.get("done", 0) + files.get("failed", 0) - first.get("done", 0) - first.get("failed", 0)
        left = files.get("queued", 0) + files.get("running", 0)
        print(f"\nworker (-c 2, beside the web): {analysed} PL files analysed in {waited:.0f} s after the last upload "
              f"({analysed / waited:.1f} files/s); {left} of {uploads} still waiting when the watch stopped")
    finally:
        stop_group(proc, timeout_s=120)
        log.close()


if __name__ == "__main__":
    main()
