"""Production settings, read in a fresh process the way gunicorn would: `check --deploy` is clean,
HTTPS defaults are on without DEBUG, and the web process refuses the development SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD = {"SECRET_KEY": "x9-" + "Qm4vT7rZ" * 7, "ALLOWED_HOSTS": "ledger.lab.example", "LEDGER_BEHIND_PROXY": "true"}


def run(code_or_args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "LEDGER_HTTPS", "DATABASE_URL",
                                                              "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                                                              "DJANGO_ALLOW_ASYNC_UNSAFE"}}  # set by the browser tests' fixtures
    args = [sys.executable, *code_or_args] if isinstance(code_or_args, list) else [sys.executable, "-c", code_or_args]
    return subprocess.run(args, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_check_deploy_has_no_issues():
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PROD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout


def test_check_deploy_refuses_the_dev_key():
    done = run(["manage.py", "check", "--deploy"], ALLOWED_HOSTS="ledger.lab.example")
    assert done.returncode != 0
    assert "ledger.E001" in done.stderr


SHOW = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))")


def test_https_defaults_on_without_debug():
    done = run(SHOW, **PROD)
    assert done.stdout.split("\n")[-2] == "True True True 31536000 True ('HTTP_X_FORWARDED_PROTO', 'https')", done.stderr


def test_https_defaults_off_with_debug_or_when_told():
    assert run(SHOW, DEBUG="true").stdout.split("\n")[-2] == "False False False 0 True None"
    assert run(SHOW, **PROD, LEDGER_HTTPS="false").stdout.split("\n")[-2].startswith("False False False 0")


WSGI = "import config.wsgi; print('served')"


def test_web_process_refuses_the_dev_key():
    done = run(WSGI)
    assert done.returncode != 0
    assert "SECRET_KEY is LEDger's development key" in done.stderr


@pytest.mark.parametrize("env", [{"DEBUG": "true"}, PROD])
def test_web_process_starts_with_debug_or_a_real_key(env):
    done = run(WSGI, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("served")


def test_ssl_redirect_and_proxy_header(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/healthz").status_code == 200  # probes over plain HTTP inside
    assert client.get("/metrics").status_code == 200
