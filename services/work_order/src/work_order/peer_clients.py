"""What work-order asks other services: identity about people and organisations,
customer-vault where a site belongs. Always with this service's own scoped tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import FailedPrecondition, NotFound
from fieldvault_platform.peer_client import PeerClient


@dataclass(frozen=True)
class Person:
    id: str
    organization_id: str
    roles: frozenset[str]
    area_ids: frozenset[str]
    active: bool


@dataclass(frozen=True)
class Organization:
    id: str
    subcontractor: bool
    dpa_active: bool


@dataclass(frozen=True)
class SiteLocation:
    site_id: str
    area_id: str


class Directory:
    def __init__(
        self,
        tokens: ServiceTokens,
        identity: grpc.aio.Channel,
        customer_vault: grpc.aio.Channel,
    ) -> None:
        self._identity = PeerClient(tokens, audience="identity")
        self._identity_stub = identity_pb2_grpc.IdentityServiceStub(identity)
        self._vault = PeerClient(tokens, audience="customer_vault")
        self._vault_stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)

    async def person(self, tenant_id: str, user_id: str) -> Person:
        response = await self._identity.call(
            self._identity_stub.GetUser,
            identity_pb2.GetUserRequest(id=user_id),
            scope="directory:read",
            tenant_id=tenant_id,
            not_found=NotFound("assignee not found"),
        )
        user = response.user
        return Person(
            id=user.id,
            organization_id=user.organization_id,
            roles=frozenset(user.roles),
            area_ids=frozenset(user.area_ids),
            active=user.status == identity_pb2.USER_STATUS_ACTIVE,
        )

    async def organization(self, tenant_id: str, organization_id: str) -> Organization:
        response = await self._identity.call(
            self._identity_stub.GetOrganization,
            identity_pb2.GetOrganizationRequest(id=organization_id),
            scope="directory:read",
            tenant_id=tenant_id,
            not_found=NotFound("organisation not found"),
        )
        org = response.organization
        return Organization(
            id=org.id,
            subcontractor=org.kind == identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_active=org.dpa_active,
        )

    async def locate_site(self, tenant_id: str, site_id: str) -> SiteLocation:
        response = await self._vault.call(
            self._vault_stub.LocateSite,
            customer_vault_pb2.LocateSiteRequest(id=site_id),
            scope="sites:locate",
            tenant_id=tenant_id,
            not_found=NotFound("site not found"),
        )
        if response.erased:
            raise FailedPrecondition("the site's customer was erased", code="erased")
        return SiteLocation(response.site_id, response.area_id)
