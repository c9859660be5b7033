"""Token verification for a service process, in one call from its composition root.

Every verifying process needs the same three things — identity's public keys
(fetched over gRPC, cached), a deny list, and the listener that feeds the deny
list from NATS — wired the same way; :func:`token_verification` builds them
and hands back the listener as a background job for the runtime.

:class:`ServiceTokens` is the other direction: a service calling another one
with its own narrowly scoped token (optionally on behalf of a user), fetched
from identity and reused until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from nats.js import JetStreamContext

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth.deny_list import DenyList
from fieldvault_platform.auth.jwks import JwksCache, JwksFetch
from fieldvault_platform.auth.revocation import RevocationListener
from fieldvault_platform.auth.verifier import TokenVerifier
from fieldvault_platform.errors import Unavailable

#: Deadline of a JWKS fetch or a token request to identity.
IDENTITY_CALL_TIMEOUT = 5.0


def jwks_from_identity(channel: grpc.aio.Channel) -> JwksFetch:
    """A JWKS fetch calling identity's ``GetJwks`` on ``channel``."""
    stub = identity_pb2_grpc.IdentityServiceStub(channel)

    async def fetch() -> Mapping[str, Any]:
        response = await stub.GetJwks(identity_pb2.GetJwksRequest(), timeout=IDENTITY_CALL_TIMEOUT)
        document: Mapping[str, Any] = json.loads(response.jwks_json)
        return document

    return fetch


@dataclass(frozen=True)
class TokenVerification:
    verifier: TokenVerifier
    deny_list: DenyList
    #: Run as a background job (``ServiceRuntime.background_jobs``): it keeps the
    #: deny list current; until it has caught up, revocations may be missed.
    listener: RevocationListener


def token_verification(
    *,
    audience: str,
    issuer: str,
    identity_channel: grpc.aio.Channel,
    jetstream: JetStreamContext,
) -> TokenVerification:
    deny_list = DenyList()
    verifier = TokenVerifier(
        JwksCache(jwks_from_identity(identity_channel)),
        issuer=issuer,
        audience=audience,
        deny_list=deny_list,
    )
    return TokenVerification(verifier, deny_list, RevocationListener(jetstream, deny_list))


@dataclass
class _CachedToken:
    token: str
    refresh_at: float


@dataclass
class ServiceTokens:
    """This service's tokens for other services, from identity's ``IssueServiceToken``.

    Tokens without an acting user are cached per (audience, scope) and renewed
    when 80 % of their lifetime has passed; on-behalf-of tokens are not cached
    (each carries one user's request). The secret is held in memory only.
    """

    service: str
    secret: Callable[[], str]
    channel: grpc.aio.Channel
    clock: Callable[[], float] = time.monotonic
    _cache: dict[tuple[str, str, str], _CachedToken] = field(default_factory=dict)
    _locks: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)

    async def token(
        self,
        *,
        audience: str,
        scope: str = "",
        tenant_id: str = "",
        on_behalf_of: str | None = None,
    ) -> str:
        """A token for ``audience``; ``on_behalf_of`` is the acting user's access token."""
        if on_behalf_of is not None:
            return (await self._issue(audience, scope, tenant_id, on_behalf_of)).access_token
        key = (audience, scope, tenant_id)
        cached = self._cache.get(key)
        if cached is not None and self.clock() < cached.refresh_at:
            return cached.token
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._cache.get(key)
            if cached is not None and self.clock() < cached.refresh_at:
                return cached.token
            response = await self._issue(audience, scope, tenant_id, None)
            self._cache[key] = _CachedToken(
                response.access_token, self.clock() + 0.8 * response.expires_in
            )
            return response.access_token

    async def _issue(
        self, audience: str, scope: str, tenant_id: str, subject_token: str | None
    ) -> identity_pb2.IssueServiceTokenResponse:
        stub = identity_pb2_grpc.IdentityServiceStub(self.channel)
        request = identity_pb2.IssueServiceTokenRequest(
            service=self.service,
            secret=self.secret(),
            audience=audience,
            scope=scope,
            tenant_id=tenant_id,
            subject_token=subject_token or "",
        )
        try:
            response: Awaitable[identity_pb2.IssueServiceTokenResponse] = stub.IssueServiceToken(
                request, timeout=IDENTITY_CALL_TIMEOUT
            )
            return await response
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("identity is unavailable: cannot obtain a service token") from exc
            raise
