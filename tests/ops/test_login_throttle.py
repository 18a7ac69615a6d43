"""Login throttling (django-axes): five wrong passwords lock that username from that address, with a page that says so."""

from __future__ import annotations

import pytest

from tests.api import factories as f


@pytest.fixture
def axes_on(settings, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.reset_attempts()  # no state from other tests
    yield
    AxesProxyHandler.reset_attempts()


def attempt(client, username, password, ip="192.0.2.10"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_lock_out_after_five_failures_even_with_the_right_password(client, axes_on):
    f.user("alice")
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200  # the form again, with an error
    locked = attempt(client, "alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed log-ins" in page and "alice" in page and "0:15:00" in page
    right = attempt(client, "alice", "pw-for-tests")
    assert right.status_code == 429  # locked: the right password does not get in either
    assert "_auth_user_id" not in client.session


def test_lock_is_per_username_and_address(client, axes_on):
    f.user("alice")
    f.user("bob")
    for _ in range(5):
        attempt(client, "alice", "wrong")
    # Someone else on the same network, and alice from another machine, still sign in.
    assert attempt(client, "bob", "pw-for-tests").status_code == 302
    client.logout()
    assert attempt(client, "alice", "pw-for-tests", ip="192.0.2.99").status_code == 302


def test_success_resets_the_count(client, axes_on):
    f.user("alice")
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw-for-tests").status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200  # counting from zero again


def test_admin_login_is_throttled_too(client, axes_on):
    boss = f.user("boss")
    boss.is_staff = True
    boss.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"}, REMOTE_ADDR="192.0.2.10")
    assert client.post("/admin/login/", {"username": "boss", "password": "pw-for-tests"},
                       REMOTE_ADDR="192.0.2.10").status_code == 429


def test_a_forged_forwarded_for_does_not_dodge_the_lock(client, axes_on):
    # Not behind a proxy (the default): X-Forwarded-For is the client's own say-so and is ignored.
    f.user("alice")
    for i in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="192.0.2.10",
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    locked = client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests"}, REMOTE_ADDR="192.0.2.10",
                         HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert locked.status_code == 429
