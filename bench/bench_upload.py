"""Sequential single-client upload latency through gunicorn (issue 15: p50 ≤ 30 ms), loopback only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_upload CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/bench_upload.py [--uploads 200] [--user alice] [--workers 2]

Runs gunicorn exactly as production does (``gunicorn -c deploy/gunicorn.conf.py config.wsgi:application``,
the command of deploy/supervisord.conf, WEB_CONCURRENCY workers, sync) on 127.0.0.1:9751 against the
given database *as it is* (load it first, e.g. ``bench/scale.py --scale 0.2`` for 64k measurement
files; the script only adds the uploads and one API token). Celery queues on the given Redis;
no worker runs, so every upload is only stored and queued, as the web process does it.

One client (a ``requests.Session``, keep-alive) POSTs ``--uploads`` distinct PL spectra (every file new:
201) one after the other, then as many with a fresh ``Idempotency-Key`` each, then replays of
those keys (200, the first answer). Each phase after a warm-up of 20; the floors are a GET of
``/healthz`` (gunicorn + middleware, no database) and of a one-row sample page (token + a query). Prints p50/p90/max, the rows in
``measurements_measurementfile`` before and after, the load average and the number of gunicorn workers.
The machine is shared: the load average is printed with the figures. Bounded: stops by itself.
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
from pathlib import Path
from urllib.parse import urlsplit

import requests
from _server import pg_args, port_free_or_exit, sh, stop_group, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PORT = 9751
BASE = f"http://127.0.0.1:{PORT}"  # loopback only
MAX_SECONDS = 600
WARMUP = 20


def file_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(**pg_args(url)) as conn:
        return conn.execute("SELECT count(*) FROM measurements_measurementfile").fetchone()[0]


def stats(latencies: list[float]) -> str:
    ms = sorted(t * 1000 for t in latencies)
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[8]
    return f"p50 {statistics.median(ms):6.1f} ms  p90 {p90:6.1f} ms  max {ms[-1]:6.1f} ms  (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--user", default="alice", help="an existing user; a sample of one of their projects is used")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres") or not urlsplit(db_url).path.lstrip("/").startswith(("ledger_upload", "ledger_bench")):
        sys.exit("DATABASE_URL must be a PostgreSQL database named ledger_upload* or ledger_bench* (it gets uploads)")
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    port_free_or_exit(PORT)
    deadline = time.monotonic() + MAX_SECONDS
    work = Path(tempfile.mkdtemp(prefix="ledger-upload-bench-"))
    queue = f"ledger-upload-bench-{secrets.token_hex(4)}"  # nobody consumes it; deleted at the end
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker, "CELERY_QUEUE": queue,
           "MEDIA_ROOT": str(work / "media"), "SECRET_KEY": secrets.token_urlsafe(50), "LEDGER_HTTPS": "false",
           "LEDGER_BIND": f"127.0.0.1:{PORT}", "WEB_CONCURRENCY": str(args.workers), "LEDGER_RUN_DIR": str(work / "run"),
           "LOG_LEVEL": "WARNING", "LEDGER_MANIFEST_STATIC": "false"}
    (work / "run").mkdir()
    key = sh([PY, "manage.py", "issue_token", args.user, "--name", f"bench-upload-{secrets.token_hex(3)}"], env).strip().splitlines()[-1]
    sample = sh([PY, "manage.py", "shell", "-c",
                 "from django.contrib.auth import get_user_model; from samples.models import Sample; "
                 f"u = get_user_model().objects.get(username={args.user!r}); "
                 "qs = Sample.objects.order_by('id') if u.is_superuser else Sample.objects.filter(project__members=u).order_by('id'); "
                 "print(qs.first().label)"], env).strip().splitlines()[-1]
    rows_before = file_rows(db_url)
    log = open(work / "gunicorn.log", "w")  # noqa: SIM115
    # The production command (deploy/supervisord.conf [program:web], deploy/systemd, compose, Dockerfile).
    proc = subprocess.Popen([GUNICORN, "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(proc, f"{BASE}/healthz", what="gunicorn", timeout_s=120, interval_s=0.5)  # readyz wants a worker
        session = requests.Session()
        session.headers["Authorization"] = f"Token {key}"
        pl = (ROOT / "tests" / "data" / "public" / "pl_spectrum.txt").read_text()
        run = secrets.token_hex(4)
        counter = iter(range(10**9))

        def upload(idem: str | None, expect: int) -> float:
            n = next(counter)
            body = pl.replace("User: lab", f"User: bench-{run}-{n}").encode()
            headers = {"Idempotency-Key": idem} if idem else {}
            started = time.perf_counter()
            r = session.post(f"{BASE}/api/v1/measurements/", files={"file": (f"pl_bench_{run}_{n}.txt", body)},
                             data={"sample": sample, "kind": "pl"}, headers=headers, timeout=60)
            took = time.perf_counter() - started
            if r.status_code != expect:
                sys.exit(f"upload {n}: {r.status_code} (expected {expect}): {r.text[:500]}")
            return took

        phases = [
            ("without Idempotency-Key (201)", lambda i: upload(None, 201)),
            ("with a new Idempotency-Key (201)", lambda i: upload(f"{run}-k-{i}", 201)),
            ("replaying those keys (200, the first answer)", lambda i: upload(f"{run}-k-{i}", 200)),
        ]
        print(f"gunicorn -c deploy/gunicorn.conf.py: {args.workers} sync workers; one sequential client; "
              f"{os.cpu_count()} CPUs (shared); user {args.user}, sample {sample}; "
              f"{rows_before:,} measurement-file rows before")
        def floor(path: str) -> float:
            started = time.perf_counter()
            r = session.get(f"{BASE}{path}", timeout=60)
            took = time.perf_counter() - started
            if r.status_code != 200:
                sys.exit(f"GET {path}: {r.status_code}")
            return took

        for path in ("/healthz", "/api/v1/samples/?limit=1"):  # floors: no database; token + a one-row page
            for _ in range(WARMUP):
                floor(path)
            load = os.getloadavg()
            latencies = [floor(path) for _ in range(args.uploads)]
            print(f"  {'floor: GET ' + path:46s} {stats(latencies)}  load {load[0]:.2f} → {os.getloadavg()[0]:.2f}")
        for name, func in phases:
            if name.startswith("with a new"):
                for i in range(-WARMUP, 0):
                    func(i)
            elif not name.startswith("replaying"):
                for _ in range(WARMUP):
                    func(0)
            load = os.getloadavg()
            latencies = []
            for i in range(args.uploads):
                if time.monotonic() > deadline:
                    sys.exit("time budget used up")
                latencies.append(func(i))
            print(f"  {name:46s} {stats(latencies)}  load {load[0]:.2f} → {os.getloadavg()[0]:.2f}")
        print(f"{file_rows(db_url):,} measurement-file rows after")
    finally:
        stop_group(proc, timeout_s=60)
        log.close()
        try:
            import redis

            r = redis.Redis.from_url(broker)  # the queue and kombu's binding keys for it
            r.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        except Exception as exc:  # noqa: BLE001
            print(f"(queue {queue} not deleted: {exc})")


if __name__ == "__main__":
    main()
