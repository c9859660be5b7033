"""Telling people: an inbox entry each, and email or SMS as their preferences say.

Runs inside the transaction that applies the event (and records it as
processed), so a redelivered event tells nobody twice; email and SMS are only
queued here and sent by ``sender.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.errors import NotFound
from fieldvault_platform.paging import Keyset
from fieldvault_platform.telemetry import current_traceparent
from notification.access import Caller
from notification.content import Message, SafeFacts, render
from notification.models import InboxEntry, MessageDelivery, Preference
from notification.wording import DEFAULT_LANGUAGE

NEWEST_FIRST = Keyset(InboxEntry.created_at, InboxEntry.id, descending=True)


async def preferences_of(session: AsyncSession, tenant_id: str, user_id: str) -> Preference:
    """The person's preferences (the defaults, unsaved, when they never set any)."""
    saved = await session.get(Preference, (tenant_id, user_id))
    if saved is not None:
        return saved
    # Version 0: etag "0" until the first change saves version 1.
    return Preference(
        tenant_id=tenant_id,
        user_id=user_id,
        email=True,
        sms=False,
        sms_number="",
        muted_types=[],
        language=DEFAULT_LANGUAGE,
        version=0,
    )


async def _exists(session: AsyncSession, query: Select[tuple[str]]) -> bool:
    return (await session.scalar(query.limit(1))) is not None


async def queue_message(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    event_id: str,
    channel: str,
    now: datetime,
    message: Message | None = None,
    invitation_id: str | None = None,
    share_id: str | None = None,
) -> None:
    """Queue an email or SMS, unless this event already queued it for this person there."""
    if await _exists(
        session,
        select(MessageDelivery.id).where(
            MessageDelivery.event_id == event_id,
            MessageDelivery.user_id == user_id,
            MessageDelivery.channel == channel,
        ),
    ):
        return
    session.add(
        MessageDelivery(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            user_id=user_id,
            event_id=event_id,
            channel=channel,
            kind="invitation" if invitation_id else "share" if share_id else "notification",
            invitation_id=invitation_id,
            share_id=share_id,
            subject=message.subject if message else "",
            body=message.body if message else "",
            link=message.link if message else "",
            status="pending",
            attempts=0,
            next_attempt_at=now,
            traceparent=current_traceparent(),
            created_at=now,
        )
    )


def _channels(preferences: Preference, event_type: str, *, sms_available: bool) -> list[str]:
    """Where besides the inbox this person hears about ``event_type``."""
    if event_type in preferences.muted_types:
        return []
    wanted = {
        "email": preferences.email,
        "sms": preferences.sms and bool(preferences.sms_number) and sms_available,
    }
    return [channel for channel, on in wanted.items() if on]


async def tell(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_ids: Iterable[str],
    event_id: str,
    event_type: str,
    facts: SafeFacts,
    work_order_id: str = "",
    sms_available: bool,
    now: datetime,
) -> int:
    """One inbox entry per person, plus their email/SMS, each in the person's own
    language; returns how many were told."""
    told = 0
    for user_id in dict.fromkeys(user_ids):  # each person once, in order
        # The same event published again (a relay re-publishing after JetStream's
        # duplicate window) carries the same event id: this person was told already.
        if await _exists(
            session,
            select(InboxEntry.id).where(
                InboxEntry.tenant_id == tenant_id,
                InboxEntry.user_id == user_id,
                InboxEntry.event_id == event_id,
            ),
        ):
            continue
        preferences = await preferences_of(session, tenant_id, user_id)
        message = render(event_type, facts, preferences.language)
        session.add(
            InboxEntry(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                user_id=user_id,
                event_id=event_id,
                type=message.type,
                subject=message.subject,
                body=message.body,
                link=message.link,
                work_order_id=work_order_id or None,
                created_at=now,
            )
        )
        for channel in _channels(preferences, message.type, sms_available=sms_available):
            await queue_message(
                session,
                tenant_id=tenant_id,
                user_id=user_id,
                event_id=event_id,
                channel=channel,
                message=message,
                now=now,
            )
        told += 1
    return told


async def list_inbox(
    session: AsyncSession,
    caller: Caller,
    *,
    requested_size: int,
    page_token: str,
    unread_only: bool,
) -> tuple[list[InboxEntry], str]:
    """The person's inbox, newest first."""
    query = select(InboxEntry).where(
        InboxEntry.tenant_id == caller.tenant_id, InboxEntry.user_id == caller.user_id
    )
    if unread_only:
        query = query.where(InboxEntry.read_at.is_(None))
    return await NEWEST_FIRST.request(requested_size, page_token).fetch(session, query)


async def mark_read(
    session: AsyncSession, caller: Caller, *, notification_id: str, now: datetime
) -> InboxEntry:
    entry = await session.scalar(
        select(InboxEntry).where(
            InboxEntry.id == notification_id,
            InboxEntry.tenant_id == caller.tenant_id,
            InboxEntry.user_id == caller.user_id,
        )
    )
    if entry is None:
        raise NotFound("notification not found")
    if entry.read_at is None:
        entry.read_at = now
    return entry
