"""An OTLP trace receiver for tests: a real gRPC ``TraceService`` keeping every span.

Services started with ``OTEL_TRACES_EXPORTER=otlp``,
``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>`` (see :meth:`OtlpReceiver.env`)
export to it exactly as they would to a collector, so a test can check what
traces the whole system produces. The server runs in threads of its own, so a
synchronous fixture can start it before the service processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from fieldvault_devstack.ports import free_port

#: OTLP's span kinds by number (``Span.SpanKind``), named as the SDK names them.
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span: ids as lower-case hex, attributes as plain values."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    #: Start and end, in nanoseconds since the epoch (as exported).
    start_ns: int = 0
    end_ns: int = 0


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, which)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _received(service: str, span: Span) -> ReceivedSpan:
    return ReceivedSpan(
        service=service,
        name=span.name,
        kind=KINDS.get(span.kind, str(span.kind)),
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        attributes=_attributes(span.attributes),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
    )


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, keep: Callable[[list[ReceivedSpan]], None]) -> None:
        self._keep = keep

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        spans: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            resource: list[KeyValue] = list(resource_spans.resource.attributes)
            service = str(_attributes(resource).get("service.name", ""))
            for scope_spans in resource_spans.scope_spans:
                spans.extend(_received(service, span) for span in scope_spans.spans)
        self._keep(spans)
        return trace_service_pb2.ExportTraceServiceResponse()


class OtlpReceiver:
    """``with OtlpReceiver() as receiver:`` listens on a free port until the block ends."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        on_spans: Callable[[list[ReceivedSpan]], None] | None = None,
        keep: bool = True,
    ) -> None:
        """``on_spans`` sees every batch as it arrives; ``keep=False`` keeps none in
        memory (``make run`` hands them to :class:`~fieldvault_devstack.trace_log.TraceLog`)."""
        self.host = host
        self._on_spans = on_spans
        self._keep_spans = keep
        self.port = port if port is not None else free_port(host)
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            _TraceService(self._keep), self._server
        )

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The ``OTEL_*`` variables that make a service export its spans here, at once."""
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            # Export every 100 ms instead of every 5 s: tests wait for spans.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }

    def start(self) -> OtlpReceiver:
        if self._server.add_insecure_port(f"{self.host}:{self.port}") == 0:
            raise OSError(f"the OTLP receiver cannot listen on {self.host}:{self.port}")
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=1).wait()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _keep(self, spans: list[ReceivedSpan]) -> None:
        if self._on_spans is not None:
            self._on_spans(spans)
        if self._keep_spans:
            with self._lock:
                self._spans.extend(spans)

    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far, in the order they arrived."""
        with self._lock:
            return list(self._spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans() if span.trace_id == trace_id]

    def wait_for(
        self, found: Callable[[list[ReceivedSpan]], bool], *, timeout: float = 15.0
    ) -> list[ReceivedSpan]:
        """Poll until ``found(spans)`` holds; the spans then, or AssertionError at the timeout.

        Blocking: call it from a thread (``asyncio.to_thread``) inside a running loop.
        """
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if found(spans):
                return spans
            if time.monotonic() > deadline:
                raise AssertionError(f"the expected spans did not arrive; got {len(spans)}")
            time.sleep(0.05)
