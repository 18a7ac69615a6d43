import os

from celery import Celery, signals

# One analysis per worker process; parallelism comes from processes. OpenBLAS threads spinning
# on small fits (TRPL) cost more CPU than they save on a 2-core box.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _use_django_logging(**kwargs):
    """Workers log like the web: Django's LOGGING (JSON lines with the request id), not Celery's format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
