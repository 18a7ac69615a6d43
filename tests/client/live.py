"""A live LEDger for the client tests: gunicorn serving the real app from its own SQLite database
and media folder (copied from a template built once per test session), on a port of the 9400–9499
range, stoppable and restartable like a real server (SIGTERM: gunicorn finishes the requests in
flight, as a service manager's stop does).

Tasks run in-process in the server (embedded mode) unless ``broker`` is given; then a real Celery
worker process on that Redis database does them, on a queue of its own.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORT_RANGE = range(9400, 9500)


def free_port(worker: str | None = None) -> int:
    """A free port of this xdist worker's share of 9400–9499 (gw0 → 9400–9419, gw1 → 9420–9439 …)."""
    index = int((worker or os.environ.get("PYTEST_XDIST_WORKER", "gw0")).lstrip("gw") or 0)
    block = range(PORT_RANGE.start + 20 * (index % 5), PORT_RANGE.start + 20 * (index % 5) + 20)
    for port in block:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {block.start}–{block.stop - 1}")


def build_template(base: Path) -> dict:
    """Migrated database + demo data + tokens, built once per session (xdist workers share it)."""
    base.mkdir(parents=True, exist_ok=True)
    info = base / "info.json"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not info.exists():
            # From nothing every time: a build that timed out or failed half-way leaves a database
            # whose demo exists but whose summary was never printed.
            (base / "db.sqlite3").unlink(missing_ok=True)
            shutil.rmtree(base / "media", ignore_errors=True)
            env = server_env(base)
            # The demo with its campaign (~300 files analysed) is ~1 min on a quiet core; CI runs
            # it beside the rest of the suite on 2 cores, where it has taken over 5 minutes.
            proc = subprocess.run([sys.executable, str(ROOT / "tests" / "client" / "live_setup.py")], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=1200)
            if proc.returncode:
                raise RuntimeError(f"live_setup failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            info.write_text(proc.stdout.strip().splitlines()[-1])
    return json.loads(info.read_text())


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({
        "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
        "MEDIA_ROOT": str(home / "media"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LEDGER_THROTTLE_USER": "100000/min",
        "LOG_LEVEL": "WARNING",
        "OPENBLAS_NUM_THREADS": "1",
        # Production defaults: a real key (the web process refuses the dev one without DEBUG) and
        # plain HTTP on loopback (else every request is redirected to https).
        "SECRET_KEY": "client-live-tests-" + "c" * 40,
        "LEDGER_HTTPS": "false",
        **extra,
    })
    return env


class LiveServer:
    def __init__(self, template: Path, home: Path, info: dict, *, broker: str | None = None, env: dict | None = None):
        shutil.copytree(template, home, ignore=shutil.ignore_patterns(".lock", "info.json"))
        self.home, self.info = home, info
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.queue = f"ledger-client-test-{uuid.uuid4().hex[:8]}" if broker else None
        extra = {"SITE_URL": self.url, **(env or {})}
        if broker:
            extra.update({"CELERY_BROKER_URL": broker, "CELERY_QUEUE": self.queue})
        self.env = server_env(home, **extra)
        self.proc: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.log = open(home / "server.log", "ab")

    def start(self, timeout_s: float = 60.0) -> LiveServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "4", "--graceful-timeout", "60", "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the live server did not answer in {timeout_s:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: requests in flight finish
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "1", "--pool", "solo",
             "-l", "warning", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def close(self) -> None:
        self.stop()
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.log.close()

    def tail(self, n: int = 4000) -> str:
        self.log.flush()
        return (self.home / "server.log").read_bytes()[-n:].decode(errors="replace")

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1/", headers={"Authorization": f"Token {token}"}, timeout=30)


def ledger_cmd(*args: str) -> list[str]:
    """The installed ``ledger`` entry point of this venv (what an instrument PC runs)."""
    return [str(BIN / "ledger"), *args]


def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
