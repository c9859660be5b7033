"""Fixtures for the events tests: a migrated database, a NATS client (spans: the plugin).

nats-server and the database come from the ``fieldvault`` pytest plugin
(fieldvault_devstack); these fixtures only build on them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from nats.aio.client import Client

from fieldvault_devstack.nats import NatsServer
from fieldvault_platform.db import Database, PlatformBase
from fieldvault_platform.events import ParkedEvent, ProcessedEvent, connect
from fieldvault_platform.events.outbox import OutboxEvent

WaitUntil = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A fresh database with the outbox, processed-event and parked-event tables.

    Services create them with Alembic; here ``create_all`` of just these
    tables keeps other members' models out of the test database.
    """
    db = Database(database_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(
            PlatformBase.metadata.create_all,
            tables=[
                PlatformBase.metadata.tables[m.__tablename__]
                for m in (OutboxEvent, ProcessedEvent, ParkedEvent)
            ],
        )
    yield db
    await db.dispose()


@pytest.fixture
def service() -> str:
    """A service name of our own, so streams on the shared nats-server never collide."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect(nats_server.url, name="events-tests", reconnect_time_wait=0.1)
    yield client
    await client.close()


async def _wait_until(
    condition: Callable[[], Awaitable[bool]], within: float = 15.0, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


@pytest.fixture
def wait_until() -> WaitUntil:
    return _wait_until
