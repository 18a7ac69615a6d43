"""HMAC-SHA256 signatures of webhook bodies (pure Python; the receiver's side is the same code,
shipped in ``ledger_client.verify_webhook``).

The signed message is ``"<timestamp>.<body>"`` so a captured request cannot be replayed later with
a new timestamp: a receiver checks the signature, then that the timestamp is recent.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Ledger-Signature-256"
TIMESTAMP_HEADER = "X-Ledger-Timestamp"
EVENT_HEADER = "X-Ledger-Event"
DELIVERY_HEADER = "X-Ledger-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes, *, event: str, delivery_id: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "LEDger-Webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
