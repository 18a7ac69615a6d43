"""The upload endpoint's queries (issue 15: upload p50 ≤ 30 ms through gunicorn; bench/bench_upload.py).

Only the web request's own queries are counted: the analysis task is replaced by one that records
the id (on a real broker the worker runs it elsewhere), and the on-commit send runs as in production.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measurements import services
from measurements.models import FileStatus, MeasurementFile

PL = (Path(__file__).resolve().parent.parent / "data" / "public" / "pl_spectrum.txt").read_text()


@pytest.fixture
def sent(monkeypatch):
    ids: list[int] = []

    class Task:
        def delay(self, file_id):
            ids.append(file_id)

    monkeypatch.setattr(services, "_analysis_task", lambda: Task())
    return ids


def upload(client, sample, n, headers=None):
    body = PL.replace("User: lab", f"User: queries-{n}").encode()  # distinct bytes each time
    return client.post("/api/v1/measurements/", {"file": SimpleUploadedFile(f"pl_{n}.txt", body), "kind": "pl",
                       "sample": sample.label}, format="multipart", headers=headers or {})


def sql_of(queries):
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "station"])
@pytest.mark.parametrize("key", [False, True])
def test_an_upload_costs_a_fixed_few_queries(world, client_for, sent, who, key, django_capture_on_commit_callbacks):
    user = getattr(world, who)
    client = client_for(user)
    client.get("/api/v1/samples/?limit=1")  # a token's first use also records last_used_at (once a minute)
    headers = {"Idempotency-Key": f"{who}-1"} if key else {}
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = upload(client, world.dev_a.sample, f"{who}-{key}", headers)
    assert response.status_code == 201, response.content
    sql = sql_of(queries)
    # token; (the key's earlier upload); the label as a pixel, then as a sample, each among the user's
    # projects (no separate access check); the bytes are not stored yet (an id from the sha256 index);
    # the row and its history row; enqueued_at once the broker took the task. Nothing for the
    # response: a new file has no analyses or metrics yet.
    assert len(sql) == 7 + key, "\n".join(sql)
    body = response.json()
    mf = MeasurementFile.objects.get(pk=body["id"])
    assert sent == [mf.pk] and mf.enqueued_at is not None and mf.status == FileStatus.QUEUED
    assert body["analyses"] == [] and body["metrics"] == [] and body["calibrations"] == []
    assert body["status"] == "queued" and body["sha256"] == mf.sha256


@pytest.mark.django_db
def test_a_replayed_key_answers_with_the_stored_file_and_its_analyses(world, client_for, sent):
    client = client_for(world.alice)
    first = upload(client, world.dev_a.sample, "replay", {"Idempotency-Key": "replay-1"})
    assert first.status_code == 201 and first.json()["analyses"] == []
    assert services.measurement_file_process(first.json()["id"]) == "done"
    # The 200 of a retry describes the stored file as it is now: its analysis and metrics are listed.
    again = upload(client, world.dev_a.sample, "replay-other-bytes", {"Idempotency-Key": "replay-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    body = again.json()
    assert body["status"] == "done" and len(body["analyses"]) == 1
    assert {m["name"] for m in body["metrics"]} >= {"pl_peak_wavelength", "pl_fwhm"}
