"""LEDger client: the ``ledger`` upload agent and a Python API for notebooks."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import AuthError, Client, LedgerError, Refused, Unavailable  # noqa: E402
from .webhooks import verify_webhook  # noqa: E402

__all__ = ["AuthError", "Client", "LedgerError", "Refused", "Unavailable", "verify_webhook", "__version__"]
