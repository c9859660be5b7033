"""What a message may say: built only from facts that cannot carry a secret.

Templates are rendered from :class:`SafeFacts` and nothing else, and every
field of it is checked on construction: ids must be UUIDs, statuses,
priorities and reasons come from fixed vocabularies, a work order's reference
has its fixed shape (``WO-000123``), times are datetimes. There is no
free-text field at all — no work order title or description (typed by a
person, so they may hold a door code), no site name or address, no customer
contact data — so a secret or a customer's email or phone cannot reach an
email, SMS, inbox entry or webhook through a template. The app link is where
the recipient signs in to see more. ``tests/test_content.py`` enforces that
every template uses only these fields.
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

from notification.wording import (
    DEFAULT_LANGUAGE,
    ENGLISH_TEMPLATES,
    TEMPLATES_BY_LANGUAGE,
    WORDS_BY_LANGUAGE,
    Template,
    Words,
    invitation_text,
    share_email_text,
    share_sms_text,
)

STATUSES: Final = frozenset(
    {"new", "scheduled", "assigned", "in_progress", "completed", "cancelled", ""}
)
PRIORITIES: Final = frozenset({"low", "normal", "high", "urgent", ""})
SECRET_KINDS: Final = frozenset({"door_code", "alarm_code", "key_safe_code", ""})
#: Why the assignee reported a job cannot be done (work-order's fixed list).
UNABLE_REASONS: Final = frozenset(
    {"unable_no_access", "unable_customer_absent", "unable_parts_needed", "unable_unsafe"}
    | {"unable_other"}
)
#: Why a job went back to the office (``WorkOrderReturned.reason``).
RETURN_REASONS: Final = (
    frozenset({"user_deactivated", "dpa_inactive", "assignee_not_in_area", "invalid_assignee", ""})
    | UNABLE_REASONS
)


#: What a rotation task may ask to change, and why (customer-vault's codes; an
#: unknown reason is told as "other", never quoted).
ROTATION_SUBJECTS: Final = frozenset({"door_code", "alarm_code", "key_safe_code", "lock", ""})
ROTATION_REASONS: Final = frozenset(
    {
        "revealed_by_leaver",
        "revealed_by_organization",
        "break_glass",
        "overdue",
        "key_lost",
        "key_not_returned",
        "other",
        "",
    }
)


class UnsafeFact(ValueError):
    """A value that is not of the kind a message may carry (never quoted back)."""


def _id(name: str, value: str) -> str:
    if value == "":
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UnsafeFact(f"{name} must be an id") from None


def _one_of(name: str, value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise UnsafeFact(f"{name} is not one of the known values")
    return value


#: A time that is not set; never printed (``wording.py`` says it in words).
NOT_SCHEDULED: Final = ""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else NOT_SCHEDULED


_REFERENCE = re.compile(r"^WO-[0-9]{6,9}$")


def _reference(value: str) -> str:
    if value and not _REFERENCE.match(value):
        raise UnsafeFact("reference is not a work order reference")
    return value


@dataclass(frozen=True)
class SafeFacts:
    """The only input a template gets. Construct it through :meth:`of`."""

    work_order_id: str = ""
    site_id: str = ""
    user_id: str = ""
    customer_id: str = ""
    status: str = ""
    priority: str = ""
    secret_kind: str = ""
    #: Several kinds, e.g. "alarm_code, door_code".
    secret_kinds: str = ""
    scheduled_start: str = ""
    scheduled_end: str = ""
    limit: str = ""
    window_seconds: str = ""
    consecutive_failures: str = ""
    webhook_id: str = ""
    expires: str = ""
    reason: str = ""
    #: The work order's reference ("WO-000123"), as work-order gave it.
    reference: str = ""
    share_id: str = ""
    #: A physical key (its id, never its tag code or label) and when it was due back.
    key_id: str = ""
    due: str = ""
    task_id: str = ""
    rotation_subject: str = ""
    rotation_reason: str = ""
    since: str = ""

    @classmethod
    def of(
        cls,
        *,
        work_order_id: str = "",
        site_id: str = "",
        user_id: str = "",
        customer_id: str = "",
        status: str = "",
        priority: str = "",
        secret_kind: str = "",
        secret_kinds: Sequence[str] = (),
        scheduled_start: datetime | None = None,
        scheduled_end: datetime | None = None,
        limit: int = 0,
        window_seconds: int = 0,
        consecutive_failures: int = 0,
        webhook_id: str = "",
        expires: datetime | None = None,
        reason: str = "",
        reference: str = "",
        share_id: str = "",
        key_id: str = "",
        due: datetime | None = None,
        task_id: str = "",
        rotation_subject: str = "",
        rotation_reason: str = "",
        since: datetime | None = None,
    ) -> SafeFacts:
        return cls(
            work_order_id=_id("work_order_id", work_order_id),
            site_id=_id("site_id", site_id),
            user_id=_id("user_id", user_id),
            customer_id=_id("customer_id", customer_id),
            status=_one_of("status", status, STATUSES),
            priority=_one_of("priority", priority, PRIORITIES),
            secret_kind=_one_of("secret_kind", secret_kind, SECRET_KINDS),
            secret_kinds=", ".join(
                _one_of("secret_kinds", kind, SECRET_KINDS - {""}) for kind in secret_kinds
            ),
            scheduled_start=_when(scheduled_start),
            scheduled_end=_when(scheduled_end),
            limit=str(int(limit)),
            window_seconds=str(int(window_seconds)),
            consecutive_failures=str(int(consecutive_failures)),
            webhook_id=_id("webhook_id", webhook_id),
            expires=_when(expires),
            reason=_one_of("reason", reason, RETURN_REASONS),
            reference=_reference(reference),
            share_id=_id("share_id", share_id),
            key_id=_id("key_id", key_id),
            due=_when(due),
            task_id=_id("task_id", task_id),
            rotation_subject=_one_of("rotation_subject", rotation_subject, ROTATION_SUBJECTS),
            rotation_reason=_one_of("rotation_reason", rotation_reason, ROTATION_REASONS),
            since=_when(since),
        )


SAFE_FIELDS: Final = frozenset(f.name for f in fields(SafeFacts))


#: Event type → template; the English set names every type (``wording.py`` has Finnish too).
TEMPLATES: Final[dict[str, Template]] = ENGLISH_TEMPLATES
#: Placeholders built from the facts in the recipient's language (see ``wording.py``).
PHRASES: Final = frozenset(
    {
        "schedule",
        "status_text",
        "priority_text",
        "reason_text",
        "secret_kind_text",
        "secret_kinds_text",
        "rotation_subject_text",
        "rotation_reason_text",
    }
)


@dataclass(frozen=True)
class Message:
    type: str
    subject: str
    body: str
    link: str


def _phrases(facts: SafeFacts, words: Words) -> dict[str, str]:
    schedule = words.scheduled if facts.scheduled_start != NOT_SCHEDULED else words.unscheduled
    return {
        "schedule": schedule,
        "status_text": words.statuses.get(facts.status, ""),
        "priority_text": words.priorities.get(facts.priority, ""),
        "reason_text": words.reasons.get(facts.reason, ""),
        "secret_kind_text": words.secret_kinds.get(facts.secret_kind, ""),
        "secret_kinds_text": ", ".join(
            words.secret_kinds.get(kind, "") for kind in facts.secret_kinds.split(", ") if kind
        ),
        "rotation_subject_text": words.rotation_subjects.get(facts.rotation_subject, ""),
        "rotation_reason_text": words.rotation_reasons.get(facts.rotation_reason, ""),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return string.Template(text).substitute(values)


def render(event_type: str, facts: SafeFacts, language: str = DEFAULT_LANGUAGE) -> Message:
    """The message for ``event_type`` in ``language`` (English for an unknown one);
    only :class:`SafeFacts` fields and the phrases made of them can be substituted."""
    if not isinstance(facts, SafeFacts):
        raise TypeError("templates render SafeFacts only")
    if language not in TEMPLATES_BY_LANGUAGE:
        language = DEFAULT_LANGUAGE
    template = TEMPLATES_BY_LANGUAGE[language][event_type]
    words = WORDS_BY_LANGUAGE[language]
    values = {name: getattr(facts, name) for name in SAFE_FIELDS}
    values["reference"] = facts.reference or words.no_reference
    # A phrase may itself hold facts (the schedule's times).
    values |= {name: _fill(text, values) for name, text in _phrases(facts, words).items()}
    return Message(
        type=event_type,
        subject=_fill(template.subject, values),
        body=_fill(template.body, values),
        link=_fill(template.link, values),
    )


def invitation_email(
    url: str, expires: SafeFacts, language: str = DEFAULT_LANGUAGE
) -> tuple[str, str]:
    """Subject and body of an invitation: the one message that carries a link token,
    built at sending time and never stored."""
    return invitation_text(language, url, expires.expires)


def share_email(url: str, expires: SafeFacts) -> tuple[str, str]:
    """Subject and body of a share's e-mail: the link only, never the PIN (it goes by SMS).

    The recipient has no account and so no language: the message is in Finnish and English.
    """
    return share_email_text(url, expires.expires)


def share_sms(pin: str) -> str:
    """A share's SMS: the PIN, never the link (it goes by e-mail)."""
    return share_sms_text(pin)
