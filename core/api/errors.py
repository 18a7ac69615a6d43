"""One JSON error shape for every 4xx: ``{"error": {"code", "message", "fields"}}``.

Registered as REST_FRAMEWORK["EXCEPTION_HANDLER"]. Besides DRF's own exceptions it maps the
domain errors the services raise (Django ``ValidationError``, ``core.errors.DomainError`` and its
subclasses such as measurements' ``IngestError``) so a view can simply call a service and let a
refusal become a 4xx — never a 500 for bad input.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

# DomainError.code -> HTTP status
DOMAIN_STATUS = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "unsupported": status.HTTP_400_BAD_REQUEST,  # recognised content, kind not guessable: give `kind`
    "not_found": status.HTTP_400_BAD_REQUEST,  # a label in the body, not the URL: a field error
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "conflict": status.HTTP_409_CONFLICT,
    "unsupported_media": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is over the upload limit."
    default_code = "too_large"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, (list, tuple)):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)]


def _validation_body(detail: Any) -> dict[str, Any]:
    if not isinstance(detail, dict):
        messages = _flatten(detail)
        return error_body("invalid", " ".join(messages) or "Invalid input.")
    fields = {name: _flatten(value) for name, value in detail.items() if name not in ("non_field_errors", "__all__")}
    general = _flatten(detail.get("non_field_errors", [])) + _flatten(detail.get("__all__", []))
    if general:
        message = " ".join(general)
    else:
        message = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()) or "Invalid input."
    return error_body("invalid", message, fields)


def _to_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(str(exc) or None)
    if isinstance(exc, DataError):
        # Input the database refuses (a value out of range) is the client's to fix, not a 500.
        return exceptions.ValidationError({"non_field_errors": [f"a value is out of range: {str(exc).splitlines()[0]}"]})
    return None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        code = exc.code if exc.code in DOMAIN_STATUS else "invalid"
        fields = {exc.field: [str(exc)]} if exc.field else {}
        return Response(error_body(code, str(exc), fields), status=DOMAIN_STATUS.get(exc.code, 400))
    exc = _to_api_exception(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc.detail)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        response.data = error_body(code, " ".join(_flatten(detail)))
    return response


def not_found_view(request, *args, **kwargs):
    """JSON 404 for paths under /api/ that match no route (Django's default is an HTML page)."""
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
