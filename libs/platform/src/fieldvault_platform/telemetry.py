"""OpenTelemetry set-up, configured by the standard ``OTEL_*`` variables.

``OTEL_TRACES_EXPORTER`` chooses the exporter: ``otlp`` (to the collector at
``OTEL_EXPORTER_OTLP_ENDPOINT``, over gRPC: ``OTEL_EXPORTER_OTLP_PROTOCOL``
may be ``grpc`` or unset), ``console`` or ``none``. When it is unset we
export over OTLP only if an endpoint is configured, so a service run on a
laptop without a collector does not log export errors. Sampling follows
``OTEL_TRACES_SAMPLER``; resource attributes ``OTEL_RESOURCE_ATTRIBUTES``.

Spans carry ids and non-sensitive facts only: instrumentations are configured
not to record request bodies, and SQL statements are recorded with bound
parameters kept out (SQLAlchemy instrumentation never records parameters).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

_provider: TracerProvider | None = None


def _exporter_from_env() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not choice:
        endpoint_set = any(
            os.environ.get(name)
            for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        choice = "otlp" if endpoint_set else "none"
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            protocol = os.environ.get(variable, "").strip().lower()
            if protocol not in ("", "grpc"):
                # Sending gRPC to an http/protobuf endpoint would fail on every export.
                raise ValueError(f"{variable}={protocol!r} is not supported (use grpc)")
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(
        f"OTEL_TRACES_EXPORTER={choice!r} is not supported (use otlp, console or none)"
    )


def setup(service_name: str, *, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process-wide tracer provider and the gRPC instrumentation.

    Call once from the composition root, before any gRPC server or channel is
    created (the gRPC instrumentors wrap ``grpc.aio.server`` and channel
    construction). ``exporter`` overrides the environment (tests).
    """
    global _provider
    if _provider is not None:
        return _provider
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    chosen = exporter if exporter is not None else _exporter_from_env()
    if chosen is not None:
        provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)
    instrument_grpc()
    _provider = provider
    return provider


def instrument_grpc() -> None:
    """Trace every grpc.aio server and channel created from now on (client and server spans)."""
    try:
        from opentelemetry.instrumentation.grpc import (
            GrpcAioInstrumentorClient,
            GrpcAioInstrumentorServer,
            filters,
        )
    except ImportError:  # a member without the grpc extra
        return
    # Health Watch streams with context.write (a coroutine, not an async
    # generator), which the aio server interceptor cannot wrap: it would break
    # the NOT_SERVING signal at shutdown. Health probes are not worth a span anyway.
    not_health = filters.negate(filters.service_name("grpc.health.v1.Health"))
    GrpcAioInstrumentorServer(filter_=not_health).instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def instrument_engine(engine: AsyncEngine) -> None:
    """Trace SQL statements of one engine (statement text only, never parameters)."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)


#: Span attributes that hold a request's URL or target with its query string.
_URL_ATTRIBUTES = ("http.url", "url.full", "http.target")


def _drop_query(span: Any, scope: dict[str, Any]) -> None:
    """Keep query strings out of spans: they can carry personal data (``?email=``) or a
    stated reason (a GDPR export's ``reason``)."""
    if span is None or not span.is_recording() or not scope.get("query_string"):
        return
    recorded = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        if key in recorded:
            span.set_attribute(key, str(recorded[key]).split("?", 1)[0])
    if "url.query" in recorded:
        span.set_attribute("url.query", "")


def instrument_fastapi(app: Any) -> None:
    """Trace every request of a FastAPI app (route templates, not raw paths with ids)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz", server_request_hook=_drop_query
    )


def shutdown() -> None:
    """Flush pending spans (called on graceful shutdown)."""
    if _provider is not None:
        _provider.shutdown()


def current_trace_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) of the current span as hex, or None outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def current_traceparent() -> str:
    """The W3C ``traceparent`` of the current span ("" outside a span).

    For work that runs later, elsewhere (a queued row, a background job): keep
    it with the work and hand it to :func:`context_of` when the work is done, so
    its spans join the trace of the action that caused it.
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def context_of(traceparent: str) -> Context:
    """The context a stored ``traceparent`` names; an empty one (a new trace) if none."""
    return propagate.extract({"traceparent": traceparent} if traceparent else {})
