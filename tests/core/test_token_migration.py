"""core.0002: DRF's plaintext tokens become digests, keep working, and the plaintext table is dropped."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY = "0123456789abcdef0123456789abcdef01234567"  # a DRF key: 40 hex characters


def migrate_to(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets))


def test_plaintext_tokens_carried_over_then_dropped():
    user = get_user_model().objects.create_user("rig-legacy", password="x")
    migrate_to(("core", "0001_initial"))
    try:
        with connection.cursor() as cursor:  # the table as rest_framework.authtoken left it
            cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone "
                           "NOT NULL, user_id bigint NOT NULL UNIQUE)" if connection.vendor == "postgresql" else
                           "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime NOT NULL, "
                           "user_id bigint NOT NULL UNIQUE)")
            cursor.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                           [OLD_KEY, "2024-05-01 10:00:00+00:00" if connection.vendor == "postgresql" else "2024-05-01 10:00:00",
                            user.pk])
    finally:
        migrate_to(("core", "0002_api_tokens"))
    assert "authtoken_token" not in connection.introspection.table_names()
    from core.models import ApiToken

    token = ApiToken.objects.get(user=user)
    assert token.name == "migrated token" and token.prefix == OLD_KEY[:8] and token.created_at.year == 2024
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/samples/").status_code == 200
