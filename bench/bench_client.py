"""Throughput of ``ledger push`` on loopback, and what the idle agent costs (issue 16).

    .venv/bin/python bench/bench_client.py [--files 30] [--rounds 3] [--idle-seconds 30]

Starts a live server (gunicorn, its own SQLite copy of the demo; tests/client/live.py) and times:

1. ``upload``: one ``ledger push --no-wait`` process sending N distinct EL spectra; the server
   queues each on Redis (database 4, a queue nobody consumes), so this is the upload path alone —
   HTTP, multipart, sha256, storage, the agent's journal. Floor: the same N POSTs from one
   in-process httpx client (no CLI, no journal).
2. ``end to end``: ``ledger push`` (waiting for each analysis) against an embedded-mode server,
   where each analysis runs inside its upload request: the server's analysis rate.
3. ``idle``: ``ledger watch`` on an empty folder (change events + 60 s safety rescan): CPU time
   over ``--idle-seconds`` and resident memory, from psutil.

Each round uses new bytes (nothing is deduplicated); medians and min–max of the rounds. The machine
is shared: figures are indicative.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.client.live import LiveServer, build_template, ledger_cmd  # noqa: E402

EL = (ROOT / "tests" / "data" / "public" / "el_spectrum.txt").read_bytes()
REDIS = os.environ.get("LEDGER_BENCH_REDIS", "redis://127.0.0.1:6379/4")


def write_files(folder: Path, n: int, tag: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"el_{tag}_{i:03d}.txt"
        p.write_bytes(EL.replace(b"User: glovebox", f"User: bench {tag} {i}".encode()))
        paths.append(p)
    return paths


def push(server: LiveServer, paths: list[Path], target: str, journal: Path, *wait: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(ledger_cmd("push", *map(str, paths), "--target", target, "--kind", "el", "--url", server.url,
                                     "--token", server.info["station_token"], "--journal", str(journal), *wait),
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"push failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def raw_posts(server: LiveServer, paths: list[Path], target: str) -> float:
    with httpx.Client(base_url=f"{server.url}/api/v1/", headers={"Authorization": f"Token {server.info['station_token']}"}) as c:
        t0 = time.perf_counter()
        for p in paths:
            r = c.post("measurements/", data={"sample": target, "kind": "el"}, files={"file": (p.name, p.read_bytes())})
            r.raise_for_status()
        return time.perf_counter() - t0


def summary(label: str, n: int, times: list[float]) -> str:
    rates = sorted(n / t for t in times)
    return f"{label:<34} {statistics.median(rates):7.1f} files/s  (min {rates[0]:.1f}, max {rates[-1]:.1f}; {len(times)} rounds of {n})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    try:
        template = work / "template"
        info = build_template(template)
        pixels = [p for p in info["pixels"] if p.startswith(info["devices"]["QD-only control LED, stack A"])]
        lines = []

        queued = LiveServer(template, work / "queued", info, broker=REDIS).start()
        try:
            push_t, raw_t = [], []
            for r in range(args.rounds):
                push_t.append(push(queued, write_files(work / f"p{r}", args.files, f"p{r}"), pixels[0],
                                   work / f"j{r}.sqlite3", "--no-wait"))
                raw_t.append(raw_posts(queued, write_files(work / f"r{r}", args.files, f"r{r}"), pixels[1]))
            lines.append(summary("ledger push --no-wait (upload)", args.files, push_t))
            lines.append(summary("floor: httpx POST loop, in-process", args.files, raw_t))
        finally:
            queued.close()
            import redis

            redis.Redis.from_url(REDIS).delete(queued.queue)

        embedded = LiveServer(template, work / "embedded", info).start()
        try:
            n = max(args.files // 3, 5)
            e2e = [push(embedded, write_files(work / f"e{r}", n, f"e{r}"), pixels[2], work / f"je{r}.sqlite3")
                   for r in range(args.rounds)]
            lines.append(summary("ledger push, analysis included", n, e2e))

            empty = work / "idle"
            empty.mkdir()
            agent = subprocess.Popen(ledger_cmd("watch", str(empty), "--target", pixels[3], "--url", embedded.url,
                                                "--token", info["station_token"], "--journal", str(work / "idle.sqlite3")),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                proc = psutil.Process(agent.pid)
                time.sleep(5)  # start-up (imports, first scan) is not idling
                c0, t0 = proc.cpu_times(), time.perf_counter()
                time.sleep(args.idle_seconds)
                c1, t1 = proc.cpu_times(), time.perf_counter()
                cpu_s = (c1.user - c0.user) + (c1.system - c0.system)
                rss_mb = proc.memory_info().rss / 2**20
                uss_mb = proc.memory_full_info().uss / 2**20
                # psutil's CPU times tick in 10 ms: below that, say so rather than print 0.
                cpu = f"{cpu_s * 1000:.0f} ms" if cpu_s else "< 10 ms"
                lines.append(f"{'ledger watch, idle':<34} {100 * max(cpu_s, 0.01) / (t1 - t0):7.3f} % of one core at most "
                             f"({cpu} CPU in {t1 - t0:.0f} s), RSS {rss_mb:.0f} MB (USS {uss_mb:.0f} MB)")
            finally:
                agent.terminate()
                agent.wait(timeout=20)
        finally:
            embedded.close()
        print("\n".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
