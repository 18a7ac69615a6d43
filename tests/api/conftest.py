"""API fixtures: two projects, a member of each, an instrument account, one device per project."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from . import factories as f


def error_of(response) -> dict:
    """The one error shape; fails the test when a 4xx does not follow it."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"], body
    return body["error"]


@pytest.fixture
def world(db):
    alpha, beta = f.project("alpha"), f.project("beta")
    alice = f.user("alice", projects=[alpha])
    bob = f.user("bob", projects=[beta])
    station = f.user("station", instrument=True, projects=[alpha])
    chem = f.chemical()
    dev_a = f.device(alpha, alice)
    dev_b = f.device(beta, bob)
    f.metric(dev_a, pixel=dev_a.pixels.get(name="A"))
    f.metric(dev_b, pixel=dev_b.pixels.get(name="A"))
    file_a = f.stored_file(dev_a, alice)
    return SimpleNamespace(alpha=alpha, beta=beta, alice=alice, bob=bob, station=station, chemical=chem,
                           dev_a=dev_a, dev_b=dev_b, file_a=file_a, instrument=f.instrument())


@pytest.fixture
def client_for():
    def make(account=None) -> APIClient:
        client = APIClient()
        if account is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {f.token(account)}")
        return client

    return make
