"""One trace from the use case that wrote an event to the consumer that applied it."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import Database
from fieldvault_platform.events import (
    ConsumerRunner,
    OutboxRelay,
    ReceivedEvent,
    add_event,
    ensure_stream,
    event_subject,
    service_subjects,
    stream_name,
)


async def test_trace_context_published_with_a_nats_message_is_the_parent_of_the_consumer_span(
    database: Database, nats_client: Any, service: str, spans: InMemorySpanExporter
) -> None:
    js = nats_client.jetstream(timeout=2)
    await ensure_stream(js, service)
    subject = event_subject("tenant-a", service, "assigned")
    payload = b"\x0a\x05wo-42"

    with trace.get_tracer("test").start_as_current_span("AssignWorkOrder") as writer:
        async with database.unit_of_work() as session:
            event_id = add_event(session, subject=subject, event_type="Assigned", payload=payload)
    # The relay runs later, outside the writer's span, as it would in its own task.
    assert await OutboxRelay(database, js).relay_once() == 1

    seen: list[tuple[ReceivedEvent, trace.SpanContext]] = []

    async def handler(session: AsyncSession, event: ReceivedEvent) -> None:
        seen.append((event, trace.get_current_span().get_span_context()))

    consumer = ConsumerRunner(
        database,
        js,
        stream=stream_name(service),
        durable="notifier",
        filter_subject=service_subjects(service),
        handler=handler,
        fetch_timeout=0.5,
    )
    assert await consumer.process_batch() == 1

    finished = spans.get_finished_spans()
    [producer] = [s for s in finished if s.kind is SpanKind.PRODUCER]
    [consumer_span] = [s for s in finished if s.kind is SpanKind.CONSUMER]
    writer_context = writer.get_span_context()

    assert producer.parent is not None and producer.parent.span_id == writer_context.span_id
    assert consumer_span.parent is not None
    assert consumer_span.parent.span_id == producer.context.span_id
    assert {producer.context.trace_id, consumer_span.context.trace_id} == {writer_context.trace_id}
    # The handler runs inside the consumer span, so its own spans join the trace.
    [(event, handler_context)] = seen
    assert handler_context.span_id == consumer_span.context.span_id
    assert f"{producer.context.span_id:016x}" in event.headers["traceparent"]

    # Spans carry ids, never the payload.
    assert producer.attributes is not None
    assert producer.attributes["messaging.message.id"] == event_id
    assert consumer_span.attributes is not None
    assert consumer_span.attributes["messaging.message.id"] == event_id
    for span in (producer, consumer_span):
        assert all(payload not in str(v).encode() for v in (span.attributes or {}).values())
    await js.delete_stream(stream_name(service))
