"""work-order's events, written to the outbox with the change (docs/architecture.md#events).

Ids and non-sensitive facts only: no title or description (free text a
dispatcher may fill with a customer's name), no address, no code.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.work_order.v1 import work_order_events_pb2 as pb
from fieldvault_platform.events import publish
from fieldvault_platform.timestamps import to_timestamp
from work_order.models import WorkOrder

SERVICE = "work_order"


def work_order_event(
    session: AsyncSession, event: str, order: WorkOrder, *, actor_id: str, at: datetime
) -> str:
    """One lifecycle event (``created``, ``scheduled``, ``assigned``, ...) for ``order``."""
    message = pb.WorkOrderEvent(
        event_id=uuid.uuid4().hex,
        tenant_id=order.tenant_id,
        type=f"work_order.{event}",
        work_order_id=order.id,
        site_id=order.site_id,
        area_id=order.area_id,
        status=order.status,
        priority=order.priority,
        scheduled_start=to_timestamp(order.scheduled_start),
        scheduled_end=to_timestamp(order.scheduled_end),
        assignee_user_id=order.assignee_user_id or "",
        assignee_organization_id=order.assignee_organization_id or "",
        actor_id=actor_id,
        occurred_at=to_timestamp(at),
        reference=order.reference,
        created_by=order.created_by,
    )
    return publish(session, message, tenant_id=order.tenant_id, service=SERVICE, event=event)


def work_order_returned(
    session: AsyncSession,
    order: WorkOrder,
    *,
    previous_user_id: str | None,
    previous_organization_id: str | None,
    reason: str,
    at: datetime,
) -> str:
    """The job went back to the office queue (``order`` as it is now, unassigned)."""
    message = pb.WorkOrderReturned(
        event_id=uuid.uuid4().hex,
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        site_id=order.site_id,
        area_id=order.area_id,
        status=order.status,
        previous_assignee_user_id=previous_user_id or "",
        previous_assignee_organization_id=previous_organization_id or "",
        reason=reason,
        occurred_at=to_timestamp(at),
        reference=order.reference,
        created_by=order.created_by,
    )
    return publish(session, message, tenant_id=order.tenant_id, service=SERVICE, event="returned")
