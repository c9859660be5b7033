"""Webhook subscriptions: who may make and see them, and queuing deliveries.

Admins manage all of their tenant's subscriptions; a partner client with
``webhooks:manage`` manages its own. Work-order events reach a partner's
subscription only if the partner may read work orders (``work_orders:read``
or ``work_orders:write``): a subscription never shows more than its owner's
scopes do, and a partner's subscriptions end with its API client: when
identity revokes the client they are disabled (and the admins told), so its
data stops flowing at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.notification.v1 import notification_events_pb2 as events_pb
from fieldvault_platform.auth.contract import CLIENT_SUBJECT_PREFIX
from fieldvault_platform.auth.principal import Principal, PrincipalKind
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from fieldvault_platform.events import publish
from fieldvault_platform.paging import Keyset
from fieldvault_platform.timestamps import to_timestamp
from notification.models import Webhook, WebhookDelivery
from notification.webhooks.payloads import EVENT_TYPES
from notification.webhooks.secret_box import SecretBox
from notification.webhooks.signing import new_secret
from notification.webhooks.urls import check_destination

log = logging.getLogger(__name__)

MANAGE = "webhooks:manage"
MAX_SUBSCRIPTIONS_PER_TENANT = 100
_WORK_ORDER_READERS = frozenset({"work_orders:read", "work_orders:write"})

#: Why a subscription was disabled (``webhook_disabled``'s reason).
DisabledReason = events_pb.WebhookDisabledReason
DELIVERY_FAILURES = events_pb.WEBHOOK_DISABLED_REASON_DELIVERY_FAILURES
API_CLIENT_REVOKED = events_pb.WEBHOOK_DISABLED_REASON_API_CLIENT_REVOKED

#: The status of a subscription whose partner client was revoked: off like
#: "disabled", but never turned back on, because its owner no longer exists.
CLIENT_REVOKED = "revoked"

WEBHOOKS_OLDEST_FIRST = Keyset(Webhook.created_at, Webhook.id)
DELIVERIES_NEWEST_FIRST = Keyset(WebhookDelivery.created_at, WebhookDelivery.id, descending=True)


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


async def get(session: AsyncSession, who: Manager, *, webhook_id: str) -> Webhook:
    webhook = await session.scalar(_visible(who).where(Webhook.id == webhook_id))
    if webhook is None:
        raise NotFound("webhook not found")
    return webhook


async def list_webhooks(
    session: AsyncSession, who: Manager, *, requested_size: int, page_token: str
) -> tuple[list[Webhook], str]:
    request = WEBHOOKS_OLDEST_FIRST.request(requested_size, page_token)
    return await request.fetch(session, _visible(who))


async def delete(session: AsyncSession, who: Manager, *, webhook_id: str) -> None:
    """Deleted subscriptions get nothing more; their delivery log stays for the record."""
    webhook = await get(session, who, webhook_id=webhook_id)
    webhook.status = "deleted"


async def enable(
    session: AsyncSession, who: Manager, *, webhook_id: str, allow_insecure: bool
) -> Webhook:
    """Turn a disabled subscription back on, its failure count from zero.

    Its destination passes the same checks as on creation: a name that now
    resolves inside the platform's network is refused. Enabling an active one
    changes nothing (a retried call answers the same).
    """
    webhook = await get(session, who, webhook_id=webhook_id)
    if webhook.status == CLIENT_REVOKED:
        raise FailedPrecondition(
            "this webhook's API client was revoked; create a new webhook instead",
            code="webhook_client_revoked",
        )
    if webhook.status == "active":
        return webhook
    await check_destination(webhook.url, allow_insecure=allow_insecure)
    webhook.status = "active"
    webhook.consecutive_failures = 0
    webhook.disabled_at = None
    log.info("webhook enabled", extra={"webhook_id": webhook.id})
    return webhook


def disable(
    session: AsyncSession, webhook: Webhook, *, reason: DisabledReason, now: datetime
) -> None:
    """Turn the subscription off and publish ``webhook_disabled`` (its admins are told)."""
    webhook.status = CLIENT_REVOKED if reason == API_CLIENT_REVOKED else "disabled"
    webhook.disabled_at = now
    event = events_pb.WebhookDisabled(
        event_id=uuid.uuid4().hex,
        tenant_id=webhook.tenant_id,
        webhook_id=webhook.id,
        consecutive_failures=webhook.consecutive_failures,
        reason=reason,
        occurred_at=to_timestamp(now),
    )
    publish(
        session,
        event,
        tenant_id=webhook.tenant_id,
        service="notification",
        event="webhook_disabled",
    )
    log.warning(
        "webhook disabled",
        extra={"webhook_id": webhook.id, "reason": events_pb.WebhookDisabledReason.Name(reason)},
    )


async def disable_for_revoked_client(
    session: AsyncSession, *, tenant_id: str, client_id: str, now: datetime
) -> int:
    """Disable every active subscription the revoked partner client made; how many.

    One already disabled by failures is marked revoked too (without a second
    announcement), so nobody can turn it back on. A second ``api_client_revoked``
    finds none active and announces nothing.
    """
    owned = await session.scalars(
        select(Webhook).where(
            Webhook.tenant_id == tenant_id,
            Webhook.owner == CLIENT_SUBJECT_PREFIX + client_id,
            Webhook.status.in_(("active", "disabled")),
        )
    )
    announced = 0
    for webhook in owned.all():
        if webhook.status == "disabled":
            webhook.status = CLIENT_REVOKED
            continue
        disable(session, webhook, reason=API_CLIENT_REVOKED, now=now)
        announced += 1
    return announced


async def list_deliveries(
    session: AsyncSession, who: Manager, *, webhook_id: str, requested_size: int, page_token: str
) -> tuple[list[WebhookDelivery], str]:
    await get(session, who, webhook_id=webhook_id)
    request = DELIVERIES_NEWEST_FIRST.request(requested_size, page_token)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return await request.fetch(session, query)


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
