"""Celery tasks: thin. Take an id, call one service, let Celery retry what is transient."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from . import services


@shared_task(bind=True, acks_late=True, autoretry_for=(DatabaseError, OSError), retry_backoff=2,
             retry_backoff_max=120, retry_jitter=True, max_retries=5)
def analyze_measurement_file(self, file_id: int) -> str:
    try:
        status = services.measurement_file_process(file_id)
    except SoftTimeLimitExceeded:
        services.fail_file(file_id, f"the analysis took longer than {settings.LEDGER_ANALYSIS_SOFT_TIMEOUT_S} s "
                                    "(LEDGER_ANALYSIS_TIMEOUT_S) and was stopped; the file is kept")
        return "failed"
    except (DatabaseError, OSError) as exc:
        if self.request.retries >= self.max_retries:
            # Out of retries: say so on the row instead of leaving it queued forever.
            services.fail_after_retries(file_id, exc, attempts=self.request.retries + 1)
            return "failed"
        services.requeue(file_id)  # back to queued so the retry can claim it again
        raise
    if status == "running":
        # Another worker holds the claim — or died holding it and this is the redelivered message
        # (acks_late). Look again once a stale claim can be taken over, so nothing stays running.
        raise self.retry(countdown=settings.LEDGER_STALE_CLAIM_S + 5)
    return status


@shared_task
def sweep_measurement_files() -> dict[str, int]:
    return services.sweep_files()


@shared_task
def fail_stale_measurement_files() -> int:  # the name an older beat schedule still sends
    return services.fail_stale_files()
