import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 — after setup, so the settings are the configured ones

# The web process (gunicorn, or runserver without DEBUG) never serves with the development key:
# sessions, CSRF and password-reset links signed with a published key can be forged.
if not settings.DEBUG and settings.SECRET_KEY == settings.LEDGER_DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is LEDger's development key: set SECRET_KEY (or DEBUG=true for development)")
