"""Webhooks: a project's URLs told of analyses and runs, and the log of every delivery."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from core.models import TimeStamped
from samples.models import Project


class Event(models.TextChoices):
    ANALYSIS_DONE = "analysis.done", "Analysis done"
    ANALYSIS_FAILED = "analysis.failed", "Analysis failed"
    RUN_COMPLETED = "run.completed", "Run completed"


def new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(TimeStamped):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=500, help_text="Receives a signed POST for each event")
    events = models.JSONField(default=list, help_text='e.g. ["analysis.done", "analysis.failed", "run.completed"]')
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=128, default=new_secret, editable=False,
                              help_text="HMAC-SHA256 key of the X-Ledger-Signature-256 header")
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Deliveries in a row that failed every attempt; reset by a success")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return f"{self.project.code} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (gave up)"


class Delivery(models.Model):
    """One event sent to one hook: the payload as signed, every attempt and its answer."""

    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=32, choices=Event.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why the last attempt failed")
    log = models.JSONField(default=list, help_text="Every attempt: at, http_status, error, duration_ms")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} → {self.webhook.url} ({self.status})"
