"""The platform operator: one high-entropy bearer token, configured as its SHA-256 only."""

from __future__ import annotations

import hashlib
import hmac

from fieldvault_platform.auth.bearer import bearer_token
from fieldvault_platform.errors import PermissionDenied, Unauthenticated


def require_operator(context: object, operator_token_sha256: str | None) -> None:
    """Refuse unless the call's bearer is the operator token (a fast hash is enough:
    the token is random, not a password)."""
    token = bearer_token(context)  # type: ignore[arg-type]
    if operator_token_sha256 is None:
        raise PermissionDenied("platform operator calls are not enabled")
    digest = hashlib.sha256(token.encode()).hexdigest()
    if not hmac.compare_digest(digest, operator_token_sha256):
        raise Unauthenticated("operator token invalid")
