from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import pytest
from nats.js.api import StorageType

from fieldvault_devstack.nats import NatsServer

pytestmark = pytest.mark.integration


async def test_nats_restart_keeps_jetstream_stream_messages(
    nats_factory: Callable[[], NatsServer],
) -> None:
    server = nats_factory()
    port_before = server.port
    connection = await nats.connect(server.url)
    jetstream = connection.jetstream()
    await jetstream.add_stream(
        name="FV_RESTART", subjects=["fieldvault.t1.>"], storage=StorageType.FILE
    )
    await jetstream.publish("fieldvault.t1.work_order.v1.created", b"wo-1")
    await connection.close()

    await asyncio.to_thread(server.restart)

    assert server.port == port_before
    connection = await nats.connect(server.url)
    try:
        message = await connection.jetstream().get_msg("FV_RESTART", seq=1)
        assert message.data == b"wo-1"
        assert message.subject == "fieldvault.t1.work_order.v1.created"
    finally:
        await connection.close()


def test_session_nats_server_accepts_connections(nats_server: NatsServer) -> None:
    assert nats_server.running
    assert nats_server.url.startswith("nats://127.0.0.1:")
