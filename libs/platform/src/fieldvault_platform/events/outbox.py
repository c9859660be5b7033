"""Transactional outbox: events are written with the state change, published later.

A service never publishes to NATS from inside a use case: if it did, a crash
or a rollback between the commit and the publish would lose the event or
announce a change that never happened. Instead :func:`add_event` inserts a
row in the same transaction as the state change, and :class:`OutboxRelay`
publishes committed rows afterwards. Publishing is at-least-once (a relay can
crash after the publish and before marking the row), so every message carries
``Nats-Msg-Id`` = event id and JetStream drops re-publishes inside the
stream's duplicate window; consumers de-duplicate on the same id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import JSON, DateTime, Index, LargeBinary, String, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fieldvault_platform.backoff import backoff_seconds
from fieldvault_platform.db import Database, PlatformBase
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.events._waiting import wait_any
from fieldvault_platform.events.subjects import event_subject
from fieldvault_platform.events.tracing import (
    extract_trace_context,
    inject_trace_context,
    tracer,
)
from fieldvault_platform.metrics import EVENTS_PUBLISHED

logger = logging.getLogger(__name__)

#: Header JetStream de-duplicates on.
MSG_ID_HEADER = "Nats-Msg-Id"
#: Lets a consumer route or skip a message without decoding its payload.
EVENT_TYPE_HEADER = "Fieldvault-Event-Type"

# Event ids travel in a NATS header: no CR/LF or spaces, bounded length.
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxEvent(PlatformBase):
    """An event waiting to be (or already) published to JetStream."""

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(255))
    #: Serialised protobuf message; ids and non-sensitive facts only (docs/architecture.md#events).
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    #: Trace context of the writer, so the consumer's span joins the writer's trace.
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The relay only ever looks for unpublished rows, oldest first; a
        # partial index stays small however many published rows accumulate.
        Index(
            "ix_outbox_events_unpublished",
            "created_at",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


def add_event(
    session: AsyncSession,
    *,
    subject: str,
    event_type: str,
    payload: bytes,
    event_id: str | None = None,
) -> str:
    """Record an event in the caller's transaction and return its id.

    Does not flush or commit: the row becomes visible to the relay exactly
    when (and only if) the caller's unit of work commits. The current trace
    context is captured now, while the writer's span is still current.
    """
    if event_id is None:
        event_id = uuid.uuid4().hex
    elif not _EVENT_ID.match(event_id):
        raise InvalidArgument("event id must be 1-64 letters, digits or '_.:-'")
    session.add(
        OutboxEvent(
            id=event_id,
            subject=subject,
            event_type=event_type,
            payload=payload,
            headers=inject_trace_context(),
            created_at=_utcnow(),
        )
    )
    return event_id


def publish(
    session: AsyncSession, message: Message, *, tenant_id: str, service: str, event: str
) -> str:
    """Record the event ``message`` (a protobuf message with an ``event_id`` field) on
    ``service``'s subject for ``event`` in ``tenant_id``, in the caller's transaction
    (see :func:`add_event`); its id.

    The one way a service publishes: subject, type name, payload and the
    de-duplication id all come from the message, so no producer spells them out.
    """
    return add_event(
        session,
        subject=event_subject(tenant_id, service, event),
        event_type=message.DESCRIPTOR.full_name,
        payload=message.SerializeToString(),
        event_id=getattr(message, "event_id"),  # noqa: B009 (every event message has one)
    )


class OutboxRelay:
    """Publishes committed outbox rows to JetStream, oldest first.

    Several relays may run against one database: on PostgreSQL each claims
    its batch with ``FOR UPDATE SKIP LOCKED``; on SQLite (single-node
    development) they may overlap and JetStream's de-duplication absorbs it.
    """

    def __init__(
        self,
        database: Database,
        js: JetStreamContext,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        publish_timeout: float = 5.0,
        max_backoff: float = 30.0,
        retention: timedelta = timedelta(days=1),
        purge_interval: float = 300.0,
    ) -> None:
        self._database = database
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._max_backoff = max_backoff
        self._retention = retention
        self._purge_interval = purge_interval
        self._next_purge = 0.0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask for a relay pass now (call after committing a unit of work with events)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish up to ``batch_size`` unpublished events; return how many were published.

        Rows are marked published only after JetStream acknowledged them. If a
        publish fails, the rows published before it are still marked and the
        error is raised; the rest stay for the next pass.
        """
        failure: Exception | None = None
        published: list[str] = []
        async with self._database.unit_of_work() as session:
            query = (
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
                .limit(self._batch_size)
            )
            if self._database.engine.dialect.name == "postgresql":
                # Rows another relay is publishing are skipped, not waited
                # for, so two relays never publish the same row concurrently.
                query = query.with_for_update(skip_locked=True)
            rows = (await session.scalars(query)).all()
            for row in rows:
                try:
                    await self._publish(row)
                except Exception as exc:
                    failure = exc
                    break
                published.append(row.id)
            if published:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_(published))
                    .values(published_at=_utcnow())
                )
        if failure is not None:
            raise failure
        return len(published)

    async def purge_published(self) -> int:
        """Delete rows published longer ago than ``retention``; return how many.

        Published rows are kept for a while to help operators trace an event,
        but the outbox must not grow for ever.
        """
        cutoff = _utcnow() - self._retention
        async with self._database.unit_of_work() as session:
            result = await session.execute(
                delete(OutboxEvent).where(
                    OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _purge_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_purge:
            return
        self._next_purge = now + self._purge_interval
        purged = await self.purge_published()
        if purged:
            logger.info("purged published outbox events", extra={"count": purged})

    async def _publish(self, row: OutboxEvent) -> None:
        # The publish span is a child of the writer's span (stored with the
        # row), and its own context goes on the wire: the consumer's span
        # then hangs under writer -> publish, whichever process relays.
        parent = extract_trace_context(row.headers)
        with tracer.start_as_current_span(
            f"publish {row.subject}",
            context=parent,
            kind=SpanKind.PRODUCER,
            record_exception=False,  # exception text could quote the payload
            set_status_on_exception=False,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "publish",
                "messaging.destination.name": row.subject,
                "messaging.message.id": row.id,
            },
        ) as span:
            headers = inject_trace_context(
                {MSG_ID_HEADER: row.id, EVENT_TYPE_HEADER: row.event_type}
            )
            try:
                ack = await self._js.publish(
                    row.subject, row.payload, timeout=self._publish_timeout, headers=headers
                )
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                logger.warning(
                    "outbox publish failed; the event stays in the outbox",
                    extra={
                        "event_id": row.id,
                        "subject": row.subject,
                        "error_type": type(exc).__name__,
                    },
                )
                raise
            EVENTS_PUBLISHED.labels(row.event_type).inc()
            if ack.duplicate:
                # Expected after a crash between publish and mark: not an error.
                span.set_attribute("messaging.nats.duplicate", True)
                logger.info(
                    "outbox event was already in the stream",
                    extra={"event_id": row.id, "subject": row.subject},
                )

    async def run(self, stop_event: asyncio.Event) -> None:
        """Relay until ``stop_event`` is set, backing off while NATS or the DB is down."""
        failures = 0
        while not stop_event.is_set():
            self._wake.clear()
            try:
                published = await self.relay_once()
                await self._purge_when_due()
            except Exception as exc:
                failures += 1
                delay = backoff_seconds(failures, base=self._poll_interval, cap=self._max_backoff)
                logger.warning(
                    "outbox relay pass failed; retrying",
                    extra={"error_type": type(exc).__name__, "retry_in_seconds": delay},
                )
                # Only stop cuts a backoff short: nudges from producers
                # would otherwise turn an outage into a busy loop.
                await wait_any((stop_event,), delay)
                continue
            failures = 0
            if published < self._batch_size:
                await wait_any((stop_event, self._wake), self._poll_interval)


__all__ = [
    "EVENT_TYPE_HEADER",
    "MSG_ID_HEADER",
    "OutboxEvent",
    "OutboxRelay",
    "add_event",
    "publish",
]
