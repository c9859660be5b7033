"""Calling a backing service as the caller: its stub plus the caller's exchanged token.

A backend accepts only tokens addressed to itself, so every call made for a
request carries the caller's token exchanged for that backend's audience
(:meth:`gateway.auth.EdgeAuth.metadata_for`: cached, one exchange in flight) and
the gateway's request id. One :class:`ForCaller` per backend is the route
dependency; the backends differ only in their stub class and audience.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import grpc
from fastapi import Depends

from fieldvault.customer_vault.v1.customer_vault_pb2_grpc import CustomerVaultServiceStub
from fieldvault.identity.v1.identity_pb2_grpc import IdentityServiceStub
from fieldvault.notification.v1.notification_pb2_grpc import NotificationServiceStub
from fieldvault.work_order.v1.work_order_pb2_grpc import WorkOrderServiceStub
from gateway.auth import Auth, Caller, CurrentCaller, EdgeAuth
from gateway.dependencies import AllPeers, RequestId
from gateway.peers import Metadata, Peer, Peers

StubT = TypeVar("StubT")
ResponseT = TypeVar("ResponseT")

#: Call metadata carrying the gateway's request id, so a backend's audit records
#: and logs can be matched with the request that caused them.
REQUEST_ID_METADATA = "x-request-id"


@dataclass(frozen=True)
class AsCaller(Generic[StubT]):
    """A peer's stub plus the caller's token for that peer's audience."""

    peer: Peer
    stub: StubT
    metadata: Metadata
    caller: Caller

    async def call(self, method: Callable[..., Awaitable[ResponseT]], request: Any) -> ResponseT:
        return await self.peer.call(method, request, metadata=self.metadata)


class ForCaller(Generic[StubT]):
    """The route dependency for one backend: ``Depends(ForCaller(Stub, "audience"))``."""

    def __init__(self, stub_class: Callable[[grpc.aio.Channel], StubT], audience: str) -> None:
        self.stub_class = stub_class
        self.audience = audience

    def stub(self, peer: Peer) -> StubT:
        """The backend's stub alone, for calls made without a caller (sign-in, JWKS)."""
        return peer.stub(self.stub_class)

    async def __call__(
        self, caller: CurrentCaller, auth: Auth, peers: AllPeers, request_id: RequestId
    ) -> AsCaller[StubT]:
        return await self.bind(caller=caller, auth=auth, peers=peers, request_id=request_id)

    async def bind(
        self, *, caller: Caller, auth: EdgeAuth, peers: Peers, request_id: str = ""
    ) -> AsCaller[StubT]:
        """The same, outside dependency injection: for a route that needs the backend
        only on some paths (a token exchange saved on all the others)."""
        peer = peers.by_audience(self.audience)
        metadata = list(await auth.metadata_for(caller, self.audience))
        if request_id:
            metadata.append((REQUEST_ID_METADATA, request_id))
        return AsCaller(peer, peer.stub(self.stub_class), metadata, caller)


IDENTITY = ForCaller(IdentityServiceStub, "identity")
CUSTOMER_VAULT = ForCaller(CustomerVaultServiceStub, "customer_vault")
WORK_ORDER = ForCaller(WorkOrderServiceStub, "work_order")
NOTIFICATION = ForCaller(NotificationServiceStub, "notification")

IdentityAsCaller = AsCaller[IdentityServiceStub]
CustomerVaultAsCaller = AsCaller[CustomerVaultServiceStub]
WorkOrderAsCaller = AsCaller[WorkOrderServiceStub]
NotificationAsCaller = AsCaller[NotificationServiceStub]

IdentityForCaller = Annotated[IdentityAsCaller, Depends(IDENTITY)]
CustomerVaultForCaller = Annotated[CustomerVaultAsCaller, Depends(CUSTOMER_VAULT)]
WorkOrderForCaller = Annotated[WorkOrderAsCaller, Depends(WORK_ORDER)]
NotificationForCaller = Annotated[NotificationAsCaller, Depends(NOTIFICATION)]
