"""The guard: messages are rendered from ids, vocabularies and times only."""

from __future__ import annotations

import re
import string
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notification.content import (
    PHRASES,
    RETURN_REASONS,
    ROTATION_REASONS,
    ROTATION_SUBJECTS,
    SAFE_FIELDS,
    TEMPLATES,
    UNABLE_REASONS,
    SafeFacts,
    UnsafeFact,
    render,
)
from notification.wording import LANGUAGES, TEMPLATES_BY_LANGUAGE

CANARIES = ("4711#", "ottoline.canary@example.net", "+358 40 7391 2284", "221B Baker Street")


def _placeholders(text: str) -> set[str]:
    return {
        match.group("named") or match.group("braced")
        for match in string.Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event_type", sorted(TEMPLATES))
def test_every_template_uses_only_safe_fields(event_type: str, language: str) -> None:
    template = TEMPLATES_BY_LANGUAGE[language][event_type]
    used = set().union(
        *(_placeholders(t) for t in (template.subject, template.body, template.link))
    )
    assert used, "a template that says nothing about its event"
    assert used <= SAFE_FIELDS | PHRASES, used - SAFE_FIELDS - PHRASES


def test_every_language_tells_of_every_event() -> None:
    for language in LANGUAGES:
        assert set(TEMPLATES_BY_LANGUAGE[language]) == set(TEMPLATES), language


@pytest.mark.parametrize(
    "field", ["work_order_id", "site_id", "user_id", "customer_id", "webhook_id"]
)
@pytest.mark.parametrize("value", CANARIES)
def test_an_id_field_refuses_anything_but_an_id(field: str, value: str) -> None:
    with pytest.raises(UnsafeFact) as refused:
        SafeFacts.of(**{field: value})  # type: ignore[arg-type]
    assert value not in str(refused.value)


@pytest.mark.parametrize("field", ["status", "priority", "secret_kind", "reason", "reference"])
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


# --- reading naturally ---------------------------------------------------------------

#: What each event's facts look like: the statuses and reasons it can carry.
_SCENARIOS: dict[str, list[dict[str, str]]] = {
    "work_order.assigned": [{"status": "assigned"}],
    "work_order.scheduled": [{"status": s} for s in ("scheduled", "assigned", "in_progress")],
    "work_order.started": [{"status": "in_progress"}],
    "work_order.completed": [{"status": "completed"}],
    "work_order.cancelled": [{"status": "cancelled"}],
    "work_order.returned": [
        {"status": status, "reason": reason}
        for status in ("new", "scheduled")
        for reason in sorted(RETURN_REASONS - UNABLE_REASONS - {""})
    ],
    "work_order.unable": [
        {"status": status, "reason": reason}
        for status in ("new", "scheduled")
        for reason in sorted(UNABLE_REASONS)
    ],
    "security.break_glass_reveal": [
        {"secret_kind": kind} for kind in ("door_code", "alarm_code", "key_safe_code")
    ],
    "security.reveal_rate_exceeded": [{}],
    "security.secret_values_exported": [
        {"customer_id": str(uuid.uuid4()), "secret_kinds": kinds}  # type: ignore[dict-item]
        for kinds in (["door_code"], ["alarm_code", "door_code", "key_safe_code"])
    ],
    "webhook.disabled": [{}],
    "webhook.disabled_client_revoked": [{}],
    "share.opened": [{"share_id": str(uuid.uuid4())}],
    "share.locked": [{"share_id": str(uuid.uuid4())}],
    "key.overdue": [
        {"key_id": str(uuid.uuid4()), "due": datetime(2026, 12, 1, 11, tzinfo=UTC)}  # type: ignore[dict-item]
    ],
    "rotation_task.created": [
        {
            "task_id": str(uuid.uuid4()),
            "rotation_subject": subject,
            "rotation_reason": reason,
            "since": datetime(2026, 1, 5, 9, tzinfo=UTC),  # type: ignore[dict-item]
        }
        for subject in sorted(ROTATION_SUBJECTS - {""})
        for reason in sorted(ROTATION_REASONS - {""})
    ],
}
_CODES = re.compile(r"\b[a-z]+_[a-z_]+\b")  # in_progress, unable_no_access, door_code, ...


def _renderings() -> list[tuple[str, str, bool, dict[str, str]]]:
    return [
        (event_type, language, scheduled, scenario)
        for event_type, scenarios in _SCENARIOS.items()
        for language in LANGUAGES
        for scheduled in (True, False)
        for scenario in scenarios
    ]


def test_every_event_has_scenarios() -> None:
    assert set(_SCENARIOS) == set(TEMPLATES)


@pytest.mark.parametrize(("event_type", "language", "scheduled", "scenario"), _renderings())
def test_every_message_reads_naturally_in_every_language(
    event_type: str, language: str, scheduled: bool, scenario: dict[str, str]
) -> None:
    start = datetime(2026, 12, 1, 8, tzinfo=UTC) if scheduled else None
    facts = SafeFacts.of(
        work_order_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        webhook_id=str(uuid.uuid4()),
        priority="high",
        scheduled_start=start,
        scheduled_end=start and start.replace(hour=10),
        limit=20,
        window_seconds=3600,
        consecutive_failures=5,
        reference="WO-000123",
        **scenario,  # type: ignore[arg-type]
    )
    message = render(event_type, facts, language)
    text = f"{message.subject}\n{message.body}"
    assert "$" not in text + message.link
    assert "not scheduled" not in text and "  " not in text and " ." not in text
    assert "()" not in text and "( " not in text and ": ." not in text
    # Codes are said in words: no "in_progress", "unable_no_access" or "door_code".
    assert not _CODES.findall(text), _CODES.findall(text)
    if event_type.startswith("work_order."):
        assert "WO-000123" in message.subject and "WO-000123" in message.body
    for line in message.body.splitlines():
        assert line[0].isupper() and line.endswith("."), line
    if event_type in ("work_order.assigned", "work_order.scheduled"):
        assert ("2026-12-01 08:00 UTC" in message.body) is scheduled


def test_an_unscheduled_assignment_says_so_in_words() -> None:
    facts = SafeFacts.of(
        work_order_id=str(uuid.uuid4()), status="assigned", priority="normal", reference="WO-000007"
    )
    english = render("work_order.assigned", facts).body
    assert english.startswith(
        "Work order WO-000007 (normal priority) is assigned to you. It has no time scheduled yet.\n"
    )
    finnish = render("work_order.assigned", facts, "fi").body
    assert finnish.startswith(
        "Työtilaus WO-000007 (kiireellisyys: normaali) on annettu sinulle. "
        "Sille ei ole vielä sovittu aikaa.\n"
    )


def test_an_unknown_language_falls_back_to_english() -> None:
    facts = SafeFacts.of(work_order_id=str(uuid.uuid4()), reference="WO-000001")
    assert render("work_order.cancelled", facts, "xx") == render("work_order.cancelled", facts)
