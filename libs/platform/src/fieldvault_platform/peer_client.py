"""Calls to a peer service with this service's own scoped token, in one place.

A service asking another one (identity's directory, customer-vault's sites,
grants and shares) needs the same three things on every call: a token for
that peer narrowed to one scope and one tenant (from
:class:`~fieldvault_platform.auth.wiring.ServiceTokens`, which caches it), a
deadline, and what the peer's failure means here
(:func:`~fieldvault_platform.grpc_client.peer_error`: the caller's
``not_found``, ``Unavailable`` or ``PeerRefused``). :class:`PeerClient` does
the three; callers keep their generated stub and name the method::

    identity = PeerClient(tokens, audience="identity")
    response = await identity.call(
        stub.GetUser, GetUserRequest(id=user_id),
        scope="directory:read", tenant_id=tenant_id, not_found=NotFound("person not found"),
    )

No raw ``AioRpcError`` leaves :meth:`PeerClient.call`, and no message it
raises quotes the token or the peer's details.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypeVar

import grpc

from fieldvault_platform.auth.bearer import bearer_metadata
from fieldvault_platform.auth.contract import IDENTITY_SERVICE
from fieldvault_platform.grpc_client import peer_error

#: Deadline of one call to a peer unless its client says otherwise.
PEER_CALL_TIMEOUT = 5.0

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")
_RequestIn = TypeVar("_RequestIn", contravariant=True)
_ResponseOut = TypeVar("_ResponseOut", covariant=True)


class UnaryMethod(Protocol[_RequestIn, _ResponseOut]):
    """A unary method of a generated grpc.aio stub, e.g. ``stub.GetUser``."""

    def __call__(
        self, request: _RequestIn, *, metadata: tuple[tuple[str, str]], timeout: float
    ) -> Awaitable[_ResponseOut]: ...


class TokenSource(Protocol):
    """Where the tokens come from: :class:`~fieldvault_platform.auth.wiring.ServiceTokens`."""

    async def token(self, *, audience: str, scope: str = "", tenant_id: str = "") -> str: ...


class PeerClient:
    """Calls to one peer (``audience``), each with its own scoped token and the deadline."""

    def __init__(
        self, tokens: TokenSource, *, audience: str, timeout: float = PEER_CALL_TIMEOUT
    ) -> None:
        self._tokens = tokens
        #: The peer's token audience; also its name in the errors raised.
        self.audience = audience
        self.timeout = timeout

    async def call(
        self,
        method: UnaryMethod[_Request, _Response],
        request: _Request,
        *,
        scope: str,
        tenant_id: str,
        not_found: Exception | None = None,
    ) -> _Response:
        """``method(request)`` with a token for ``scope`` in ``tenant_id``.

        Raises ``not_found`` when the peer answers NOT_FOUND (without it, a
        ``PeerRefused`` with that status), ``Unavailable`` when the peer or
        identity cannot be reached or does not answer in time, and
        ``PeerRefused`` (its ``status`` says which) for any other refusal.
        """
        try:
            token = await self._tokens.token(
                audience=self.audience, scope=scope, tenant_id=tenant_id
            )
        except grpc.aio.AioRpcError as exc:
            # Identity refused the token itself (the secret, the scope): this
            # deployment's fault, never the caller's "not found".
            raise peer_error(exc, IDENTITY_SERVICE) from exc
        try:
            return await method(request, metadata=bearer_metadata(token), timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc, self.audience, not_found) from exc
