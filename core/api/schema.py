"""The OpenAPI schema documents every status an operation can answer (issue 13: schemathesis found
49 undocumented ones). Every operation may answer 401/403 (no or wrong credentials), 429
(throttled), 404 and 400; a write 413 and 415; these come from the project's one error shape
(core.api.errors). Operations list their own special codes (409, 413, 415) with extend_schema."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorResponseSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (field errors in error.fields)",
    "401": "No or invalid credentials",
    "403": "Not allowed for this account",
    "404": "No such record (or not visible to this account)",
    "405": "Method not allowed (records are never deleted)",
    "406": "The requested format is not offered",
    "413": "The request body is over the upload limit",
    "415": "Unsupported media type",
    "429": "Too many requests; retry after the Retry-After header",
}


class LedgerAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        # 400 and 404 everywhere: a malformed filter or query parameter is a 400, and a label named
        # in one (labels.pdf?samples=…) or in the path that does not exist is a 404.
        codes = {"400", "401", "403", "404", "406", "429"}
        if self.method in ("POST", "PUT", "PATCH"):
            codes.update({"413", "415"})
        for code in sorted(codes - set(responses)):
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS[code]), code, direction=direction)
        return responses
