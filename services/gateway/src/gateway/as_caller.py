"""Calling a backing service as the caller: its stub plus the caller's exchanged token.

A backend accepts only tokens addressed to itself, so every call made for a
request carries the caller's token exchanged for that backend's audience
(:meth:`gateway.auth.EdgeAuth.metadata_for`: cached, one exchange in flight).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.auth import Caller, EdgeAuth
from gateway.peers import Metadata, Peer

StubT = TypeVar("StubT")
ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class AsCaller(Generic[StubT]):
    """A peer's stub plus the caller's token for that peer's audience."""

    peer: Peer
    stub: StubT
    metadata: Metadata
    caller: Caller

    async def call(self, method: Callable[..., Awaitable[ResponseT]], request: Any) -> ResponseT:
        return await self.peer.call(method, request, metadata=self.metadata)


#: Call metadata carrying the gateway's request id, so a backend's audit records
#: and logs can be matched with the request that caused them.
REQUEST_ID_METADATA = "x-request-id"


async def as_caller(
    *,
    caller: Caller,
    auth: EdgeAuth,
    peer: Peer,
    audience: str,
    stub: StubT,
    request_id: str = "",
) -> AsCaller[StubT]:
    metadata = list(await auth.metadata_for(caller, audience))
    if request_id:
        metadata.append((REQUEST_ID_METADATA, request_id))
    return AsCaller(peer, stub, metadata, caller)
