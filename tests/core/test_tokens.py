"""Hashed API tokens: the key exists in clear once; the row keeps a digest; revoke keeps the row."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import ApiToken
from core.tokens import token_create, token_for_key, token_revoke
from tests.api import factories as f


@pytest.fixture
def alice(db):
    return f.user("alice", projects=[f.project("alpha")])


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_key_is_not_stored_anywhere(alice):
    token, key = token_create(user=alice, name="notebook")
    assert len(key) == 64 and token.prefix == key[:8]
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        stored = [str(value) for row in cursor.fetchall() for value in row]
    assert not any(key in value for value in stored)


def test_token_authenticates_and_records_last_use(alice):
    token, key = token_create(user=alice, name="notebook")
    assert token.last_used_at is None
    assert api(key).get("/api/v1/samples/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_several_named_tokens_and_revoking_one(alice):
    _, laptop = token_create(user=alice, name="laptop")
    rig_token, rig = token_create(user=alice, name="rig PC")
    assert token_revoke(rig_token, by=alice)
    assert not token_revoke(rig_token, by=alice)  # already revoked
    assert api(rig).get("/api/v1/samples/").status_code == 401
    assert api(laptop).get("/api/v1/samples/").status_code == 200
    rig_token.refresh_from_db()
    assert rig_token.revoked_at is not None and rig_token.revoked_by == alice  # the row stays, with who and when
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_wrong_and_malformed_keys(alice):
    _, key = token_create(user=alice, name="x")
    wrong = key[:8] + "0" * 56  # right prefix, wrong secret
    assert token_for_key(wrong) is None
    assert token_for_key("") is None and token_for_key("short") is None
    response = api(wrong).get("/api/v1/samples/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_inactive_user_token_refused(alice):
    _, key = token_create(user=alice, name="x")
    alice.is_active = False
    alice.save()
    assert api(key).get("/api/v1/samples/").status_code == 401


def test_throttle_is_keyed_by_token(alice, monkeypatch):
    from django.core.cache import cache

    from core.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    cache.clear()
    _, first = token_create(user=alice, name="one")
    _, second = token_create(user=alice, name="two")
    assert [api(first).get("/api/v1/samples/").status_code for _ in range(3)] == [200, 200, 429]
    assert api(second).get("/api/v1/samples/").status_code == 200  # another token of the same person
    cache.clear()
