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
from typing import Any

import grpc

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.errors import Unavailable

DIRECTORY_READ = "directory:read"
CALL_TIMEOUT_SECONDS = 5.0


class DpaStatus:
    def __init__(
        self,
        tokens: ServiceTokens,
        channel: grpc.aio.Channel,
        *,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens = tokens
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_active(self, tenant_id: str, organization_id: str) -> bool:
        cached = self._cache.get((tenant_id, organization_id))
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        token = await self._tokens.token(
            audience="identity", scope=DIRECTORY_READ, tenant_id=tenant_id
        )
        try:
            response = await self._stub.GetOrganization(
                identity_pb2.GetOrganizationRequest(id=organization_id),
                metadata=bearer_metadata(token),
                timeout=CALL_TIMEOUT_SECONDS,
            )
            active = bool(response.organization.dpa_active)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                active = False  # a deleted or foreign organisation has no DPA here
            elif exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable(
                    "identity is unavailable: cannot check the subcontractor's DPA"
                ) from exc
            else:
                raise
        self._cache[(tenant_id, organization_id)] = (active, self._clock() + self._cache_seconds)
        return active

    async def is_subcontractor(self, tenant_id: str, organization_id: str) -> bool:
        """Whether identity knows this organisation, as a subcontractor, in this tenant."""
        token = await self._tokens.token(
            audience="identity", scope=DIRECTORY_READ, tenant_id=tenant_id
        )
        try:
            response = await self._stub.GetOrganization(
                identity_pb2.GetOrganizationRequest(id=organization_id),
                metadata=bearer_metadata(token),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable(
                    "identity is unavailable: cannot look up the organisation"
                ) from exc
            raise
        return bool(response.organization.kind == identity_pb2.ORGANIZATION_KIND_SUBCONTRACTOR)

    async def list_organizations(self, tenant_id: str) -> list[identity_pb2.Organization]:
        """Every organisation of the tenant (own and subcontractors), all pages."""
        found: list[identity_pb2.Organization] = []
        token = ""
        while True:
            response = await self._directory_call(
                tenant_id,
                self._stub.ListOrganizations,
                identity_pb2.ListOrganizationsRequest(page_size=200, page_token=token),
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
            response = await self._directory_call(
                tenant_id,
                self._stub.ListUsers,
                identity_pb2.ListUsersRequest(
                    page_size=200, page_token=token, role=role, active_only=True
                ),
            )
            found.extend(response.users)
            token = response.next_page_token
            if not token:
                return found

    async def _directory_call(self, tenant_id: str, method: Any, request: Any) -> Any:
        token = await self._tokens.token(
            audience="identity", scope=DIRECTORY_READ, tenant_id=tenant_id
        )
        try:
            return await method(
                request, metadata=bearer_metadata(token), timeout=CALL_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("identity is unavailable: cannot read the directory") from exc
            raise

    def forget(self, tenant_id: str, organization_id: str) -> None:
        self._cache.pop((tenant_id, organization_id), None)
