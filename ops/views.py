"""Probes and the metrics endpoint: plain JSON and text, no templates, no session."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from . import health
from .metrics import exposition


def healthz(request):
    """The process is up and answers HTTP (liveness: no database, no broker)."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready to serve: database, migrations, broker, a worker on the analysis queue, storage."""
    body = health.readiness()
    response = JsonResponse(body, status=200 if body["status"] == "ready" else 503)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # a 503 here is an answer, not a server error for django.request
    return response


def _metrics_allowed(request) -> bool:
    token = settings.LEDGER_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request):
    """Prometheus text exposition. Loopback only unless LEDGER_METRICS_TOKEN is set (then a bearer token)."""
    if not _metrics_allowed(request):
        return JsonResponse({"error": {"code": "forbidden", "message": "metrics are served to loopback or with "
                                       "LEDGER_METRICS_TOKEN as a bearer token", "fields": {}}}, status=403)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
