"""Writes for webhooks: register a hook, turn an event into deliveries, attempt one delivery.

Delivery is at least once: a delivery row is claimed with one conditional UPDATE (two workers
never send the same attempt), every attempt is logged on the row, a failure is retried with
exponential backoff up to ``LEDGER_WEBHOOK_MAX_ATTEMPTS``, and a hook whose deliveries keep failing
(``LEDGER_WEBHOOK_DISABLE_AFTER`` in a row) is disabled with the reason and a notice.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from measurements.models import MeasurementFile
from samples.models import ProcessRun, Project

from .models import Delivery, DeliveryStatus, Event, Webhook
from .signing import signed_headers

log = logging.getLogger(__name__)

EVENT_NAMES = [e.value for e in Event]


# --- hooks -----------------------------------------------------------------------------------

def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationError({"events": f"Give a list of events, some of: {', '.join(EVENT_NAMES)}."})
    unknown = [e for e in events if e not in EVENT_NAMES]
    if unknown:
        raise ValidationError({"events": f"Unknown event {unknown[0]!r}; known: {', '.join(EVENT_NAMES)}."})
    return sorted(set(events), key=EVENT_NAMES.index)


def _clean_url(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValidationError({"url": "A webhook URL starts with http:// or https://."})
    return url


@transaction.atomic
def webhook_create(*, project: Project, url: str, events: list[str], user=None, description: str = "") -> Webhook:
    hook = Webhook(project=project, url=_clean_url(url), events=_clean_events(events), description=description,
                   created_by=user)
    hook.full_clean()
    hook.save()
    return hook


def webhook_update(hook: Webhook, **fields: Any) -> Webhook:
    """Change url, events, description or is_active. Turning a disabled hook on again clears its
    failure count, so it gets a full set of chances."""
    allowed = {"url", "events", "description", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Not a webhook field: {', '.join(sorted(unknown))}")
    if "url" in fields:
        fields["url"] = _clean_url(fields["url"])
    if "events" in fields:
        fields["events"] = _clean_events(fields["events"])
    if fields.get("is_active") and not hook.is_active:
        hook.consecutive_failures, hook.disabled_at, hook.disabled_reason = 0, None, ""
    for name, value in fields.items():
        setattr(hook, name, value)
    hook.full_clean()
    hook.save()
    return hook


# --- events → deliveries -----------------------------------------------------------------------

def _api_url(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _describe(name: str, payload: dict[str, Any]) -> tuple[int, str, dict[str, Any]] | None:
    """The project of an event and what the body says about it: ids, labels and URLs only (the
    receiver fetches what it needs with its own token, so nothing leaks through a hook)."""
    if name.startswith("analysis."):
        mf = (MeasurementFile.objects.select_related("sample__project", "pixel")
              .filter(pk=payload["file_id"]).first())
        if mf is None:
            return None
        data = {"file": {"id": mf.pk, "url": _api_url("api:measurementfile-detail", mf.pk), "status": mf.status},
                "sample": {"label": mf.sample.label, "url": _api_url("api:sample-detail", mf.sample.label)},
                "pixel": {"label": mf.pixel.label} if mf.pixel_id else None,
                "metrics_url": _api_url("api:sample-metrics", mf.sample.label)}
        return mf.sample.project_id, mf.sample.project.code, data
    if name == Event.RUN_COMPLETED:
        run = ProcessRun.objects.select_related("project").filter(pk=payload["run_id"]).first()
        if run is None:
            return None
        outputs = [{"label": s.label, "url": _api_url("api:sample-detail", s.label)}
                   for s in run.outputs.order_by("label")]
        data = {"run": {"label": run.label, "url": _api_url("api:processrun-detail", run.label)}, "outputs": outputs}
        return run.project_id, run.project.code, data
    return None


def on_event(name: str, **payload: Any) -> list[Delivery]:
    """Subscriber of core.events: one delivery per active hook of the project that wants ``name``."""
    if not Webhook.objects.filter(is_active=True).exists():
        return []  # the common case, on every analysed file: no body to build (URLs, labels)
    described = _describe(name, payload)
    if described is None:
        return []
    project_id, project_code, data = described
    hooks = [h for h in Webhook.objects.filter(project_id=project_id, is_active=True) if name in h.events]
    if not hooks:
        return []
    body = {"event": name, "project": project_code, "occurred_at": timezone.now().isoformat(), **data}
    deliveries = Delivery.objects.bulk_create([Delivery(webhook=h, event=name, payload=body) for h in hooks])
    for d in deliveries:
        enqueue(d.pk)
    return deliveries


def _task(name: str):
    # By name through the Celery app, so services never import tasks (tasks import services);
    # WebhooksConfig.ready imports tasks, so the names are registered in every process.
    from celery import current_app

    return current_app.tasks[f"webhooks.tasks.{name}"]


def enqueue(delivery_id: int) -> None:
    task = _task("deliver_webhook")
    transaction.on_commit(lambda: task.delay(delivery_id))


# --- delivery ----------------------------------------------------------------------------------

def backoff_s(attempts: int) -> float:
    """Wait before the next attempt after ``attempts`` failed ones: base · 2^(n−1), capped."""
    base = settings.LEDGER_WEBHOOK_BACKOFF_S
    return min(base * 2 ** max(attempts - 1, 0), settings.LEDGER_WEBHOOK_BACKOFF_MAX_S)


def _claim(delivery_id: int, now) -> bool:
    # A claim older than this belongs to a worker that died mid-request: take it over.
    stale = now - timedelta(seconds=2 * settings.LEDGER_WEBHOOK_TIMEOUT_S + 60)
    due = Q(status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return bool(Delivery.objects.filter(due | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale), pk=delivery_id)
                .update(status=DeliveryStatus.SENDING, claimed_at=now))


def delivery_attempt(delivery_id: int) -> float | None:
    """Send one attempt. Returns the seconds to wait before the next one, or None when the
    delivery is finished (succeeded, gave up, or not this caller's to send)."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    d = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = d.webhook
    if not hook.is_active:
        d.status, d.error = DeliveryStatus.FAILED, "not sent: the hook was disabled"
        d.save(update_fields=["status", "error"])
        return None
    body = json.dumps(d.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    headers = signed_headers(hook.secret, int(time.time()), body, event=d.event, delivery_id=d.pk)
    started = time.monotonic()
    http_status, error = None, ""
    try:
        response = httpx.post(hook.url, content=body, headers=headers, timeout=settings.LEDGER_WEBHOOK_TIMEOUT_S,
                              follow_redirects=False)
        http_status = response.status_code
        if not 200 <= http_status < 300:
            error = f"HTTP {http_status}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    d.attempts += 1
    d.response_status, d.error = http_status, error[:500]
    d.log = [*d.log, {"at": now.isoformat(), "http_status": http_status, "error": error[:200],
                      "duration_ms": round(1000 * (time.monotonic() - started))}]
    if not error:
        d.status, d.delivered_at, d.next_attempt_at = DeliveryStatus.SUCCEEDED, timezone.now(), None
        d.save()
        Webhook.objects.filter(pk=hook.pk, consecutive_failures__gt=0).update(consecutive_failures=0)
        return None
    if d.attempts < settings.LEDGER_WEBHOOK_MAX_ATTEMPTS:
        delay = backoff_s(d.attempts)
        d.status, d.next_attempt_at = DeliveryStatus.PENDING, timezone.now() + timedelta(seconds=delay)
        d.save()
        return delay
    d.status, d.next_attempt_at = DeliveryStatus.FAILED, None
    d.save()
    _count_failure(hook.pk, d)
    return None


def _count_failure(hook_id: int, delivery: Delivery) -> None:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().get(pk=hook_id)
        hook.consecutive_failures += 1
        disable = hook.is_active and hook.consecutive_failures >= settings.LEDGER_WEBHOOK_DISABLE_AFTER
        if disable:
            hook.is_active, hook.disabled_at = False, timezone.now()
            hook.disabled_reason = (f"disabled after {hook.consecutive_failures} deliveries in a row failed "
                                    f"{delivery.attempts} attempts each (last: {delivery.error})")[:500]
        hook.save(update_fields=["consecutive_failures", "is_active", "disabled_at", "disabled_reason", "updated_at"])
    if disable:
        _notify_disabled(hook)


def _notify_disabled(hook: Webhook) -> None:
    """The notice: a warning in the log, an e-mail to whoever registered the hook, and the reason
    on the hook itself (admin, API, project page)."""
    log.warning("webhook %s (%s) disabled: %s", hook.pk, hook.url, hook.disabled_reason)
    email = getattr(hook.created_by, "email", "")
    if email:
        send_mail(f"[LEDger] webhook for {hook.project.code} disabled", (
            f"The webhook {hook.url} of project {hook.project.code} was disabled: {hook.disabled_reason}.\n"
            "Fix the receiver, then turn it on again (admin, or PATCH is_active=true)."),
            None, [email], fail_silently=True)


def send_due_deliveries() -> int:
    """Beat: send what is due and was not sent (a lost message, or tasks run in-process, which
    do not wait for a retry). The claim keeps a delivery from being sent twice."""
    deliver_webhook = _task("deliver_webhook")
    now = timezone.now()
    stale = now - timedelta(seconds=2 * settings.LEDGER_WEBHOOK_TIMEOUT_S + 60)
    due = (Q(status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
           | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale))
    ids = list(Delivery.objects.filter(due).values_list("pk", flat=True)[:500])
    for pk in ids:
        deliver_webhook.delay(pk)
    return len(ids)
