"""A producing service's connection to the event backbone, opened in its composition root."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client
from nats.js import JetStreamContext

from fieldvault_platform.db import Database
from fieldvault_platform.events.connection import connect, ensure_stream
from fieldvault_platform.events.outbox import OutboxRelay


@dataclass
class EventBackbone:
    """The NATS connection, the service's own stream and its outbox relay."""

    client: Client
    jetstream: JetStreamContext
    relay: OutboxRelay
    #: JetStream replicas of the streams this service creates (``nats_replicas``).
    replicas: int = 1

    async def close(self) -> None:
        # drain: deliver what is in flight before closing, nothing is cut off mid-publish.
        if not self.client.is_closed:
            await self.client.drain()


async def open_event_backbone(
    *, service: str, nats_url: str, database: Database, replicas: int = 1
) -> EventBackbone:
    """Connect (clear ``Unavailable`` if NATS is down), ensure the stream, build the relay."""
    client = await connect(nats_url, name=f"fieldvault-{service}")
    jetstream = client.jetstream()
    await ensure_stream(jetstream, service, replicas=replicas)
    return EventBackbone(client, jetstream, OutboxRelay(database, jetstream), replicas)
