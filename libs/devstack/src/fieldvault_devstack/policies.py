"""Least-privilege Vault policies, one per service that talks to Vault.

Vault globs (``*``) only work as the last character of a path; ``+`` matches
exactly one segment, which is what the datakey type (``plaintext``/``wrapped``)
needs. Nothing here grants ``sys/``, ``delete`` on keys, or another service's
KV subtree.
"""

from __future__ import annotations

CUSTOMER_VAULT_POLICY = """
# Per-tenant key-encryption keys: envelope encryption of per-customer data keys.
path "transit/encrypt/fv-tenant-*"     { capabilities = ["update"] }
path "transit/decrypt/fv-tenant-*"     { capabilities = ["update"] }
path "transit/rewrap/fv-tenant-*"      { capabilities = ["update"] }
path "transit/datakey/+/fv-tenant-*"   { capabilities = ["update"] }
path "transit/keys/fv-tenant-*"        { capabilities = ["create", "read", "update"] }

# Keyed blind index for exact-match search on email/phone.
path "transit/hmac/fv-blind-index-*"   { capabilities = ["update"] }
path "transit/keys/fv-blind-index-*"   { capabilities = ["create", "read", "update"] }

path "kv/data/customer_vault/*"        { capabilities = ["create", "read", "update", "delete"] }
path "kv/metadata/customer_vault/*"    { capabilities = ["read", "list", "delete"] }
"""

IDENTITY_POLICY = """
# Token signing keys stay inside Vault: sign/verify only, never export.
path "transit/sign/fv-identity-*"      { capabilities = ["update"] }
path "transit/verify/fv-identity-*"    { capabilities = ["update"] }
path "transit/keys/fv-identity-*"      { capabilities = ["create", "read", "update"] }
# TOTP seeds are stored as Transit ciphertext of fv-identity-totp.
path "transit/encrypt/fv-identity-*"   { capabilities = ["update"] }
path "transit/decrypt/fv-identity-*"   { capabilities = ["update"] }
# Keyed hashes (API-client secrets, invitation tokens) under fv-identity-hmac
# (verifying one uses transit/verify, granted above).
path "transit/hmac/fv-identity-*"      { capabilities = ["update"] }

path "kv/data/identity/*"              { capabilities = ["create", "read", "update", "delete"] }
path "kv/metadata/identity/*"          { capabilities = ["read", "list", "delete"] }
"""

SERVICE_POLICIES: dict[str, str] = {
    "customer_vault": CUSTOMER_VAULT_POLICY,
    "identity": IDENTITY_POLICY,
}


def policy_name(service: str) -> str:
    return f"fieldvault-{service.replace('_', '-')}"
