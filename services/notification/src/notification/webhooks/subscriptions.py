"""Webhook subscriptions: who may make and see them, and queuing deliveries.

Admins manage all of their tenant's subscriptions; a partner client with
``webhooks:manage`` manages its own. Work-order events reach a partner's
subscription only if the partner may read work orders (``work_orders:read``
or ``work_orders:write``): a subscription never shows more than its owner's
scopes do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.auth.principal import Principal, PrincipalKind
from fieldvault_platform.errors import InvalidArgument, NotFound, PermissionDenied
from notification.listing import page
from notification.models import Webhook, WebhookDelivery
from notification.webhooks.payloads import EVENT_TYPES
from notification.webhooks.secret_box import SecretBox
from notification.webhooks.signing import new_secret
from notification.webhooks.urls import check_destination

MANAGE = "webhooks:manage"
MAX_SUBSCRIPTIONS_PER_TENANT = 100
_WORK_ORDER_READERS = frozenset({"work_orders:read", "work_orders:write"})


@dataclass(frozen=True)
class Manager:
    """A caller allowed to manage webhooks, and how far."""

    tenant_id: str
    owner: str
    sees_all: bool
    reads_work_orders: bool


def manager(principal: Principal) -> Manager:
    if principal.tenant_id is None or not principal.has_scope(MANAGE):
        raise PermissionDenied("managing webhooks needs webhooks:manage")
    if principal.kind is PrincipalKind.USER:
        return Manager(principal.tenant_id, principal.subject, "admin" in principal.roles, True)
    if principal.kind is PrincipalKind.CLIENT:
        return Manager(
            principal.tenant_id,
            principal.subject,
            False,
            bool(_WORK_ORDER_READERS & principal.scopes),
        )
    raise PermissionDenied("managing webhooks needs an admin's or a partner's token")


def _check_events(events: Sequence[str], who: Manager) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise InvalidArgument("events must name at least one event type, or '*'")
    unknown = [e for e in chosen if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise InvalidArgument("events may name only: *, " + ", ".join(sorted(EVENT_TYPES)))
    if not who.reads_work_orders:
        raise PermissionDenied("work-order events need the work_orders:read scope")
    return chosen


async def create(
    session: AsyncSession,
    who: Manager,
    *,
    url: str,
    events: Sequence[str],
    box: SecretBox,
    allow_insecure: bool,
    now: datetime,
) -> tuple[Webhook, str]:
    """The subscription and its signing secret (returned this once only)."""
    chosen = _check_events(events, who)
    await check_destination(url, allow_insecure=allow_insecure)
    existing = await session.scalars(
        select(Webhook.id).where(Webhook.tenant_id == who.tenant_id, Webhook.status != "deleted")
    )
    if len(existing.all()) >= MAX_SUBSCRIPTIONS_PER_TENANT:
        raise InvalidArgument(f"a tenant may have at most {MAX_SUBSCRIPTIONS_PER_TENANT} webhooks")
    webhook_id = str(uuid.uuid4())
    secret = new_secret()
    webhook = Webhook(
        id=webhook_id,
        tenant_id=who.tenant_id,
        url=url,
        events=chosen,
        secret_ct=box.seal(webhook_id, secret),
        owner=who.owner,
        status="active",
        consecutive_failures=0,
        created_at=now,
    )
    session.add(webhook)
    return webhook, secret


def _visible(who: Manager) -> Select[tuple[Webhook]]:
    query = select(Webhook).where(Webhook.tenant_id == who.tenant_id, Webhook.status != "deleted")
    return query if who.sees_all else query.where(Webhook.owner == who.owner)


async def get(session: AsyncSession, who: Manager, webhook_id: str) -> Webhook:
    webhook = await session.scalar(_visible(who).where(Webhook.id == webhook_id))
    if webhook is None:
        raise NotFound("webhook not found")
    return webhook


async def list_webhooks(
    session: AsyncSession, who: Manager, *, requested_size: int, page_token: str
) -> tuple[list[Webhook], str]:
    return await page(
        session,
        _visible(who),
        created=Webhook.created_at,
        row_id=Webhook.id,
        requested_size=requested_size,
        page_token=page_token,
    )


async def delete(session: AsyncSession, who: Manager, webhook_id: str) -> None:
    """Deleted subscriptions get nothing more; their delivery log stays for the record."""
    webhook = await get(session, who, webhook_id)
    webhook.status = "deleted"


async def list_deliveries(
    session: AsyncSession, who: Manager, webhook_id: str, *, requested_size: int, page_token: str
) -> tuple[list[WebhookDelivery], str]:
    await get(session, who, webhook_id)
    return await page(
        session,
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id),
        created=WebhookDelivery.created_at,
        row_id=WebhookDelivery.id,
        requested_size=requested_size,
        page_token=page_token,
        newest_first=True,
    )


async def queue_deliveries(
    session: AsyncSession,
    *,
    tenant_id: str,
    event_id: str,
    event_type: str,
    body: bytes,
    traceparent: str,
    now: datetime,
) -> int:
    """One pending delivery per active subscription of the tenant that wants this type."""
    webhooks = await session.scalars(
        select(Webhook).where(Webhook.tenant_id == tenant_id, Webhook.status == "active")
    )
    # The same event published again has the same id: queue it once per subscription.
    already = set(
        (
            await session.scalars(
                select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event_id)
            )
        ).all()
    )
    queued = 0
    for webhook in webhooks.all():
        if webhook.id in already:
            continue
        if "*" not in webhook.events and event_type not in webhook.events:
            continue
        session.add(
            WebhookDelivery(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                webhook_id=webhook.id,
                event_id=event_id,
                event_type=event_type,
                body=body,
                status="pending",
                attempts=0,
                last_response_code=0,
                next_attempt_at=now,
                traceparent=traceparent,
                created_at=now,
            )
        )
        queued += 1
    return queued
