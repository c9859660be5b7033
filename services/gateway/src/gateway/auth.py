"""Who is calling the gateway, and the token the gateway forwards on their behalf.

The caller's access token (audience ``gateway``) is verified here, locally,
from identity's JWKS, against a deny list that identity's revocation events
keep current over NATS — so a logout or a deactivation is refused at the edge
within a second, without asking identity on every request.

A backend only accepts tokens addressed to itself, so for each call the
gateway presents the caller's token exchanged by identity for that backend
(same caller, same rights, never outliving the original). Exchanged tokens
are cached per (token id, audience) until shortly before they expire, and
concurrent requests wait for one exchange in flight: a busy client costs one
exchange per token lifetime and backend. The caller's own token is checked
against the deny list first, on every request, so a revoked token never
reaches the cache; still, a revoked partner client's exchanged tokens are
dropped the moment ``api_client_revoked`` arrives, so nothing usable of it is
kept here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any

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
from fieldvault_platform.auth.contract import AUDIENCES, CLIENT_SUBJECT_PREFIX, REASON_EXPIRED
from fieldvault_platform.auth.wiring import jwks_from_identity
from fieldvault_platform.backoff import backoff_seconds
from fieldvault_platform.errors import Unauthenticated, Unavailable
from fieldvault_platform.events import connect
from fieldvault_platform.grpc_client import HealthStatus
from gateway.peers import Metadata, Peer
from gateway.problems import Problem

log = logging.getLogger(__name__)

#: Renew an exchanged token this long before it expires (at most half its lifetime).
EXCHANGE_MARGIN_SECONDS = 30.0
EXCHANGE_CACHE_SIZE = 10_000
AUDIENCE = "gateway"


#: What an expired access token is told: access tokens live minutes, and the way on
#: is the refresh token that came with it, not the password.
TOKEN_EXPIRED = (
    f"{REASON_EXPIRED}: get a new access token with POST /v1/auth/refresh "
    '{"refresh_token": ...} (or sign in again once the session has ended)'
)


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


#: RFC 6750's b64token, bounded: anything else (control bytes, non-ASCII) is not a
#: token of ours and must never be forwarded as gRPC metadata.
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]{1,8192}=*")


def bearer_from(request: Request) -> str:
    """The request's bearer token, or 401 (``WWW-Authenticate: Bearer``)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("a bearer token is required")
    if not _BEARER_TOKEN.fullmatch(token.strip()):
        raise unauthenticated("the bearer token is malformed")
    return token.strip()


@dataclass(frozen=True)
class Caller:
    """A verified caller and the token they presented (forwarded only via exchange)."""

    principal: Principal
    token: str

    def __repr__(self) -> str:
        # The token must not reach a log line through a repr in a traceback.
        return f"Caller(subject={self.principal.subject!r})"


@dataclass
class _Exchanged:
    token: str = field(repr=False)
    renew_at: float = 0.0
    #: Whose token it is (tenant, ``sub``), to drop a revoked client's at once.
    owner: tuple[str, str] = ("", "")


_Key = tuple[str, str]


@dataclass
class EdgeAuth:
    """The gateway's token verification and exchange, built in the app lifespan."""

    verifier: TokenVerifier
    deny_list: DenyList
    identity: Peer
    #: Set once the revocation feed has caught up with the stream (readiness).
    revocations_current: asyncio.Event = field(default_factory=asyncio.Event)
    #: The NATS connection feeding the deny list, once there is one.
    nats: NatsClient | None = None
    clock: Callable[[], float] = time.monotonic
    cache_size: int = EXCHANGE_CACHE_SIZE
    #: Exchanges made with identity (cache misses), for tests and diagnostics.
    exchange_count: int = 0
    _cache: OrderedDict[_Key, _Exchanged] = field(default_factory=OrderedDict, repr=False)
    _in_flight: dict[_Key, asyncio.Task[_Exchanged]] = field(default_factory=dict, repr=False)

    async def verify(self, token: str) -> Principal:
        try:
            return await self.verifier.verify(token)
        except Unauthenticated as exc:
            # The library's reasons are generic ("token expired", ...), never a claim.
            reason = str(exc)
            if reason == REASON_EXPIRED:
                reason = TOKEN_EXPIRED
            raise unauthenticated(reason) from None
        except Unavailable as exc:
            raise Problem(503, "unavailable", "identity is temporarily unavailable") from exc

    async def metadata_for(self, caller: Caller, audience: str) -> Metadata:
        """Call metadata carrying the caller's token exchanged for ``audience``."""
        return bearer_metadata(await self.token_for(caller, audience))

    async def token_for(self, caller: Caller, audience: str) -> str:
        key = (caller.principal.token_id, audience)
        cached = self._cache.get(key)
        if cached is not None:
            if self.clock() < cached.renew_at:
                self._cache.move_to_end(key)
                return cached.token
            del self._cache[key]
        exchange = self._in_flight.get(key)
        if exchange is None:
            owner = (caller.principal.tenant_id or "", caller.principal.subject)
            exchange = asyncio.create_task(self._exchange(key, caller.token, audience, owner))
            self._in_flight[key] = exchange
            exchange.add_done_callback(lambda done: self._exchange_done(key, done))
        # Shielded: a request that is cancelled (client gone) must not cancel the
        # exchange other requests are waiting for.
        return (await asyncio.shield(exchange)).token

    async def _exchange(
        self, key: _Key, token: str, audience: str, owner: tuple[str, str]
    ) -> _Exchanged:
        stub = self.identity.stub(identity_pb2_grpc.IdentityServiceStub)
        response = await self.identity.call(
            stub.ExchangeToken,
            identity_pb2.ExchangeTokenRequest(subject_token=token, audience=audience),
        )
        self.exchange_count += 1
        lifetime = float(response.expires_in)
        exchanged = _Exchanged(
            response.access_token,
            self.clock() + lifetime - min(EXCHANGE_MARGIN_SECONDS, lifetime / 2),
            owner,
        )
        self._cache[key] = exchanged
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return exchanged

    def _exchange_done(self, key: _Key, done: asyncio.Task[_Exchanged]) -> None:
        self._in_flight.pop(key, None)
        if not done.cancelled():
            # Retrieved here so that a failure nobody waited for is not reported
            # as "never retrieved"; the waiters got it already.
            done.exception()

    def forget(self, principal: Principal) -> None:
        """Refuse this caller's session here at once and drop its exchanged tokens.

        Identity's revocation event reaches every process within a second; this
        closes that second for the instance the logout went through.
        """
        if principal.session_id:
            self.deny_list.revoke_session(principal.tenant_id, principal.session_id)
        else:
            self.deny_list.revoke_token(
                principal.token_id, expires_at=principal.expires_at.timestamp()
            )
        for audience in AUDIENCES:
            self._cache.pop((principal.token_id, audience), None)

    def drop_client(self, tenant_id: str, client_id: str) -> None:
        """Forget every token exchanged for this revoked partner client (its deny-list
        entry is made by the revocation listener before this is called)."""
        owner = (tenant_id, CLIENT_SUBJECT_PREFIX + client_id)
        for key in [key for key, entry in self._cache.items() if entry.owner == owner]:
            del self._cache[key]

    def revocations_status(self) -> HealthStatus:
        """``/readyz``: whether revocations reach this instance's deny list."""
        if self.nats is None or not self.nats.is_connected:
            return HealthStatus.UNREACHABLE
        if not self.revocations_current.is_set():
            return HealthStatus.NOT_SERVING
        return HealthStatus.SERVING


async def get_edge_auth(request: Request) -> EdgeAuth:
    auth: EdgeAuth = request.app.state.edge_auth
    return auth


Auth = Annotated[EdgeAuth, Depends(get_edge_auth)]


#: ``scope["state"]`` key of the caller the edge middlewares verified, as
#: ``(token, principal or None)``.
VERIFIED_AT_EDGE = "edge_principal"


def remember_verified(
    scope: MutableMapping[str, Any], token: str, principal: Principal | None
) -> None:
    scope.setdefault("state", {})[VERIFIED_AT_EDGE] = (token, principal)


def verified_at_edge(scope: Mapping[str, Any], token: str) -> Principal | None:
    """The principal this request's ``token`` was verified as a moment ago, if it was.

    The edge middlewares (rate limits, idempotency) verify the caller before
    routing; verifying the same token again in the route's dependency doubled the
    Ed25519 check and the claims parse on every request. Only a success for the very
    same token string counts: a failure is verified again so the route answers it
    with its own reason.
    """
    remembered = scope.get("state", {}).get(VERIFIED_AT_EDGE)
    if remembered is None:
        return None
    remembered_token, principal = remembered
    if principal is None or remembered_token != token:
        return None
    result: Principal = principal
    return result


async def current_caller(request: Request, auth: Auth) -> Caller:
    token = bearer_from(request)
    principal = verified_at_edge(request.scope, token) or await auth.verify(token)
    return Caller(principal, token)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_principal(caller: CurrentCaller) -> Principal:
    return caller.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


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
    ``/readyz`` reports the gap as its ``revocations`` dependency.
    """
    client: NatsClient | None = None
    failures = 0
    try:
        while client is None and not stop.is_set():
            try:
                client = await _unless_stopped(connect(nats_url, name="fieldvault-gateway"), stop)
            except Unavailable:
                log.warning("NATS unavailable; revocations not received yet, retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), timeout=backoff_seconds(failures, base=0.5, cap=30.0)
                    )
                failures += 1
        if client is None:
            return
        auth.nats = client
        listener = RevocationListener(
            client.jetstream(), auth.deny_list, on_client_revoked=auth.drop_client
        )

        async def mark_current() -> None:
            await listener.caught_up.wait()
            auth.revocations_current.set()

        marker = asyncio.create_task(mark_current())
        try:
            await listener.run(stop)
        finally:
            marker.cancel()
    finally:
        auth.nats = None
        if client is not None and not client.is_closed:
            await client.close()


async def _unless_stopped(
    connecting: Coroutine[Any, Any, NatsClient], stop: asyncio.Event
) -> NatsClient | None:
    """The connection, or None if ``stop`` is set first.

    An abandoned attempt is cancelled but not waited for (shutdown must not hang
    on a connection attempt); should it connect anyway, it is closed.
    """
    attempt = asyncio.ensure_future(connecting)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((attempt, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if attempt.done():
        return attempt.result()
    attempt.add_done_callback(_close_if_connected)
    attempt.cancel()
    return None


#: Closing connections of abandoned attempts (a reference keeps each task alive).
_closing: set[asyncio.Task[None]] = set()


def _close_if_connected(attempt: asyncio.Future[NatsClient]) -> None:
    if attempt.cancelled() or attempt.exception() is not None:
        return
    closing = asyncio.ensure_future(attempt.result().close())
    _closing.add(closing)
    closing.add_done_callback(_closing.discard)
