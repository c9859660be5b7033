"""What a message may say: built only from facts that cannot carry a secret.

Templates are rendered from :class:`SafeFacts` and nothing else, and every
field of it is checked on construction: ids must be UUIDs, statuses and
priorities come from fixed vocabularies, times are datetimes. There is no
free-text field at all — no work order title or description (typed by a
person, so they may hold a door code), no site name or address, no customer
contact data — so a secret or a customer's email or phone cannot reach an
email, SMS, inbox entry or webhook through a template. The app link is where
the recipient signs in to see more. ``tests/test_content.py`` enforces that
every template uses only these fields.
"""

from __future__ import annotations

import string
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

STATUSES: Final = frozenset(
    {"new", "scheduled", "assigned", "in_progress", "completed", "cancelled", ""}
)
PRIORITIES: Final = frozenset({"low", "normal", "high", "urgent", ""})
SECRET_KINDS: Final = frozenset({"door_code", "alarm_code", "key_safe_code", ""})
#: Why work-order gave a job back to the office (``WorkOrderReturned.reason``).
RETURN_REASONS: Final = frozenset(
    {"user_deactivated", "dpa_inactive", "assignee_not_in_area", "invalid_assignee", ""}
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


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "not scheduled"


@dataclass(frozen=True)
class SafeFacts:
    """The only input a template gets. Construct it through :meth:`of`."""

    work_order_id: str = ""
    site_id: str = ""
    user_id: str = ""
    status: str = ""
    priority: str = ""
    secret_kind: str = ""
    scheduled_start: str = ""
    scheduled_end: str = ""
    limit: str = ""
    window_seconds: str = ""
    consecutive_failures: str = ""
    webhook_id: str = ""
    expires: str = ""
    reason: str = ""

    @classmethod
    def of(
        cls,
        *,
        work_order_id: str = "",
        site_id: str = "",
        user_id: str = "",
        status: str = "",
        priority: str = "",
        secret_kind: str = "",
        scheduled_start: datetime | None = None,
        scheduled_end: datetime | None = None,
        limit: int = 0,
        window_seconds: int = 0,
        consecutive_failures: int = 0,
        webhook_id: str = "",
        expires: datetime | None = None,
        reason: str = "",
    ) -> SafeFacts:
        return cls(
            work_order_id=_id("work_order_id", work_order_id),
            site_id=_id("site_id", site_id),
            user_id=_id("user_id", user_id),
            status=_one_of("status", status, STATUSES),
            priority=_one_of("priority", priority, PRIORITIES),
            secret_kind=_one_of("secret_kind", secret_kind, SECRET_KINDS),
            scheduled_start=_when(scheduled_start),
            scheduled_end=_when(scheduled_end),
            limit=str(int(limit)),
            window_seconds=str(int(window_seconds)),
            consecutive_failures=str(int(consecutive_failures)),
            webhook_id=_id("webhook_id", webhook_id),
            expires=_when(expires),
            reason=_one_of("reason", reason, RETURN_REASONS),
        )

    @property
    def reference(self) -> str:
        """A short, speakable reference to the work order (its id's first block)."""
        return self.work_order_id.split("-")[0].upper()


SAFE_FIELDS: Final = frozenset({f.name for f in fields(SafeFacts)} | {"reference"})


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    #: An app path, itself a template.
    link: str = ""


#: Event type → what people are told. The webhook body is not a template: it is
#: the event's ids and facts (``webhooks/payloads.py``).
TEMPLATES: Final[dict[str, Template]] = {
    "work_order.assigned": Template(
        subject="Work order ${reference} assigned to you",
        body=(
            "Work order ${reference} (priority ${priority}) is assigned to you.\n"
            "Scheduled: ${scheduled_start} to ${scheduled_end}.\n"
            "Open it in fieldvault to see the site and the job."
        ),
        link="/work-orders/${work_order_id}",
    ),
    "work_order.scheduled": Template(
        subject="Work order ${reference} rescheduled",
        body=(
            "Work order ${reference} is now scheduled ${scheduled_start} to ${scheduled_end}.\n"
            "Open it in fieldvault for the details."
        ),
        link="/work-orders/${work_order_id}",
    ),
    "work_order.cancelled": Template(
        subject="Work order ${reference} cancelled",
        body="Work order ${reference} was cancelled. You no longer need to attend.",
        link="/work-orders/${work_order_id}",
    ),
    "work_order.returned": Template(
        subject="Work order ${reference} is back in the office queue",
        body=(
            "Work order ${reference} was taken from its assignee (${reason}) and is "
            "${status} again, unassigned.\nAssign it to someone else in fieldvault."
        ),
        link="/work-orders/${work_order_id}",
    ),
    "security.break_glass_reveal": Template(
        subject="Break-glass reveal of a ${secret_kind}",
        body=(
            "User ${user_id} used break-glass to reveal a ${secret_kind} of site ${site_id}.\n"
            "Review the reason in the audit trail."
        ),
        link="/audit",
    ),
    "security.reveal_rate_exceeded": Template(
        subject="Reveal rate limit crossed",
        body=(
            "User ${user_id} tried to reveal more than ${limit} secrets within "
            "${window_seconds} seconds and was refused.\nReview the audit trail."
        ),
        link="/audit",
    ),
    "webhook.disabled": Template(
        subject="A webhook was disabled",
        body=(
            "Webhook ${webhook_id} was disabled after ${consecutive_failures} failed "
            "deliveries in a row. Fix the receiver, then create the subscription again."
        ),
        link="/webhooks/${webhook_id}",
    ),
    "webhook.disabled_client_revoked": Template(
        subject="A partner's webhook was disabled",
        body=(
            "Webhook ${webhook_id} was disabled because the API client that created it "
            "was revoked. Nothing more is sent to it."
        ),
        link="/webhooks/${webhook_id}",
    ),
}


@dataclass(frozen=True)
class Message:
    type: str
    subject: str
    body: str
    link: str


def render(event_type: str, facts: SafeFacts) -> Message:
    """The message for ``event_type``; only :class:`SafeFacts` fields can be substituted."""
    if not isinstance(facts, SafeFacts):
        raise TypeError("templates render SafeFacts only")
    template = TEMPLATES[event_type]
    values = {name: getattr(facts, name) for name in SAFE_FIELDS}
    return Message(
        type=event_type,
        subject=string.Template(template.subject).substitute(values),
        body=string.Template(template.body).substitute(values),
        link=string.Template(template.link).substitute(values),
    )


def invitation_email(url: str, expires: SafeFacts) -> tuple[str, str]:
    """Subject and body of an invitation: the one message that carries a link token,
    built at sending time and never stored."""
    return (
        "You are invited to fieldvault",
        "You have been invited to fieldvault, your company's work orders.\n\n"
        # The link alone on its line, so that it can be clicked, copied or grepped whole.
        f"Set your password here:\n{url}\n\n"
        f"The link works once and expires {expires.expires}. "
        "If you did not expect this, ignore this message.",
    )
