"""System checks: ``manage.py check --deploy`` refuses the development SECRET_KEY."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def dev_secret_key(app_configs, **kwargs):
    if settings.SECRET_KEY == settings.LEDGER_DEV_SECRET_KEY:
        return [Error("SECRET_KEY is LEDger's development key.",
                      hint="Set SECRET_KEY to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))').",
                      id="ledger.E001")]
    return []
