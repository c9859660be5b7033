"""Calling identity from a route: as the caller (exchanged token) or anonymously."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from fieldvault.identity.v1 import identity_pb2_grpc
from gateway.auth import Auth, Caller, CurrentCaller
from gateway.dependencies import AppSettings, IdentityPeer
from gateway.peers import Metadata, Peer

ResponseT = TypeVar("ResponseT")


def identity_stub(peer: Peer) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(peer.channel)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class IdentityAsCaller:
    """Identity's stub plus the caller's identity-audience token."""

    peer: Peer
    stub: identity_pb2_grpc.IdentityServiceStub
    metadata: Metadata
    caller: Caller

    async def call(self, method: Callable[..., Awaitable[ResponseT]], request: Any) -> ResponseT:
        return await self.peer.call(method, request, metadata=self.metadata)


async def identity_as_caller(
    caller: CurrentCaller, auth: Auth, peer: IdentityPeer
) -> IdentityAsCaller:
    return IdentityAsCaller(
        peer, identity_stub(peer), await auth.metadata_for(caller, "identity"), caller
    )


IdentityForCaller = Annotated[IdentityAsCaller, Depends(identity_as_caller)]


def client_address(request: Request, settings: AppSettings) -> str:
    """The client's IP: the socket peer, or the last untrusted hop of X-Forwarded-For
    when the socket peer is a configured trusted proxy."""
    peer = request.client.host if request.client else ""
    if not settings.trusted_proxies or peer not in settings.trusted_proxies:
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if hop in settings.trusted_proxies:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer
    return peer


SourceAddress = Annotated[str, Depends(client_address)]
