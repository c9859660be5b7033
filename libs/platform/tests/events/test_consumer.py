"""Idempotent consumers: bounded redelivery, exactly-once application, no id -> no retry."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import Database
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.events import (
    ConsumerRunner,
    EventHandler,
    ProcessedEvent,
    ReceivedEvent,
    ensure_stream,
    event_subject,
    service_subjects,
    stream_name,
)


class LocalBase(DeclarativeBase):
    pass


class AppliedEvent(LocalBase):
    __tablename__ = "test_consumer_applied_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))


@pytest.fixture(autouse=True)
async def local_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(LocalBase.metadata.create_all)


@pytest.fixture
async def js(nats_client: Any, service: str) -> Any:
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    yield js
    await js.delete_stream(stream_name(service))


def runner(
    database: Database, js: JetStreamContext, service: str, handler: EventHandler, **options: Any
) -> ConsumerRunner:
    settings: dict[str, Any] = {
        "batch_size": 10,
        "max_deliver": 5,
        "ack_wait": 2,
        "fetch_timeout": 0.1,
        "retry_delay": 0.05,
    }
    settings.update(options)
    return ConsumerRunner(
        database,
        js,
        stream=stream_name(service),
        durable="worker",
        filter_subject=service_subjects(service),
        handler=handler,
        **settings,
    )


async def publish(js: JetStreamContext, service: str, event_id: str | None) -> None:
    headers = {"Nats-Msg-Id": event_id} if event_id else None
    await js.publish(event_subject("tenant-a", service, "created"), b"\x08\x01", headers=headers)


async def applied(database: Database) -> list[str]:
    async with database.unit_of_work() as session:
        return list((await session.scalars(select(AppliedEvent.event_id))).all())


async def settled(js: JetStreamContext, service: str) -> bool:
    """Every message delivered is acked or terminated (False until the consumer exists)."""
    try:
        info = await js.consumer_info(stream_name(service), "worker")
    except NotFoundError:
        return False
    return bool(info.num_ack_pending == 0 and info.num_pending == 0)


async def test_failing_handler_is_redelivered_and_applied_exactly_once_after_success(
    database: Database, js: JetStreamContext, service: str, wait_until: Any
) -> None:
    deliveries: list[int] = []

    async def flaky(session: AsyncSession, event: ReceivedEvent) -> None:
        deliveries.append(event.delivery_count)
        # Written before failing: a failed attempt's writes must roll back.
        session.add(AppliedEvent(event_id=event.event_id))
        if event.delivery_count < 3:
            raise ConnectionError("downstream hiccup")

    await publish(js, service, "evt-1")
    stop = asyncio.Event()
    task = asyncio.create_task(runner(database, js, service, flaky).run(stop))
    try:
        await wait_until(lambda: settled_and_applied(database, js, service))
    finally:
        stop.set()
        await task
    assert deliveries == [1, 2, 3]
    assert await applied(database) == ["evt-1"]


async def test_handler_that_always_fails_stops_after_max_deliver(
    database: Database, js: JetStreamContext, service: str, wait_until: Any
) -> None:
    attempts: list[str] = []

    async def broken(session: AsyncSession, event: ReceivedEvent) -> None:
        attempts.append(event.event_id)
        if event.event_id == "poison":
            raise ValueError("cannot apply")
        session.add(AppliedEvent(event_id=event.event_id))

    await publish(js, service, "poison")
    await publish(js, service, "healthy")
    stop = asyncio.Event()
    task = asyncio.create_task(runner(database, js, service, broken, max_deliver=3).run(stop))
    try:
        await wait_until(lambda: settled_and_applied(database, js, service))
        await asyncio.sleep(0.5)  # ten retry delays: long enough to see a fourth attempt
    finally:
        stop.set()
        await task
    assert attempts.count("poison") == 3
    assert await applied(database) == ["healthy"], "a poison event does not block the next one"
    async with database.unit_of_work() as session:
        processed = (await session.scalars(select(ProcessedEvent.event_id))).all()
    assert list(processed) == ["healthy"], "a failed event is not recorded as processed"


async def test_a_dependency_outage_does_not_use_up_redeliveries(
    database: Database, js: JetStreamContext, service: str, wait_until: Any
) -> None:
    attempts: list[int] = []

    async def needs_vault(session: AsyncSession, event: ReceivedEvent) -> None:
        attempts.append(event.delivery_count)
        if len(attempts) <= 4:
            raise Unavailable("Vault is unavailable: it is sealed (transit.decrypt)")
        session.add(AppliedEvent(event_id=event.event_id))

    await publish(js, service, "during-outage")
    stop = asyncio.Event()
    # max_deliver=1: had the outage counted as failed deliveries, the event would be lost.
    task = asyncio.create_task(runner(database, js, service, needs_vault, max_deliver=1).run(stop))
    try:
        await wait_until(lambda: settled_and_applied(database, js, service))
    finally:
        stop.set()
        await task
    assert attempts == [1, 1, 1, 1, 1], "held and retried within one delivery"
    assert await applied(database) == ["during-outage"]


async def test_message_without_a_msg_id_is_terminated_and_never_handled(
    database: Database, js: JetStreamContext, service: str
) -> None:
    handled: list[ReceivedEvent] = []

    async def handler(session: AsyncSession, event: ReceivedEvent) -> None:
        handled.append(event)

    consumer = runner(database, js, service, handler, ack_wait=0.3)
    await publish(js, service, None)
    assert await consumer.process_batch() == 1
    await asyncio.sleep(0.5)  # past ack_wait: an un-terminated message would come back
    assert await consumer.process_batch() == 0
    assert handled == []
    assert await settled(js, service)


async def test_two_deliveries_of_one_event_racing_in_two_transactions_apply_it_once(
    database: Database, js: JetStreamContext, service: str
) -> None:
    async def handler(session: AsyncSession, event: ReceivedEvent) -> None:
        session.add(AppliedEvent(event_id=event.event_id))

    consumer = runner(database, js, service, handler)
    event_id = uuid.uuid4().hex
    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def deliver(hold: bool) -> bool:
        async with database.unit_of_work() as session:
            claimed = await consumer._claim(session, event_id)
            if claimed:
                session.add(AppliedEvent(event_id=event_id))
            if hold:
                first_claimed.set()
                await release_first.wait()  # keep the first transaction open
        return claimed

    first = asyncio.create_task(deliver(hold=True))
    await first_claimed.wait()
    # The second transaction must wait for the first's outcome, not insert beside it.
    second = asyncio.create_task(deliver(hold=False))
    await asyncio.sleep(0.3)
    assert not second.done()
    release_first.set()
    assert await first is True
    assert await second is False
    assert await applied(database) == [event_id]
    async with database.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def settled_and_applied(database: Database, js: JetStreamContext, service: str) -> bool:
    return await settled(js, service) and bool(await applied(database))
