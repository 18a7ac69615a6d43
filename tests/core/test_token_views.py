"""The API tokens page: make (key shown once), list, revoke — one's own, and staff for instruments."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from core.models import ApiToken
from core.tokens import token_create
from tests.api import factories as f


@pytest.fixture
def people(db):
    proj = f.project("alpha")
    alice = f.user("alice", projects=[proj])
    bob = f.user("bob", projects=[proj])
    boss = f.user("boss")
    boss.is_staff = True
    boss.save()
    rig = f.user("jlv-rig-1", instrument=True, projects=[proj])
    return alice, bob, boss, rig


def login(client, user):
    client.force_login(user)
    return client


def shown_key(response) -> str:
    found = re.search(r'id="new-token-key">([0-9a-f]{64})<', response.content.decode())
    assert found, "the new key is not on the page"
    return found.group(1)


def works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/samples/").status_code == 200


def test_make_a_token_shows_the_key_once(client, people):
    alice = people[0]
    login(client, alice)
    response = client.post("/accounts/tokens/", {"name": "my notebook"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = shown_key(response)
    assert works(key)
    token = ApiToken.objects.get(user=alice)
    assert token.name == "my notebook" and token.created_by == alice
    page = client.get("/accounts/tokens/").content.decode()
    assert "my notebook" in page and token.prefix in page
    assert key not in page  # never shown again


def test_revoke_own_token(client, people):
    alice = people[0]
    token, key = token_create(user=alice, name="old script")
    login(client, alice)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert not works(key)
    token.refresh_from_db()
    assert token.revoked_by == alice


def test_cannot_see_or_revoke_someone_elses_token(client, people):
    alice, bob = people[0], people[1]
    token, key = token_create(user=bob, name="bob's")
    login(client, alice)
    assert "bob&#x27;s" not in client.get("/accounts/tokens/").content.decode()
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert works(key)


def test_non_staff_cannot_make_tokens_for_instruments(client, people):
    alice, rig = people[0], people[3]
    login(client, alice)
    response = client.post("/accounts/tokens/", {"name": "rig", "owner": rig.username})
    assert response.status_code == 200 and "new-token-key" not in response.content.decode()
    assert not ApiToken.objects.filter(user=rig).exists()
    rig_token, _ = token_create(user=rig, name="rig")
    assert client.post(f"/accounts/tokens/{rig_token.pk}/revoke/").status_code == 404


def test_staff_manage_instrument_tokens(client, people):
    boss, rig = people[2], people[3]
    login(client, boss)
    page = client.get("/accounts/tokens/").content.decode()
    assert "Instrument accounts" in page and "jlv-rig-1" in page
    response = client.post("/accounts/tokens/", {"name": "rig PC", "owner": rig.username})
    key = shown_key(response)
    token = ApiToken.objects.get(user=rig)
    assert token.created_by == boss and works(key)
    # An instrument's token may upload and read, nothing else (its group still applies).
    client_rig = APIClient()
    client_rig.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client_rig.post("/api/v1/samples/", {"kind": "film", "project": "alpha"}, format="json").status_code == 403
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert not works(key)


def test_staff_cannot_touch_other_peoples_tokens(client, people):
    alice, boss = people[0], people[2]
    token, key = token_create(user=alice, name="personal")
    login(client, boss)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post("/accounts/tokens/", {"name": "x", "owner": "alice"}).status_code == 200
    assert not ApiToken.objects.filter(user=alice, name="x").exists()
    assert works(key)


def test_page_needs_login(client, db):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
