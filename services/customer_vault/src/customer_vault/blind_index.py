"""Keyed blind indexes: exact-match search on email, phone and name without storing plaintext.

The index is an HMAC-SHA256 under a per-tenant Transit key that never leaves
Vault, over the normalised value, so equal addresses written differently
("Ada@Example.com ", "ada@example.com") find each other, and a stolen
database cannot be searched by hashing guesses. Door, alarm and key-safe
codes never get an index: a handful of digits would fall to a dictionary
whatever the key. A name is found only whole (after normalising): an index
of prefixes or parts would tell which customers share them.
"""

from __future__ import annotations

import re
import unicodedata

from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.vault import VaultClient

_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"^\+?\d{4,20}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidArgument("email must look like name@domain")
    return email


def normalise_phone(value: str) -> str:
    """Digits with an optional leading '+'; spaces, dots, dashes, slashes and brackets dropped."""
    phone = _PHONE_SEPARATORS.sub("", value.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _PHONE.fullmatch(phone):
        raise InvalidArgument("phone must be 4-20 digits, optionally with a leading '+'")
    return phone


def normalise_name(value: str) -> str:
    """Unicode NFKC, case-folded, whitespace runs collapsed to one space and trimmed."""
    name = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    if not name:
        raise InvalidArgument("name must not be blank")
    return name


def index_key_name(tenant_id: str) -> str:
    return f"fv-blind-index-{tenant_id}"


class BlindIndex:
    def __init__(self, vault: VaultClient) -> None:
        self._vault = vault
        self._ensured: set[str] = set()

    async def _compute(self, tenant_id: str, kind: str, normalised: str) -> str:
        key = index_key_name(tenant_id)
        if tenant_id not in self._ensured:
            await self._vault.ensure_transit_key(key)
            self._ensured.add(tenant_id)
        # The kind is part of the input: an email never matches a phone index.
        return await self._vault.hmac(key, f"{kind}:{normalised}".encode())

    async def email(self, tenant_id: str, value: str) -> str | None:
        if not value:
            return None
        return await self._compute(tenant_id, "email", normalise_email(value))

    async def phone(self, tenant_id: str, value: str) -> str | None:
        if not value:
            return None
        return await self._compute(tenant_id, "phone", normalise_phone(value))

    async def key_tag(self, tenant_id: str, normalised: str) -> str:
        """A physical key's tag code, already normalised.

        See :mod:`customer_vault.records.tag_codes`.
        """
        return await self._compute(tenant_id, "key_tag", normalised)

    async def name(self, tenant_id: str, value: str) -> str | None:
        if not value:
            return None
        return await self._compute(tenant_id, "name", normalise_name(value))

    async def share_secret(self, tenant_id: str, kind: str, share_id: str, secret: str) -> str:
        """A keyed hash of a share's link token or PIN, bound to the share (no index use)."""
        return await self._compute(tenant_id, f"share_{kind}", f"{share_id}:{secret}")
