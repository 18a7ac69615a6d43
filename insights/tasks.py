"""Celery tasks: thin. The warming pass is ``insights.warming.warm``."""

from __future__ import annotations

from celery import shared_task

from . import warming


@shared_task(ignore_result=True)
def warm_insights_pages() -> dict[str, float]:
    return warming.warm()
