"""Shared test fixtures. Reference files live in tests/data (copied from shared/reference-data)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"


def pytest_configure(config):
    if config.pluginmanager.hasplugin("django"):
        from django.conf import settings

        # The demo user's password hash is a third of the demo fixture's time; tests don't need PBKDF2.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        # The test client and live server speak plain HTTP: no HTTPS redirect or secure-only cookies
        # (tests/ops/test_deploy_settings.py checks the production defaults in a subprocess).
        settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
        settings.SECURE_HSTS_SECONDS = 0
        # Client.login() passes no request, which django-axes needs; tests/ops/test_login_throttle.py
        # turns axes back on for the lock-out tests.
        settings.AXES_ENABLED = False
        # Not the development key: config.wsgi (schemathesis loads it) refuses that one without DEBUG.
        settings.SECRET_KEY = "ledger-tests-only-" + "k" * 8 + "-not-the-dev-key-0123456789abcdef"
        # Each test clears the cache: never a Redis named by LEDGER_CACHE_URL (clear() empties its
        # whole database). Tests of the shared cache use the ``shared_cache`` fixture.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def answers() -> dict:
    return json.loads((DATA_DIR / "public" / "answers.json").read_text())["files"]


SHARED_CACHE_URL = os.environ.get("LEDGER_TEST_CACHE_URL", "redis://127.0.0.1:6379/11")


def redis_caches(prefix: str) -> dict:
    """``CACHES`` for the shared test Redis with keys under ``prefix`` (as LEDGER_CACHE_URL makes it)."""
    return {"default": {"BACKEND": "core.cache.TolerantRedisCache", "LOCATION": SHARED_CACHE_URL, "KEY_PREFIX": prefix}}


def drop_keys(prefix: str) -> None:
    """Remove a test's keys from the shared test Redis (never ``clear()``: that empties the database)."""
    import redis

    client = redis.Redis.from_url(SHARED_CACHE_URL, socket_connect_timeout=2)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def shared_cache(settings):
    """The cache a lab's processes share: a real Redis (``LEDGER_TEST_CACHE_URL``; down, the test
    fails in CI and skips elsewhere), under a key prefix of this test's own, removed afterwards.
    Django's settings say there is a broker, so what needs one (insights warming) is on; Celery
    itself still runs tasks in-process unless the test is marked ``celery_worker``."""
    import redis

    from tests.ops.servers import unavailable

    client = redis.Redis.from_url(SHARED_CACHE_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"no Redis for the shared cache at {SHARED_CACHE_URL}: {exc}")
    client.close()
    prefix = f"ledger-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = redis_caches(prefix)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield prefix
    drop_keys(prefix)


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in-process in tests unless a test is marked ``celery_worker`` (a real worker on
    the broker). Media go to a temporary folder so tests never touch var/media."""
    if not request.config.pluginmanager.hasplugin("django"):  # pure-Python run with -p no:django
        yield
        return
    from config.celery import app

    settings = request.getfixturevalue("settings")
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("media")
    settings.MEDIA_ROOT = str(tmp)
    eager = request.node.get_closest_marker("celery_worker") is None
    old = app.conf.task_always_eager
    from django.core.cache import cache

    cache.clear()  # a rolled-back test's ids come back: a stamp-keyed cache entry must not outlive it
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def demo(db):
    """The PROCESS.md demo (chemicals, recipes, runs, lineage, devices) without measurements,
    which tests of the measurement pipeline upload themselves, and without the insights campaign
    (tests/insights load it themselves)."""
    from unittest import mock

    from portal.demo import load_demo

    with (mock.patch("measurements.demo.load_demo_measurements", return_value=[]),
          mock.patch("insights.demo.load_campaign", return_value={"created": False})):
        return load_demo()
