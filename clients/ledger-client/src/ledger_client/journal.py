"""The agent's local journal (SQLite): every file seen, its sha256, its state and why.

It is the agent's queue and memory: a file is journaled once it is complete, uploaded from the
journal (so a restart resumes where the last run stopped), and each row keeps the Idempotency-Key
it is uploaded with, so a retry after a crash or a lost answer can never store it twice.

States::

    pending  → uploaded → done | failed     (the server's analysis result)
       ↘ parked    (the server refused it: 400/403/404/409/413/415; ``ledger retry`` after a fix)
    waiting     (not sent yet: e.g. its sidecar is missing)
    duplicate   (same bytes as a file already sent)
    ignored     (no rule matches its name)
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PENDING, UPLOADED, DONE, FAILED, PARKED = "pending", "uploaded", "done", "failed", "parked"
WAITING, DUPLICATE, IGNORED = "waiting", "duplicate", "ignored"
STATES = [PENDING, WAITING, UPLOADED, DONE, FAILED, PARKED, DUPLICATE, IGNORED]
SENT = (UPLOADED, DONE, FAILED)  # the server has these bytes

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    rule TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}',
    instrument TEXT NOT NULL DEFAULT '',
    measured_at TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL DEFAULT '',
    server_id INTEGER,
    server_status TEXT NOT NULL DEFAULT '',
    metrics TEXT NOT NULL DEFAULT '[]',
    seen_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    uploaded_at REAL,
    finished_at REAL,
    UNIQUE (path, sha256)
);
CREATE INDEX IF NOT EXISTS files_due ON files (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
"""


def default_path() -> Path:
    """Per-user, never inside the watched folder (SQLite on a network share is unsafe)."""
    env = os.environ.get("LEDGER_JOURNAL")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "ledger" / "journal.sqlite3"


@dataclass
class Entry:
    id: int
    path: str
    sha256: str
    size_bytes: int
    rule: str
    target: str
    kind: str
    params: dict[str, Any]
    metadata: dict[str, Any]
    instrument: str
    measured_at: str
    state: str
    reason: str
    attempts: int
    next_attempt_at: float
    idempotency_key: str
    server_id: int | None
    server_status: str
    metrics: list[dict[str, Any]]
    seen_at: float
    updated_at: float

    @property
    def name(self) -> str:
        return Path(self.path).name


def idempotency_key(sha256: str, target: str) -> str:
    # From the content and the target only: the same file for the same sample is one upload, even
    # if the journal is lost and the agent starts from nothing.
    return f"ledger-agent:{target}:{sha256}"


class Journal:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a row said 'uploaded' survives a power cut
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- reads ---------------------------------------------------------------------------------

    def _entry(self, row: sqlite3.Row) -> Entry:
        d = dict(row)
        d.pop("mtime_ns", None)
        d.pop("uploaded_at", None)
        d.pop("finished_at", None)
        d["params"], d["metadata"], d["metrics"] = json.loads(d["params"]), json.loads(d["metadata"]), json.loads(d["metrics"])
        return Entry(**d)

    def get(self, entry_id: int) -> Entry | None:
        row = self.db.execute("SELECT * FROM files WHERE id = ?", (entry_id,)).fetchone()
        return self._entry(row) if row else None

    def known_paths(self) -> dict[str, tuple[int, int]]:
        """path → (size, mtime_ns) of its newest row: what a rescan need not look at again."""
        rows = self.db.execute("SELECT path, size_bytes, mtime_ns FROM files ORDER BY id")
        return {r["path"]: (r["size_bytes"], r["mtime_ns"]) for r in rows}

    def sent_with_sha(self, sha256: str) -> Entry | None:
        row = self.db.execute(
            f"SELECT * FROM files WHERE sha256 = ? AND state IN ({','.join('?' * len(SENT))}) ORDER BY id LIMIT 1",
            (sha256, *SENT)).fetchone()
        return self._entry(row) if row else None

    def find(self, path: str, sha256: str) -> Entry | None:
        row = self.db.execute("SELECT * FROM files WHERE path = ? AND sha256 = ?", (path, sha256)).fetchone()
        return self._entry(row) if row else None

    def due(self, state: str, now: float | None = None, limit: int = 100) -> list[Entry]:
        rows = self.db.execute("SELECT * FROM files WHERE state = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                               (state, time.time() if now is None else now, limit))
        return [self._entry(r) for r in rows]

    def entries(self, states: list[str] | None = None, limit: int | None = None) -> Iterator[Entry]:
        sql, args = "SELECT * FROM files", []
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args += states
        sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        for row in self.db.execute(sql, args).fetchall():
            yield self._entry(row)

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute("SELECT state, COUNT(*) FROM files GROUP BY state")}

    # --- writes --------------------------------------------------------------------------------

    def record(self, *, path: str, sha256: str, size_bytes: int, mtime_ns: int, state: str, reason: str = "",
               rule: str = "", target: str = "", kind: str | None = None, params: dict | None = None,
               metadata: dict | None = None, instrument: str | None = None, measured_at: str | None = None) -> Entry:
        """Journal a complete file (or return its row if this path already had these bytes)."""
        now = time.time()
        self.db.execute(
            "INSERT INTO files (path, sha256, size_bytes, mtime_ns, rule, target, kind, params, metadata, instrument,"
            " measured_at, state, reason, idempotency_key, seen_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (path, sha256) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns",
            (path, sha256, size_bytes, mtime_ns, rule, target, kind or "", json.dumps(params or {}),
             json.dumps(metadata or {}), instrument or "", measured_at or "", state, reason,
             idempotency_key(sha256, target) if target else "", now, now))
        found = self.find(path, sha256)
        assert found is not None
        return found

    def update(self, entry_id: int, **fields: Any) -> None:
        for key in ("params", "metadata", "metrics"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        fields["updated_at"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE files SET {cols} WHERE id = ?", (*fields.values(), entry_id))

    def retry_later(self, entry_id: int, *, reason: str, delay_s: float) -> None:
        self.db.execute("UPDATE files SET attempts = attempts + 1, reason = ?, next_attempt_at = ?, updated_at = ?"
                        " WHERE id = ?", (reason, time.time() + delay_s, time.time(), entry_id))

    def mark_uploaded(self, entry_id: int, record: dict[str, Any]) -> None:
        now = time.time()
        self.update(entry_id, state=UPLOADED, server_id=record["id"], server_status=record.get("status", ""),
                    reason="", next_attempt_at=now, uploaded_at=now, attempts=0)

    def finish(self, entry_id: int, *, state: str, reason: str = "", server_status: str = "",
               metrics: list | None = None) -> None:
        self.update(entry_id, state=state, reason=reason, server_status=server_status, metrics=metrics or [],
                    finished_at=time.time())

    def forget_ignored(self) -> None:
        """Rules may have changed since the last run: files no rule matched are looked at again."""
        self.db.execute("DELETE FROM files WHERE state IN (?, ?)", (IGNORED, WAITING))

    def forget_parked(self, ids: list[int] | None = None) -> int:
        """``ledger retry``: drop parked rows, so the watcher journals those files again with the
        current rules (a fixed pattern or target) and sends them."""
        sql, args = "DELETE FROM files WHERE state = ?", [PARKED]
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        return self.db.execute(sql, args).rowcount
