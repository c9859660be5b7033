"""Retention: the tenant's periods (identity owns them) and what the daily purges removed.

``GET/PUT /v1/tenant/retention``: admins set, admins, auditors and DPOs read,
how many days each category is kept (identity checks who, and the legal
minimums). ``GET /v1/retention/report``: per service and category, the last
purge's time and what it removed for the tenant — counts only — gathered from
customer_vault, work_order and notification (each checks the caller itself).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault.notification.v1 import notification_pb2 as nt
from fieldvault.work_order.v1 import work_order_pb2 as wo
from fieldvault_platform.timestamps import from_timestamp
from gateway.dependencies import IfMatch
from gateway.etags import with_etag
from gateway.for_caller import (
    CustomerVaultForCaller,
    IdentityForCaller,
    NotificationForCaller,
    WorkOrderForCaller,
)
from gateway.from_proto import ProtoModel
from gateway.rest import RequestBody

router = APIRouter(tags=["retention"])

#: The longest period identity accepts (ten years); the shortest is per category.
MAX_DAYS = 3650


class RetentionDays(BaseModel):
    """Days each category is kept."""

    #: Free text of completed or cancelled work orders, from completion or cancellation.
    work_order_text: int
    #: In-app inbox notifications.
    inbox: int
    #: Finished e-mail, SMS and webhook deliveries.
    delivery_logs: int
    #: Grants after they expired or were revoked.
    ended_grants: int
    #: Audit records (purged ones are replaced by a signed checkpoint).
    audit_records: int


class RetentionPolicy(ProtoModel):
    days: RetentionDays
    #: The legal minimum of each category: a shorter period is refused.
    minimum_days: RetentionDays
    #: True while the tenant has the defaults.
    defaults: bool
    updated_at: datetime | None
    etag: str

    proto_names = {"updated_at": "update_time"}


def _period() -> Any:
    return Field(default=None, ge=1, le=MAX_DAYS)


class RetentionPolicyChange(RequestBody):
    """The categories to change, in days; those left out keep their period."""

    work_order_text: int | None = _period()
    inbox: int | None = _period()
    delivery_logs: int | None = _period()
    ended_grants: int | None = _period()
    audit_records: int | None = _period()


@router.get("/v1/tenant/retention", summary="How long the tenant keeps each category of data")
async def get_tenant_retention(identity: IdentityForCaller, response: Response) -> RetentionPolicy:
    result = await identity.call(identity.stub.GetRetentionPolicy, pb.GetRetentionPolicyRequest())
    return with_etag(response, RetentionPolicy.of(result.policy))


@router.put(
    "/v1/tenant/retention",
    summary="Set how long the tenant keeps some categories of data",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def put_tenant_retention(
    body: RetentionPolicyChange, identity: IdentityForCaller, response: Response, etag: IfMatch
) -> RetentionPolicy:
    days = {name: value for name, value in body.model_dump().items() if value is not None}
    result = await identity.call(
        identity.stub.UpdateRetentionPolicy,
        pb.UpdateRetentionPolicyRequest(days=days, etag=etag),
    )
    return with_etag(response, RetentionPolicy.of(result.policy))


class RetentionCategoryReport(BaseModel):
    #: The service whose daily purge handles the category.
    service: str
    category: str
    #: When that service's last purge finished; null before the first.
    last_run_at: datetime | None
    #: What that purge removed (work_order_text: cleared) for this tenant.
    purged: int
    #: The period the service applied, in days.
    retention_days: int


class RetentionReport(BaseModel):
    items: list[RetentionCategoryReport]


def _reports(service: str, response: Any) -> list[RetentionCategoryReport]:
    return [
        RetentionCategoryReport(
            service=service,
            category=entry.category,
            last_run_at=from_timestamp(entry, "last_run_time"),
            purged=entry.purged,
            retention_days=entry.retention_days,
        )
        for entry in response.categories
    ]


@router.get(
    "/v1/retention/report",
    summary="What the daily retention purges removed, per service and category",
)
async def get_retention_report(
    vault: CustomerVaultForCaller,
    work_order: WorkOrderForCaller,
    notification: NotificationForCaller,
) -> RetentionReport:
    orders, notices, records = await asyncio.gather(
        work_order.call(work_order.stub.GetRetentionReport, wo.GetRetentionReportRequest()),
        notification.call(notification.stub.GetRetentionReport, nt.GetRetentionReportRequest()),
        vault.call(vault.stub.GetRetentionReport, cv.GetRetentionReportRequest()),
    )
    return RetentionReport(
        items=_reports("work_order", orders)
        + _reports("notification", notices)
        + _reports("customer_vault", records)
    )
