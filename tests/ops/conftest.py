"""Session-wide real servers for the sign-in tests (see servers.py)."""

from __future__ import annotations

import pytest

from .servers import OIDCProvider, Slapd, worker_offset


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"), 9720 + worker_offset())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    server = OIDCProvider(tmp_path_factory.mktemp("oidc"), 9730 + worker_offset(), "http://testserver/oidc/callback/")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def in_process(settings):
    """The embedded mode whatever CELERY_BROKER_URL says: tasks in-process, no broker or worker to ask."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
