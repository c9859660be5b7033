"""The transactional outbox, end to end against a real nats-server and database."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, cast

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_devstack.nats import NatsServer
from fieldvault_platform.db import Database
from fieldvault_platform.events import (
    ConsumerRunner,
    OutboxEvent,
    OutboxRelay,
    ProcessedEvent,
    ReceivedEvent,
    add_event,
    connect,
    ensure_stream,
    event_subject,
    service_subjects,
    stream_name,
)


class LocalBase(DeclarativeBase):
    """Test-only tables, kept off the services' shared ``Base``."""


class WorkOrder(LocalBase):
    """The state change an event announces."""

    __tablename__ = "test_work_orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)


class AppliedEvent(LocalBase):
    """A consumer's side effect; no unique constraint, so a double apply shows as two rows."""

    __tablename__ = "test_applied_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))


class SimulatedCrash(BaseException):
    """Stands in for the process dying: not an ``Exception``, so no handler swallows it."""


class CrashingJetStream:
    """Passes everything through to JetStream, and "crashes" where a test says.

    ``crash_after_publishes``: raise right after that many publishes were
    acknowledged (the relay published but never marked the rows).
    ``crash_after_acks``: let that many acks through, then raise instead of
    acking (the consumer committed but the ack never left the process).
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        crash_after_publishes: int | None = None,
        crash_after_acks: int | None = None,
    ) -> None:
        self._js = js
        self._crash_after_publishes = crash_after_publishes
        self._crash_after_acks = crash_after_acks
        self.publishes = 0
        self.acks = 0
        self.deliveries: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        ack = await self._js.publish(*args, **kwargs)
        self.publishes += 1
        if self.publishes == self._crash_after_publishes:
            raise SimulatedCrash
        return ack

    async def pull_subscribe_bind(self, *args: Any, **kwargs: Any) -> Any:
        subscription = await self._js.pull_subscribe_bind(*args, **kwargs)
        real_fetch = subscription.fetch

        async def fetch(*f_args: Any, **f_kwargs: Any) -> list[Msg]:
            messages: list[Msg] = await real_fetch(*f_args, **f_kwargs)
            for message in messages:
                event_id = (message.headers or {}).get("Nats-Msg-Id", "")
                self.deliveries[event_id] = self.deliveries.get(event_id, 0) + 1
                self._wrap_ack(message)
            return messages

        subscription.fetch = fetch  # type: ignore[method-assign]
        return subscription

    def _wrap_ack(self, message: Msg) -> None:
        real_ack = message.ack

        async def ack() -> None:
            if self._crash_after_acks is not None and self.acks >= self._crash_after_acks:
                raise SimulatedCrash
            await real_ack()
            self.acks += 1

        message.ack = ack  # type: ignore[method-assign]

    def as_js(self) -> JetStreamContext:
        return cast(JetStreamContext, self)


@pytest.fixture(autouse=True)
async def local_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(LocalBase.metadata.create_all)


async def count(database: Database, statement: Any) -> int:
    async with database.unit_of_work() as session:
        return int(await session.scalar(statement) or 0)


async def unpublished(database: Database) -> int:
    return await count(
        database,
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None)),
    )


async def stream_messages(js: JetStreamContext, service: str) -> int:
    return (await js.stream_info(stream_name(service))).state.messages


async def create_work_order(database: Database, subject: str, work_order_id: str) -> str:
    """A use case: a state change and its event in one unit of work."""
    async with database.unit_of_work() as session:
        session.add(WorkOrder(id=work_order_id))
        return add_event(
            session,
            subject=subject,
            event_type="fieldvault.work_order.v1.WorkOrderCreated",
            payload=work_order_id.encode(),
        )


async def test_outbox_delivers_each_event_exactly_once_across_relay_and_consumer_restarts(
    database: Database,
    nats_factory: Any,
    service: str,
    wait_until: Any,
) -> None:
    server: NatsServer = nats_factory()
    client = await connect(server.url, name="exactly-once", reconnect_time_wait=0.1)
    js = client.jetstream(timeout=2)
    try:
        await ensure_stream(js, service, duplicate_window=120)
        subject = event_subject("tenant-a", service, "created")
        event_ids = [await create_work_order(database, subject, f"wo-{i}") for i in range(20)]

        # Relay 1 publishes and marks one batch.
        assert await OutboxRelay(database, js, batch_size=5).relay_once() == 5
        # Relay 2 publishes three more, then dies before its transaction commits.
        crashing = CrashingJetStream(js, crash_after_publishes=3)
        with pytest.raises(SimulatedCrash):
            await OutboxRelay(database, crashing.as_js(), batch_size=5).relay_once()
        assert await unpublished(database) == 15, "the crashed batch must stay unpublished"
        assert await stream_messages(js, service) == 8

        # nats-server goes down and comes back (same port, same file store).
        await asyncio.to_thread(server.restart)

        # Relay 3 re-publishes the crashed batch: JetStream drops those three by Nats-Msg-Id.
        stop = asyncio.Event()
        relay = OutboxRelay(
            database, js, batch_size=5, poll_interval=0.05, publish_timeout=1, max_backoff=0.2
        )
        relay_task = asyncio.create_task(relay.run(stop))
        await wait_until(lambda: _is_zero(unpublished(database)))
        stop.set()
        await relay_task
        assert await stream_messages(js, service) == 20

        handled: list[str] = []

        async def apply(session: AsyncSession, event: ReceivedEvent) -> None:
            handled.append(event.event_id)
            session.add(AppliedEvent(event_id=event.event_id))

        def consumer(js_: JetStreamContext) -> ConsumerRunner:
            return ConsumerRunner(
                database,
                js_,
                stream=stream_name(service),
                durable="projector",
                filter_subject=service_subjects(service),
                handler=apply,
                batch_size=4,
                ack_wait=1,
                fetch_timeout=0.2,
                retry_delay=0.05,
            )

        # Consumer 1 applies six events, then commits the seventh and dies before acking it.
        crashing = CrashingJetStream(js, crash_after_acks=6)
        first = consumer(crashing.as_js())
        with pytest.raises(SimulatedCrash):
            while True:
                await first.process_batch()
        assert await count(database, select(func.count()).select_from(AppliedEvent)) == 7

        await asyncio.to_thread(server.restart)

        # Consumer 2 (same durable) gets the unacked ones again and skips the applied one.
        observing = CrashingJetStream(js)
        second = consumer(observing.as_js())
        stop = asyncio.Event()
        consumer_task = asyncio.create_task(second.run(stop))

        async def drained() -> bool:
            info = await js.consumer_info(stream_name(service), "projector")
            return len(handled) >= 20 and info.num_ack_pending == 0 and info.num_pending == 0

        await wait_until(drained)
        stop.set()
        await consumer_task

        applied = (await _scalars(database, select(AppliedEvent.event_id))).copy()
        assert sorted(applied) == sorted(event_ids), "each event applied once, none missing"
        assert sorted(handled) == sorted(event_ids), "the handler ran once per event"
        crashed_on_ack = handled[6]
        assert observing.deliveries.get(crashed_on_ack) == 1, "redelivered after the crash"
        assert await count(database, select(func.count()).select_from(ProcessedEvent)) == 20
        assert await count(database, select(func.count()).select_from(WorkOrder)) == 20
    finally:
        await client.close()


async def _is_zero(value: Any) -> bool:
    return bool(await value == 0)


async def _scalars(database: Database, statement: Any) -> list[Any]:
    async with database.unit_of_work() as session:
        return list((await session.scalars(statement)).all())


async def test_event_of_a_rolled_back_state_change_is_never_published(
    database: Database, nats_client: Any, service: str
) -> None:
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    subject = event_subject("tenant-a", service, "created")

    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as session:
            session.add(WorkOrder(id="wo-rolled-back"))
            add_event(session, subject=subject, event_type="Created", payload=b"rolled back")
            raise RuntimeError("the use case failed after writing")
    committed = await create_work_order(database, subject, "wo-committed")

    assert await OutboxRelay(database, js).relay_once() == 1
    assert await stream_messages(js, service) == 1
    message = await js.get_last_msg(stream_name(service), subject)
    assert message.headers is not None
    assert message.headers["Nats-Msg-Id"] == committed
    assert await count(database, select(func.count()).select_from(OutboxEvent)) == 1
    assert await _scalars(database, select(WorkOrder.id)) == ["wo-committed"]
    await js.delete_stream(stream_name(service))


async def test_published_events_are_purged_after_the_retention_but_pending_ones_never(
    database: Database, nats_client: Any, service: str
) -> None:
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    subject = event_subject("tenant-a", service, "created")
    await create_work_order(database, subject, "wo-old")
    relay = OutboxRelay(database, js, retention=timedelta(seconds=0))
    assert await relay.relay_once() == 1
    pending = await create_work_order(database, subject, "wo-pending")

    assert await relay.purge_published() == 1
    remaining = await _scalars(database, select(OutboxEvent.id))
    assert remaining == [pending], "an unpublished event is never purged"
    assert await OutboxRelay(database, js).purge_published() == 0, "default retention keeps a day"
    await js.delete_stream(stream_name(service))


async def test_waking_the_relay_publishes_without_waiting_for_the_poll_interval(
    database: Database, nats_client: Any, service: str, wait_until: Any
) -> None:
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    relay = OutboxRelay(database, js, poll_interval=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.2)  # the relay's first pass found nothing and is now idle
        await create_work_order(database, event_subject("t", service, "created"), "wo-1")
        relay.wake()
        await wait_until(lambda: _is_zero(unpublished(database)), within=3)
    finally:
        stop.set()
        await task
    assert await stream_messages(js, service) == 1
    await js.delete_stream(stream_name(service))


async def test_relay_keeps_events_while_nats_is_down_and_logs_no_payload_or_headers(
    database: Database,
    nats_factory: Any,
    service: str,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
    spans: Any,  # an SDK tracer provider, so the writer's trace context is real
) -> None:
    server: NatsServer = nats_factory()
    client = await connect(server.url, name="nats-down", reconnect_time_wait=0.1)
    js = client.jetstream(timeout=1)
    try:
        await ensure_stream(js, service)
        await asyncio.to_thread(server.stop)
        subject = event_subject("tenant-a", service, "created")
        with trace.get_tracer("test").start_as_current_span("writer"):
            async with database.unit_of_work() as session:
                for i in range(3):
                    payload = b"PAYLOAD-%d" % i
                    add_event(session, subject=subject, event_type="Created", payload=payload)
        stored_headers = [
            value
            for headers in await _scalars(database, select(OutboxEvent.headers))
            for value in headers.values()
        ]

        caplog.set_level(logging.INFO, logger="fieldvault_platform.events")
        relay = OutboxRelay(database, js, poll_interval=0.05, publish_timeout=0.3, max_backoff=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))

        async def retried_twice() -> bool:
            return sum("relay pass failed" in r.getMessage() for r in caplog.records) >= 2

        await wait_until(retried_twice)
        assert await unpublished(database) == 3, "nothing is dropped while NATS is down"

        await asyncio.to_thread(server.start)
        await wait_until(lambda: _is_zero(unpublished(database)))
        stop.set()
        await task
        assert await stream_messages(js, service) == 3

        logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
        assert "PAYLOAD" not in logged
        assert stored_headers, "the writer's trace context was stored"
        for value in stored_headers:
            assert value not in logged
    finally:
        await client.close()


class StallingJetStream:
    """Publishes, then holds the relay's transaction open until released."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self.published = asyncio.Event()
        self.release = asyncio.Event()
        self.publishes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        ack = await self._js.publish(*args, **kwargs)
        self.publishes += 1
        self.published.set()
        await self.release.wait()
        return ack


async def test_two_relays_on_postgresql_never_publish_the_same_row(
    database: Database, nats_client: Any, service: str
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL-only; on SQLite JetStream de-duplication covers it")
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    subject = event_subject("tenant-a", service, "created")
    for i in range(4):
        await create_work_order(database, subject, f"wo-{i}")

    slow_js = StallingJetStream(js)
    slow = asyncio.create_task(
        OutboxRelay(database, cast(JetStreamContext, slow_js), batch_size=2).relay_once()
    )
    await slow_js.published.wait()  # the slow relay holds the two oldest rows

    fast_js = StallingJetStream(js)
    fast_js.release.set()
    assert await OutboxRelay(database, cast(JetStreamContext, fast_js)).relay_once() == 2
    assert fast_js.publishes == 2, "the rows locked by the other relay were skipped"

    slow_js.release.set()
    assert await slow == 2
    assert slow_js.publishes == 2
    assert await unpublished(database) == 0
    await js.delete_stream(stream_name(service))
