"""The backing services the gateway calls, one long-lived gRPC channel each.

Routes call a peer through :meth:`Peer.call` rather than awaiting a stub
directly, for two reasons: every call gets a deadline (a REST request must
never hang on a stuck service), and a failure is tagged with the peer's name so
the error handler can say *which* service is unavailable without revealing its
address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from fieldvault_platform.grpc_client import open_channel
from gateway.settings import GatewaySettings

ResponseT = TypeVar("ResponseT")
StubT = TypeVar("StubT")

#: ``(key, value)`` pairs sent as gRPC request metadata (e.g. the caller's token).
Metadata = Sequence[tuple[str, str | bytes]]


class PeerRpcError(Exception):
    """A gRPC call to a named peer failed; wraps the original ``AioRpcError``."""

    def __init__(self, peer: str, error: grpc.aio.AioRpcError) -> None:
        # The message is the peer name only: the gRPC error's debug string holds
        # addresses and must not end up in a log line or a response by accident.
        super().__init__(f"call to {peer} failed with {error.code().name}")
        self.peer = peer
        self.error = error


@dataclass(frozen=True)
class Peer:
    """One backing service: the name shown to callers, its channel, its default deadline."""

    name: str
    channel: grpc.aio.Channel
    deadline_seconds: float
    #: Stubs made on ``channel``, by stub class (see :meth:`stub`).
    _stubs: dict[Callable[[grpc.aio.Channel], Any], Any] = field(
        default_factory=dict, compare=False, repr=False
    )

    def stub(self, stub_class: Callable[[grpc.aio.Channel], StubT]) -> StubT:
        """The one ``stub_class`` on this peer's channel, made on first use.

        A generated stub builds a multi-callable for every method of its service
        when it is made (about 30 for identity and customer_vault, a few hundred µs
        of CPU); made per request, that was a visible part of the gateway's time
        under load. Stubs hold no per-call state, so one per channel serves all.
        """
        made = self._stubs.get(stub_class)
        if made is None:
            made = self._stubs[stub_class] = stub_class(self.channel)
        stub: StubT = made
        return stub

    async def call(
        self,
        method: Callable[..., Awaitable[ResponseT]],
        request: Any,
        *,
        metadata: Metadata | None = None,
        deadline_seconds: float | None = None,
    ) -> ResponseT:
        """Await a unary stub method, e.g. ``peer.call(stub.GetWorkOrder, request)``."""
        try:
            return await method(
                request,
                timeout=self.deadline_seconds if deadline_seconds is None else deadline_seconds,
                metadata=metadata,
            )
        except grpc.aio.AioRpcError as exc:
            raise PeerRpcError(self.name, exc) from exc


@dataclass(frozen=True)
class Peers:
    identity: Peer
    customer_vault: Peer
    work_order: Peer
    notification: Peer

    def all(self) -> tuple[Peer, ...]:
        return (self.identity, self.customer_vault, self.work_order, self.notification)

    def by_audience(self, audience: str) -> Peer:
        """The peer whose tokens carry ``audience`` (the audiences are the peers' names)."""
        for peer in self.all():
            if peer.name == audience:
                return peer
        raise KeyError(audience)

    async def close(self) -> None:
        await asyncio.gather(*(peer.channel.close() for peer in self.all()))


def open_peers(settings: GatewaySettings) -> Peers:
    """Channels connect lazily, so opening them never fails on a peer that is down."""
    peers = {
        name: Peer(
            name=name,
            channel=open_channel(address),
            deadline_seconds=settings.request_timeout_seconds,
        )
        for name, address in settings.peer_addresses().items()
    }
    return Peers(**peers)
