"""Idempotent JetStream consumers: apply each event once, ack after commit.

JetStream delivers at least once (a lost ack, a crash after commit, a relay
re-publish outside the duplicate window), so a consumer records every event
id it has applied in ``processed_events`` in the same transaction as the
handler's writes. A redelivered event finds its row and is acknowledged
without running the handler again. Acknowledging only after the commit means
a crash never loses an event: the worst case is a redelivery that is skipped.

An event whose handler keeps failing is never dropped silently either: after
``max_deliver`` failed attempts it is *parked*, recorded with its payload in
``parked_events`` (see :func:`list_parked_events` and the ``parked-events``
operator command), and only then terminated on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import (
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fieldvault_platform.backoff import backoff_seconds
from fieldvault_platform.db import Database, PlatformBase
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.events._waiting import wait_any
from fieldvault_platform.events.connection import ensure_pull_consumer
from fieldvault_platform.events.outbox import EVENT_TYPE_HEADER, MSG_ID_HEADER
from fieldvault_platform.events.tracing import extract_trace_context, tracer
from fieldvault_platform.metrics import CONSUMER_PENDING, EVENTS_PARKED, EVENTS_PROCESSED
from fieldvault_platform.paging import DEFAULT_PAGE_SIZE, Keyset

logger = logging.getLogger(__name__)


class ProcessedEvent(PlatformBase):
    """An event id a consumer has applied (its idempotency record)."""

    __tablename__ = "processed_events"

    # Keyed by consumer too: two consumers in one service database (say, a
    # projection and a notifier) each apply the same event once.
    consumer: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ParkedEvent(PlatformBase):
    """An event a consumer gave up on, kept (payload included) for an operator to look at.

    Events carry ids and non-sensitive facts only, by design, so the payload may
    be stored. ``error_type`` is the exception's class name and nothing more: an
    exception's message may quote the data the handler was working on.
    """

    __tablename__ = "parked_events"
    __table_args__ = (Index("ix_parked_events_listing", "parked_at", "consumer", "event_id"),)

    consumer: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(512))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    delivery_count: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(255))
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: The listing's order (``ix_parked_events_listing``); (consumer, event_id) is the key.
PARKED_IN_ORDER = Keyset(ParkedEvent.parked_at, ParkedEvent.consumer, ParkedEvent.event_id)

#: ``error_type`` of an event parked on a delivery past ``max_deliver`` when this
#: process did not see the last attempt fail (the process stopped or crashed in
#: the handler, or another replica made that attempt).
UNKNOWN_ERROR_TYPE = "unknown"

#: Seconds between two samples of a consumer's pending messages.
_PENDING_SAMPLE_SECONDS = 15.0

#: How many events whose parking failed a runner remembers the error type of,
#: until their redelivery parks them (beyond that, they are parked as unknown).
_REMEMBERED_ERROR_TYPES = 1024


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
    """Fetches batches from a durable pull consumer and applies them idempotently.

    ``max_deliver`` is how many deliveries run the handler; an event that fails
    on all of them is parked (see :class:`ParkedEvent`) and terminated.
    """

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
        # event id -> error type of its last failed attempt, for events whose
        # parking failed: their redelivery parks them with the right error type.
        self._unparked_error_types: dict[str, str] = {}
        self._next_pending_sample = 0.0
        # Present (at 0) from the start, so alerts and dashboards see the series.
        CONSUMER_PENDING.labels(durable).set(0)
        EVENTS_PARKED.labels(durable).set(0)

    async def _pull_subscription(self) -> JetStreamContext.PullSubscription:
        if self._subscription is None:
            # The server never gives up on a message (max_deliver -1); this
            # runner counts the handler's attempts itself. A server-side limit
            # is where events got lost: once reached, JetStream stops delivering
            # the message without anyone recording it. Parking needs deliveries
            # past the handler's last attempt: when writing the parked row fails
            # (database down), the message is nak'ed and must come back, as
            # many times as the outage takes. A limit of max_deliver + 1 would
            # give parking one retry, so a database outage longer than one
            # redelivery delay would lose the event again, silently. Unlimited
            # also covers a handler that crashes the process or outlives
            # ack_wait on its last attempt: the next delivery parks the event
            # without running the handler again, instead of the server quietly
            # dropping it. A delivery past max_deliver never runs the handler:
            # it ends in a park and a term (or an ack, if the event turns out
            # applied), and comes back only while the parked row cannot be
            # written, nak'ed with backoff up to max_retry_delay, each time
            # logged at ERROR. That repeats for as long as the database refuses
            # the row, which is the point: the event is kept until it is recorded.
            await ensure_pull_consumer(
                self._js,
                self._stream,
                self._durable,
                self._filter_subject,
                max_deliver=-1,
                ack_wait=self._ack_wait,
            )
            self._subscription = await self._js.pull_subscribe_bind(
                durable=self._durable, stream=self._stream
            )
        return self._subscription

    async def process_batch(self) -> int:
        """Fetch up to ``batch_size`` messages and handle each; return how many were fetched."""
        subscription = await self._pull_subscription()
        await self._sample_pending(subscription)
        try:
            messages = await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
        except TimeoutError:
            # Nothing to do within fetch_timeout: nats-py raises its own
            # TimeoutError, or a plain one when the deadline runs out between
            # its two pull requests (an empty fetch too, not a failed pass).
            return 0
        for message in messages:
            await self._process(message)
        return len(messages)

    async def _sample_pending(self, subscription: JetStreamContext.PullSubscription) -> None:
        """Set the consumer's pending gauge, at most every ``_PENDING_SAMPLE_SECONDS``."""
        now = time.monotonic()
        if now < self._next_pending_sample:
            return
        self._next_pending_sample = now + _PENDING_SAMPLE_SECONDS
        try:
            info = await subscription.consumer_info()
        except Exception as exc:  # a gauge is not worth failing a pass for
            logger.debug("consumer info unavailable", extra={"error_type": type(exc).__name__})
            return
        pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
        CONSUMER_PENDING.labels(self._durable).set(pending)

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
            EVENTS_PROCESSED.labels(self._durable, "invalid").inc()
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
            if delivery_count > self._max_deliver:
                # The handler had its attempts; this delivery exists to park the
                # event (its parking failed before, or the last attempt never
                # finished). The handler is not run again.
                error_type = self._unparked_error_types.get(event_id, UNKNOWN_ERROR_TYPE)
                await self._park(message, event, error_type)
                return
            outages = 0
            while True:
                try:
                    async with self._database.unit_of_work() as session:
                        if await self._claim(session, event_id):
                            await self._handler(session, event)
                            outcome = "applied"
                        else:
                            span.set_attribute("messaging.duplicate", True)
                            outcome = "duplicate"
                    break
                except Unavailable as exc:
                    # A dependency (database, Vault, a peer service) is down: the
                    # event is fine, so it must not use up its bounded redeliveries.
                    # Keep it claimed on the server and try again once things return.
                    outages += 1
                    if self._stopping.is_set():
                        return  # not acked: redelivered after ack_wait
                    delay = min(
                        backoff_seconds(outages, base=self._retry_delay, cap=self._max_retry_delay),
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
            EVENTS_PROCESSED.labels(self._durable, outcome).inc()
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
        """Record ``event_id`` as processed; False if it already was."""
        values: dict[str, Any] = {
            "consumer": self._durable,
            "event_id": event_id,
            "processed_at": datetime.now(UTC),
        }
        return await _insert_unless_present(session, ProcessedEvent, values)

    async def _retry_or_give_up(self, message: Msg, event: ReceivedEvent, exc: Exception) -> None:
        error_type = type(exc).__name__
        if event.delivery_count >= self._max_deliver:
            await self._park(message, event, error_type)
            return
        delay = self._redelivery_delay(event.delivery_count)
        EVENTS_PROCESSED.labels(self._durable, "retried").inc()
        logger.warning(
            "event handler failed; redelivering",
            extra={**self._facts(event, error_type), "retry_in": delay},
        )
        await message.nak(delay=delay)

    async def _park(self, message: Msg, event: ReceivedEvent, error_type: str) -> None:
        """Record the event in ``parked_events``, then terminate it; nak if the record fails.

        Terminating only after the parked row committed means the event is never
        gone from both JetStream and the database. The row is written in a unit
        of work of its own (the handler's was rolled back) and idempotently: a
        park whose term was lost is redelivered and parked again as a no-op.
        """
        facts = self._facts(event, error_type)
        values: dict[str, Any] = {
            "consumer": self._durable,
            "event_id": event.event_id,
            "subject": event.subject,
            "payload": event.payload,
            "delivery_count": event.delivery_count,
            "error_type": error_type[:255],
            "parked_at": datetime.now(UTC),
        }
        try:
            async with self._database.unit_of_work() as session:
                # Applied after all (a success whose ack was lost, then a
                # redelivery past max_deliver): acknowledge, do not park.
                processed = await session.get(ProcessedEvent, (self._durable, event.event_id))
                parked = processed is None and await _insert_unless_present(
                    session, ParkedEvent, values
                )
        except Exception as exc:
            # Not terminated: the nak brings it back (the server-side consumer
            # has no delivery limit, see _pull_subscription) to be parked then.
            self._remember_error_type(event.event_id, error_type)
            delay = self._redelivery_delay(event.delivery_count)
            logger.error(
                "could not park a failed event; redelivering it to park it later",
                extra={**facts, "parking_error_type": type(exc).__name__, "retry_in": delay},
            )
            await message.nak(delay=delay)
            return
        self._unparked_error_types.pop(event.event_id, None)
        if processed is not None:
            logger.info("event already processed; acknowledging", extra=facts)
            await _settle(message.ack, facts)
            return
        if parked:
            EVENTS_PROCESSED.labels(self._durable, "parked").inc()
            logger.error("event handler failed for the last time; event parked", extra=facts)
        else:
            logger.warning("event already parked; terminating it", extra=facts)
        await _settle(message.term, facts)

    def _facts(self, event: ReceivedEvent, error_type: str) -> dict[str, Any]:
        """What is logged about a failed event: ids and counts, never the payload or a message."""
        return {
            "event_id": event.event_id,
            "subject": event.subject,
            "consumer": self._durable,
            "delivery_count": event.delivery_count,
            "error_type": error_type,
        }

    def _remember_error_type(self, event_id: str, error_type: str) -> None:
        self._unparked_error_types.pop(event_id, None)
        self._unparked_error_types[event_id] = error_type
        while len(self._unparked_error_types) > _REMEMBERED_ERROR_TYPES:
            del self._unparked_error_types[next(iter(self._unparked_error_types))]

    def _redelivery_delay(self, delivery_count: int) -> float:
        return backoff_seconds(
            delivery_count - 1, base=self._retry_delay, cap=self._max_retry_delay
        )

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
                    delay = backoff_seconds(
                        failures, base=self._retry_delay, cap=self._max_retry_delay
                    )
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


async def _settle(action: Callable[[], Awaitable[None]], facts: Mapping[str, Any]) -> None:
    """Ack or term after a commit; if it is lost, the redelivery is recognised and settled."""
    try:
        await action()
    except Exception as exc:
        logger.warning(
            "settling a message failed; it will be redelivered and settled again",
            extra={**facts, "settle_error_type": type(exc).__name__},
        )


async def _insert_unless_present(
    session: AsyncSession, model: type[PlatformBase], values: dict[str, Any]
) -> bool:
    """Insert one row of ``model``; False (and no change) if its primary key exists.

    ``INSERT … ON CONFLICT DO NOTHING`` is atomic on both databases: on
    PostgreSQL a concurrent transaction inserting the same key makes this one
    wait for its outcome (then insert, or see the conflict), and SQLite
    serialises writers. A savepoint-and-catch would not work on SQLite, whose
    driver commits when the outermost savepoint is released.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = pg_insert(model).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(model).values(values).on_conflict_do_nothing()
    else:
        # Portable fallback: check, then insert; a racing duplicate fails the
        # commit, the message is redelivered and the check catches it.
        key = tuple(values[column.name] for column in sa_inspect(model).primary_key)
        if await session.get(model, key) is not None:
            return False
        statement = insert(model).values(values)
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def list_parked_events(
    database: Database, *, limit: int = DEFAULT_PAGE_SIZE, after: str = ""
) -> tuple[list[ParkedEvent], str]:
    """One page of parked events, oldest first, and the token of the next page ("" at the end).

    ``limit`` follows :func:`~fieldvault_platform.paging.page_size` (0: the
    default, capped at the maximum); ``after`` is a token this function returned.
    Keyset paging on (parked_at, consumer, event_id), so events parked while
    paging are neither skipped nor repeated.
    """
    request = PARKED_IN_ORDER.request(limit, after)
    async with database.unit_of_work() as session:
        return await request.fetch(session, select(ParkedEvent))
