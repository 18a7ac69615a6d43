"""The production path: a real Celery worker process consuming from Redis, writing to PostgreSQL.

Needs CELERY_BROKER_URL and a PostgreSQL DATABASE_URL (as .ci/run sets them). In CI a missing
service fails the test; on a laptop without them it is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from measurements.models import DerivedMetric, FileStatus, MeasurementFile
from measurements.services import measurement_file_ingest

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real worker test: {reason}")
    pytest.skip(reason)


def _check_services() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _unavailable("CELERY_BROKER_URL is not set (no broker)")
    if connection.vendor != "postgresql":
        _unavailable(f"the worker needs a database it can share: PostgreSQL, not {connection.vendor}")
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 — any failure to reach the broker means "service missing"
        _unavailable(f"broker {settings.CELERY_BROKER_URL} unreachable: {exc}")


@pytest.fixture
def worker(settings):
    _check_services()
    from config.celery import app

    queue = f"ledger-test-{uuid.uuid4().hex[:8]}"  # private queue: no stray worker can take our tasks
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": queue,
        "MEDIA_ROOT": settings.MEDIA_ROOT,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1", "--pool", "solo",
         "-l", "info", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    old_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield proc
    finally:
        app.conf.task_default_queue = old_queue
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print(out[-4000:])


def _wait_for(predicate, timeout_s: float, proc) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}")
        time.sleep(0.25)
    pytest.fail("the worker did not finish the analysis in time")


def test_upload_is_analysed_by_a_real_worker(worker, demo, data_dir, answers):
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        measurement_file_ingest(content=(data_dir / "public" / name).read_bytes(), filename=name,
                                sample=pixel.device.sample, pixel=pixel)
    files = MeasurementFile.objects.filter(pixel=pixel)
    _wait_for(lambda: all(f.status in (FileStatus.DONE, FileStatus.FAILED) for f in files.all()), 120, worker)
    assert sorted(files.values_list("status", flat=True)) == ["done", "done"]
    eqe = DerivedMetric.objects.get(pixel=pixel, name="eqe_max", superseded=False)
    assert eqe.value == pytest.approx(answers["led"]["eqe_max_percent"], rel=answers["led"]["tolerance"]["eqe_rel"])
    assert files.get(original_name="el_spectrum.txt").attempts == 1
