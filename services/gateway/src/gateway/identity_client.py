"""Calling identity from a route: as the caller (exchanged token) or anonymously."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from fieldvault.identity.v1 import identity_pb2_grpc
from gateway.as_caller import AsCaller, as_caller
from gateway.auth import Auth, CurrentCaller
from gateway.dependencies import AppSettings, IdentityPeer
from gateway.peers import Peer
from gateway.settings import IPNetwork


def identity_stub(peer: Peer) -> identity_pb2_grpc.IdentityServiceStub:
    return peer.stub(identity_pb2_grpc.IdentityServiceStub)


#: Identity's stub plus the caller's identity-audience token.
IdentityAsCaller = AsCaller[identity_pb2_grpc.IdentityServiceStub]


async def identity_as_caller(
    caller: CurrentCaller, auth: Auth, peer: IdentityPeer
) -> IdentityAsCaller:
    return await as_caller(
        caller=caller, auth=auth, peer=peer, audience="identity", stub=identity_stub(peer)
    )


IdentityForCaller = Annotated[IdentityAsCaller, Depends(identity_as_caller)]


def client_address(request: Request, settings: AppSettings) -> str:
    """The client's IP address, for login throttling and the audit log.

    The socket peer, unless it is a configured trusted proxy: then the
    ``X-Forwarded-For`` hops are read from the right (the hop nearest to us),
    past every trusted proxy, and the first other address is the client. Hops
    to the left of it were written by the client and are never believed.
    """
    networks = settings.trusted_proxy_networks()
    peer = request.client.host if request.client else ""
    if not _is_trusted(peer, networks):
        return peer
    client = peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break
        if not _is_trusted(client, networks):
            break
    return client


def _is_trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


async def source_address(request: Request, settings: AppSettings) -> str:
    """:func:`client_address` as a dependency (``async``: no thread-pool hop)."""
    return client_address(request, settings)


SourceAddress = Annotated[str, Depends(source_address)]
