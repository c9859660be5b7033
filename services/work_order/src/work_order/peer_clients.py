"""What work-order asks other services: identity about people and organisations,
customer-vault where a site belongs. Always with this service's own scoped tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import FailedPrecondition, NotFound
from fieldvault_platform.grpc_client import peer_error

CALL_TIMEOUT_SECONDS = 5.0


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
        self._tokens = tokens
        self._identity = identity_pb2_grpc.IdentityServiceStub(identity)
        self._vault = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)

    async def _metadata(self, audience: str, scope: str, tenant_id: str) -> tuple[tuple[str, str]]:
        token = await self._tokens.token(audience=audience, scope=scope, tenant_id=tenant_id)
        return bearer_metadata(token)

    async def person(self, tenant_id: str, user_id: str) -> Person:
        metadata = await self._metadata("identity", "directory:read", tenant_id)
        try:
            response = await self._identity.GetUser(
                identity_pb2.GetUserRequest(id=user_id),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc, "identity", NotFound("assignee not found")) from exc
        user = response.user
        return Person(
            id=user.id,
            organization_id=user.organization_id,
            roles=frozenset(user.roles),
            area_ids=frozenset(user.area_ids),
            active=user.status == identity_pb2.USER_STATUS_ACTIVE,
        )

    async def organization(self, tenant_id: str, organization_id: str) -> Organization:
        metadata = await self._metadata("identity", "directory:read", tenant_id)
        try:
            response = await self._identity.GetOrganization(
                identity_pb2.GetOrganizationRequest(id=organization_id),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc, "identity", NotFound("organisation not found")) from exc
        org = response.organization
        return Organization(
            id=org.id,
            subcontractor=org.kind == identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR,
            dpa_active=org.dpa_active,
        )

    async def locate_site(self, tenant_id: str, site_id: str) -> SiteLocation:
        metadata = await self._metadata("customer_vault", "sites:locate", tenant_id)
        try:
            response = await self._vault.LocateSite(
                customer_vault_pb2.LocateSiteRequest(id=site_id),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            raise peer_error(exc, "customer-vault", NotFound("site not found")) from exc
        if response.erased:
            raise FailedPrecondition("the site's customer was erased", code="erased")
        return SiteLocation(response.site_id, response.area_id)
