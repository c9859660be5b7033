"""Idempotent JetStream consumers: apply each event once, ack after commit.

JetStream delivers at least once (a lost ack, a crash after commit, a relay
re-publish outside the duplicate window), so a consumer records every event
id it has applied in ``processed_events`` in the same transaction as the
handler's writes. A redelivered event finds its row and is acknowledged
without running the handler again. Acknowledging only after the commit means
a crash never loses an event: the worst case is a redelivery that is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import DateTime, String, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fieldvault_platform.db import Database, PlatformBase
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.events._waiting import wait_any
from fieldvault_platform.events.connection import ensure_pull_consumer
from fieldvault_platform.events.outbox import EVENT_TYPE_HEADER, MSG_ID_HEADER
from fieldvault_platform.events.tracing import extract_trace_context, tracer

logger = logging.getLogger(__name__)


class ProcessedEvent(PlatformBase):
    """An event id a consumer has applied (its idempotency record)."""

    __tablename__ = "processed_events"

    # Keyed by consumer too: two consumers in one service database (say, a
    # projection and a notifier) each apply the same event once.
    consumer: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class ReceivedEvent:
    """What a handler gets: the raw protobuf payload plus delivery facts."""

    event_id: str
    subject: str
    payload: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    #: 1 on first delivery; a handler may use it to give up gracefully.
    delivery_count: int = 1

    @property
    def event_type(self) -> str | None:
        return self.headers.get(EVENT_TYPE_HEADER)


#: Applies one event using the session of the transaction that also records
#: it as processed. It must not commit; raising rolls everything back and the
#: event is redelivered later.
EventHandler = Callable[[AsyncSession, ReceivedEvent], Awaitable[None]]


class ConsumerRunner:
    """Fetches batches from a durable pull consumer and applies them idempotently."""

    def __init__(
        self,
        database: Database,
        js: JetStreamContext,
        *,
        stream: str,
        durable: str,
        filter_subject: str,
        handler: EventHandler,
        batch_size: int = 10,
        max_deliver: int = 5,
        ack_wait: float = 30,
        fetch_timeout: float = 1.0,
        retry_delay: float = 1.0,
        max_retry_delay: float = 60.0,
    ) -> None:
        self._database = database
        self._js = js
        self._stream = stream
        self._durable = durable
        self._filter_subject = filter_subject
        self._handler = handler
        self._batch_size = batch_size
        self._max_deliver = max_deliver
        self._ack_wait = ack_wait
        self._fetch_timeout = fetch_timeout
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._subscription: JetStreamContext.PullSubscription | None = None
        # Set by run() on shutdown, so an event held during an outage is let go.
        self._stopping = asyncio.Event()

    async def _pull_subscription(self) -> JetStreamContext.PullSubscription:
        if self._subscription is None:
            await ensure_pull_consumer(
                self._js,
                self._stream,
                self._durable,
                self._filter_subject,
                max_deliver=self._max_deliver,
                ack_wait=self._ack_wait,
            )
            self._subscription = await self._js.pull_subscribe_bind(
                durable=self._durable, stream=self._stream
            )
        return self._subscription

    async def process_batch(self) -> int:
        """Fetch up to ``batch_size`` messages and handle each; return how many were fetched."""
        subscription = await self._pull_subscription()
        try:
            messages = await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
        except NatsTimeoutError:  # nothing to do within fetch_timeout
            return 0
        for message in messages:
            await self._process(message)
        return len(messages)

    async def _process(self, message: Msg) -> None:
        headers = dict(message.headers or {})
        event_id = headers.get(MSG_ID_HEADER)
        delivery_count = message.metadata.num_delivered or 1
        if not event_id:
            # Without an id there is no way to apply it exactly once; redelivery
            # would not help, so it is terminated rather than retried.
            logger.error(
                "event without a Nats-Msg-Id header terminated",
                extra={
                    "subject": message.subject,
                    "stream_sequence": message.metadata.sequence.stream
                    if message.metadata.sequence
                    else None,
                    "consumer": self._durable,
                },
            )
            await message.term()
            return
        event = ReceivedEvent(
            event_id=event_id,
            subject=message.subject,
            payload=message.data,
            headers=headers,
            delivery_count=delivery_count,
        )
        with tracer.start_as_current_span(
            f"process {message.subject}",
            context=extract_trace_context(headers),
            kind=SpanKind.CONSUMER,
            record_exception=False,  # handler errors may quote the payload
            set_status_on_exception=False,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": message.subject,
                "messaging.consumer.group.name": self._durable,
                "messaging.message.id": event_id,
                "messaging.message.delivery_count": delivery_count,
            },
        ) as span:
            outages = 0
            while True:
                try:
                    async with self._database.unit_of_work() as session:
                        if await self._claim(session, event_id):
                            await self._handler(session, event)
                        else:
                            span.set_attribute("messaging.duplicate", True)
                    break
                except Unavailable as exc:
                    # A dependency (database, Vault, a peer service) is down: the
                    # event is fine, so it must not use up its bounded redeliveries.
                    # Keep it claimed on the server and try again once things return.
                    outages += 1
                    if self._stopping.is_set():
                        return  # not acked: redelivered after ack_wait
                    delay = min(
                        self._retry_delay * 2 ** min(outages, 16),
                        self._max_retry_delay,
                        self._ack_wait / 2,
                    )
                    logger.warning(
                        "a dependency is unavailable; holding the event and retrying",
                        extra={
                            "event_id": event_id,
                            "consumer": self._durable,
                            "error_type": type(exc).__name__,
                            "retry_in": delay,
                        },
                    )
                    await message.in_progress()
                    await wait_any((self._stopping,), delay)
                except Exception as exc:
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    await self._retry_or_give_up(message, event, exc)
                    return
            # Only now that the commit succeeded: a crash (or a lost ack)
            # before the server records this means a redelivery that _claim
            # recognises as a duplicate, so a failed ack is only logged.
            try:
                await message.ack()
            except Exception as exc:
                logger.warning(
                    "ack failed; the event will be redelivered and skipped",
                    extra={"event_id": event_id, "error_type": type(exc).__name__},
                )

    async def _claim(self, session: AsyncSession, event_id: str) -> bool:
        """Record ``event_id`` as processed; False if it already was.

        ``INSERT … ON CONFLICT DO NOTHING`` is atomic on both databases: on
        PostgreSQL a concurrent transaction inserting the same id makes this
        one wait for its outcome (then insert, or see the conflict), and
        SQLite serialises writers. A savepoint-and-catch would not work on
        SQLite, whose driver commits when the outermost savepoint is released.
        """
        values: dict[str, Any] = {
            "consumer": self._durable,
            "event_id": event_id,
            "processed_at": datetime.now(UTC),
        }
        dialect = self._database.engine.dialect.name
        if dialect == "postgresql":
            statement: Any = pg_insert(ProcessedEvent).values(values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite_insert(ProcessedEvent).values(values).on_conflict_do_nothing()
        else:
            # Portable fallback: check, then insert; a racing duplicate fails
            # the commit, the message is redelivered and the check catches it.
            existing = await session.get(ProcessedEvent, (self._durable, event_id))
            if existing is not None:
                return False
            statement = insert(ProcessedEvent).values(values)
        result = cast(CursorResult[Any], await session.execute(statement))
        return result.rowcount == 1

    async def _retry_or_give_up(self, message: Msg, event: ReceivedEvent, exc: Exception) -> None:
        facts = {
            "event_id": event.event_id,
            "subject": event.subject,
            "consumer": self._durable,
            "delivery_count": event.delivery_count,
            "error_type": type(exc).__name__,
        }
        if event.delivery_count >= self._max_deliver:
            # JetStream would stop here anyway (max_deliver); terminating makes
            # it explicit and the error log is the signal to look at it.
            logger.error("event handler failed for the last time; giving up", extra=facts)
            await message.term()
            return
        delay = min(self._max_retry_delay, self._retry_delay * 2 ** (event.delivery_count - 1))
        logger.warning("event handler failed; redelivering", extra={**facts, "retry_in": delay})
        await message.nak(delay=delay)

    async def run(self, stop_event: asyncio.Event) -> None:
        """Consume until ``stop_event`` is set, backing off while NATS or the DB is down."""
        self._stopping = stop_event
        failures = 0
        try:
            while not stop_event.is_set():
                try:
                    await self.process_batch()
                except Exception as exc:
                    failures += 1
                    delay = min(self._max_retry_delay, self._retry_delay * 2 ** min(failures, 16))
                    logger.warning(
                        "event consumer pass failed; retrying",
                        extra={
                            "consumer": self._durable,
                            "error_type": type(exc).__name__,
                            "retry_in": delay,
                        },
                    )
                    await wait_any((stop_event,), delay)
                    continue
                failures = 0
        finally:
            await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        """Let go of the pull subscription, so that draining the connection does not wait
        on it (a drain waits for every subscription; an idle pull one never finishes)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
