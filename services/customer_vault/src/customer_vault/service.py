"""customer-vault use cases."""

from __future__ import annotations

import re
from typing import Final

from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.errors import InvalidArgument, PermissionDenied
from fieldvault_platform.vault import TransitKey, VaultClient

_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: Scope of identity's service token for provisioning a tenant's key.
TENANT_KEYS_ENSURE: Final = "tenant_keys:ensure"
#: The one service account that provisions tenants (when identity creates one).
TENANT_PROVISIONER: Final = "identity"


def tenant_key_name(tenant_id: str) -> str:
    """The tenant's key-encryption key in Vault Transit (matches the service's Vault policy)."""
    return f"fv-tenant-{tenant_id}"


def authorize_tenant_key_provisioning(caller: Principal, tenant_id: str) -> None:
    """Only identity's service account, with ``tenant_keys:ensure``, for that tenant or any.

    The scope alone would do while identity issues it only to itself; naming
    the account too means a mistake in identity's scope table still cannot let
    another service create tenant keys. It is the one call where a
    tenant-agnostic service token is accepted: identity provisions a tenant
    before anything else about that tenant exists.
    """
    caller.require_scope(TENANT_KEYS_ENSURE)
    if caller.kind is not PrincipalKind.SERVICE or caller.name != TENANT_PROVISIONER:
        raise PermissionDenied("only identity's service account may provision tenant keys")
    caller.require_tenant(tenant_id, allow_tenant_agnostic=True)


async def ensure_tenant_key(*, vault: VaultClient, caller: Principal, tenant_id: str) -> TransitKey:
    """Make sure the tenant's key-encryption key exists; it never leaves Vault."""
    authorize_tenant_key_provisioning(caller, tenant_id)
    if not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidArgument("tenant_id must be 1-64 letters, digits, '-' or '_'")
    return await vault.ensure_transit_key(tenant_key_name(tenant_id))
