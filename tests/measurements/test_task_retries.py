"""The thin task's failure paths: nothing stays queued or running when retries run out."""

from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import OperationalError

from measurements import services
from measurements.models import FileStatus, MeasurementFile
from measurements.tasks import analyze_measurement_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def xrd_file(demo, data_dir):
    with mock.patch("measurements.services.enqueue"):  # keep it queued: the test runs the task itself
        return services.measurement_file_ingest(content=(data_dir / "public" / "xrd.xy").read_bytes(), filename="xrd.xy",
                                                sample=demo["film"]).file


def test_a_database_outage_is_retried_then_fails_with_a_reason(xrd_file):
    with mock.patch("measurements.services.measurement_file_process", side_effect=OperationalError("server closed the connection")):
        result = analyze_measurement_file.apply(args=[xrd_file.pk])  # eager, retries run in-process
    assert result.get(propagate=False) == "failed"
    xrd_file.refresh_from_db()
    assert xrd_file.status == FileStatus.FAILED
    assert "gave up after 6 attempts" in xrd_file.failure_reason and "server closed" in xrd_file.failure_reason


def test_a_file_missing_from_storage_fails_at_once(xrd_file):
    default_storage.delete(xrd_file.file.name)
    assert services.measurement_file_process(xrd_file.pk) == FileStatus.FAILED
    xrd_file.refresh_from_db()
    assert "missing from storage" in xrd_file.failure_reason and xrd_file.attempts == 1
    assert MeasurementFile.objects.filter(status__in=[FileStatus.QUEUED, FileStatus.RUNNING]).count() == 0


def test_a_redelivered_task_for_a_running_file_looks_again_later(xrd_file):
    # A worker died holding the claim; the broker redelivers the message at once (acks_late).
    with mock.patch("measurements.services.measurement_file_process", side_effect=["running", "done"]) as process, \
         mock.patch("measurements.tasks.analyze_measurement_file.retry", wraps=analyze_measurement_file.retry) as retry:
        result = analyze_measurement_file.apply(args=[xrd_file.pk])
    assert result.get() == "done" and process.call_count == 2
    assert retry.call_args.kwargs["countdown"] > settings.LEDGER_STALE_CLAIM_S  # after the claim has gone stale
