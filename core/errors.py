"""The base of the refusals services raise for input a person can fix.

Lives in core so the API's exception handler (``core.api.errors``) can map any app's refusals to
an HTTP status without importing that app: an app subclasses ``DomainError`` (measurements'
``IngestError``) and picks a ``code`` the handler knows.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A refused request: ``code`` picks the HTTP status (``core.api.errors.DOMAIN_STATUS``),
    ``field`` names the input it is about (the API puts the message under that field)."""

    def __init__(self, message: str, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
