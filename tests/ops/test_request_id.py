"""Request ids: one per request, in the response and on every log line, and carried in the task
message headers to the worker (the real worker hop is in test_production_shape.py)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from pythonjsonlogger.json import JsonFormatter

from ops import signals
from ops.request_id import TASK_HEADER, RequestIdFilter, request_id_var, task_id_var


def test_response_carries_a_request_id(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_proxy_request_id_is_kept_when_sane(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")["X-Request-ID"] == "lb-7f3a.42"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x"}\n{"level": "CRITICAL"')["X-Request-ID"]
    assert len(forged) == 32 and "\n" not in forged  # replaced: no log injection


def test_json_log_line_has_the_request_id():
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"))
    token = request_id_var.set("req-123")
    try:
        record = logging.LogRecord("measurements", logging.INFO, __file__, 1, "analysed %s", ("jlv_sweep.csv",), None)
        handler.filter(record)
        line = json.loads(handler.format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-123" and line["message"] == "analysed jlv_sweep.csv"


def test_request_id_goes_into_the_task_headers_and_back_out():
    headers: dict = {}
    token = request_id_var.set("req-456")
    try:
        signals._add_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {TASK_HEADER: "req-456"}
    # The worker side: Celery puts custom message headers on task.request.
    task = SimpleNamespace(request=SimpleNamespace(**headers))
    before = request_id_var.get(), task_id_var.get()
    signals._set_request_id(task_id="t-1", task=task)
    assert request_id_var.get() == "req-456" and task_id_var.get() == "t-1"
    signals._clear_request_id(task_id="t-1")
    assert (request_id_var.get(), task_id_var.get()) == before


@pytest.mark.django_db
def test_access_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="ledger.request"):
        response = client.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == "ledger.request"]
    assert record.status == 200 and record.path == "/healthz" and record.method == "GET"
    assert response["X-Request-ID"]
