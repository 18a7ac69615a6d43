"""The production shape, as `make serve` starts it: gunicorn (2 workers) + a Celery worker (-c 2) +
beat under supervisord, on PostgreSQL and the broker in CELERY_BROKER_URL. An upload goes through
gunicorn to the worker and comes back as metrics; /readyz follows the worker; SIGTERM lets running
analyses finish and leaves the rest queued; the whole thing stops cleanly.

Needs PostgreSQL and a broker (as .ci/run sets them): in CI a missing service fails the test."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from config.settings import code_digest
from core.tokens import token_create
from measurements.models import FileStatus, MeasurementFile
from tests.conftest import SHARED_CACHE_URL, drop_keys, redis_caches

from .servers import LedgerServe, unavailable, worker_offset

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _require_services() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        unavailable("CELERY_BROKER_URL is not set (no broker)")
    if connection.vendor != "postgresql":
        unavailable(f"the production shape runs on PostgreSQL, not {connection.vendor}")
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 — unreachable broker means "service missing"
        unavailable(f"broker {settings.CELERY_BROKER_URL} unreachable: {exc}")


@pytest.fixture(scope="module")
def serve(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        _require_services()
        db = connection.settings_dict
    workdir = tmp_path_factory.mktemp("serve")
    cache_prefix = f"ledger-serve-{uuid.uuid4().hex[:8]}"
    server = LedgerServe(workdir, 9740 + worker_offset(), {
        "LEDGER_CACHE_URL": SHARED_CACHE_URL, "LEDGER_CACHE_PREFIX": cache_prefix, "LEDGER_INSIGHTS_WARM_S": "1",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": f"ledger-serve-{uuid.uuid4().hex[:8]}",  # private: no stray worker takes our tasks
        "MEDIA_ROOT": str(workdir / "media"), "WEB_CONCURRENCY": "2", "LEDGER_WORKER_CONCURRENCY": "2"})
    server.cache_prefix = cache_prefix
    server.start()
    try:
        yield server
    finally:
        code = server.stop()
        print(server.log_text()[-6000:])
        drop_keys(cache_prefix)
    assert code == 0, "supervisord did not stop cleanly on SIGTERM"


def wait_until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


def readyz(server) -> requests.Response:
    return requests.get(f"{server.base}/readyz", timeout=60)


def is_ready(server) -> bool:
    """For polling: a worker's first request imports the whole URLconf, slow on a loaded machine."""
    try:
        return readyz(server).status_code == 200
    except requests.RequestException:
        return False


def test_upload_to_metrics_through_gunicorn_and_the_worker(serve, demo, data_dir, answers):
    wait_until(lambda: is_ready(serve), 180, "/readyz to say ready")
    _, key = token_create(user=demo["user"], name="serve test")
    headers = {"Authorization": f"Token {key}"}
    request_id = f"ci-upload-{uuid.uuid4().hex[:8]}"
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    def analysed(file_id):
        row = requests.get(f"{serve.base}/api/v1/measurements/{file_id}/", headers=headers, timeout=30).json()
        return row if row["status"] in ("done", "failed") else None

    rows = []
    # One after the other: the J-L-V waits for its EL spectrum, which then runs the pair once. (Both at
    # once on two worker processes is issue 13's race — one current analysis per target — tested there.)
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        with open(data_dir / "public" / name, "rb") as fh:
            response = requests.post(f"{serve.base}/api/v1/measurements/", headers={**headers, "X-Request-ID": request_id},
                                     files={"file": (name, fh)}, data={"sample": pixel.label}, timeout=60)
        assert response.status_code == 201, response.text
        assert response.headers["X-Request-ID"] == request_id
        file_id = response.json()["id"]
        rows.append(wait_until(lambda fid=file_id: analysed(fid), 120, f"the worker to analyse {name}"))
    assert [r["status"] for r in rows] == ["done", "done"], rows
    metrics = requests.get(f"{serve.base}/api/v1/metrics/", params={"pixel": pixel.label, "name": "eqe_max"},
                           headers=headers, timeout=30).json()["results"]
    eqe = [m for m in metrics if m["name"] == "eqe_max"]
    assert len(eqe) == 1 and eqe[0]["value"] == pytest.approx(answers["led"]["eqe_max_percent"], rel=answers["led"]["tolerance"]["eqe_rel"])
    # The request id went with the task message to the worker: its JSON log line carries it.
    worker_lines = [line for line in serve.log_text().splitlines() if '"logger": "ledger.tasks"' in line and request_id in line]
    assert worker_lines, "the worker's task log lines do not carry the upload's request id"


def test_the_worker_draws_an_opened_drivers_page_after_a_file_lands(serve, demo, data_dir, settings):
    """insights.warming in the production shape: a drivers page opened before a file lands is
    drawn by the worker after it is analysed, into the Redis cache gunicorn reads."""
    from insights import pages, warming

    wait_until(lambda: is_ready(serve), 180, "/readyz to say ready")
    settings.CACHES = redis_caches(f"{serve.cache_prefix}:{code_digest()}")  # the served processes' prefix
    settings.CELERY_TASK_ALWAYS_EAGER = False  # this process records views as a web process would
    user = demo["user"]
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    recipe = pixel.device.sample.produced_by.recipe_version.recipe
    warming.record("drivers", user, recipe)  # the page opened (the view writes this)
    assert not pages.is_drawn(user, recipe, None)
    _, key = token_create(user=user, name="warming test")
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        with open(data_dir / "public" / name, "rb") as fh:
            response = requests.post(f"{serve.base}/api/v1/measurements/", headers={"Authorization": f"Token {key}"},
                                     files={"file": (name, fh)}, data={"sample": pixel.label}, timeout=60)
        assert response.status_code == 201, response.text
    wait_until(lambda: MeasurementFile.objects.filter(status=FileStatus.DONE).count() == 2, 120, "both files analysed")
    wait_until(lambda: pages.is_drawn(user, recipe, None), 60, "the worker to draw the drivers page")
    assert "page(s) drawn ahead" in serve.log_text()


def test_metrics_are_summed_over_gunicorn_workers(serve, db):
    for _ in range(20):  # a page through the whole middleware chain (the probes are answered before it)
        assert requests.get(f"{serve.base}/accounts/login/", timeout=30).status_code == 200
    text = requests.get(f"{serve.base}/metrics", timeout=30).text
    total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith('django_http_requests_total_by_method_total{method="GET"}'))
    assert total >= 20
    files = list(Path(serve.env["LEDGER_RUN_DIR"], "prometheus-web").glob("counter_*.db"))
    assert len(files) >= 2, f"one counter file per gunicorn worker expected, found {files}"
    assert "ledger_measurement_files" in text and 'ledger_broker_up{queue="' in text


def test_readyz_follows_the_worker(serve, db):
    wait_until(lambda: is_ready(serve), 180, "/readyz to say ready")
    assert "stopped" in serve.supervisorctl("stop", "worker")
    response = readyz(serve)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and not body["checks"]["workers"]["ok"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "started" in serve.supervisorctl("start", "worker")
    wait_until(lambda: is_ready(serve), 180, "/readyz to be ready again")


def test_sigterm_lets_running_analyses_finish_and_leaves_the_rest_queued(serve, demo, data_dir):
    wait_until(lambda: is_ready(serve), 180, "/readyz to say ready")
    _, key = token_create(user=demo["user"], name="serve test")
    film = demo["film"]
    text = (data_dir / "public" / "pl_spectrum.txt").read_text()
    n = 10
    for i in range(n):  # distinct bytes, the same spectrum
        body = text.replace("User: lab", f"User: lab-{i}").encode()
        response = requests.post(f"{serve.base}/api/v1/measurements/", headers={"Authorization": f"Token {key}"},
                                 files={"file": (f"pl_{i}.txt", body)}, data={"sample": film.label, "kind": "pl"}, timeout=60)
        assert response.status_code == 201, response.text
    files = MeasurementFile.objects.filter(sample=film, original_name__startswith="pl_")
    wait_until(lambda: files.filter(status__in=[FileStatus.RUNNING, FileStatus.DONE]).exists(), 60, "the first analysis")
    assert "stopped" in serve.supervisorctl("stop", "worker")  # SIGTERM: warm shutdown, waits for it
    after_stop = dict(files.values_list("original_name", "status"))
    assert FileStatus.RUNNING not in after_stop.values(), f"an analysis was cut off: {after_stop}"
    assert set(after_stop.values()) <= {FileStatus.DONE, FileStatus.QUEUED}
    assert "started" in serve.supervisorctl("start", "worker")
    wait_until(lambda: files.filter(status=FileStatus.DONE).count() == n, 180, "every file analysed after the restart")
    assert set(files.values_list("attempts", flat=True)) == {1}  # nothing ran twice, nothing was killed


def test_beat_runs_beside_them(serve, db):
    status = serve.supervisorctl("status")
    for name in ("web", "worker", "beat"):
        assert f"{name} " in status and "RUNNING" in status.split(name, 1)[1].split("\n", 1)[0], status
