"""Trace context across NATS: W3C ``traceparent``/``tracestate`` in message headers.

Uses the globally configured propagator (W3C trace context and baggage by
default), so a service that changes ``OTEL_PROPAGATORS`` changes what goes on
the wire for gRPC and NATS alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context

#: One tracer for everything the events package emits.
tracer = trace.get_tracer("fieldvault_platform.events")


def inject_trace_context(
    headers: dict[str, str] | None = None, *, context: Context | None = None
) -> dict[str, str]:
    """Add the trace context (current one unless ``context`` is given) to ``headers``.

    Returns the same dict (or a new one), so it can be stored in the outbox or
    handed to ``js.publish`` directly. Outside any span nothing is added.
    """
    carrier = {} if headers is None else headers
    propagate.inject(carrier, context=context)
    return carrier


def extract_trace_context(headers: Mapping[str, str] | None) -> Context:
    """The context carried by message headers (an empty context if there is none)."""
    return propagate.extract(dict(headers or {}))
