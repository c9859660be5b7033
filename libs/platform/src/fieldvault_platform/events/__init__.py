"""NATS JetStream plumbing: subjects, connection, transactional outbox, idempotent consumers.

A producing service calls :func:`add_event` inside its unit of work and runs
an :class:`OutboxRelay`; a consuming service runs a :class:`ConsumerRunner`
with a handler that applies one event inside the runner's transaction; events
its handler keeps failing on are parked (:class:`ParkedEvent`,
:func:`list_parked_events`) rather than dropped.
"""

from fieldvault_platform.events.backbone import EventBackbone, open_event_backbone
from fieldvault_platform.events.connection import (
    DEFAULT_DUPLICATE_WINDOW,
    DEFAULT_MAX_AGE,
    connect,
    ensure_pull_consumer,
    ensure_stream,
)
from fieldvault_platform.events.consumer import (
    ConsumerRunner,
    EventHandler,
    ParkedEvent,
    ProcessedEvent,
    ReceivedEvent,
    list_parked_events,
)
from fieldvault_platform.events.outbox import (
    EVENT_TYPE_HEADER,
    MSG_ID_HEADER,
    OutboxEvent,
    OutboxRelay,
    add_event,
    publish,
)
from fieldvault_platform.events.subjects import event_subject, service_subjects, stream_name
from fieldvault_platform.events.tracing import extract_trace_context, inject_trace_context

__all__ = [
    "DEFAULT_DUPLICATE_WINDOW",
    "DEFAULT_MAX_AGE",
    "EVENT_TYPE_HEADER",
    "MSG_ID_HEADER",
    "ConsumerRunner",
    "EventBackbone",
    "EventHandler",
    "OutboxEvent",
    "OutboxRelay",
    "ParkedEvent",
    "ProcessedEvent",
    "ReceivedEvent",
    "add_event",
    "connect",
    "ensure_pull_consumer",
    "ensure_stream",
    "event_subject",
    "extract_trace_context",
    "inject_trace_context",
    "list_parked_events",
    "open_event_backbone",
    "publish",
    "service_subjects",
    "stream_name",
]
