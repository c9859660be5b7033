from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

from fieldvault_platform.logging import JsonFormatter, RedactionFilter, redact_text

CANARY = "CANARY-door-code-4711-xyz"


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("example"))
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("fieldvault.test.logging")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_lines_are_json_with_the_current_trace_and_span_ids(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logger.info("assigned", extra={"work_order_id": "wo-1"})
        expected_trace = format(span.get_span_context().trace_id, "032x")
        expected_span = format(span.get_span_context().span_id, "016x")
    (line,) = _lines(stream)
    assert line["message"] == "assigned"
    assert line["service"] == "example"
    assert line["work_order_id"] == "wo-1"
    assert line["trace_id"] == expected_trace
    assert line["span_id"] == expected_span


def test_sensitive_extra_fields_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(
        "secret written",
        extra={
            "door_code": CANARY,
            "password": CANARY,
            "nested": {"token": CANARY},
            "site_id": "s-1",
        },
    )
    out = stream.getvalue()
    assert CANARY not in out
    (line,) = _lines(stream)
    assert line["site_id"] == "s-1"
    assert line["door_code"] == "[REDACTED]"


def test_credentials_in_messages_arguments_and_tracebacks_are_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWNhbmFyeQ"
    logger.warning("call failed with Authorization: Bearer %s", jwt)
    logger.warning("login attempt password=%s", CANARY)
    try:
        raise RuntimeError(f"boom token={CANARY}")
    except RuntimeError:
        logger.exception("unexpected")
    out = stream.getvalue()
    assert jwt not in out
    assert CANARY not in out
    assert "RuntimeError" in out  # the traceback is still there for operators


@pytest.mark.parametrize(
    ("text", "sensitive_part"),
    [
        (
            "hvs.CAESIJ2kZx8Q0aGVsbG8td29ybGQtdG9rZW4tY2FuYXJ5",
            "CAESIJ2kZx8Q0aGVsbG8td29ybGQtdG9rZW4tY2FuYXJ5",
        ),
        (
            "vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==",
            "8SDd3WHDOjf7mq69",
        ),
        ("Basic dXNlcjpwYXNzd29yZGNhbmFyeQ==", "dXNlcjpwYXNzd29yZGNhbmFyeQ"),
        ("secret: hunter2-canary", "hunter2-canary"),
    ],
)
def test_redact_text_removes_known_credential_shapes(text: str, sensitive_part: str) -> None:
    redacted = redact_text(f"context {text} end")
    assert sensitive_part not in redacted
    assert "[REDACTED]" in redacted
    assert redacted.startswith("context ")


def test_an_extra_field_named_like_a_standard_one_is_kept_not_dropped(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("called", extra={"service": "identity"})
    (line,) = _lines(stream)
    assert line["service"] == "example"
    assert line["extra_service"] == "identity"


_FRAGMENTS = st.sampled_from(
    [
        "Bearer abcdefgh12345",
        "BASIC dXNlcjpwYXNz",
        "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "hvs.CAESIJ2kZx8Q0aGVsbG8td29y",
        "vault:v2:QUJDREVGRw==",
        "password=hunter2",
        "Token: 'x y'",
        "apikey=k",
        " ",
        "job done.",
        "wo-123",
    ]
)


@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=12)), max_size=8).map("".join))
def test_the_fast_path_never_changes_what_is_redacted(text: str) -> None:
    from fieldvault_platform.logging import _SENSITIVE_TEXT, _replacement

    assert redact_text(text) == _SENSITIVE_TEXT.sub(_replacement, text)
