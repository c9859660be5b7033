"""Is a subcontractor's data-processing agreement active? Asked of identity, briefly cached.

"No DPA, no access": a reveal under a subcontractor's grant is refused unless
identity says the organisation's DPA is active today. The answer is cached
for a few seconds per organisation so that a busy technician does not cost
identity a call per reveal; a lapse also revokes the organisation's grants
through identity's ``organization_dpa_lapsed`` event, so the cache never
stretches access beyond that. Identity unreachable means UNAVAILABLE — never
a guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)  # type: ignore[no-untyped-call]
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

    def forget(self, tenant_id: str, organization_id: str) -> None:
        self._cache.pop((tenant_id, organization_id), None)
