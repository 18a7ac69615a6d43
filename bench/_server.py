"""What the benchmarks that start a real server share: running manage.py, connecting to their
PostgreSQL database, waiting for the server and stopping its process group (bench_load.py,
bench_upload.py). Run the scripts as ``python bench/<script>.py``: this folder is then on the path."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent


def sh(args, env, *, timeout: int = 600, **kw) -> str:
    """Run a command in the project folder; exit with its output's tail when it fails."""
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=timeout, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return done.stdout


def pg_args(url: str, *, dbname: str | None = None) -> dict:
    """psycopg.connect() arguments for a postgres:// URL (another database of that server with ``dbname``)."""
    parts = urlsplit(url)
    args = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "user": parts.username or "postgres",
            "dbname": dbname or parts.path.lstrip("/")}
    if parts.password:
        args["password"] = parts.password
    return args


def port_free_or_exit(port: int) -> None:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"port {port} is in use")


def wait_ready(proc: subprocess.Popen, url: str, *, what: str, timeout_s: float, interval_s: float) -> None:
    """Poll ``url`` until it answers 200; exit if the server process ends or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(interval_s)
    sys.exit(f"{what} did not become ready")


def stop_group(proc: subprocess.Popen, *, timeout_s: float) -> None:
    """SIGTERM the server's process group (started with start_new_session=True), SIGKILL if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
