"""manage.py issue_token: issue, replace, revoke; --instrument makes an upload-and-read account."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.api.permissions import is_instrument
from tests.tokens import Token


def issue(*args) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_issue_replace_and_revoke(world):
    key = issue("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/samples/").status_code == 200
    new_key = issue("alice")
    assert new_key != key
    assert client.get("/api/v1/samples/").status_code == 401  # the old token stopped working
    issue("alice", "--revoke")
    assert not Token.objects.filter(user=world.alice).exists()


@pytest.mark.django_db
def test_instrument_account(world):
    key = issue("rig-2", "--instrument", "--project", "alpha")
    token = Token.objects.get(key=key)
    assert is_instrument(token.user)
    assert world.alpha.members.filter(pk=token.user.pk).exists()
    assert not token.user.has_usable_password()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/samples/", {"kind": "film", "project": "alpha"}, format="json").status_code == 403


@pytest.mark.django_db
def test_unknown_user_or_project(world):
    with pytest.raises(CommandError):
        issue("nobody")
    with pytest.raises(CommandError):
        issue("alice", "--project", "nope")
