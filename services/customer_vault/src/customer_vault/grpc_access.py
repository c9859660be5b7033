"""CustomerVaultService RPCs for reveal, grants, the audit trail, GDPR and tenant keys.

Proto ⇄ domain only, like :mod:`customer_vault.grpc_records`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from customer_vault import tenant_key_lifecycle
from customer_vault.access import audit_queries, gdpr, gdpr_export, grants, retention, reveal
from customer_vault.components import Components
from customer_vault.grpc_records import Context, request_id
from customer_vault.messages import (
    SECRET_KINDS,
    audit_event_message,
    grant_message,
    kind_name,
    verification_message,
)
from customer_vault.visibility import caller
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.retention import report_tenant, tenant_report
from fieldvault_platform.timestamps import from_timestamp, to_timestamp


def _now() -> datetime:
    return datetime.now(UTC)


class AccessRpcs:
    _components: Components

    async def RevealSecret(
        self, request: pb.RevealSecretRequest, context: Context
    ) -> pb.RevealSecretResponse:
        principal = await self._components.callers.principal(context)
        revealed = await reveal.reveal(
            self._components,
            principal,
            site_id=request.site_id,
            kind=kind_name(request.kind),
            break_glass=request.break_glass,
            reason=request.reason,
            request_id=request_id(context, request.request_id),
            now=_now(),
            step_up_token=request.step_up_token,
        )
        return pb.RevealSecretResponse(
            kind=SECRET_KINDS[revealed.kind],
            value=revealed.value,
            audit_event_id=revealed.audit_event_id,
            hide_after_seconds=revealed.hide_after_seconds,
        )

    # --- grants ------------------------------------------------------------------

    async def CreateGrant(
        self, request: pb.CreateGrantRequest, context: Context
    ) -> pb.CreateGrantResponse:
        principal = await self._components.callers.principal(context)
        now = _now()
        grant, created = await grants.create_grant(
            self._components,
            principal,
            site_id=request.site_id,
            user_id=request.user_id,
            organization_id=request.organization_id,
            subcontractor=request.subcontractor,
            fields=list(request.fields),
            work_order_id=request.work_order_id,
            valid_from=from_timestamp(request, "valid_from"),
            valid_until=from_timestamp(request, "valid_until"),
            acting_user_id=request.acting_user_id,
            now=now,
        )
        return pb.CreateGrantResponse(grant=grant_message(grant, now), created=created)

    async def RevokeGrants(
        self, request: pb.RevokeGrantsRequest, context: Context
    ) -> pb.RevokeGrantsResponse:
        principal = await self._components.callers.principal(context)
        count = await grants.revoke_grants(
            self._components,
            principal,
            work_order_id=request.work_order_id,
            user_id=request.user_id,
            organization_id=request.organization_id,
            reason=request.reason,
            acting_user_id=request.acting_user_id,
            now=_now(),
        )
        return pb.RevokeGrantsResponse(revoked_count=count)

    async def ListGrants(
        self, request: pb.ListGrantsRequest, context: Context
    ) -> pb.ListGrantsResponse:
        who = caller(await self._components.callers.principal(context), "grants:read")
        now = _now()
        rows, token = await grants.list_grants(
            self._components,
            who,
            site_id=request.site_id,
            user_id=request.user_id,
            work_order_id=request.work_order_id,
            active_only=request.active_only,
            requested_size=request.page_size,
            page_token=request.page_token,
            now=now,
        )
        return pb.ListGrantsResponse(
            grants=[grant_message(row, now) for row in rows], next_page_token=token
        )

    # --- audit trail -------------------------------------------------------------

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: Context
    ) -> pb.ListAuditEventsResponse:
        who = caller(await self._components.callers.principal(context), "audit:read")
        rows, token = await audit_queries.list_audit_events(
            self._components,
            who,
            customer_id=request.customer_id,
            site_id=request.site_id,
            actor_id=request.actor_id,
            action=request.action,
            since=from_timestamp(request, "since"),
            until=from_timestamp(request, "until"),
            requested_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListAuditEventsResponse(
            events=[audit_event_message(row) for row in rows], next_page_token=token
        )

    async def VerifyAuditTrail(
        self, request: pb.VerifyAuditTrailRequest, context: Context
    ) -> pb.VerifyAuditTrailResponse:
        who = caller(await self._components.callers.principal(context), "audit:verify")
        async with self._components.database.unit_of_work() as session:
            result = await self._components.audit.verify(session, who.tenant_id)
        return verification_message(result)

    # --- GDPR --------------------------------------------------------------------

    async def ExportCustomer(
        self, request: pb.ExportCustomerRequest, context: Context
    ) -> pb.ExportCustomerResponse:
        who = caller(await self._components.callers.principal(context), "customers:export")
        await self._components.instructions.require_acknowledged(who.principal)
        document = await gdpr_export.export_customer(
            self._components,
            who,
            customer_id=request.id,
            include_secret_values=request.include_secret_values,
            reason=request.reason,
            request_id=request_id(context, request.request_id),
            now=_now(),
        )
        return pb.ExportCustomerResponse(document=document)

    async def EraseCustomer(
        self, request: pb.EraseCustomerRequest, context: Context
    ) -> pb.EraseCustomerResponse:
        who = caller(await self._components.callers.principal(context), "customers:erase")
        erased_at = await gdpr.erase_customer(
            self._components,
            who,
            customer_id=request.id,
            reason=request.reason,
            request_id=request_id(context, request.request_id),
            now=_now(),
        )
        return pb.EraseCustomerResponse(customer_id=request.id, erase_time=to_timestamp(erased_at))

    # --- tenant keys -------------------------------------------------------------

    async def EnsureTenantKey(
        self, request: pb.EnsureTenantKeyRequest, context: Context
    ) -> pb.EnsureTenantKeyResponse:
        principal = await self._components.callers.principal(context)
        key = await tenant_key_lifecycle.ensure_tenant_key(
            keys=self._components.keys, principal=principal, tenant_id=request.tenant_id
        )
        return pb.EnsureTenantKeyResponse(
            key_name=key.name, latest_version=key.latest_version, created=key.created
        )

    async def RotateTenantKey(
        self, request: pb.RotateTenantKeyRequest, context: Context
    ) -> pb.RotateTenantKeyResponse:
        principal = await self._components.callers.principal(context)
        result = await tenant_key_lifecycle.rotate_tenant_key(
            self._components, principal, request.tenant_id
        )
        return pb.RotateTenantKeyResponse(
            key_version=result.key_version, rewrapped_count=result.rewrapped
        )

    # --- retention -----------------------------------------------------------------

    async def GetRetentionReport(
        self, request: pb.GetRetentionReportRequest, context: Context
    ) -> pb.GetRetentionReportResponse:
        tenant_id = report_tenant(await self._components.callers.principal(context))
        async with self._components.database.unit_of_work() as session:
            reports = await tenant_report(
                session, tenant_id=tenant_id, categories=retention.CATEGORIES
            )
        response = pb.GetRetentionReportResponse()
        for report in reports:
            response.categories.add(
                category=report.category,
                purged=report.purged,
                retention_days=report.days,
                last_run_time=to_timestamp(report.last_run_at),
            )
        return response
