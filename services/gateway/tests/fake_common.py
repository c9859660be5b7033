"""What the fake peers share: recorded calls, timestamps and the check of a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from fieldvault_platform.auth.contract import DEFAULT_ISSUER
from fieldvault_platform.errors import Unauthenticated


def now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


@dataclass
class Call:
    request: Message
    metadata: dict[str, str]


def record(calls: dict[str, list[Call]], method: str, request: Message, context: Any) -> Call:
    """Record a call with its metadata, for a test to see exactly what the gateway sent."""
    metadata = {key: value for key, value in context.invocation_metadata() or ()}
    call = Call(request, metadata)
    calls[method].append(call)
    return call


def bearer_claims(metadata: dict[str, str], public_key: Any, audience: str) -> dict[str, Any]:
    """The claims of the call's bearer token, verified as a backend of ``audience`` would
    (identity's key, its issuer, addressed to ``audience``), or UNAUTHENTICATED."""
    scheme, _, token = metadata.get("authorization", "").partition(" ")
    if scheme != "Bearer":
        raise Unauthenticated("a bearer token is required")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, public_key, algorithms=["EdDSA"], audience=audience, issuer=DEFAULT_ISSUER
        )
    except jwt.PyJWTError:
        raise Unauthenticated(f"a {audience} token is required") from None
    return claims
