"""``ledger watch``: watch an export folder and send each complete file once.

One loop, one thread (plus watchdog's observer thread, which only wakes the loop):

1. *notice* — watchdog events, and a rescan of the folder (every ``poll_seconds`` when polling a
   network share, where change events do not arrive; every minute otherwise, to catch anything missed);
2. *settle* — a file is complete when its size and mtime have not changed for ``settle_seconds`` and
   no writer holds it (Windows: opened without sharing; POSIX: an flock);
3. *journal* — its sha256, rule and target go to the SQLite journal (state ``pending``);
4. *send* — pending files are uploaded with their Idempotency-Key; a server or network that is down
   pauses sending with exponential backoff; a refusal (409, 413, 415, 400 …) parks the file with
   the reason;
5. *follow* — uploaded files are polled until the server's analysis is done or failed.

Killing the agent at any point loses nothing: what is not journaled is found again by the next
scan, and what is journaled but not confirmed is sent again under the same key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any

from . import journal as j
from .api import AuthError, Client, Refused, Unavailable
from .rules import RulesError, RuleSet, Waiting

log = logging.getLogger("ledger.agent")

SAFETY_RESCAN_S = 60.0


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_locked(path: str | Path) -> bool:
    """Does a writer still hold the file? Windows instrument software opens exports without write
    sharing while it writes (ERROR_SHARING_VIOLATION 32 / LOCK_VIOLATION 33 for anyone else);
    on POSIX a writer that takes an flock is seen. A file we may not write for other reasons
    (read-only share) does not count as locked: size stability decides then."""
    if os.name == "nt":  # pragma: no cover - Windows only
        try:
            with open(path, "r+b"):
                return False
        except PermissionError as exc:
            return getattr(exc, "winerror", None) in (32, 33)
        except OSError:
            return False
    import fcntl

    try:
        with open(path, "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def compact_metrics(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": m["name"], "value": m["value"], "unit": m.get("unit", ""), "target": m.get("pixel") or m.get("sample")}
            for m in record.get("metrics", []) if not m.get("superseded")]


def apply_server_status(journal: j.Journal, entry_id: int, record: dict[str, Any], *, poll_s: float) -> str:
    """Journal what the server says of an uploaded file; returns the journal state."""
    status = record.get("status", "")
    if status in ("done", "stored"):
        waiting = (record.get("metadata") or {}).get("waiting_for") or ""
        journal.finish(entry_id, state=j.DONE, server_status=status, metrics=compact_metrics(record),
                       reason=f"no analysis yet: waiting for {waiting}" if waiting else "")
        return j.DONE
    if status == "failed":
        journal.finish(entry_id, state=j.FAILED, server_status=status,
                       reason=record.get("failure_reason") or "the analysis failed (no reason given)")
        return j.FAILED
    journal.update(entry_id, server_status=status, next_attempt_at=time.time() + poll_s)
    return j.UPLOADED


class Agent:
    def __init__(self, client: Client, journal: j.Journal, folder: str | Path, rules: RuleSet, *,
                 poll_seconds: float | None = None, settle_seconds: float | None = None, max_backoff_s: float = 300.0,
                 status_poll_s: float = 2.0, use_watchdog: bool = True):
        self.client, self.journal, self.rules = client, journal, rules
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder} is not a folder")
        self.poll_seconds = poll_seconds or rules.poll_seconds
        self.settle_s = settle_seconds if settle_seconds is not None else rules.settle_seconds
        self.max_backoff_s, self.status_poll_s = max_backoff_s, status_poll_s
        self.use_watchdog = use_watchdog and not self.poll_seconds
        self.known = journal.known_paths()
        self.candidates: dict[str, tuple[int, int, float]] = {}  # path → (size, mtime_ns, unchanged since)
        self.wakeups: queue.Queue[str] = queue.Queue()
        self.pause_until = 0.0  # the server is down: send nothing before this (monotonic)
        self.down_count = 0
        self.journal_paths = {str(journal.path), f"{journal.path}-wal", f"{journal.path}-shm"}

    # --- notice ----------------------------------------------------------------------------------

    def scan(self) -> None:
        walker = os.walk(self.folder) if self.rules.recursive else [(str(self.folder), [], os.listdir(self.folder))]
        for root, dirs, names in walker:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                self.observe(os.path.join(root, name))

    def observe(self, path: str) -> None:
        name = os.path.basename(path)
        if path in self.journal_paths or self.rules.ignored(name):
            return
        try:
            st = os.stat(path)
        except OSError:
            self.candidates.pop(path, None)  # gone (a temp file renamed away)
            return
        if not os.path.isfile(path):
            return
        key = (st.st_size, st.st_mtime_ns)
        if self.known.get(path) == key:
            return
        previous = self.candidates.get(path)
        if previous is None or previous[:2] != key:
            self.candidates[path] = (*key, time.monotonic())

    # --- settle + journal --------------------------------------------------------------------------

    def settle(self) -> None:
        now = time.monotonic()
        for path, (size, mtime_ns, since) in list(self.candidates.items()):
            if now - since < self.settle_s:
                continue
            try:
                st = os.stat(path)
            except OSError:
                del self.candidates[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
                self.candidates[path] = (st.st_size, st.st_mtime_ns, now)
                continue
            if is_locked(path):
                self.candidates[path] = (size, mtime_ns, now)
                continue
            del self.candidates[path]
            self.journal_file(path, size, mtime_ns)

    def journal_file(self, path: str, size: int, mtime_ns: int) -> None:
        try:
            sha = sha256_file(path)
            st = os.stat(path)
        except OSError:
            return  # gone meanwhile; a later event or scan brings it back if it returns
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            self.candidates[path] = (st.st_size, st.st_mtime_ns, time.monotonic())  # written while hashed
            return
        base = {"path": path, "sha256": sha, "size_bytes": size, "mtime_ns": mtime_ns}
        self.known[path] = (size, mtime_ns)
        found = self.rules.first_match(os.path.basename(path))
        if found is None:
            self.journal.record(**base, state=j.IGNORED, reason="no rule matches this file name")
            return
        rule, values = found
        existing = self.journal.find(path, sha)
        if existing is not None and existing.state != j.WAITING:
            return
        try:
            res = rule.resolve(Path(path), values, self.rules.instrument)
        except Waiting as exc:
            if existing is None:
                self.journal.record(**base, state=j.WAITING, reason=str(exc), rule=rule.name)
            self.known.pop(path, None)
            self.candidates[path] = (size, mtime_ns, time.monotonic())  # look again after settling
            return
        except (RulesError, OSError) as exc:
            self.journal.record(**base, state=j.PARKED, reason=str(exc), rule=rule.name)
            log.warning("%s: %s", os.path.basename(path), exc)
            return
        fields = {"rule": rule.name, "target": res.target, "kind": res.kind, "params": res.params,
                  "metadata": res.metadata, "instrument": res.instrument, "measured_at": res.measured_at}
        sent = self.journal.sent_with_sha(sha)
        if sent is not None and sent.path != path:
            state, reason = j.DUPLICATE, f"same bytes as {sent.name}, already sent (server file {sent.server_id})"
        else:
            state, reason = j.PENDING, ""
        if existing is not None:  # was waiting for its sidecar
            self.journal.update(existing.id, state=state, reason=reason, **{**fields, "kind": res.kind or "",
                                "instrument": res.instrument or "", "measured_at": res.measured_at or "",
                                "idempotency_key": j.idempotency_key(sha, res.target)})
        else:
            self.journal.record(**base, state=state, reason=reason, **fields)
        log.info("%s → %s (%s)%s", os.path.basename(path), res.target, rule.name, f": {reason}" if reason else "")

    # --- send + follow -------------------------------------------------------------------------

    def _backoff(self) -> float:
        return min(2.0 ** max(self.down_count - 1, 0), self.max_backoff_s) * random.uniform(0.8, 1.2)

    def _server_down(self, exc: Exception) -> float:
        self.down_count += 1
        delay = self._backoff()
        if isinstance(exc, Unavailable) and exc.retry_after_s:
            delay = max(delay, min(exc.retry_after_s, self.max_backoff_s))
        if isinstance(exc, AuthError):
            delay = self.max_backoff_s  # someone must issue a new token; don't hammer
        self.pause_until = time.monotonic() + delay
        log.warning("%s; trying again in %.0f s", exc, delay)
        return delay

    def _server_up(self) -> None:
        if self.down_count:
            log.info("%s is reachable again", self.client.url)
        self.down_count = 0

    def send_due(self, limit: int = 20) -> None:
        if time.monotonic() < self.pause_until:
            return
        for e in self.journal.due(j.PENDING, limit=limit):
            try:
                record = self.client.upload(e.path, e.target, kind=e.kind or None, params=e.params, metadata=e.metadata,
                                            instrument=e.instrument or None, measured_at=e.measured_at or None,
                                            idempotency_key=e.idempotency_key)
            except FileNotFoundError:
                self.journal.finish(e.id, state=j.PARKED, reason="the file was deleted before it could be sent")
                continue
            except (Unavailable, AuthError) as exc:
                delay = self._server_down(exc)
                self.journal.retry_later(e.id, reason=str(exc), delay_s=delay)
                return
            except Refused as exc:
                self.journal.finish(e.id, state=j.PARKED, reason=f"refused by the server ({exc.status}): {exc.message}")
                log.warning("%s parked: %s (%s)", e.name, exc.message, exc.status)
                continue
            self._server_up()
            self.journal.mark_uploaded(e.id, record)
            state = apply_server_status(self.journal, e.id, record, poll_s=self.status_poll_s)
            log.info("%s sent as file %s (%s)", e.name, record.get("id"), record.get("status") if state == j.UPLOADED else state)

    def follow_uploaded(self, limit: int = 50) -> None:
        if time.monotonic() < self.pause_until:
            return
        for e in self.journal.due(j.UPLOADED, limit=limit):
            try:
                record = self.client.file(e.server_id)
            except (Unavailable, AuthError) as exc:
                self._server_down(exc)
                return
            except Refused as exc:
                self.journal.finish(e.id, state=j.FAILED, reason=f"the server no longer shows file {e.server_id}: {exc.message}")
                continue
            self._server_up()
            state = apply_server_status(self.journal, e.id, record, poll_s=self.status_poll_s)
            if state != j.UPLOADED:
                log.info("%s: analysis %s%s", e.name, state, f" ({self.journal.get(e.id).reason})" if state == j.FAILED else "")

    # --- loop ----------------------------------------------------------------------------------

    def _start_observer(self):
        if not self.use_watchdog:
            return None
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover
            log.warning("watchdog is not installed: polling the folder every 2 s")
            self.poll_seconds = 2.0
            return None
        wake = self.wakeups

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if not event.is_directory:
                    wake.put(getattr(event, "dest_path", "") or event.src_path)

        observer = Observer()
        try:
            observer.schedule(Handler(), str(self.folder), recursive=self.rules.recursive)
            observer.start()
        except Exception as exc:  # noqa: BLE001 — inotify limits, unsupported file systems …
            log.warning("cannot watch %s for changes (%s): polling it every 2 s instead", self.folder, exc)
            self.poll_seconds = 2.0
            return None
        return observer

    def busy(self) -> bool:
        counts = self.journal.counts()
        return bool(self.candidates or counts.get(j.PENDING) or counts.get(j.UPLOADED))

    def run(self, stop: threading.Event | None = None, *, until_idle: bool = False) -> None:
        """Until ``stop`` is set (SIGTERM/SIGINT in the CLI), or — ``until_idle`` — until every file
        found is sent and its analysis finished."""
        stop = stop or threading.Event()
        self.journal.forget_ignored()
        self.known = self.journal.known_paths()
        observer = self._start_observer()
        rescan_s = self.poll_seconds or SAFETY_RESCAN_S
        log.info("watching %s (%s, %d rules from %s)", self.folder,
                 f"polling every {rescan_s:g} s" if observer is None else "change events", len(self.rules.rules),
                 self.rules.source)
        self.scan()
        last_scan = time.monotonic()
        try:
            while not stop.is_set():
                if time.monotonic() - last_scan >= rescan_s:
                    self.scan()
                    last_scan = time.monotonic()
                self.settle()
                self.send_due()
                self.follow_uploaded()
                if until_idle and not self.busy():
                    return
                # Sleep until a change event, or briefly while something is settling or in flight.
                timeout = 0.2 if (self.candidates or self.busy()) else 1.0
                try:
                    self.observe(self.wakeups.get(timeout=timeout))
                    while True:
                        self.observe(self.wakeups.get_nowait())
                except queue.Empty:
                    pass
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=5)
