"""notification tables.

Nothing here is a secret or a customer's data: inbox entries and queued
messages hold text rendered only from ids, statuses and times (see
``content.py``); a recipient's address is looked up when a message is sent,
never stored; an invitation's link is fetched from identity at sending time
and never stored. Webhook signing secrets are encrypted at rest.

Email and SMS (``message_deliveries``) and webhook calls
(``webhook_deliveries``) are queued in the same transaction that applies the
event, then sent by background workers with retries: nothing is lost while a
mail server, SMS gateway or receiver is down, and one row per (event,
recipient, channel) keeps redelivered events from sending twice.

The service's own tables are declared on :class:`Base`. Its migrations also
create the platform's outbox, processed- and parked-event tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import service_metadata
from fieldvault_platform.events import OutboxEvent
from fieldvault_platform.retention import RetentionBase

ID = 36
TENANT = 64
EVENT_ID = 64


class Base(DeclarativeBase):
    metadata = service_metadata()


class InboxEntry(Base):
    """One in-app notification for one person."""

    __tablename__ = "inbox_entries"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    user_id: Mapped[str] = mapped_column(String(ID))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID))
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200))
    work_order_id: Mapped[str | None] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "event_id", name="uq_inbox_event_recipient"),
        Index("ix_inbox_recipient_created", "tenant_id", "user_id", "created_at", "id"),
    )


class Preference(Base):
    """A person's channels; absent means the defaults (email on, SMS off)."""

    __tablename__ = "preferences"

    tenant_id: Mapped[str] = mapped_column(String(TENANT), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The person's own number (E.164), which they gave for SMS.
    sms_number: Mapped[str] = mapped_column(String(20), default="")
    muted_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The language of the person's messages ("en" or "fi", see ``wording.py``).
    language: Mapped[str] = mapped_column(String(8), default="en")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageDelivery(Base):
    """An email or SMS waiting to be sent (or sent, or given up)."""

    __tablename__ = "message_deliveries"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    user_id: Mapped[str] = mapped_column(String(ID))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID))
    #: email or sms.
    channel: Mapped[str] = mapped_column(String(8))
    #: notification (subject/body below), invitation (the link is fetched when sending)
    #: or share (address and secret fetched from customer-vault when sending).
    kind: Mapped[str] = mapped_column(String(16))
    invitation_id: Mapped[str | None] = mapped_column(String(ID))
    #: A secure share's channel (kind ``share``): the address and the link or PIN are
    #: fetched from customer-vault when sending, never stored here.
    share_id: Mapped[str | None] = mapped_column(String(ID))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    #: pending, sent, failed, skipped (no address, recipient gone).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(200), default="")
    #: The W3C trace context of the event, so the send joins its trace.
    traceparent: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "channel", name="uq_message_event_recipient"),
        Index("ix_message_due", "status", "next_attempt_at"),
    )


class Webhook(Base):
    """A partner system's subscription to this tenant's events."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    #: The signing secret, AES-GCM under the service's webhook key.
    secret_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: A user id or "client:<id>".
    owner: Mapped[str] = mapped_column(String(100))
    #: active, disabled, revoked (its partner client is gone: never enabled again), deleted.
    status: Mapped[str] = mapped_column(String(16))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_webhooks_tenant", "tenant_id", "status", "created_at", "id"),)


class WebhookDelivery(Base):
    """One event for one subscription: its body, attempts and outcome."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(TENANT))
    webhook_id: Mapped[str] = mapped_column(String(ID))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID))
    event_type: Mapped[str] = mapped_column(String(64))
    #: The exact JSON sent on every attempt (ids and non-sensitive facts only).
    body: Mapped[bytes] = mapped_column(LargeBinary)
    #: pending, delivered, failed.
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_response_code: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    traceparent: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_log", "webhook_id", "created_at", "id"),
    )


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata, RetentionBase.metadata]
