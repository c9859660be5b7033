"""The body a receiver gets: ``{id, type, tenant_id, occurred_at, data}`` (docs/api.md#webhooks),
``data`` holding the work-order event's ids and non-sensitive facts only."""

from __future__ import annotations

import json
from typing import Any

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb
from fieldvault.work_order.v1.work_order_events_pb2 import WorkOrderEvent
from fieldvault_platform.timestamps import from_timestamp

#: Every event type a subscription may name (plus "*").
EVENT_TYPES = frozenset(
    {
        "work_order.created",
        "work_order.updated",
        "work_order.scheduled",
        "work_order.assigned",
        "work_order.started",
        "work_order.completed",
        "work_order.cancelled",
        "rotation_task.created",
        "rotation_task.closed",
    }
)


def _time(
    event: WorkOrderEvent | vault_pb.RotationTaskCreated | vault_pb.RotationTaskClosed, field: str
) -> str | None:
    moment = from_timestamp(event, field)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def work_order_body(event: WorkOrderEvent) -> bytes:
    data: dict[str, Any] = {
        "work_order_id": event.work_order_id,
        "site_id": event.site_id,
        "area_id": event.area_id,
        "status": event.status,
        "priority": event.priority,
        "scheduled_start": _time(event, "scheduled_start"),
        "scheduled_end": _time(event, "scheduled_end"),
        "assignee_user_id": event.assignee_user_id or None,
        "assignee_organization_id": event.assignee_organization_id or None,
    }
    body = {
        "id": event.event_id,
        "type": event.type,
        "tenant_id": event.tenant_id,
        "occurred_at": _time(event, "occurred_at"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def rotation_task_body(event: vault_pb.RotationTaskCreated | vault_pb.RotationTaskClosed) -> bytes:
    """``rotation_task.created`` / ``.closed``: ids and machine codes, never a code or address."""
    data: dict[str, Any] = {
        "task_id": event.task_id,
        "site_id": event.site_id,
        "area_id": event.area_id,
        "subject": event.subject,
        "reason": event.reason,
    }
    if isinstance(event, vault_pb.RotationTaskCreated):
        event_type = "rotation_task.created"
        data["since"] = _time(event, "since")
    else:
        event_type = "rotation_task.closed"
        data["closed_how"] = event.closed_how
    body = {
        "id": event.event_id,
        "type": event_type,
        "tenant_id": event.tenant_id,
        "occurred_at": _time(event, "occurred_at"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
