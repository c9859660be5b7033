from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import nats
import pytest
from nats.js.api import StorageType

from fieldvault_devstack.nats import NatsCluster, NatsServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.events import ensure_stream

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


async def test_a_three_node_cluster_keeps_a_replicated_stream_when_a_node_stops(
    tmp_path: Path,
) -> None:
    cluster = NatsCluster(
        [free_port() for _ in range(3)], [free_port() for _ in range(3)], tmp_path, tmp_path
    )
    await asyncio.to_thread(cluster.start)
    try:
        assert cluster.running and len(cluster.url.split(",")) == 3
        connection = await nats.connect(cluster.url.split(","))
        try:
            js = connection.jetstream(timeout=10)
            await ensure_stream(js, "work_order", replicas=3)
            info = await js.stream_info("FIELDVAULT_WORK_ORDER")
            assert info.config.num_replicas == 3
            await js.publish("fieldvault.t1.work_order.v1.created", b"wo-1")

            # One node down: the other two still hold a quorum and take writes.
            await asyncio.to_thread(cluster.nodes[-1].stop)
            for _ in range(100):
                try:
                    await js.publish("fieldvault.t1.work_order.v1.created", b"wo-2")
                    break
                except Exception:  # the client fails over, a leader may be re-elected
                    await asyncio.sleep(0.2)
            message = await js.get_msg("FIELDVAULT_WORK_ORDER", seq=2)
            assert message.data == b"wo-2"
        finally:
            await connection.close()
    finally:
        await asyncio.to_thread(cluster.stop)
