"""Celery tasks: thin. The service counts attempts and computes the backoff; Celery waits."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> str:
    delay = services.delivery_attempt(delivery_id)
    if delay is None:
        return "finished"
    if self.request.is_eager:
        # In-process tasks cannot wait; the beat sweep sends the retry once it is due.
        return f"retry due in {delay:.0f} s"
    raise self.retry(countdown=delay, max_retries=None)  # bounded by LEDGER_WEBHOOK_MAX_ATTEMPTS


@shared_task
def send_due_webhook_deliveries() -> int:
    return services.send_due_deliveries()
