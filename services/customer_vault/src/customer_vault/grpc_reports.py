"""CustomerVaultService RPCs for the GDPR reports: Art. 30 record, access report, breach query.

Proto ⇄ domain only, like :mod:`customer_vault.grpc_records`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from customer_vault.access import access_reports, processing_record
from customer_vault.components import Components
from customer_vault.grpc_records import Context, request_id
from customer_vault.visibility import caller
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.timestamps import from_timestamp

#: Admins and DPOs.
PROCESSING_RECORD_READ = "processing_record:read"
#: A customer's access report is the DPO's, like the export.
CUSTOMERS_EXPORT = "customers:export"
#: The breach question: whoever reads the audit trail (auditors, DPOs).
AUDIT_READ = "audit:read"


def _now() -> datetime:
    return datetime.now(UTC)


class ReportRpcs:
    _components: Components

    async def GetProcessingRecord(
        self, request: pb.GetProcessingRecordRequest, context: Context
    ) -> pb.GetProcessingRecordResponse:
        who = caller(await self._components.callers.principal(context), PROCESSING_RECORD_READ)
        document = await processing_record.processing_record(self._components, who, now=_now())
        return pb.GetProcessingRecordResponse(document=document)

    async def GetCustomerAccessReport(
        self, request: pb.GetCustomerAccessReportRequest, context: Context
    ) -> pb.GetCustomerAccessReportResponse:
        who = caller(await self._components.callers.principal(context), CUSTOMERS_EXPORT)
        document = await access_reports.customer_access_report(
            self._components,
            who,
            customer_id=request.customer_id,
            since=from_timestamp(request, "since"),
            until=from_timestamp(request, "until"),
            request_id=request_id(context, request.request_id),
            now=_now(),
        )
        return pb.GetCustomerAccessReportResponse(document=document)

    async def QuerySiteAccess(
        self, request: pb.QuerySiteAccessRequest, context: Context
    ) -> pb.QuerySiteAccessResponse:
        who = caller(await self._components.callers.principal(context), AUDIT_READ)
        document = await access_reports.query_site_access(
            self._components,
            who,
            site_id=request.site_id,
            range_from=from_timestamp(request, "from_time"),
            range_to=from_timestamp(request, "to_time"),
            now=_now(),
        )
        return pb.QuerySiteAccessResponse(document=document)
