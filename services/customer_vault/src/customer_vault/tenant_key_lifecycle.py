"""Tenant key use cases: provisioning (identity, at tenant creation) and rotation (operators)."""

from __future__ import annotations

from typing import Final

from customer_vault.components import Components
from customer_vault.keys import RotationResult, TenantKeys, tenant_key_name
from customer_vault.records.site_secrets import reseal_site_unbound
from customer_vault.visibility import caller
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import PermissionDenied
from fieldvault_platform.vault import TransitKey

#: Scope of identity's service token for provisioning a tenant's key.
TENANT_KEYS_ENSURE: Final = "tenant_keys:ensure"
#: The one service account that provisions tenants (when identity creates one).
TENANT_PROVISIONER: Final = "identity"
#: An admin's scope for their tenant's settings; it includes rotating its key.
TENANT_MANAGE: Final = "tenant:manage"

__all__ = ["ensure_tenant_key", "rotate_tenant_key", "tenant_key_name"]


def authorize_tenant_key_provisioning(principal: Principal, tenant_id: str) -> None:
    """Only identity's service account, with ``tenant_keys:ensure``, for that tenant or any.

    The scope alone would do while identity issues it only to itself; naming
    the account too means a mistake in identity's scope table still cannot let
    another service create tenant keys. It is the one call where a
    tenant-agnostic service token is accepted: identity provisions a tenant
    before anything else about that tenant exists.
    """
    principal.require_scope(TENANT_KEYS_ENSURE)
    if principal.kind is not PrincipalKind.SERVICE or principal.name != TENANT_PROVISIONER:
        raise PermissionDenied("only identity's service account may provision tenant keys")
    principal.require_tenant(tenant_id, allow_tenant_agnostic=True)


async def ensure_tenant_key(
    *, keys: TenantKeys, principal: Principal, tenant_id: str
) -> TransitKey:
    """Make sure the tenant's key-encryption key exists; it never leaves Vault."""
    authorize_tenant_key_provisioning(principal, tenant_id)
    tenant_key_name(tenant_id)  # validates the id before Vault sees it
    return await keys.ensure(tenant_id)


async def rotate_tenant_key(c: Components, principal: Principal, tenant_id: str) -> RotationResult:
    """An admin rotates their own tenant's key; every data key is re-wrapped online.

    Codes still sealed without their site in the associated data are re-sealed
    with it on the way (:func:`customer_vault.records.site_secrets.reseal_site_unbound`).
    """
    who = caller(principal, TENANT_MANAGE)
    if principal.kind is not PrincipalKind.USER or (tenant_id and tenant_id != who.tenant_id):
        raise PermissionDenied("an admin rotates only their own tenant's key")
    result = await c.keys.rotate(c.database, who.tenant_id)
    await reseal_site_unbound(c.keys, c.database, who.tenant_id)
    return result
