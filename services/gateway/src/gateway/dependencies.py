"""FastAPI dependencies as ``Annotated`` aliases, so a route declares what it needs by type.

``app.state`` is untyped; these accessors are the one place that knows what
the composition root and lifespan put there.

Every dependency is ``async def`` although none awaits anything: FastAPI runs a
plain ``def`` dependency in its thread pool, a thread hop per dependency per
request, which under load cost more than the work of the request itself
(bench/README.md, end to end). tests/test_dependencies_inline.py keeps it so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from gateway.peers import Peer, Peers
from gateway.settings import GatewaySettings


async def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def get_peers(request: Request) -> Peers:
    peers: Peers = request.app.state.peers
    return peers


async def get_request_id(request: Request) -> str:
    request_id: str = request.state.request_id
    return request_id


async def identity_peer(peers: Annotated[Peers, Depends(get_peers)]) -> Peer:
    return peers.identity


async def customer_vault_peer(peers: Annotated[Peers, Depends(get_peers)]) -> Peer:
    return peers.customer_vault


async def work_order_peer(peers: Annotated[Peers, Depends(get_peers)]) -> Peer:
    return peers.work_order


async def notification_peer(peers: Annotated[Peers, Depends(get_peers)]) -> Peer:
    return peers.notification


async def if_match(
    if_match: Annotated[
        str | None,
        Header(
            description=(
                "The `etag` last read; the change is refused with 412 `precondition_failed` "
                "if the resource changed since. `*` or absent: no precondition."
            )
        ),
    ] = None,
) -> str:
    """The entity tag a change is conditional on, '' for none.

    ``*`` matches any current representation (RFC 9110 §13.1.1); the resource
    exists or the call answers 404 anyway, so it is no precondition at all.
    """
    value = (if_match or "").strip()
    return "" if value == "*" else value


AppSettings = Annotated[GatewaySettings, Depends(get_settings)]
AllPeers = Annotated[Peers, Depends(get_peers)]
RequestId = Annotated[str, Depends(get_request_id)]
IdentityPeer = Annotated[Peer, Depends(identity_peer)]
CustomerVaultPeer = Annotated[Peer, Depends(customer_vault_peer)]
WorkOrderPeer = Annotated[Peer, Depends(work_order_peer)]
NotificationPeer = Annotated[Peer, Depends(notification_peer)]
IfMatch = Annotated[str, Depends(if_match)]
