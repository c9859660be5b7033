"""customer_vault's tamper-evident audit trail: search it, verify its hash chain."""

from __future__ import annotations

from fastapi import APIRouter

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.timestamps import to_timestamp
from gateway.customer_vault_models import AuditEvent, AuditVerification
from gateway.for_caller import CustomerVaultForCaller
from gateway.rest import Moment, Page, PageSize

router = APIRouter(tags=["audit"])


class AuditEventList(Page):
    items: list[AuditEvent]


# Before any ``/v1/audit-events/{id}`` route, so that "verify" is never taken for an id.
@router.get(
    "/v1/audit-events/verify",
    summary="Recompute the tenant's hash chain and name the first broken record",
)
async def verify_audit_trail(vault: CustomerVaultForCaller) -> AuditVerification:
    result = await vault.call(vault.stub.VerifyAuditTrail, pb.VerifyAuditTrailRequest())
    return AuditVerification.of(result)


@router.get("/v1/audit-events", summary="Search the audit trail")
async def list_audit_events(
    vault: CustomerVaultForCaller,
    customer_id: str = "",
    site_id: str = "",
    actor_id: str = "",
    action: str = "",
    since: Moment | None = None,
    until: Moment | None = None,
    page_size: PageSize = 50,
    page_token: str = "",
) -> AuditEventList:
    """``since`` and ``until`` are RFC 3339 date-times with an offset (``Z`` for UTC)."""
    result = await vault.call(
        vault.stub.ListAuditEvents,
        pb.ListAuditEventsRequest(
            page_size=page_size,
            page_token=page_token,
            customer_id=customer_id,
            site_id=site_id,
            actor_id=actor_id,
            action=action,
            since=to_timestamp(since),
            until=to_timestamp(until),
        ),
    )
    return AuditEventList(
        items=[AuditEvent.of(event) for event in result.events],
        next_page_token=result.next_page_token,
    )
