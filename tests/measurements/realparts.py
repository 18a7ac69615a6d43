"""The real parts for the pipeline's fault tests: a redis-server of the test's own (on a port in
9800–9899, stopped and started at will — never the shared one), real Celery workers (prefork, two
processes, with the beat sweep) on a private queue, and the test's PostgreSQL database.

In CI (``CI=true``) a missing part fails the test; on a laptop without one it is skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(9800, 9900)


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real-parts test: {reason}")
    pytest.skip(reason)


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        unavailable(f"the workers need a database they can share: PostgreSQL, not {connection.vendor}")


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 9800–9899")


class RedisServer:
    """A throwaway redis-server: ``stop()`` is a broker outage, ``start()`` brings it back on the
    same port (empty: nothing persisted, as after a restart of a cache-only Redis)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="ledger-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not come up on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def publishing_to(broker_url: str, queue: str):
    """Make this (test) process publish to ``broker_url``/``queue``: the web side of an upload."""
    from config.celery import app

    old = app.conf.broker_url, app.conf.task_default_queue, app.conf.broker_connection_timeout
    # Celery reads CELERY_BROKER_URL from the environment before its own conf (CI sets it for the
    # shared broker), so the override must go there too or uploads reach the wrong broker.
    old_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    app.conf.broker_url, app.conf.task_default_queue = broker_url, queue
    app.conf.broker_connection_timeout = 2
    _reset_pools(app)
    try:
        yield app
    finally:
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        app.conf.broker_url, app.conf.task_default_queue, app.conf.broker_connection_timeout = old
        _reset_pools(app)


def _reset_pools(app) -> None:
    # Producers and connections are pooled per broker URL at first use (kombu's global pools);
    # drop them all so the next publish connects to the URL now configured.
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class Worker:
    """``celery worker -c 2`` (prefork) with the beat sweep embedded, on a private queue."""

    def __init__(self, broker_url: str, queue: str, *, media_root: str, env: dict[str, str] | None = None,
                 concurrency: int = 2) -> None:
        db = connection.settings_dict
        self.schedule = tempfile.mktemp(prefix="ledger-beat-")
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url, "CELERY_QUEUE": queue, "MEDIA_ROOT": media_root,
            "LEDGER_SWEEP_INTERVAL_S": "2", "LEDGER_REQUEUE_AFTER_S": "3",
            **(env or {}),
        }
        self.args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", str(concurrency),
                     "--pool", "prefork", "-B", "-s", self.schedule, "-l", "info", "-n", f"test-{uuid.uuid4().hex[:6]}@%h",
                     "--without-heartbeat", "--without-gossip", "--without-mingle"]
        self.log = tempfile.NamedTemporaryFile(prefix="ledger-worker-", suffix=".log", delete=False)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        """The pool's process ids (the prefork children that run the tasks)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for path in (self.schedule, f"{self.schedule}.db"):
            Path(path).unlink(missing_ok=True)
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")


def wait_for(predicate, timeout_s: float, *, what: str, workers=()) -> float:
    """Poll until ``predicate()``; fail with ``what`` after ``timeout_s``. Returns the seconds taken."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        for w in workers:
            if not w.alive():
                pytest.fail(f"the worker exited with {w.proc.returncode}")
        time.sleep(0.25)
    pytest.fail(f"{what}: not within {timeout_s:.0f} s")
