"""Middleware of the production shape: request ids + one JSON access line per request, and the
probes answered before host validation and the HTTPS redirect (a load balancer probes the pod by
IP over plain HTTP)."""

from __future__ import annotations

import logging
import time

from .request_id import new_request_id, request_id_var

access_log = logging.getLogger("ledger.request")


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (or makes one), puts it in the context for logs and tasks,
    returns it in the response, and logs the request once it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        # Not reset after the response: Django logs a 5xx after the middleware chain returns, and that
        # line should carry the id too. The next request sets its own.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        access_log.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={"method": request.method, "path": request.path, "status": response.status_code,
                   "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                   "user": user.get_username() if user is not None and user.is_authenticated else None})
        return response


class ProbeMiddleware:
    """``/healthz`` and ``/readyz`` answered here, ahead of ALLOWED_HOSTS and SECURE_SSL_REDIRECT."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in ("/healthz", "/healthz/"):
            from .views import healthz

            return healthz(request)
        if request.path in ("/readyz", "/readyz/"):
            from .views import readyz

            return readyz(request)
        return self.get_response(request)
