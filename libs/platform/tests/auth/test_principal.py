"""Principal: scope and tenant checks a service makes after verification."""

from __future__ import annotations

from typing import Any

import pytest

from fieldvault_platform.auth import Principal, TokenVerifier
from fieldvault_platform.errors import PermissionDenied


async def verified(issuer: Any, verifier: TokenVerifier, **claims: Any) -> Principal:
    return await verifier.verify(issuer.mint(**claims))


async def test_require_scope_passes_only_with_every_scope(
    issuer: Any, verifier: TokenVerifier
) -> None:
    principal = await verified(issuer, verifier, scope="work_orders:read  work_orders:write")

    assert principal.has_scope("work_orders:read")
    assert not principal.has_scope("work_orders")  # no prefix matching
    principal.require_scope("work_orders:read", "work_orders:write")
    with pytest.raises(PermissionDenied, match="grants:write"):
        principal.require_scope("work_orders:read", "grants:write")


async def test_a_token_without_scope_claim_has_no_scopes(
    issuer: Any, verifier: TokenVerifier
) -> None:
    principal = await verified(issuer, verifier, scope=None)

    assert principal.scopes == frozenset()
    with pytest.raises(PermissionDenied):
        principal.require_scope("work_orders:read")


async def test_require_tenant_refuses_another_tenant(issuer: Any, verifier: TokenVerifier) -> None:
    principal = await verified(issuer, verifier, tid="tenant-a")

    principal.require_tenant("tenant-a")
    with pytest.raises(PermissionDenied, match="tenant"):
        principal.require_tenant("tenant-b")


async def test_tenant_agnostic_service_token_passes_a_tenant_check_only_when_allowed(
    issuer: Any, verifier: TokenVerifier
) -> None:
    principal = await verified(issuer, verifier, sub="service:identity", tid=None, sid=None)

    with pytest.raises(PermissionDenied):
        principal.require_tenant("tenant-a")
    principal.require_tenant("tenant-a", allow_tenant_agnostic=True)


async def test_tenant_bound_token_never_passes_for_another_tenant_even_when_agnostic_allowed(
    issuer: Any, verifier: TokenVerifier
) -> None:
    principal = await verified(issuer, verifier, sub="service:work_order", sid=None)

    with pytest.raises(PermissionDenied):
        principal.require_tenant("tenant-b", allow_tenant_agnostic=True)
