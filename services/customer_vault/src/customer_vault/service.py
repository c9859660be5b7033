"""customer-vault use cases."""

from __future__ import annotations

import re

from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.vault import TransitKey, VaultClient

_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def tenant_key_name(tenant_id: str) -> str:
    """The tenant's key-encryption key in Vault Transit (matches the service's Vault policy)."""
    return f"fv-tenant-{tenant_id}"


async def ensure_tenant_key(*, vault: VaultClient, tenant_id: str) -> TransitKey:
    """Make sure the tenant's key-encryption key exists; it never leaves Vault."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidArgument("tenant_id must be 1-64 letters, digits, '-' or '_'")
    return await vault.ensure_transit_key(tenant_key_name(tenant_id))
