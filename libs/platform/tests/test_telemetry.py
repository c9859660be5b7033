from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from fieldvault_platform.telemetry import _exporter_from_env


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
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
