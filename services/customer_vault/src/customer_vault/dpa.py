"""Is a subcontractor's data-processing agreement active? Asked of identity, briefly cached.

"No DPA, no access": a reveal under a subcontractor's grant is refused unless
identity says the organisation's DPA is active today. The answer is cached
for a few seconds per organisation so that a busy technician does not cost
identity a call per reveal; a lapse also revokes the organisation's grants
through identity's ``organization_dpa_lapsed`` event, so the cache never
stretches access beyond that. Identity unreachable means UNAVAILABLE — never
a guess.

The GDPR reports also read the tenant's organisations and people here
(``list_organizations``, ``list_users``): the same service token, uncached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.grpc_client import PeerRefused
from fieldvault_platform.peer_client import PeerClient

DIRECTORY_READ = "directory:read"


class DpaStatus:
    def __init__(
        self,
        tokens: ServiceTokens,
        channel: grpc.aio.Channel,
        *,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._identity = PeerClient(tokens, audience="identity")
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_active(self, tenant_id: str, organization_id: str) -> bool:
        cached = self._cache.get((tenant_id, organization_id))
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        organization = await self._organization(tenant_id, organization_id)
        # A deleted or foreign organisation has no DPA here.
        active = organization is not None and bool(organization.dpa_active)
        self._cache[(tenant_id, organization_id)] = (active, self._clock() + self._cache_seconds)
        return active

    async def is_subcontractor(self, tenant_id: str, organization_id: str) -> bool:
        """Whether identity knows this organisation, as a subcontractor, in this tenant."""
        organization = await self._organization(tenant_id, organization_id)
        return (
            organization is not None
            and organization.kind == identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR
        )

    async def _organization(
        self, tenant_id: str, organization_id: str
    ) -> identity_pb2.Organization | None:
        """The organisation as identity has it; None when identity does not know it here."""
        try:
            response: identity_pb2.GetOrganizationResponse = await self._identity.call(
                self._stub.GetOrganization,
                identity_pb2.GetOrganizationRequest(id=organization_id),
                scope=DIRECTORY_READ,
                tenant_id=tenant_id,
            )
        except PeerRefused as exc:
            if exc.status == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return response.organization

    async def list_organizations(self, tenant_id: str) -> list[identity_pb2.Organization]:
        """Every organisation of the tenant (own and subcontractors), all pages."""
        found: list[identity_pb2.Organization] = []
        token = ""
        while True:
            response = await self._identity.call(
                self._stub.ListOrganizations,
                identity_pb2.ListOrganizationsRequest(page_size=200, page_token=token),
                scope=DIRECTORY_READ,
                tenant_id=tenant_id,
            )
            found.extend(response.organizations)
            token = response.next_page_token
            if not token:
                return found

    async def list_users(self, tenant_id: str, *, role: str = "") -> list[identity_pb2.User]:
        """The tenant's active users (holding ``role``, when given), all pages."""
        found: list[identity_pb2.User] = []
        token = ""
        while True:
            response = await self._identity.call(
                self._stub.ListUsers,
                identity_pb2.ListUsersRequest(
                    page_size=200, page_token=token, role=role, active_only=True
                ),
                scope=DIRECTORY_READ,
                tenant_id=tenant_id,
            )
            found.extend(response.users)
            token = response.next_page_token
            if not token:
                return found

    def forget(self, tenant_id: str, organization_id: str) -> None:
        self._cache.pop((tenant_id, organization_id), None)
