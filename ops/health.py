"""Readiness checks. Each returns a ``Check``; ``readiness()`` runs them all and never raises."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.cache import is_shared

from . import selectors


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float = 0.0


_migrations_done = False  # once applied, they stay applied for the life of the process


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_migrations() -> str:
    global _migrations_done
    if _migrations_done:
        return "all applied"
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        raise RuntimeError(f"{len(plan)} unapplied (run manage.py migrate): {names}")
    _migrations_done = True
    return "all applied"


def check_broker(seen: dict) -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "no broker: tasks run in-process"
    seen["depth"] = selectors.queue_depth(timeout_s=settings.LEDGER_READYZ_TIMEOUT_S)
    return f"reachable; {seen['depth']} message(s) waiting in {selectors.queue_name()}"


def check_workers() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "no broker: tasks run in-process"
    found = selectors.workers_on_queue(settings.LEDGER_READYZ_TIMEOUT_S)
    if not found:
        raise RuntimeError(f"no worker consuming {selectors.queue_name()!r} answered within "
                           f"{settings.LEDGER_READYZ_TIMEOUT_S:g} s (start one: make worker)")
    return f"{len(found)} answering: {', '.join(found)}"


def check_storage() -> str:
    # A throwaway object outside the content-addressed tree, written and removed again.
    name = default_storage.save(f"ops/readyz-{uuid.uuid4().hex}.txt", ContentFile(b"ok\n"))
    try:
        if default_storage.open(name).read() != b"ok\n":
            raise RuntimeError("read back different bytes")
    finally:
        default_storage.delete(name)
    return f"writable ({type(default_storage).__name__})"


def check_cache() -> str:
    if not is_shared():
        return "in each process's memory (LEDGER_CACHE_URL unset)"
    cache.ping()  # core.cache.TolerantRedisCache: raises when Redis does not answer (reads would miss)
    key = f"ops:readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 30)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("read back something else")
    finally:
        cache.delete(key)
    return f"shared ({settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]})"


CHECKS = {"database": check_database, "migrations": check_migrations, "broker": check_broker,
          "workers": check_workers, "storage": check_storage, "cache": check_cache}


def _run(name: str, func) -> Check:
    started = time.perf_counter()
    try:
        detail = func() or "ok"
        ok = True
    except Exception as exc:  # noqa: BLE001 — a probe reports every failure, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:500], False
    return Check(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def readiness() -> dict:
    seen: dict = {}
    checks = {}
    for name, func in CHECKS.items():
        if name == "workers" and not checks["broker"].ok:
            checks[name] = Check(name, False, "broker unreachable")  # asking would only wait for timeouts
            continue
        checks[name] = _run(name, partial(func, seen) if name == "broker" else func)
    if not checks["database"].ok:
        checks["migrations"] = Check("migrations", False, "database unreachable")
    body = {"status": "ready" if all(c.ok for c in checks.values()) else "not ready",
            "checks": {name: {k: v for k, v in asdict(c).items() if k != "name"} for name, c in checks.items()}}
    if checks["database"].ok:
        try:
            body["files"] = {"by_status": selectors.file_status_counts(),
                             "oldest_queued_age_s": selectors.oldest_queued_age_s()}
        except Exception as exc:  # noqa: BLE001 — e.g. the table is not migrated yet
            body["files"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    body["queue"] = {"name": selectors.queue_name(), "depth": seen.get("depth")}
    return body
