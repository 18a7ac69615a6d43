"""/healthz and /readyz: JSON bodies, 503 with the failing check named, answered before host checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from measurements.models import FileStatus, MeasurementFile
from tests.api import factories as f


@pytest.fixture
def files(db):
    proj = f.project("alpha")
    owner = f.user("alice", projects=[proj])
    dev = f.device(proj, owner)
    done = f.stored_file(dev, owner, b"a finished file\n")
    queued = f.stored_file(dev, owner, b"a waiting file\n")
    MeasurementFile.objects.filter(pk=done.pk).update(status=FileStatus.DONE)
    MeasurementFile.objects.filter(pk=queued.pk).update(status=FileStatus.QUEUED,
                                                        created_at=timezone.now() - timedelta(minutes=5))
    return done, queued


def test_healthz_is_up_without_the_database(client, django_db_blocker):
    with django_db_blocker.block():  # liveness must not need the database
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_probes_answer_any_host_header(client, db, in_process):
    # A load balancer probes the pod by IP, which is not in ALLOWED_HOSTS.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/samples/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_readyz_reports_every_check_and_the_files(client, files, in_process):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "broker", "workers", "storage", "cache"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["detail"] == "all applied"
    assert body["files"]["by_status"] == {"queued": 1, "running": 0, "done": 1, "failed": 0, "stored": 0}
    assert 295 <= body["files"]["oldest_queued_age_s"] <= 400
    assert response["Cache-Control"] == "no-store"


def test_readyz_not_ready_when_storage_is_not_writable(client, db, settings, tmp_path, in_process):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = str(blocker / "media")  # root can write anywhere, but not under a file
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert not body["checks"]["storage"]["ok"]
    assert body["checks"]["database"]["ok"]


def test_readyz_not_ready_when_the_broker_is_down(client, db, settings):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    keys = ("broker_url", "broker_read_url", "broker_write_url")
    old = {key: app.conf.get(key) for key in keys}
    for key in keys:
        app.conf[key] = "redis://127.0.0.1:9799/0"  # nothing listens there (our port range)
    try:
        response = client.get("/readyz")
    finally:
        for key, value in old.items():
            app.conf[key] = value
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert not checks["broker"]["ok"]
    assert not checks["workers"]["ok"]
    assert checks["workers"]["detail"] == "broker unreachable"


def test_readyz_checks_the_shared_cache_and_is_not_ready_without_it(client, db, settings, shared_cache, in_process):
    body = client.get("/readyz").json()
    assert body["checks"]["cache"] == {**body["checks"]["cache"], "ok": True, "detail": "shared (TolerantRedisCache)"}
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9798/0"}}  # nobody there
    response = client.get("/readyz")
    assert response.status_code == 503
    cache = response.json()["checks"]["cache"]
    assert not cache["ok"] and "ConnectionError" in cache["detail"]


def test_readyz_not_ready_with_unapplied_migrations(client, db, monkeypatch, in_process):
    from django.db.migrations.executor import MigrationExecutor

    from ops import health

    monkeypatch.setattr(health, "_migrations_done", False)
    real_plan = MigrationExecutor.migration_plan

    def plan_with_one_missing(self, targets, clean_start=False):
        # The real plan against a target one migration back: what a deploy without `migrate` sees.
        from django.db.migrations.loader import MigrationLoader

        loader = MigrationLoader(None, ignore_no_migrations=True)
        leaf = max(n for n in loader.graph.leaf_nodes() if n[0] == "core")
        self.loader.applied_migrations.pop(leaf, None)
        return real_plan(self, targets, clean_start)

    monkeypatch.setattr(MigrationExecutor, "migration_plan", plan_with_one_missing)
    response = client.get("/readyz")
    assert response.status_code == 503
    detail = response.json()["checks"]["migrations"]["detail"]
    assert "1 unapplied" in detail and "core." in detail
