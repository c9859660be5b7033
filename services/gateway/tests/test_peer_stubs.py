"""A backend's gRPC stub is made once per peer channel, not once per request.

Generated stubs build a multi-callable for every method of their service when
they are made; per request that was a measurable part of the gateway's CPU under
load (bench/README.md, end to end). These tests pin that requests reuse one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from gateway.peers import Peer

from .fake_identity import FakeGateway, fake_gateway


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[FakeGateway]:
    async with fake_gateway(start_peer) as gateway:
        yield gateway


async def test_a_peer_hands_out_one_stub_per_stub_class() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    try:
        peer = Peer("identity", channel, 1.0)
        first = peer.stub(identity_pb2_grpc.IdentityServiceStub)
        assert peer.stub(identity_pb2_grpc.IdentityServiceStub) is first
    finally:
        await channel.close()


async def test_requests_reuse_the_identity_stub_instead_of_making_one_each(
    fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []

    class CountingStub(identity_pb2_grpc.IdentityServiceStub):  # type: ignore[misc]
        def __init__(self, channel: grpc.aio.Channel) -> None:
            made.append(channel)
            super().__init__(channel)

    monkeypatch.setattr(identity_pb2_grpc, "IdentityServiceStub", CountingStub)
    headers = fake.bearer()
    for _ in range(5):
        response = await fake.client.get("/v1/me", headers=headers)
        assert response.status_code == 200, response.text

    # The token exchange and the five GetMe calls share one stub.
    assert len(made) == 1
