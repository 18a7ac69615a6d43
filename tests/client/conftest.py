"""Fixtures for tests against a live server (a real gunicorn process; see live.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .live import LiveServer, build_template


@pytest.fixture(scope="session")
def live_template(tmp_path_factory) -> tuple[Path, dict]:
    # Under xdist the parent of a worker's base temp is this run's own and shared by the workers: the
    # template is built once. Without xdist that parent is shared by every run (stale schemas), so
    # the run's own base temp holds it.
    root = tmp_path_factory.getbasetemp()
    base = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "ledger-live-template"
    return base, build_template(base)


@pytest.fixture
def ledger_server(live_template, tmp_path):
    """A factory: ``ledger_server(broker=None, env=None)`` → a started LiveServer, closed after the test."""
    servers: list[LiveServer] = []

    def make(**kwargs) -> LiveServer:
        template, info = live_template
        server = LiveServer(template, tmp_path / f"server{len(servers)}", info, **kwargs)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.close()
        if os.environ.get("LEDGER_TEST_SHOW_SERVER_LOG"):
            print(server.tail())


@pytest.fixture(scope="module")
def shared_server(live_template, tmp_path_factory):
    """One live server for a module whose tests only add to it (a server start is seconds)."""
    template, info = live_template
    server = LiveServer(template, tmp_path_factory.mktemp("shared") / "server", info)
    yield server.start()
    server.close()


@pytest.fixture
def redis_broker() -> str:
    """Redis for a real Celery worker: CELERY_BROKER_URL if set (CI), else database 4 on localhost."""
    url = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/4"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 — any failure means the service is missing
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the webhook worker test: Redis at {url} unreachable ({exc})")
        pytest.skip(f"Redis at {url} unreachable: {exc}")
    return url
