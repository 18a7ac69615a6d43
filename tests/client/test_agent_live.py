"""The real agent (``ledger watch``, its own process) against a live server (gunicorn, own
database): nothing is lost and nothing is stored twice while the server goes down and comes back
and the agent itself is killed; files still being written are sent only once they are complete."""

from __future__ import annotations

import fcntl
import hashlib
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .live import ledger_cmd, wait_until

DATA = Path(__file__).resolve().parents[1] / "data" / "public"
RULES = """
settle_seconds = 1

[[rule]]
name = "EL"
pattern = "{sample}_{pixel}_el_*.txt"
kind = "el"
"""
pytestmark = pytest.mark.live_server


def el_copy(n: int, pixel: str) -> bytes:
    """The public EL spectrum with a header line of its own: distinct bytes, the same spectrum."""
    return (DATA / "el_spectrum.txt").read_bytes().replace(b"User: glovebox", f"User: glovebox run {n:03d}".encode())


class Agent:
    def __init__(self, tmp: Path, server, folder: Path):
        self.tmp, self.server, self.folder = tmp, server, folder
        self.journal = tmp / "journal.sqlite3"
        (tmp / "RULES.toml").write_text(RULES)
        self.proc: subprocess.Popen | None = None
        self.log = open(tmp / "agent.log", "ab")

    def start(self) -> None:
        self.proc = subprocess.Popen(ledger_cmd(
            "watch", str(self.folder), "--rule", str(self.tmp / "RULES.toml"), "--journal", str(self.journal),
            "--url", self.server.url, "--token", self.server.info["station_token"], "--max-backoff", "1",
            "--status-poll", "0.5"), stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def states(self) -> dict[str, int]:
        if not self.journal.exists():
            return {}
        try:
            with sqlite3.connect(self.journal, timeout=10) as db:
                return dict(db.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall())
        except sqlite3.OperationalError:  # the agent is still creating its journal
            return {}

    def journaled(self, name: str) -> bool:
        if not self.journal.exists():
            return False
        with sqlite3.connect(self.journal, timeout=10) as db:
            return any(Path(p).name == name for (p,) in db.execute("SELECT path FROM files"))

    def text(self) -> str:
        self.log.flush()
        return (self.tmp / "agent.log").read_text(errors="replace")


def server_files(server, names: set[str]) -> list[dict]:
    with server.api(server.info["lead_token"]) as api:
        rows, url = [], "measurements/?limit=500"
        while url:
            body = api.get(url).json()
            rows += body["results"]
            url = body["next"]
        return [r for r in rows if r["original_name"] in names]


def test_fifty_files_through_two_server_outages_and_an_agent_kill(ledger_server, tmp_path):
    server = ledger_server()
    folder = tmp_path / "exports"
    folder.mkdir()
    agent = Agent(tmp_path, server, folder)
    # Pixels without a J-L-V sweep: each spectrum is one EL analysis (beside a sweep it would run the
    # J-L-V + EL pair each time — and beside a campaign pixel's shorted sweep fail, rightly).
    pixels = server.info["pixels_without_jlv"]
    assert len(pixels) >= 4, pixels
    written: dict[str, bytes] = {}

    def drop(numbers) -> None:
        for n in numbers:
            sample, pixel = pixels[n % len(pixels)].rsplit("-", 1)
            name = f"{sample}_{pixel}_el_{n:03d}.txt"
            written[name] = el_copy(n, pixel)
            (folder / name).write_bytes(written[name])

    try:
        agent.start()
        drop(range(0, 12))
        wait_until(lambda: agent.states().get("done", 0) >= 3, 60, "the first analyses")
        server.stop()  # outage 1: files keep arriving
        drop(range(12, 25))
        wait_until(lambda: agent.states().get("pending", 0) >= 10, 30, "files journaled while the server is down")
        server.start()
        wait_until(lambda: agent.states().get("done", 0) >= 15, 90, "uploads after the restart")
        agent.kill()  # mid-flight: some sent, some not
        drop(range(25, 38))
        agent.start()
        wait_until(lambda: sum(agent.states().values()) >= 30, 30, "the restarted agent journaling new files")
        server.stop()  # outage 2
        drop(range(38, 50))
        time.sleep(2.5)
        server.start()
        wait_until(lambda: agent.states().get("done", 0) == 50, 400, "all 50 files done")  # a bound, not a budget: 2 shared cores
    finally:
        agent.stop()
        print(agent.text()[-3000:])

    states = agent.states()
    assert states == {"done": 50}, states
    on_server = server_files(server, set(written))
    by_name: dict[str, list[dict]] = {}
    for row in on_server:
        by_name.setdefault(row["original_name"], []).append(row)
    assert sorted(by_name) == sorted(written)
    assert all(len(rows) == 1 for rows in by_name.values()), {k: len(v) for k, v in by_name.items() if len(v) > 1}
    for name, (row,) in by_name.items():
        assert row["sha256"] == hashlib.sha256(written[name]).hexdigest()
        sample, pixel = name.split("_")[:2]
        assert row["pixel"] == f"{sample}-{pixel}" and row["kind"] == "el" and row["status"] == "done"
    # Each file has its analysis: the EL peak of the public spectrum, 647.8 nm (answers.json ± 1 nm).
    with server.api(server.info["lead_token"]) as api:
        for row in list(by_name.values())[::7]:
            detail = api.get(f"measurements/{row[0]['id']}/").json()
            peaks = [m["value"] for m in detail["metrics"] if m["name"] == "el_peak_wavelength"]
            assert peaks and abs(peaks[0] - 647.8425) <= 1.0, detail["metrics"]


def test_files_still_being_written_are_sent_only_when_complete(ledger_server, tmp_path):
    server = ledger_server()
    folder = tmp_path / "exports"
    folder.mkdir()
    agent = Agent(tmp_path, server, folder)
    pixels = server.info["pixels"]
    slow = "{}_{}_el_slow.txt".format(*pixels[1].rsplit("-", 1))
    locked = "{}_{}_el_locked.txt".format(*pixels[2].rsplit("-", 1))
    full_slow, full_locked = el_copy(901, "B"), el_copy(902, "C")
    try:
        agent.start()
        # Written in 8 pieces 0.5 s apart (settle_seconds = 1): the size keeps changing.
        with open(folder / slow, "wb") as fh:
            for i in range(8):
                fh.write(full_slow[i * len(full_slow) // 8:(i + 1) * len(full_slow) // 8])
                fh.flush()
                time.sleep(0.5)
        # Written under an exclusive lock with a 2.5 s pause: size stable, but the writer still holds it.
        with open(folder / locked, "wb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.write(full_locked[:len(full_locked) // 2])
            fh.flush()
            time.sleep(2.5)
            assert not agent.journaled(locked), "a file its writer still holds was journaled"
            fh.write(full_locked[len(full_locked) // 2:])
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        wait_until(lambda: agent.states().get("done", 0) == 2, 60, "both files analysed")
    finally:
        agent.stop()
        print(agent.text()[-3000:])
    rows = server_files(server, {slow, locked})
    assert sorted(r["original_name"] for r in rows) == sorted([slow, locked])
    sha = {r["original_name"]: r["sha256"] for r in rows}
    assert sha[slow] == hashlib.sha256(full_slow).hexdigest()
    assert sha[locked] == hashlib.sha256(full_locked).hexdigest()
    assert {r["status"] for r in rows} == {"done"}
    with sqlite3.connect(agent.journal) as db:
        assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2  # no partial version journaled
    status = subprocess.run(ledger_cmd("status", "--journal", str(agent.journal), "--json"), capture_output=True, text=True)
    assert json.loads(status.stdout)["counts"] == {"done": 2}
