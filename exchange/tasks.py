"""Thin Celery task: take the job id, call the service (which sets sent/failed with the reason)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exchange.tasks.send_print_job", acks_late=True)
def send_print_job(job_id: int) -> str:
    from .services import print_job_send

    return print_job_send(job_id).status
