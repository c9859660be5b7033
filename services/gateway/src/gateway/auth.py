"""Who is calling the gateway, and the token the gateway forwards on their behalf.

The caller's access token (audience ``gateway``) is verified here, locally,
from identity's JWKS, against a deny list that identity's revocation events
keep current over NATS — so a logout or a deactivation is refused at the edge
within a second, without asking identity on every request.

A backend only accepts tokens addressed to itself, so for each call the
gateway presents the caller's token exchanged by identity for that backend
(same caller, same rights, never outliving the original). Exchanged tokens
are cached per (token id, audience) until shortly before they expire: a busy
client costs one exchange per token lifetime and backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NatsClient

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth import (
    DenyList,
    JwksCache,
    Principal,
    RevocationListener,
    TokenVerifier,
    bearer_metadata,
)
from fieldvault_platform.auth.wiring import jwks_from_identity
from fieldvault_platform.errors import Unauthenticated, Unavailable
from fieldvault_platform.events import connect
from gateway.peers import Metadata, Peer
from gateway.problems import Problem

log = logging.getLogger(__name__)

#: Renew an exchanged token this long before it expires.
EXCHANGE_MARGIN_SECONDS = 30.0
EXCHANGE_CACHE_SIZE = 10_000
AUDIENCE = "gateway"


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_from(request: Request) -> str:
    """The request's bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("a bearer token is required")
    return token.strip()


@dataclass
class _Exchanged:
    token: str
    renew_at: float


@dataclass
class EdgeAuth:
    """The gateway's token verification and exchange, built in the app lifespan."""

    verifier: TokenVerifier
    deny_list: DenyList
    identity: Peer
    #: Set once the revocation feed has caught up with the stream (readiness).
    revocations_current: asyncio.Event = field(default_factory=asyncio.Event)
    _cache: OrderedDict[tuple[str, str], _Exchanged] = field(default_factory=OrderedDict)

    async def verify(self, token: str) -> Principal:
        try:
            return await self.verifier.verify(token)
        except Unauthenticated as exc:
            raise unauthenticated(str(exc)) from None
        except Unavailable as exc:
            raise Problem(503, "unavailable", "identity is temporarily unavailable") from exc

    async def metadata_for(self, caller: Caller, audience: str) -> Metadata:
        """Call metadata carrying the caller's token exchanged for ``audience``."""
        key = (caller.principal.token_id, audience)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now < cached.renew_at:
            self._cache.move_to_end(key)
            return bearer_metadata(cached.token)
        stub = identity_pb2_grpc.IdentityServiceStub(self.identity.channel)  # type: ignore[no-untyped-call]
        response = await self.identity.call(
            stub.ExchangeToken,
            identity_pb2.ExchangeTokenRequest(subject_token=caller.token, audience=audience),
        )
        self._cache[key] = _Exchanged(
            response.access_token,
            now + max(response.expires_in - EXCHANGE_MARGIN_SECONDS, 0.0),
        )
        while len(self._cache) > EXCHANGE_CACHE_SIZE:
            self._cache.popitem(last=False)
        return bearer_metadata(response.access_token)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str


def get_edge_auth(request: Request) -> EdgeAuth:
    auth: EdgeAuth = request.app.state.edge_auth
    return auth


async def current_caller(
    request: Request, auth: Annotated[EdgeAuth, Depends(get_edge_auth)]
) -> Caller:
    token = bearer_from(request)
    return Caller(await auth.verify(token), token)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
Auth = Annotated[EdgeAuth, Depends(get_edge_auth)]


def open_edge_auth(*, identity: Peer, issuer: str) -> EdgeAuth:
    """Verification from identity's JWKS with an (initially empty) deny list."""
    deny_list = DenyList()
    verifier = TokenVerifier(
        JwksCache(jwks_from_identity(identity.channel)),
        issuer=issuer,
        audience=AUDIENCE,
        deny_list=deny_list,
    )
    return EdgeAuth(verifier, deny_list, identity)


async def feed_revocations(auth: EdgeAuth, nats_url: str, stop: asyncio.Event) -> None:
    """Keep the deny list fed from NATS: connect (retrying while NATS is down), listen.

    Until this has caught up, a revoked token may still pass here (every
    backend's own deny list and identity's checks still refuse it):
    ``/readyz`` reports the gap.
    """
    client: NatsClient | None = None
    delay = 0.5
    try:
        while client is None and not stop.is_set():
            try:
                client = await connect(nats_url, name="fieldvault-gateway")
            except Unavailable:
                log.warning("NATS unavailable; revocations not received yet, retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)
        if client is None:
            return
        listener = RevocationListener(client.jetstream(), auth.deny_list)

        async def mark_current() -> None:
            await listener.caught_up.wait()
            auth.revocations_current.set()

        marker = asyncio.create_task(mark_current())
        try:
            await listener.run(stop)
        finally:
            marker.cancel()
    finally:
        if client is not None and not client.is_closed:
            await client.close()
