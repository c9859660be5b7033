"""``Fieldvault-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (docs/api.md#webhooks).

The timestamp is inside the signed text so a receiver can refuse replays
older than its tolerance; the same scheme as Stripe's, familiar to partners.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Fieldvault-Signature"
EVENT_ID_HEADER = "Fieldvault-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(header: str, secret: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the header's v1 matches and its timestamp is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
