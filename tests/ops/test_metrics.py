"""/metrics: LEDger's own numbers read from the database at scrape time, and who may scrape."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from measurements.models import FileStatus, MeasurementFile
from tests.api import factories as f


def sample_value(text: str, name: str, labels: str = "") -> float:
    """The value of one sample, labels given as 'a="x",b="y"' in any order (parsed by prometheus_client)."""
    want = dict(re.findall(r'(\w+)="([^"]*)"', labels))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == want:
                return sample.value
    raise AssertionError(f"{name}{{{labels}}} not in the exposition")


@pytest.fixture
def finished_files(db):
    """Three J-L-V files that took 0.2 s, 0.4 s and 3 s, one failed EL after 0.05 s, one queued 2 min."""
    proj = f.project("alpha")
    owner = f.user("alice", projects=[proj])
    dev = f.device(proj, owner)
    t0 = timezone.now() - timedelta(hours=1)
    rows = [("jlv", FileStatus.DONE, 0.2), ("jlv", FileStatus.DONE, 0.4), ("jlv", FileStatus.DONE, 3.0),
            ("el", FileStatus.FAILED, 0.05)]
    for i, (kind, status, seconds) in enumerate(rows):
        mf = f.stored_file(dev, owner, f"file {i}\n".encode())
        MeasurementFile.objects.filter(pk=mf.pk).update(kind=kind, status=status, started_at=t0,
                                                        finished_at=t0 + timedelta(seconds=seconds))
    waiting = f.stored_file(dev, owner, b"waiting\n")
    MeasurementFile.objects.filter(pk=waiting.pk).update(status=FileStatus.QUEUED, created_at=timezone.now() - timedelta(minutes=2))


def test_ledger_metrics_from_the_database(client, finished_files, in_process):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert sample_value(text, "ledger_measurement_files", 'status="done"') == 3
    assert sample_value(text, "ledger_measurement_files", 'status="failed"') == 1
    assert sample_value(text, "ledger_measurement_files", 'status="queued"') == 1
    assert 115 <= sample_value(text, "ledger_oldest_queued_file_age_seconds") <= 200
    jlv = 'kind="jlv",status="done"'
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="0.1"') == 0
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="0.25"') == 1
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="0.5"') == 2
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="2.5"') == 2
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="5.0"') == 3
    assert sample_value(text, "ledger_analysis_duration_seconds_bucket", jlv + ',le="+Inf"') == 3
    assert sample_value(text, "ledger_analysis_duration_seconds_count", jlv) == 3
    assert sample_value(text, "ledger_analysis_duration_seconds_sum", jlv) == pytest.approx(3.6)
    assert sample_value(text, "ledger_analysis_duration_seconds_count", 'kind="el",status="failed"') == 1
    # No broker in the embedded mode: tasks run in-process, nothing ever waits on a queue.
    assert sample_value(text, "ledger_broker_up", 'queue="ledger"') == 1
    assert sample_value(text, "ledger_queue_length", 'queue="ledger"') == 0


def test_request_and_database_metrics_are_exported(client, db):
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_http_requests_latency_seconds_by_view_method" in text


def test_metrics_scrape_costs_a_handful_of_queries(client, finished_files, django_assert_max_num_queries, in_process):
    with django_assert_max_num_queries(4):
        assert client.get("/metrics").status_code == 200


def test_metrics_only_for_loopback_or_a_bearer_token(client, db, settings):
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 403
    settings.LEDGER_METRICS_TOKEN = "scrape-me-0123456789"
    assert client.get("/metrics").status_code == 403  # with a token configured, loopback needs it too
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5",
                      HTTP_AUTHORIZATION="Bearer scrape-me-0123456789").status_code == 200
