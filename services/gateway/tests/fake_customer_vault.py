"""A stand-in for customer_vault's gRPC API, for the gateway's own tests.

It speaks the real contract (``CustomerVaultService`` on a real grpc.aio server
with the services' error interceptor), keeps its state in memory, refuses any
token that is not identity's exchanged token for the ``customer_vault``
audience, and records every request with its metadata so a test can see
exactly what the gateway forwarded. Its rules are the contract's, in small:
erased customers answer FAILED_PRECONDITION ``erased``, a reveal without an
active grant or break-glass answers PERMISSION_DENIED ``no_active_grant``, a
stale etag answers FAILED_PRECONDITION ``precondition_failed``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from google.protobuf.message import Message

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_platform.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)

from .fake_common import Call, bearer_claims, now, record
from .fake_identity import TENANT, FakeIdentity

AUDIENCE = "customer_vault"
HIDE_AFTER_SECONDS = 30
#: Exports with code values a caller may make (the service's limit, in small).
EXPORT_VALUES_LIMIT = 2
EXPORT_VALUES_WINDOW_SECONDS = 86400
_KIND_NAMES = {
    pb.SECRET_KIND_DOOR_CODE: "door_code",
    pb.SECRET_KIND_ALARM_CODE: "alarm_code",
    pb.SECRET_KIND_KEY_SAFE_CODE: "key_safe_code",
}


def erased() -> FailedPrecondition:
    return FailedPrecondition("the customer's data was erased", code="erased")


class FakeCustomerVault(customer_vault_pb2_grpc.CustomerVaultServiceServicer):
    def __init__(self, identity: FakeIdentity) -> None:
        self.identity = identity
        self.calls: dict[str, list[Call]] = defaultdict(list)
        self.customers: dict[str, pb.Customer] = {}
        self.sites: dict[str, pb.Site] = {}
        self.secrets: dict[tuple[str, int], tuple[str, pb.SecretMetadata]] = {}
        self.contracts: dict[str, tuple[pb.Contract, bytes]] = {}
        self.grants: list[pb.Grant] = []
        self.events: list[pb.AuditEvent] = []
        self.erased: set[str] = set()
        self.value_exports: dict[str, int] = defaultdict(int)
        #: What every list answers as its next page token.
        self.next_page_token = ""
        self.verification = pb.VerifyAuditTrailResponse(ok=True, checked=0)
        #: What the GDPR report RPCs answer (JSON documents), by report.
        self.report_documents: dict[str, bytes] = {}

    # --- helpers for tests -----------------------------------------------------

    def requests(self, method: str) -> list[Any]:
        return [call.request for call in self.calls[method]]

    def metadata(self, method: str) -> list[dict[str, str]]:
        return [call.metadata for call in self.calls[method]]

    def add_contract(
        self, customer_id: str, filename: str, content_type: str, content: bytes
    ) -> str:
        contract = pb.Contract(
            id=f"contract-{len(self.contracts) + 1}",
            customer_id=customer_id,
            filename=filename,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            create_time=now(),
        )
        self.contracts[contract.id] = (contract, content)
        return contract.id

    # --- the rules ---------------------------------------------------------------

    def _begin(self, method: str, request: Message, context: Any) -> str:
        """Record the call and verify its token as customer_vault would; the caller's id."""
        call = record(self.calls, method, request, context)
        return str(bearer_claims(call.metadata, self.identity.key.public_key(), AUDIENCE)["sub"])

    def _customer(self, customer_id: str) -> pb.Customer:
        if customer_id in self.erased:
            raise erased()
        if customer_id not in self.customers:
            raise NotFound("no such customer")
        return self.customers[customer_id]

    def _site(self, site_id: str) -> pb.Site:
        if site_id not in self.sites:
            raise NotFound("no such site")
        site = self.sites[site_id]
        self._customer(site.customer_id)
        return site

    @staticmethod
    def _change(resource: Any, request: Message, etag: str, fields: tuple[str, ...]) -> None:
        if etag and etag.removeprefix("W/") != resource.etag:
            raise FailedPrecondition("the resource changed", code="precondition_failed")
        for field in fields:
            if request.HasField(field):
                setattr(resource, field, getattr(request, field))
        resource.etag = f'"{int(resource.etag.strip(chr(34))) + 1}"'
        resource.update_time.CopyFrom(now())

    def _audit(self, user: str, action: str, outcome: str, request: Any) -> pb.AuditEvent:
        event = pb.AuditEvent(
            id=f"event-{len(self.events) + 1}",
            sequence=len(self.events) + 1,
            tenant_id=TENANT,
            occur_time=now(),
            actor_kind="user",
            actor_id=user,
            action=action,
            site_id=request.site_id,
            fields=[_KIND_NAMES[request.kind]],
            outcome=outcome,
            reason=request.reason,
            request_id=request.request_id,
            break_glass=request.break_glass,
        )
        self.events.append(event)
        return event

    # --- customers and sites ---------------------------------------------------

    async def CreateCustomer(self, request: Any, context: Any) -> pb.CreateCustomerResponse:
        self._begin("CreateCustomer", request, context)
        customer = pb.Customer(
            id=f"customer-{len(self.customers) + 1}",
            tenant_id=TENANT,
            area_id=request.area_id,
            name=request.name,
            email=request.email,
            phone=request.phone,
            address=request.address,
            notes=request.notes,
            create_time=now(),
            update_time=now(),
            etag='"1"',
        )
        self.customers[customer.id] = customer
        return pb.CreateCustomerResponse(customer=customer)

    async def GetCustomer(self, request: Any, context: Any) -> pb.GetCustomerResponse:
        self._begin("GetCustomer", request, context)
        return pb.GetCustomerResponse(customer=self._customer(request.id))

    async def ListCustomers(self, request: Any, context: Any) -> pb.ListCustomersResponse:
        self._begin("ListCustomers", request, context)
        if sum(bool(term) for term in (request.email, request.phone, request.name)) > 1:
            raise InvalidArgument("search by email, by phone or by name: one of them")
        found = [
            customer
            for customer in self.customers.values()
            if request.email in ("", customer.email)
            and request.phone in ("", customer.phone)
            and request.name in ("", customer.name)
        ]
        return pb.ListCustomersResponse(customers=found, next_page_token=self.next_page_token)

    async def UpdateCustomer(self, request: Any, context: Any) -> pb.UpdateCustomerResponse:
        self._begin("UpdateCustomer", request, context)
        customer = self._customer(request.id)
        fields = ("name", "email", "phone", "address", "notes", "area_id")
        self._change(customer, request, request.etag, fields)
        return pb.UpdateCustomerResponse(customer=customer)

    async def CreateSite(self, request: Any, context: Any) -> pb.CreateSiteResponse:
        self._begin("CreateSite", request, context)
        self._customer(request.customer_id)
        site = pb.Site(
            id=f"site-{len(self.sites) + 1}",
            tenant_id=TENANT,
            customer_id=request.customer_id,
            area_id=request.area_id,
            name=request.name,
            address=request.address,
            access_instructions=request.access_instructions,
            create_time=now(),
            update_time=now(),
            etag='"1"',
        )
        self.sites[site.id] = site
        return pb.CreateSiteResponse(site=site)

    async def GetSite(self, request: Any, context: Any) -> pb.GetSiteResponse:
        self._begin("GetSite", request, context)
        return pb.GetSiteResponse(site=self._site(request.id))

    async def ListSites(self, request: Any, context: Any) -> pb.ListSitesResponse:
        self._begin("ListSites", request, context)
        found = [s for s in self.sites.values() if request.customer_id in ("", s.customer_id)]
        return pb.ListSitesResponse(sites=found, next_page_token=self.next_page_token)

    async def UpdateSite(self, request: Any, context: Any) -> pb.UpdateSiteResponse:
        self._begin("UpdateSite", request, context)
        site = self._site(request.id)
        fields = ("name", "address", "access_instructions", "area_id")
        self._change(site, request, request.etag, fields)
        return pb.UpdateSiteResponse(site=site)

    # --- secrets -----------------------------------------------------------------

    async def PutSecret(self, request: Any, context: Any) -> pb.PutSecretResponse:
        user = self._begin("PutSecret", request, context)
        self._site(request.site_id)
        previous = self.secrets.get((request.site_id, request.kind))
        metadata = pb.SecretMetadata(
            kind=request.kind,
            version=previous[1].version + 1 if previous else 1,
            update_time=now(),
            updated_by=user,
        )
        self.secrets[(request.site_id, request.kind)] = (request.value, metadata)
        return pb.PutSecretResponse(secret=metadata)

    async def ListSecrets(self, request: Any, context: Any) -> pb.ListSecretsResponse:
        self._begin("ListSecrets", request, context)
        self._site(request.site_id)
        found = [meta for (site, _), (_, meta) in self.secrets.items() if site == request.site_id]
        return pb.ListSecretsResponse(secrets=found)

    async def RevealSecret(self, request: Any, context: Any) -> pb.RevealSecretResponse:
        user = self._begin("RevealSecret", request, context)
        self._site(request.site_id)
        granted = any(
            grant.active
            and grant.site_id == request.site_id
            and grant.user_id == user
            and _KIND_NAMES[request.kind] in grant.fields
            for grant in self.grants
        )
        if not granted and not (request.break_glass and request.reason):
            self._audit(user, "secret.reveal", "denied", request)
            raise PermissionDenied("no active grant for this secret", code="no_active_grant")
        if (request.site_id, request.kind) not in self.secrets:
            raise NotFound("no such secret")
        event = self._audit(user, "secret.reveal", "success", request)
        value, _ = self.secrets[(request.site_id, request.kind)]
        return pb.RevealSecretResponse(
            kind=request.kind,
            value=value,
            audit_event_id=event.id,
            hide_after_seconds=HIDE_AFTER_SECONDS,
        )

    # --- contracts, grants, audit, GDPR --------------------------------------------

    async def UploadContract(self, request: Any, context: Any) -> pb.UploadContractResponse:
        user = self._begin("UploadContract", request, context)
        self._customer(request.customer_id)
        contract_id = self.add_contract(
            request.customer_id, request.filename, request.content_type, request.content
        )
        contract, _ = self.contracts[contract_id]
        contract.uploaded_by = user
        return pb.UploadContractResponse(contract=contract)

    async def ListContracts(self, request: Any, context: Any) -> pb.ListContractsResponse:
        self._begin("ListContracts", request, context)
        self._customer(request.customer_id)
        found = [c for c, _ in self.contracts.values() if c.customer_id == request.customer_id]
        return pb.ListContractsResponse(contracts=found)

    async def DownloadContract(self, request: Any, context: Any) -> pb.DownloadContractResponse:
        self._begin("DownloadContract", request, context)
        if request.id not in self.contracts:
            raise NotFound("no such contract")
        contract, content = self.contracts[request.id]
        self._customer(contract.customer_id)
        return pb.DownloadContractResponse(contract=contract, content=content)

    async def OpenShare(self, request: Any, context: Any) -> pb.OpenShareResponse:
        # No token: the link token and the PIN are the credential. Every share is gone here.
        record(self.calls, "OpenShare", request, context)
        raise FailedPrecondition("this share is no longer available", code="share_unavailable")

    async def RegisterKey(self, request: Any, context: Any) -> pb.RegisterKeyResponse:
        self._begin("RegisterKey", request, context)
        self._site(request.site_id)
        key = pb.PhysicalKey(
            id=f"key-{len(self.calls['RegisterKey'])}",
            site_id=request.site_id,
            kind=request.kind,
            label=request.label,
            status="in_office",
            create_time=now(),
        )
        return pb.RegisterKeyResponse(key=key, tag_code="7K3M-QX9P-2D4F-HR8T")

    async def FindKeyByTag(self, request: Any, context: Any) -> pb.FindKeyByTagResponse:
        self._begin("FindKeyByTag", request, context)
        raise NotFound("no key with that tag")

    async def ListGrants(self, request: Any, context: Any) -> pb.ListGrantsResponse:
        self._begin("ListGrants", request, context)
        found = [g for g in self.grants if g.active or not request.active_only]
        return pb.ListGrantsResponse(grants=found, next_page_token=self.next_page_token)

    async def ListAuditEvents(self, request: Any, context: Any) -> pb.ListAuditEventsResponse:
        self._begin("ListAuditEvents", request, context)
        return pb.ListAuditEventsResponse(events=self.events, next_page_token=self.next_page_token)

    async def VerifyAuditTrail(self, request: Any, context: Any) -> pb.VerifyAuditTrailResponse:
        self._begin("VerifyAuditTrail", request, context)
        return self.verification

    async def ExportCustomer(self, request: Any, context: Any) -> pb.ExportCustomerResponse:
        caller = self._begin("ExportCustomer", request, context)
        customer = self._customer(request.id)
        if request.include_secret_values:
            if not request.reason.strip():
                raise InvalidArgument("exporting the values of codes needs a reason")
            self.value_exports[caller] += 1
            if self.value_exports[caller] > EXPORT_VALUES_LIMIT:
                raise ResourceExhausted(
                    "too many exports with code values; try again later",
                    retry_after_seconds=EXPORT_VALUES_WINDOW_SECONDS,
                )
        return pb.ExportCustomerResponse(
            document=json.dumps(self._export(customer, request.include_secret_values)).encode()
        )

    def _export(self, customer: pb.Customer, with_values: bool) -> dict[str, Any]:
        sites = [site for site in self.sites.values() if site.customer_id == customer.id]
        return {
            "format": "fieldvault.customer_export.v1",
            "exported_at": "2026-12-04T10:00:00+00:00",
            "tenant_id": customer.tenant_id,
            "secret_values_included": with_values,
            "customer": {
                **{k: getattr(customer, k) for k in ("id", "name", "email", "phone")},
                **{"address": customer.address, "notes": customer.notes},
                **{"area_id": customer.area_id or None},
                **{"created_at": None, "updated_at": None},
            },
            "sites": [
                {
                    **{"id": site.id, "area_id": site.area_id, "name": site.name},
                    **{"address": site.address, "access_instructions": ""},
                    "created_at": None,
                    "secrets": [
                        {
                            "kind": _KIND_NAMES[kind],
                            "version": 1,
                            "written_by": "someone",
                            "written_at": None,
                            **({"value": value} if with_values else {}),
                        }
                        for (site_id, kind), (value, _) in self.secrets.items()
                        if site_id == site.id
                    ],
                }
                for site in sites
            ],
            "contracts": [],
            "grants": [],
            "access_history": [],
        }

    async def EraseCustomer(self, request: Any, context: Any) -> pb.EraseCustomerResponse:
        self._begin("EraseCustomer", request, context)
        self._customer(request.id)
        self.erased.add(request.id)
        return pb.EraseCustomerResponse(customer_id=request.id, erase_time=now())

    # --- GDPR reports: canned documents, set by a test in ``report_documents`` ---

    async def GetProcessingRecord(
        self, request: Any, context: Any
    ) -> pb.GetProcessingRecordResponse:
        self._begin("GetProcessingRecord", request, context)
        return pb.GetProcessingRecordResponse(document=self.report_documents["processing_record"])

    async def GetCustomerAccessReport(
        self, request: Any, context: Any
    ) -> pb.GetCustomerAccessReportResponse:
        self._begin("GetCustomerAccessReport", request, context)
        self._customer(request.customer_id)
        return pb.GetCustomerAccessReportResponse(document=self.report_documents["access_report"])

    async def QuerySiteAccess(self, request: Any, context: Any) -> pb.QuerySiteAccessResponse:
        self._begin("QuerySiteAccess", request, context)
        self._site(request.site_id)
        return pb.QuerySiteAccessResponse(document=self.report_documents["access_query"])


@dataclass
class VaultGateway:
    client: httpx.AsyncClient
    app: FastAPI
    identity: FakeIdentity
    vault: FakeCustomerVault

    def bearer(self, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identity.mint(**claims)}"}


@asynccontextmanager
async def fake_vault_gateway(start_peer: Any, **overrides: Any) -> AsyncIterator[VaultGateway]:
    """The gateway in front of a fake identity (tokens) and a fake customer_vault."""
    from gateway.main import create_app

    from .conftest import PEER_NAMES, serve, settings_for

    identity = FakeIdentity()
    vault = FakeCustomerVault(identity)
    identity_server = await start_peer(
        "identity",
        register=lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, s),
    )
    vault_server = await start_peer(
        "customer_vault",
        register=lambda s: customer_vault_pb2_grpc.add_CustomerVaultServiceServicer_to_server(
            vault, s
        ),
    )
    addresses = dict.fromkeys(PEER_NAMES, identity_server.address)
    addresses["customer_vault"] = vault_server.address
    app = create_app(settings_for(addresses, **overrides))
    async with serve(app) as http:
        yield VaultGateway(http, app, identity, vault)
