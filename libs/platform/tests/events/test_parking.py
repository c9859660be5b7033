"""Poison events are parked, never dropped: recorded once, then terminated.

A handler that fails on every allowed delivery leaves its event in
``parked_events`` (ids, payload, the error's class name, never its message);
when that record cannot be written the message is not terminated but comes
back until it can be. Operators list parked events with ``parked-events``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import InvalidArgument, Unavailable
from fieldvault_platform.events import (
    ConsumerRunner,
    EventHandler,
    ParkedEvent,
    ProcessedEvent,
    ReceivedEvent,
    ensure_stream,
    event_subject,
    list_parked_events,
    service_subjects,
    stream_name,
)
from fieldvault_platform.runtime import command_line

PAYLOAD = b"\x0a\x05wo-42\x10\x07"
#: Stands for data a handler's exception message might quote (a name, an address).
CANARY = "canary-7c1e-Jane-Doe-221B-Baker-Street"


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
        "max_deliver": 3,
        "ack_wait": 0.5,
        "fetch_timeout": 0.1,
        "retry_delay": 0.05,
        "max_retry_delay": 0.2,
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


async def publish(js: JetStreamContext, service: str, event_id: str) -> None:
    await js.publish(
        event_subject("tenant-a", service, "created"), PAYLOAD, headers={"Nats-Msg-Id": event_id}
    )


async def parked(database: Database) -> list[ParkedEvent]:
    async with database.unit_of_work() as session:
        return list((await session.scalars(select(ParkedEvent))).all())


async def deliveries_by_server(js: JetStreamContext, service: str) -> int:
    """How many times the server delivered a message to the consumer (0 before it exists)."""
    try:
        info = await js.consumer_info(stream_name(service), "worker")
    except NotFoundError:
        return 0
    return info.delivered.consumer_seq


async def settled(js: JetStreamContext, service: str) -> bool:
    try:
        info = await js.consumer_info(stream_name(service), "worker")
    except NotFoundError:
        return False
    return bool(info.num_ack_pending == 0 and info.num_pending == 0)


async def parked_and_settled(database: Database, js: JetStreamContext, service: str) -> bool:
    return bool(await parked(database)) and await settled(js, service)


@asynccontextmanager
async def running(consumer: ConsumerRunner) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def test_an_event_its_handler_always_fails_on_is_parked_once_and_not_redelivered(
    database: Database, js: JetStreamContext, service: str, wait_until: Any
) -> None:
    attempts: list[int] = []

    async def broken(session: AsyncSession, event: ReceivedEvent) -> None:
        attempts.append(event.delivery_count)
        raise ValueError("cannot apply")

    await publish(js, service, "poison")
    async with running(runner(database, js, service, broken)):
        await wait_until(lambda: parked_and_settled(database, js, service))
        # Past ack_wait and every retry delay: a message left unterminated
        # would have been delivered again (the server-side consumer has no limit).
        await asyncio.sleep(1.5)

    assert attempts == [1, 2, 3]
    assert await deliveries_by_server(js, service) == 3, "terminated: never delivered again"
    [row] = await parked(database)
    assert (row.consumer, row.event_id) == ("worker", "poison")
    assert row.subject == event_subject("tenant-a", service, "created")
    assert row.payload == PAYLOAD
    assert row.delivery_count == 3
    assert row.error_type == "ValueError"
    assert abs(as_utc(row.parked_at) - datetime.now(UTC)) < timedelta(minutes=1)
    async with database.unit_of_work() as session:
        assert (await session.scalars(select(ProcessedEvent))).all() == []


async def test_the_error_message_is_neither_parked_nor_logged(
    database: Database,
    js: JetStreamContext,
    service: str,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def quoting(session: AsyncSession, event: ReceivedEvent) -> None:
        raise RuntimeError(f"customer {CANARY} has no site")

    await publish(js, service, "quoting")
    async with running(runner(database, js, service, quoting, max_deliver=2)):
        await wait_until(lambda: parked_and_settled(database, js, service))

    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(ParkedEvent.__table__))).all()
    [row] = rows
    assert row.error_type == "RuntimeError"
    for value in row:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        assert CANARY not in text

    parking = [
        r
        for r in caplog.records
        if r.name == "fieldvault_platform.events.consumer" and "parked" in r.getMessage()
    ]
    assert parking and parking[-1].levelno == logging.ERROR
    assert vars(parking[-1])["event_id"] == "quoting"
    assert CANARY not in caplog.text
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert all(CANARY not in repr(value) for value in vars(record).values())


class SwitchableDatabase(Database):
    """A database that can be made unreachable: its unit of work then raises
    Unavailable, as :class:`Database` does when it cannot connect."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.down = False
        self.refused = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        if self.down:
            self.refused += 1
            raise Unavailable("the database is unavailable")
        async with super().unit_of_work() as session:
            yield session


async def test_when_the_parked_row_cannot_be_written_the_event_comes_back_and_is_parked_later(
    database: Database,
    database_url: str,
    js: JetStreamContext,
    service: str,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="fieldvault_platform.events.consumer")
    flaky = SwitchableDatabase(database_url)
    attempts: list[int] = []

    async def broken(session: AsyncSession, event: ReceivedEvent) -> None:
        attempts.append(event.delivery_count)
        if event.delivery_count == 2:
            flaky.down = True  # goes down between the last attempt and its parking
        raise ValueError("cannot apply")

    await publish(js, service, "poison")
    try:
        async with running(runner(flaky, js, service, broken, max_deliver=2)):

            async def refused_three_times() -> bool:
                return flaky.refused >= 3

            await wait_until(refused_three_times)
            assert await parked(database) == []
            assert not await settled(js, service), "not terminated while it could not be parked"
            flaky.down = False
            await wait_until(lambda: parked_and_settled(database, js, service))
            delivered = await deliveries_by_server(js, service)
            await asyncio.sleep(1.5)  # past ack_wait: nothing comes back once parked
            assert await deliveries_by_server(js, service) == delivered
    finally:
        await flaky.dispose()

    failed_parkings = [
        vars(r)["delivery_count"] for r in caplog.records if "could not park" in r.getMessage()
    ]
    assert failed_parkings[:3] == [2, 3, 4], "each failed parking was followed by a redelivery"
    assert attempts == [1, 2], "the handler is not run past max_deliver"
    [row] = await parked(database)
    assert row.event_id == "poison"
    assert row.delivery_count == delivered > 2
    assert row.error_type == "ValueError", "the handler's error, remembered across deliveries"
    assert row.payload == PAYLOAD


async def test_an_event_applied_whose_ack_was_lost_is_acked_not_parked_past_max_deliver(
    database: Database, js: JetStreamContext, service: str
) -> None:
    handled: list[ReceivedEvent] = []

    async def handler(session: AsyncSession, event: ReceivedEvent) -> None:
        handled.append(event)

    consumer = runner(database, js, service, handler, max_deliver=1, ack_wait=0.3)
    await publish(js, service, "applied")
    # Delivery 1: applied and committed, then the ack is lost.
    [_unacked] = await (await consumer._pull_subscription()).fetch(1, timeout=2)
    async with database.unit_of_work() as session:
        assert await consumer._claim(session, "applied")
    await asyncio.sleep(0.5)  # past ack_wait: delivery 2, beyond max_deliver
    assert await consumer.process_batch() == 1
    await asyncio.sleep(0.5)
    assert await consumer.process_batch() == 0
    assert handled == []
    assert await parked(database) == []
    assert await settled(js, service)


async def add_parked(database: Database, *rows: ParkedEvent) -> None:
    async with database.unit_of_work() as session:
        session.add_all(rows)


def parked_event(consumer: str, event_id: str, parked_at: datetime) -> ParkedEvent:
    return ParkedEvent(
        consumer=consumer,
        event_id=event_id,
        subject="fieldvault.tenant-a.identity.v1.user_created",
        payload=PAYLOAD,
        delivery_count=5,
        error_type="KeyError",
        parked_at=parked_at,
    )


async def test_parked_events_are_listed_in_keyset_pages(database: Database) -> None:
    moment = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    later = moment + timedelta(seconds=1)
    # Equal times are ordered by consumer, then event id.
    await add_parked(
        database,
        parked_event("b", "e1", moment),
        parked_event("a", "e2", moment),
        parked_event("a", "e1", moment),
        parked_event("a", "e0", later),
        parked_event("c", "e9", moment - timedelta(seconds=1)),
    )
    seen: list[tuple[str, str]] = []
    token = ""
    pages = 0
    while True:
        rows, token = await list_parked_events(database, limit=2, after=token)
        pages += 1
        assert len(rows) <= 2
        seen += [(row.consumer, row.event_id) for row in rows]
        if not token:
            break
    assert seen == [("c", "e9"), ("a", "e1"), ("a", "e2"), ("b", "e1"), ("a", "e0")]
    assert pages == 3
    with pytest.raises(InvalidArgument):
        await list_parked_events(database, after="bm90IGEgdG9rZW4")


async def test_every_service_command_line_prints_its_parked_events(
    database: Database,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    await add_parked(
        database,
        parked_event("grant-revocations", "evt-2", moment + timedelta(seconds=1)),
        parked_event("grant-revocations", "evt-1", moment),
    )
    own_commands: list[list[str]] = []

    async def own_command(arguments: list[str]) -> None:
        own_commands.append(arguments)

    async def never_served() -> None:
        raise AssertionError("parked-events must not start the service")

    monkeypatch.setattr(sys, "argv", ["python -m some_service", "parked-events"])
    capsys.readouterr()
    # In a thread: command_line runs its own event loop, as under `python -m`.
    await asyncio.to_thread(
        command_line,
        service="some_service",
        serve_main=never_served,
        migrations_dir=None,
        database_url=lambda: database_url,
        # A service's own commands do not displace the platform's.
        operator_commands={"rotate-tenant-key": own_command},
    )
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "consumer": "grant-revocations",
            "event_id": event_id,
            "subject": "fieldvault.tenant-a.identity.v1.user_created",
            "delivery_count": 5,
            "error_type": "KeyError",
            "parked_at": at.isoformat(),
        }
        for event_id, at in (("evt-1", moment), ("evt-2", moment + timedelta(seconds=1)))
    ]
    assert own_commands == []
