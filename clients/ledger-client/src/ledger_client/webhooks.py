"""Check a LEDger webhook on the receiving side.

LEDger signs ``"<X-Ledger-Timestamp>.<raw body>"`` with HMAC-SHA256 and the hook's secret and sends
``X-Ledger-Signature-256: sha256=<hex>``. Verify the raw bytes (before any JSON parsing), then
that the timestamp is recent, so a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str], *, tolerance_s: float = 300.0,
                   now: float | None = None) -> bool:
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp, sent = lower.get("x-ledger-timestamp", ""), lower.get("x-ledger-signature-256", "")
    if not timestamp.isdigit() or not sent.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sent[len("sha256="):]):
        return False
    return abs((time.time() if now is None else now) - int(timestamp)) <= tolerance_s
