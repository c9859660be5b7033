"""CustomerVaultService RPCs for customers, sites, secrets and contracts.

Proto ⇄ domain only: each RPC authenticates the caller, checks the scope its
operation needs, calls a use case and converts the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from customer_vault.components import Components
from customer_vault.messages import (
    contract_message,
    customer_message,
    dpa_document_message,
    kind_name,
    secret_message,
    site_message,
)
from customer_vault.records import contracts, customers, dpa_documents, site_secrets, sites
from customer_vault.visibility import Caller, caller
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

Context: TypeAlias = grpc.aio.ServicerContext

CUSTOMERS_READ = ("customers:read",)
CUSTOMERS_WRITE = ("customers:write",)
# Partner systems manage sites with their customers:* scopes.
SITES_READ = ("sites:read", "customers:read")
SITES_WRITE = ("sites:write", "customers:write")
# Subcontractors' DPA documents are the admin's, like the organisations themselves.
ORGANIZATIONS_MANAGE = ("organizations:manage",)


def _now() -> datetime:
    return datetime.now(UTC)


#: Call metadata naming the edge's request id, for correlating audit records with logs.
REQUEST_ID_KEY = "x-request-id"


def request_id(context: Context, given: str = "") -> str:
    """The request id the caller sent (a field, else metadata), bounded, printable."""
    if not given:
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID_KEY and isinstance(value, str):
                given = value
                break
    given = given[:100]
    return given if given.isprintable() else ""


def _present(request: object, fields: tuple[str, ...]) -> dict[str, str]:
    """The optional fields the request sets (proto3 presence): a partial update."""
    return {
        field: getattr(request, field)
        for field in fields
        if request.HasField(field)  # type: ignore[attr-defined]
    }


class RecordRpcs:
    _components: Components

    async def _caller(
        self, context: Context, scopes: tuple[str, ...], *, customer_data: bool = True
    ) -> Caller:
        """The checked caller; for customer data, a person must have acknowledged the
        data-handling instructions in force (customer_vault.records.instructions)."""
        who = caller(await self._components.callers.principal(context), *scopes)
        if customer_data:
            await self._components.instructions.require_acknowledged(who.principal)
        return who

    # --- customers ---------------------------------------------------------------

    async def CreateCustomer(
        self, request: pb.CreateCustomerRequest, context: Context
    ) -> pb.CreateCustomerResponse:
        who = await self._caller(context, CUSTOMERS_WRITE)
        view = await customers.create_customer(
            self._components,
            who,
            area_id=request.area_id,
            name=request.name,
            email=request.email,
            phone=request.phone,
            address=request.address,
            notes=request.notes,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.CreateCustomerResponse(customer=customer_message(view))

    async def GetCustomer(
        self, request: pb.GetCustomerRequest, context: Context
    ) -> pb.GetCustomerResponse:
        who = await self._caller(context, CUSTOMERS_READ)
        view = await customers.get_customer(self._components, who, request.id)
        return pb.GetCustomerResponse(customer=customer_message(view))

    async def ListCustomers(
        self, request: pb.ListCustomersRequest, context: Context
    ) -> pb.ListCustomersResponse:
        who = await self._caller(context, CUSTOMERS_READ)
        views, token = await customers.list_customers(
            self._components,
            who,
            email=request.email,
            phone=request.phone,
            name=request.name,
            area_id=request.area_id,
            requested_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListCustomersResponse(
            customers=[customer_message(view) for view in views], next_page_token=token
        )

    async def UpdateCustomer(
        self, request: pb.UpdateCustomerRequest, context: Context
    ) -> pb.UpdateCustomerResponse:
        who = await self._caller(context, CUSTOMERS_WRITE)
        view = await customers.update_customer(
            self._components,
            who,
            customer_id=request.id,
            etag=request.etag,
            changes=_present(request, ("name", "email", "phone", "address", "notes", "area_id")),
            request_id=request_id(context),
            now=_now(),
        )
        return pb.UpdateCustomerResponse(customer=customer_message(view))

    # --- sites -------------------------------------------------------------------

    async def CreateSite(
        self, request: pb.CreateSiteRequest, context: Context
    ) -> pb.CreateSiteResponse:
        who = await self._caller(context, SITES_WRITE)
        view = await sites.create_site(
            self._components,
            who,
            customer_id=request.customer_id,
            area_id=request.area_id,
            name=request.name,
            address=request.address,
            access_instructions=request.access_instructions,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.CreateSiteResponse(site=site_message(view))

    async def GetSite(self, request: pb.GetSiteRequest, context: Context) -> pb.GetSiteResponse:
        who = await self._caller(context, SITES_READ)
        view = await sites.get_site(self._components, who, request.id, _now())
        return pb.GetSiteResponse(site=site_message(view))

    async def ListSites(
        self, request: pb.ListSitesRequest, context: Context
    ) -> pb.ListSitesResponse:
        who = await self._caller(context, SITES_READ)
        views, token = await sites.list_sites(
            self._components,
            who,
            customer_id=request.customer_id,
            area_id=request.area_id,
            requested_size=request.page_size,
            page_token=request.page_token,
            now=_now(),
        )
        return pb.ListSitesResponse(
            sites=[site_message(view) for view in views], next_page_token=token
        )

    async def UpdateSite(
        self, request: pb.UpdateSiteRequest, context: Context
    ) -> pb.UpdateSiteResponse:
        who = await self._caller(context, SITES_WRITE)
        view = await sites.update_site(
            self._components,
            who,
            site_id=request.id,
            etag=request.etag,
            changes=_present(request, ("name", "address", "access_instructions", "area_id")),
            request_id=request_id(context),
            now=_now(),
        )
        return pb.UpdateSiteResponse(site=site_message(view))

    async def LocateSite(
        self, request: pb.LocateSiteRequest, context: Context
    ) -> pb.LocateSiteResponse:
        principal = await self._components.callers.principal(context)
        site, erased = await sites.locate_site(self._components, principal, request.id)
        return pb.LocateSiteResponse(
            site_id=site.id, customer_id=site.customer_id, area_id=site.area_id, erased=erased
        )

    # --- secrets -----------------------------------------------------------------

    async def PutSecret(
        self, request: pb.PutSecretRequest, context: Context
    ) -> pb.PutSecretResponse:
        who = await self._caller(context, ("secrets:write",))
        info = await site_secrets.put_secret(
            self._components,
            who,
            site_id=request.site_id,
            kind=kind_name(request.kind),
            value=request.value,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.PutSecretResponse(secret=secret_message(info))

    async def ListSecrets(
        self, request: pb.ListSecretsRequest, context: Context
    ) -> pb.ListSecretsResponse:
        who = await self._caller(context, SITES_READ)
        infos = await site_secrets.list_secrets(
            self._components, who, site_id=request.site_id, now=_now()
        )
        return pb.ListSecretsResponse(secrets=[secret_message(info) for info in infos])

    # --- contracts ---------------------------------------------------------------

    async def UploadContract(
        self, request: pb.UploadContractRequest, context: Context
    ) -> pb.UploadContractResponse:
        who = await self._caller(context, ("contracts:write",))
        view = await contracts.upload_contract(
            self._components,
            who,
            customer_id=request.customer_id,
            filename=request.filename,
            content_type=request.content_type,
            content=request.content,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.UploadContractResponse(contract=contract_message(view))

    async def ListContracts(
        self, request: pb.ListContractsRequest, context: Context
    ) -> pb.ListContractsResponse:
        who = await self._caller(context, ("contracts:read",))
        views = await contracts.list_contracts(
            self._components, who, customer_id=request.customer_id, now=_now()
        )
        return pb.ListContractsResponse(contracts=[contract_message(view) for view in views])

    async def DownloadContract(
        self, request: pb.DownloadContractRequest, context: Context
    ) -> pb.DownloadContractResponse:
        who = await self._caller(context, ("contracts:read",))
        view, content = await contracts.download_contract(
            self._components,
            who,
            contract_id=request.id,
            request_id=request_id(context, request.request_id),
            now=_now(),
        )
        return pb.DownloadContractResponse(contract=contract_message(view), content=content)

    # --- subcontractors' DPA documents ------------------------------------------

    async def UploadDpaDocument(
        self, request: pb.UploadDpaDocumentRequest, context: Context
    ) -> pb.UploadDpaDocumentResponse:
        who = await self._caller(context, ORGANIZATIONS_MANAGE, customer_data=False)
        view = await dpa_documents.upload(
            self._components,
            who,
            organization_id=request.organization_id,
            filename=request.filename,
            content_type=request.content_type,
            content=request.content,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.UploadDpaDocumentResponse(document=dpa_document_message(view))

    async def ListDpaDocuments(
        self, request: pb.ListDpaDocumentsRequest, context: Context
    ) -> pb.ListDpaDocumentsResponse:
        who = await self._caller(context, ORGANIZATIONS_MANAGE, customer_data=False)
        views = await dpa_documents.list_documents(
            self._components, who, organization_id=request.organization_id, now=_now()
        )
        return pb.ListDpaDocumentsResponse(documents=[dpa_document_message(v) for v in views])

    async def DownloadDpaDocument(
        self, request: pb.DownloadDpaDocumentRequest, context: Context
    ) -> pb.DownloadDpaDocumentResponse:
        who = await self._caller(context, ORGANIZATIONS_MANAGE, customer_data=False)
        view, content = await dpa_documents.download(
            self._components,
            who,
            document_id=request.id,
            request_id=request_id(context),
            now=_now(),
        )
        return pb.DownloadDpaDocumentResponse(document=dpa_document_message(view), content=content)
