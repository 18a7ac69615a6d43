"""The production path of a print job: queued in the request, sent by a real Celery worker process
(Redis broker, PostgreSQL) to a real socket, which receives a ZPL label with the sample's URL."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from exchange.models import Printer, PrintJob, PrintJobStatus
from exchange.printers.zpl import parse_zpl
from exchange.services import print_label
from samples.models import Project, SampleKind
from samples.services import sample_create
from tests.measurements.test_celery_worker import _wait_for, worker  # noqa: F401 - the real-worker fixture

from .printer_listener import PrinterListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_print_job_is_sent_by_a_real_worker(worker, settings):  # noqa: F811
    listener = PrinterListener()
    try:
        owner = get_user_model().objects.create_user("op")
        sample = sample_create(kind=SampleKind.FILM, project=Project.objects.create(code="w", name="W"), owner=owner)
        printer = Printer.objects.create(name="Zebra", kind="zebra_zpl", host="127.0.0.1", port=listener.port)
        job = print_label(printer=printer, sample=sample)
        _wait_for(lambda: PrintJob.objects.get(pk=job.pk).status != PrintJobStatus.QUEUED, 60, worker)
        job.refresh_from_db()
        assert job.status == PrintJobStatus.SENT, job.failure_reason
        (label,) = parse_zpl(listener.wait_for(1)[0])
        assert label.qr_payloads == [f"{settings.SITE_URL}/samples/{sample.label}/"]
    finally:
        listener.close()
