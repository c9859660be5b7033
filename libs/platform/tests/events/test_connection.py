"""Connecting to NATS, declaring streams and consumers, naming subjects."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats.js.api import StorageType

from fieldvault_devstack.ports import free_port
from fieldvault_platform.errors import InvalidArgument, Unavailable
from fieldvault_platform.events import (
    connect,
    ensure_pull_consumer,
    ensure_stream,
    event_subject,
    service_subjects,
    stream_name,
)


async def test_connect_raises_unavailable_with_a_clear_message_when_nats_is_down() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        await connect(f"nats://fv:hunter2@127.0.0.1:{port}", name="test", connect_timeout=0.5)
    assert time.monotonic() - started < 3, "the first connection attempt is bounded"
    assert str(raised.value) == f"NATS is unavailable at nats://127.0.0.1:{port}"
    assert "hunter2" not in str(raised.value), "credentials in the URL are not echoed"
    # No socket-error chain either: the caller sees one sentence.
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_ensure_stream_and_consumer_are_idempotent_and_apply_changed_settings(
    nats_client: Any, service: str
) -> None:
    js = nats_client.jetstream(timeout=2)
    first = await ensure_stream(js, service, max_age=3600)
    again = await ensure_stream(js, service, max_age=60, duplicate_window=30)
    assert first.config.name == again.config.name == stream_name(service)
    assert again.config.subjects == [service_subjects(service)]
    assert again.config.storage == StorageType.FILE
    assert again.config.max_age == 60
    assert again.config.duplicate_window == 30

    name = stream_name(service)
    subject = service_subjects(service)
    await ensure_pull_consumer(js, name, "worker", subject, max_deliver=5, ack_wait=30)
    updated = await ensure_pull_consumer(js, name, "worker", subject, max_deliver=7, ack_wait=10)
    assert updated.config.max_deliver == 7
    assert updated.config.ack_wait == 10
    assert [c.name for c in await js.consumers_info(name)] == ["worker"]
    await js.delete_stream(name)


def test_event_subject_and_stream_name_follow_the_naming_scheme() -> None:
    assert (
        event_subject("acme", "work_order", "WorkOrderAssigned")
        == "fieldvault.acme.work_order.v1.WorkOrderAssigned"
    )
    assert stream_name("work_order") == "FIELDVAULT_WORK_ORDER"
    assert service_subjects("work_order") == "fieldvault.*.work_order.v1.>"


@pytest.mark.parametrize("bad", ["", "a.b", "*", ">", "a>", "a b", "tab\t", "new\nline"])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_event_subject_rejects_tokens_that_would_change_the_subject(
    bad: str, position: int
) -> None:
    tokens = ["acme", "work_order", "Created"]
    tokens[position] = bad
    with pytest.raises(InvalidArgument):
        event_subject(*tokens)


@given(st.text(min_size=1).filter(lambda t: not any(c in t for c in ".*>") and t.split() == [t]))
def test_any_valid_tenant_id_stays_in_its_own_subject_token(tenant_id: str) -> None:
    tokens = event_subject(tenant_id, "work_order", "Created").split(".")
    assert tokens == ["fieldvault", tenant_id, "work_order", "v1", "Created"]
