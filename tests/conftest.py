"""Shared test fixtures. Reference files live in tests/data (copied from shared/reference-data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).parent / "data"


def pytest_configure(config):
    if config.pluginmanager.hasplugin("django"):
        from django.conf import settings

        # The demo user's password hash is a third of the demo fixture's time; tests don't need PBKDF2.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def answers() -> dict:
    return json.loads((DATA_DIR / "public" / "answers.json").read_text())["files"]


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
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def demo(db):
    """The PROCESS.md demo (chemicals, recipes, runs, lineage, devices) without measurements,
    which tests of the measurement pipeline upload themselves."""
    from unittest import mock

    from portal.demo import load_demo

    with mock.patch("measurements.demo.load_demo_measurements", return_value=[]):
        return load_demo()
