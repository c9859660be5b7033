"""``make run``'s trace log: spans exported over OTLP become one line per finished trace."""

from __future__ import annotations

import time
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from fieldvault_devstack.trace_log import TraceLog


def provider(service: str, endpoint: str) -> TracerProvider:
    tracers = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    tracers.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint, insecure=True)))
    return tracers


def wait_for_lines(path: Path, count: int, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_a_trace_through_two_services_is_one_line_with_its_spans_services_and_duration(
    tmp_path: Path,
) -> None:
    path = tmp_path / "logs" / "traces.log"
    with TraceLog(path, quiet_seconds=0.5) as traces:
        endpoint = traces.receiver.endpoint
        gateway, work_order = provider("gateway", endpoint), provider("work_order", endpoint)
        with (
            gateway.get_tracer("t").start_as_current_span(
                "POST /v1/work-orders/{work_order_id}/assign", kind=SpanKind.SERVER
            ) as root,
            work_order.get_tracer("t").start_as_current_span("AssignWorkOrder"),
        ):
            time.sleep(0.02)
        other = gateway.get_tracer("t").start_span("GET /v1/me/work-orders")
        other.end()
        lines = wait_for_lines(path, 2)
        gateway.shutdown()
        work_order.shutdown()

    trace_id = format(root.get_span_context().trace_id, "032x")
    [assign] = [line for line in lines if f"trace={trace_id}" in line]
    assert (
        " 2 spans [gateway, work_order] gateway: POST /v1/work-orders/{work_order_id}/assign"
        in (assign)
    )
    milliseconds = float(assign.split(f"trace={trace_id} ")[1].split(" ms")[0])
    assert 20 <= milliseconds < 5000
    assert len(lines) == 2 and "1 spans [gateway] gateway: GET /v1/me/work-orders" in lines[1]


def test_a_trace_still_receiving_spans_is_not_written_yet(tmp_path: Path) -> None:
    path = tmp_path / "traces.log"
    with TraceLog(path, quiet_seconds=30) as traces:
        service = provider("gateway", traces.receiver.endpoint)
        service.get_tracer("t").start_span("GET /healthz").end()
        time.sleep(1.5)
        assert not path.exists() or path.read_text() == ""
        service.shutdown()
    # Stopping writes what was still open.
    assert len(path.read_text().splitlines()) == 1
