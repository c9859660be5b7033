"""Field encryption with a customer's data key: AES-256-GCM, bound to where it is stored.

The associated data names tenant, customer, table, record and field — and,
for a record that belongs to something inside the customer (a code to its
site), that owner too — so a ciphertext copied into another row, another
field, another site or another customer's record fails authentication
instead of decrypting there. Every stored value
is ``version byte || 96-bit random nonce || ciphertext+tag``.

Data keys are cached in memory (bounded, short-lived) so that a technician's
reveal does not wait on Vault every time. Evicted keys are overwritten in
place; Python copies bytes freely (the AES context holds its own copy), so
this narrows, not closes, the window in which key material sits in memory.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldvault_platform.errors import DomainError

_FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in ids or field names


class CannotDecrypt(DomainError):
    """A stored value failed authentication: moved, altered, or under another key."""

    #: Stored data that fails authentication is corrupt or tampered with: data loss.
    status = grpc.StatusCode.DATA_LOSS
    code = "cannot_decrypt"

    def __init__(self) -> None:
        # Never name the value or the key: only that this record cannot be read.
        super().__init__("a stored value could not be decrypted")


@dataclass(frozen=True, slots=True)
class FieldLocation:
    """Where a ciphertext belongs; its bytes are the AES-GCM associated data."""

    tenant_id: str
    customer_id: str
    table: str
    record_id: str
    field: str
    #: What the record belongs to within the customer (``site:<id>``); None for
    #: the original layout, which names the record alone.
    owner: str | None = None

    def associated_data(self) -> bytes:
        parts: tuple[str, ...] = ("fieldvault/v1", self.tenant_id, self.customer_id, self.table)
        if self.owner is not None:
            parts = ("fieldvault/v2", self.tenant_id, self.customer_id, self.table, self.owner)
        return _SEPARATOR.join((*parts, self.record_id, self.field)).encode()


class CustomerCipher:
    """Encrypts and decrypts one customer's fields with its data key."""

    def __init__(self, tenant_id: str, customer_id: str, key: bytes) -> None:
        self._tenant_id = tenant_id
        self._customer_id = customer_id
        self._aead = AESGCM(key)

    def _location(self, table: str, record_id: str, field: str, owner: str | None) -> bytes:
        return FieldLocation(
            self._tenant_id, self._customer_id, table, record_id, field, owner
        ).associated_data()

    def seal(
        self,
        table: str,
        record_id: str,
        field: str,
        value: str | bytes,
        *,
        owner: str | None = None,
    ) -> bytes:
        plaintext = value.encode() if isinstance(value, str) else value
        nonce = os.urandom(_NONCE_BYTES)
        location = self._location(table, record_id, field, owner)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, location)

    def seal_optional(self, table: str, record_id: str, field: str, value: str) -> bytes | None:
        """Ciphertext of a non-empty value; None stores "not given" (an empty field)."""
        return self.seal(table, record_id, field, value) if value else None

    def open_bytes(
        self, table: str, record_id: str, field: str, stored: bytes, *, owner: str | None = None
    ) -> bytes:
        if len(stored) < 1 + _NONCE_BYTES + 16 or stored[:1] != _FORMAT_V1:
            raise CannotDecrypt()
        nonce, sealed = stored[1 : 1 + _NONCE_BYTES], stored[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, self._location(table, record_id, field, owner))
        except InvalidTag:
            raise CannotDecrypt() from None

    def open(
        self,
        table: str,
        record_id: str,
        field: str,
        stored: bytes | None,
        *,
        owner: str | None = None,
    ) -> str:
        """The plaintext of a stored field; "" for a field never given."""
        if stored is None:
            return ""
        return self.open_bytes(table, record_id, field, stored, owner=owner).decode()


@dataclass
class _CachedKey:
    key: bytearray
    wrapped: str
    expires_at: float


class DataKeyCache:
    """A bounded LRU of plaintext data keys per (tenant, customer), each living ``ttl`` seconds.

    An entry is used only for the wrapped key it was unwrapped from, so a
    re-wrap or an erasure elsewhere is never answered from a stale entry
    (erasure also evicts here at once). ``max_entries=0`` disables caching.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], _CachedKey] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, tenant_id: str, customer_id: str, wrapped: str) -> bytes | None:
        entry = self._entries.get((tenant_id, customer_id))
        if entry is None:
            return None
        if entry.expires_at <= self._clock() or entry.wrapped != wrapped:
            # A rewrap changes only the wrapping: same plaintext. Still, the
            # entry is re-validated against Vault rather than trusted.
            self._evict((tenant_id, customer_id))
            return None
        self._entries.move_to_end((tenant_id, customer_id))
        return bytes(entry.key)

    def put(self, tenant_id: str, customer_id: str, wrapped: str, key: bytes) -> None:
        if self._max_entries <= 0 or self._ttl <= 0:
            return
        self._evict((tenant_id, customer_id))
        self._entries[(tenant_id, customer_id)] = _CachedKey(
            bytearray(key), wrapped, self._clock() + self._ttl
        )
        while len(self._entries) > self._max_entries:
            self._evict(next(iter(self._entries)))

    def evict(self, tenant_id: str, customer_id: str) -> None:
        self._evict((tenant_id, customer_id))

    def _evict(self, cache_key: tuple[str, str]) -> None:
        entry = self._entries.pop(cache_key, None)
        if entry is not None:
            entry.key[:] = bytes(len(entry.key))  # zeroise in place
