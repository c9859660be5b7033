from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault_platform.telemetry import _exporter_from_env, context_of, current_traceparent


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_no_exporter_without_configuration() -> None:
    assert _exporter_from_env() is None


def test_an_otlp_endpoint_alone_selects_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    assert isinstance(_exporter_from_env(), OTLPSpanExporter)


@pytest.mark.parametrize(
    ("choice", "kind"), [("console", ConsoleSpanExporter), ("otlp", OTLPSpanExporter)]
)
def test_otel_traces_exporter_chooses_the_exporter(
    monkeypatch: pytest.MonkeyPatch, choice: str, kind: type
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", choice)
    assert isinstance(_exporter_from_env(), kind)


def test_none_disables_export_even_with_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    assert _exporter_from_env() is None


def test_an_unknown_exporter_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER='zipkin' is not supported"):
        _exporter_from_env()


def test_an_otlp_protocol_other_than_grpc_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        _exporter_from_env()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert isinstance(_exporter_from_env(), OTLPSpanExporter)


def test_a_stored_traceparent_makes_later_work_a_span_of_the_same_trace(
    spans: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("the change") as change:
        stored = current_traceparent()
    assert current_traceparent() == ""  # outside any span: nothing to keep

    with tracer.start_as_current_span("delivered later", context=context_of(stored)) as later:
        pass
    assert later.get_span_context().trace_id == change.get_span_context().trace_id
    [finished] = [s for s in spans.get_finished_spans() if s.name == "delivered later"]
    assert finished.parent is not None
    assert finished.parent.span_id == change.get_span_context().span_id

    with tracer.start_as_current_span("untraced work", context=context_of("")) as fresh:
        pass
    assert fresh.get_span_context().trace_id != change.get_span_context().trace_id
