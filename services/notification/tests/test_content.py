"""The guard: messages are rendered from ids, vocabularies and times only."""

from __future__ import annotations

import string
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notification.content import (
    SAFE_FIELDS,
    TEMPLATES,
    SafeFacts,
    UnsafeFact,
    render,
)

CANARIES = ("4711#", "ottoline.canary@example.net", "+358 40 7391 2284", "221B Baker Street")


def _placeholders(text: str) -> set[str]:
    return {
        match.group("named") or match.group("braced")
        for match in string.Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    }


@pytest.mark.parametrize("event_type", sorted(TEMPLATES))
def test_every_template_uses_only_safe_fields(event_type: str) -> None:
    template = TEMPLATES[event_type]
    used = set().union(
        *(_placeholders(t) for t in (template.subject, template.body, template.link))
    )
    assert used, "a template that says nothing about its event"
    assert used <= SAFE_FIELDS, used - SAFE_FIELDS


@pytest.mark.parametrize(
    "field", ["work_order_id", "site_id", "user_id", "customer_id", "webhook_id"]
)
@pytest.mark.parametrize("value", CANARIES)
def test_an_id_field_refuses_anything_but_an_id(field: str, value: str) -> None:
    with pytest.raises(UnsafeFact) as refused:
        SafeFacts.of(**{field: value})  # type: ignore[arg-type]
    assert value not in str(refused.value)


@pytest.mark.parametrize("field", ["status", "priority", "secret_kind", "reason"])
def test_a_vocabulary_field_refuses_free_text(field: str) -> None:
    with pytest.raises(UnsafeFact):
        SafeFacts.of(**{field: "door code is 4711#"})  # type: ignore[arg-type]


def test_a_list_of_code_kinds_refuses_free_text() -> None:
    with pytest.raises(UnsafeFact):
        SafeFacts.of(secret_kinds=["door_code", "door code is 4711#"])
    assert SafeFacts.of(secret_kinds=["alarm_code", "door_code"]).secret_kinds == (
        "alarm_code, door_code"
    )


def test_rendering_refuses_anything_but_safe_facts() -> None:
    with pytest.raises(TypeError):
        render("work_order.assigned", {"work_order_id": "4711#"})  # type: ignore[arg-type]


@given(text=st.text(min_size=1, max_size=40))
def test_no_free_text_survives_into_facts(text: str) -> None:
    """Whatever a person typed, it is either refused or is itself an id."""
    try:
        facts = SafeFacts.of(work_order_id=text, site_id=text, user_id=text)
    except UnsafeFact:
        return
    assert str(uuid.UUID(facts.work_order_id)) == facts.work_order_id


@pytest.mark.parametrize("event_type", sorted(TEMPLATES))
def test_a_rendered_message_holds_the_facts_and_nothing_else(event_type: str) -> None:
    facts = SafeFacts.of(
        work_order_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        webhook_id=str(uuid.uuid4()),
        status="assigned",
        priority="high",
        secret_kind="door_code",
        scheduled_start=datetime(2026, 12, 1, 8, tzinfo=UTC),
        limit=20,
        window_seconds=3600,
        consecutive_failures=5,
    )
    message = render(event_type, facts)
    assert message.subject and message.body and message.link.startswith("/")
    assert "$" not in message.subject + message.body + message.link
