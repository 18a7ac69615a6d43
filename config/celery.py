import os

from celery import Celery, signals

# One analysis per worker process; parallelism comes from processes. BLAS/OpenMP threads spinning
# on small fits (TRPL) cost more CPU than they save on a 2-core box. Set before numpy is first
# imported (config/__init__.py imports this module first), so they take effect; a deployment can
# still set other values in the environment.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_process_init.connect
def _cap_memory(**_kwargs) -> None:
    """The last line against a file that makes an analysis allocate without bound: each pool
    process gets an address-space cap, so numpy raises MemoryError (the file fails with that
    reason) instead of the kernel killing the worker or its neighbours."""
    import resource

    from django.conf import settings

    limit_mb = settings.LEDGER_WORKER_MEMORY_MB
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


@signals.setup_logging.connect
def _use_django_logging(**kwargs):
    """Workers log like the web: Django's LOGGING (JSON lines with the request id), not Celery's format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
