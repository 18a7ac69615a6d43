"""The OpenAPI schema generates without warnings, and a schemathesis run of every GET operation
finds no 5xx and no response that breaks the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from . import factories as f


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/measurements/" in text and "/api/v1/metrics/export/" in text


@pytest.mark.django_db
def test_docs_are_served_without_a_cdn(world, client_for):
    response = client_for(world.alice).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html
    assert client_for(None).get("/api/schema/").status_code == 200


@pytest.fixture
def auth_header(world):
    # A superuser sees every record, so generated labels/ids that exist return real bodies.
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser("schema-boss", password="x")
    f.lineage(world.alpha, boss)
    return {"Authorization": f"Token {f.token(boss)}"}


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose close_old_connections
    would close the test's PostgreSQL connection mid-transaction; Django's test client detaches
    it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_get_operations_conform(auth_header, keep_test_connection):
    """Every GET operation, a few generated examples each, against the WSGI app in-process.
    (schemathesis' pytest plugin is not used: its lazy fixture loader breaks on pytest 9.)"""
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    operations = [result.ok() for result in schema.include(method="GET").get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case):
            case.call_and_validate(headers=auth_header, checks=checks)

        check()
