"""REST shapes of notification's resources (docs/openapi.json), read from protobuf by from_proto.

Statuses are lower-case names; timestamps are RFC 3339 UTC, or ``null`` when unset;
optional text the service holds as an empty string is ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from fieldvault.notification.v1 import notification_pb2 as pb
from gateway.from_proto import ProtoModel
from gateway.rest import Page, RequestBody

WebhookStatusName = Literal["active", "disabled"]
DeliveryStatusName = Literal["pending", "delivered", "failed"]

#: An event type (``work_order.assigned``, ...) or, in a webhook's ``events``, ``*``;
#: notification decides which names exist.
EventType = Annotated[str, Field(min_length=1, max_length=100)]

# --- inbox ---------------------------------------------------------------------------


class Notification(ProtoModel):
    id: str
    #: The event it tells about: ``work_order.assigned``, ``security.break_glass_reveal``, ...
    type: str
    subject: str
    body: str
    #: A path in the app to see more, e.g. ``/work-orders/<id>``.
    link: str | None
    work_order_id: str | None
    created_at: datetime | None
    #: Null while unread.
    read_at: datetime | None

    proto_names = {"created_at": "create_time", "read_at": "read_time"}


class NotificationList(Page):
    """The caller's inbox, newest first."""

    items: list[Notification]


# --- preferences ---------------------------------------------------------------------


class Preferences(ProtoModel):
    """The caller's channels: the inbox always receives everything, these add to it."""

    email: bool
    sms: bool
    #: E.164 (``+358401234567``); null when none is set.
    sms_number: str | None
    #: Event types not sent by email or SMS (still in the inbox).
    muted_types: list[str]
    #: The language of the caller's messages: ``en`` or ``fi``.
    language: str
    etag: str

    fallbacks = {"language": "en"}


#: The members of a preferences change that notification's ``update_mask`` may name.
_MASKABLE = ("email", "sms", "sms_number", "muted_types", "language")


class PreferencesPatch(RequestBody):
    """Only the members present change. ``sms_number`` or ``muted_types`` set to ``null``
    clear them; ``email`` and ``sms`` cannot be null. ``etag`` (of a copy read earlier) is
    accepted and ignored: the precondition is the ``If-Match`` header. Any other member is
    refused."""

    email: bool | None = None
    sms: bool | None = None
    #: E.164 (``+358401234567``); required while ``sms`` is on.
    sms_number: str | None = Field(default=None, max_length=32)
    muted_types: list[EventType] | None = Field(default=None, max_length=100)
    #: ``en`` or ``fi`` (notification decides which exist).
    language: str | None = Field(default=None, min_length=2, max_length=8)
    etag: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _a_known_change(self) -> Self:
        for name in ("email", "sms", "language"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.update_mask():
            raise ValueError(f"nothing to change: give {', '.join(_MASKABLE)}")
        return self

    def update_mask(self) -> list[str]:
        """The members present, as notification's field names (in a fixed order)."""
        return [name for name in _MASKABLE if name in self.model_fields_set]

    def request(self, *, etag: str) -> pb.UpdateMyPreferencesRequest:
        return pb.UpdateMyPreferencesRequest(
            update_mask=self.update_mask(),
            preferences=pb.Preferences(
                email=bool(self.email),
                sms=bool(self.sms),
                sms_number=self.sms_number or "",
                muted_types=self.muted_types or [],
                language=self.language or "",
            ),
            etag=etag,
        )


# --- webhooks ------------------------------------------------------------------------


class Webhook(ProtoModel):
    id: str
    url: str
    #: Event types, or ``*`` (every type the owner's scopes allow).
    events: list[str]
    #: ``disabled`` after sustained delivery failure or when the partner client that
    #: created it was revoked (the tenant's admins are told either way).
    status: WebhookStatusName
    #: Who created it: a user id, or ``client:<id>`` for a partner system.
    owner: str
    created_at: datetime | None
    disabled_at: datetime | None

    proto_names = {"created_at": "create_time", "disabled_at": "disable_time"}


class WebhookCreate(RequestBody):
    #: Where deliveries are POSTed.
    url: str = Field(min_length=1, max_length=2048)
    #: ``work_order.created``, ``work_order.scheduled``, ``work_order.assigned``,
    #: ``work_order.started``, ``work_order.completed``, ``work_order.cancelled``,
    #: ``work_order.updated``, or ``*``.
    events: list[EventType] = Field(min_length=1, max_length=50)


class WebhookCreated(Webhook):
    #: The signing key of ``Fieldvault-Signature``: shown once, never again.
    secret: str

    @classmethod
    def created(cls, result: pb.CreateWebhookResponse) -> WebhookCreated:
        return cls(**Webhook.of(result.webhook).model_dump(), secret=result.secret)


class WebhookList(Page):
    items: list[Webhook]


class WebhookDelivery(ProtoModel):
    id: str
    webhook_id: str
    #: The ``Fieldvault-Event-Id`` the receiver sees (the same on every attempt).
    event_id: str
    event_type: str
    #: ``pending`` (waiting for its next attempt), ``delivered``, ``failed`` (every
    #: attempt failed).
    status: DeliveryStatusName
    attempts: int
    #: The receiver's last HTTP status; null when no attempt reached it.
    last_response_code: int | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime | None

    proto_names = {
        "last_attempt_at": "last_attempt_time",
        "next_attempt_at": "next_attempt_time",
        "created_at": "create_time",
    }


class WebhookDeliveryList(Page):
    """A webhook's deliveries."""

    items: list[WebhookDelivery]


# --- operators -----------------------------------------------------------------------


class ParkedEvent(ProtoModel):
    """An event a consumer gave up on after its bounded redeliveries (parked, not dropped)."""

    consumer: str
    event_id: str
    subject: str
    delivery_count: int
    #: The exception type of the last failure (never its message).
    error_type: str
    parked_at: datetime | None

    proto_names = {"parked_at": "park_time"}


class ParkedEventList(Page):
    items: list[ParkedEvent]
