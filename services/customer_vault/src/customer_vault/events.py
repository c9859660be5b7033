"""customer-vault's events: subjects and payloads, written to the outbox
(docs/architecture.md#events).

Payloads carry ids and machine codes only (see ``customer_vault_events.proto``):
never a secret value, a personal field, a free-text reason or key material.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as pb
from fieldvault_platform.events import publish
from fieldvault_platform.timestamps import to_timestamp

if TYPE_CHECKING:
    from customer_vault.models import AuditRecord

SERVICE = "customer_vault"
AUDIT_RECORDED = "audit_recorded"
BREAK_GLASS_REVEAL = "break_glass_reveal"
REVEAL_RATE_EXCEEDED = "reveal_rate_exceeded"
CUSTOMER_ERASED = "customer_erased"
SITE_AREA_CHANGED = "site_area_changed"
SECRET_VALUES_EXPORTED = "secret_values_exported"  # noqa: S105 (an event name)
SHARE_CREATED = "share_created"
SHARE_OPENED = "share_opened"
SHARE_LOCKED = "share_locked"
KEY_OVERDUE = "key_overdue"


def _new_id() -> str:
    return uuid.uuid4().hex


def audit_recorded(
    session: AsyncSession, record: AuditRecord, *, denial_code: str | None, head_mac: str
) -> str:
    message = pb.AuditRecorded(
        event_id=_new_id(),
        tenant_id=record.tenant_id,
        audit_event_id=record.id,
        sequence=record.sequence,
        actor_kind=record.actor_kind,
        actor_id=record.actor_id,
        on_behalf_of=record.on_behalf_of or "",
        action=record.action,
        resource_type=record.resource_type,
        resource_id=record.resource_id or "",
        customer_id=record.customer_id or "",
        site_id=record.site_id or "",
        fields=list(record.fields),
        purpose=record.purpose or "",
        outcome=record.outcome,
        denial_code=denial_code or "",
        break_glass=record.break_glass,
        hash=record.hash,
        occurred_at=to_timestamp(record.occurred_at),
        head_mac=head_mac,
    )
    return publish(
        session, message, tenant_id=record.tenant_id, service=SERVICE, event=AUDIT_RECORDED
    )


def break_glass_reveal(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_event_id: str,
    user_id: str,
    site_id: str,
    kind: str,
    at: datetime,
) -> str:
    message = pb.BreakGlassReveal(
        event_id=_new_id(),
        tenant_id=tenant_id,
        audit_event_id=audit_event_id,
        user_id=user_id,
        site_id=site_id,
        kind=kind,
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=BREAK_GLASS_REVEAL)


def reveal_rate_exceeded(
    session: AsyncSession,
    *,
    tenant_id: str,
    user_id: str,
    limit: int,
    window_seconds: int,
    at: datetime,
) -> str:
    message = pb.RevealRateExceeded(
        event_id=_new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        limit=limit,
        window_seconds=window_seconds,
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=SERVICE, event=REVEAL_RATE_EXCEEDED
    )


def customer_erased(
    session: AsyncSession,
    *,
    tenant_id: str,
    customer_id: str,
    site_ids: Sequence[str],
    at: datetime,
) -> str:
    message = pb.CustomerErased(
        event_id=_new_id(),
        tenant_id=tenant_id,
        customer_id=customer_id,
        site_ids=list(site_ids),
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=CUSTOMER_ERASED)


def site_area_changed(
    session: AsyncSession,
    *,
    tenant_id: str,
    site_id: str,
    previous_area_id: str,
    area_id: str,
    at: datetime,
) -> str:
    message = pb.SiteAreaChanged(
        event_id=_new_id(),
        tenant_id=tenant_id,
        site_id=site_id,
        previous_area_id=previous_area_id,
        area_id=area_id,
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=SITE_AREA_CHANGED)


def secret_values_exported(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_event_id: str,
    user_id: str,
    customer_id: str,
    kinds: Sequence[str],
    at: datetime,
) -> str:
    message = pb.SecretValuesExported(
        event_id=_new_id(),
        tenant_id=tenant_id,
        audit_event_id=audit_event_id,
        user_id=user_id,
        customer_id=customer_id,
        kinds=list(kinds),
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=SERVICE, event=SECRET_VALUES_EXPORTED
    )


def share_created(
    session: AsyncSession,
    *,
    tenant_id: str,
    share_id: str,
    user_id: str,
    expires_at: datetime,
    at: datetime,
) -> str:
    message = pb.ShareCreated(
        event_id=_new_id(),
        tenant_id=tenant_id,
        share_id=share_id,
        user_id=user_id,
        expire_time=to_timestamp(expires_at),
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=SHARE_CREATED)


def share_ended(
    session: AsyncSession,
    *,
    tenant_id: str,
    share_id: str,
    user_id: str,
    opened: bool,
    at: datetime,
) -> str:
    """``share_opened``, or ``share_locked`` when wrong PINs killed it: the sender is told."""
    event, message_type = (
        (SHARE_OPENED, pb.ShareOpened) if opened else (SHARE_LOCKED, pb.ShareLocked)
    )
    message = message_type(
        event_id=_new_id(),
        tenant_id=tenant_id,
        share_id=share_id,
        user_id=user_id,
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=event)


def key_overdue(
    session: AsyncSession,
    *,
    tenant_id: str,
    key_id: str,
    checkout_id: str,
    site_id: str,
    area_id: str,
    user_id: str,
    work_order_id: str,
    due_at: datetime,
    at: datetime,
) -> str:
    message = pb.KeyOverdue(
        event_id=_new_id(),
        tenant_id=tenant_id,
        key_id=key_id,
        checkout_id=checkout_id,
        site_id=site_id,
        area_id=area_id,
        user_id=user_id,
        work_order_id=work_order_id,
        due_time=to_timestamp(due_at),
        occurred_at=to_timestamp(at),
    )
    return publish(session, message, tenant_id=tenant_id, service=SERVICE, event=KEY_OVERDUE)


ROTATION_TASK_CREATED = "rotation_task_created"
ROTATION_TASK_CLOSED = "rotation_task_closed"


def rotation_task_created(
    session: AsyncSession,
    *,
    tenant_id: str,
    task_id: str,
    site_id: str,
    area_id: str,
    subject: str,
    reason: str,
    since: datetime,
    exposed_user_id: str | None,
    exposed_organization_id: str | None,
    at: datetime,
) -> str:
    message = pb.RotationTaskCreated(
        event_id=_new_id(),
        tenant_id=tenant_id,
        task_id=task_id,
        site_id=site_id,
        area_id=area_id,
        subject=subject,
        reason=reason,
        since=to_timestamp(since),
        exposed_user_id=exposed_user_id or "",
        exposed_organization_id=exposed_organization_id or "",
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=SERVICE, event=ROTATION_TASK_CREATED
    )


def rotation_task_closed(
    session: AsyncSession,
    *,
    tenant_id: str,
    task_id: str,
    site_id: str,
    area_id: str,
    subject: str,
    reason: str,
    closed_how: str,
    closed_by: str | None,
    at: datetime,
) -> str:
    message = pb.RotationTaskClosed(
        event_id=_new_id(),
        tenant_id=tenant_id,
        task_id=task_id,
        site_id=site_id,
        area_id=area_id,
        subject=subject,
        reason=reason,
        closed_how=closed_how,
        closed_by=closed_by or "",
        occurred_at=to_timestamp(at),
    )
    return publish(
        session, message, tenant_id=tenant_id, service=SERVICE, event=ROTATION_TASK_CLOSED
    )
