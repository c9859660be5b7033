"""The caller's token on a gRPC call: metadata ``authorization: Bearer <token>``.

Clients attach it with :func:`bearer_metadata`; servicers read it with
:func:`bearer_token` and hand it to their :class:`TokenVerifier`. A missing or
malformed header is refused the same way a bad token is, without echoing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from fieldvault_platform.errors import Unauthenticated

AUTHORIZATION_KEY: Final = "authorization"
_SCHEME: Final = "bearer "


class _HasMetadata(Protocol):
    def invocation_metadata(self) -> Sequence[Any] | None: ...


def bearer_metadata(token: str) -> tuple[tuple[str, str]]:
    """gRPC call metadata carrying ``token``."""
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)


def bearer_token(context: _HasMetadata) -> str:
    """The bearer token of the call, or Unauthenticated when there is none."""
    for key, value in context.invocation_metadata() or ():
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            if value[: len(_SCHEME)].lower() == _SCHEME and value[len(_SCHEME) :].strip():
                return value[len(_SCHEME) :].strip()
            break
    raise Unauthenticated("bearer token required")
