"""Envelope keys: the tenant's key-encryption key in Vault, a data key per customer.

The tenant key never leaves Vault Transit. Each customer gets a fresh 256-bit
data key from Transit; the service stores only its wrapped form and keeps the
plaintext in a short-lived cache (:class:`~customer_vault.crypto.DataKeyCache`).

Rotation adds a tenant key version and re-wraps every stored data key with
it — online, without touching a single encrypted field. Erasure goes one step
further for the tenant: after re-wrapping it destroys the old versions, so a
copy of the erased customer's wrapped key (a backup, a replica) can never be
unwrapped again, by anyone.

A new data key is handed out by Vault before the transaction that stores it,
so an erasure may rotate and destroy that key's version in between. Both
sides therefore lock the tenant's ``tenant_key_states`` row: the erasure
destroys versions only after checking, under that lock, that no stored key
still uses them and recording them as retired; a new key of a retired
version is never stored, and the caller gets a fresh one
(:meth:`TenantKeys.store_with_new_data_key`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from customer_vault.crypto import CustomerCipher, DataKeyCache
from customer_vault.models import Customer, OrganizationKey, Share, TenantKeyState
from fieldvault_platform.db import Database
from fieldvault_platform.errors import FailedPrecondition, InvalidArgument, Unavailable
from fieldvault_platform.metrics import DATA_KEY_CACHE
from fieldvault_platform.vault import DataKey, TransitKey, VaultClient

T = TypeVar("T")

_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WRAPPED_VERSION = re.compile(r"^vault:v(\d+):")
#: Data keys re-wrapped per Vault call and per database transaction.
REWRAP_BATCH = 200
#: New data keys tried when erasures keep retiring the version each came from.
NEW_KEY_ATTEMPTS = 3


class KeyHolder(Protocol):
    """A row holding a wrapped data key: a customer, or an organisation's documents."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def wrapped_key(self) -> str | None: ...


class Erased(FailedPrecondition):
    """The customer was erased (GDPR Art. 17): its data can no longer be decrypted."""

    code = "erased"

    def __init__(self) -> None:
        super().__init__("this customer's data was erased")


def tenant_key_name(tenant_id: str) -> str:
    """The tenant's key-encryption key in Vault Transit (matches the service's Vault policy)."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise InvalidArgument("tenant_id must be 1-64 letters, digits, '-' or '_'")
    return f"fv-tenant-{tenant_id}"


def wrapped_version(wrapped: str) -> int:
    match = _WRAPPED_VERSION.match(wrapped)
    if match is None:
        raise ValueError("not a Transit ciphertext")
    return int(match.group(1))


async def lock_key_state(session: AsyncSession, tenant_id: str) -> int:
    """Lock the tenant's key state row (creating it) until the transaction ends.

    Returns the version below which the tenant's key is retired. The no-op
    ``UPDATE … RETURNING`` takes the row lock on PostgreSQL and the write lock
    on SQLite, like the audit chain head.
    """
    lock = (
        update(TenantKeyState)
        .where(TenantKeyState.tenant_id == tenant_id)
        .values(retired_below=TenantKeyState.retired_below)
        .returning(TenantKeyState.retired_below)
    )
    retired_below = await session.scalar(lock)
    if retired_below is None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(TenantKeyState)
            .values(tenant_id=tenant_id, retired_below=0)
            .on_conflict_do_nothing()
        )
        retired_below = (await session.execute(lock)).scalar_one()
    return int(retired_below)


@dataclass
class RotationResult:
    key_version: int
    rewrapped: int


class TenantKeys:
    def __init__(self, vault: VaultClient, cache: DataKeyCache) -> None:
        self._vault = vault
        self._cache = cache
        # Tenants whose key this process has made sure of: one Vault round trip each.
        self._ensured: set[str] = set()

    async def ensure(self, tenant_id: str) -> TransitKey:
        key = await self._vault.ensure_transit_key(tenant_key_name(tenant_id))
        self._ensured.add(tenant_id)
        return key

    async def new_data_key(self, tenant_id: str) -> DataKey:
        """A fresh data key for a new customer (the tenant key is created on first use)."""
        if tenant_id not in self._ensured:
            await self.ensure(tenant_id)
        return await self._vault.generate_data_key(tenant_key_name(tenant_id))

    async def store_with_new_data_key(
        self,
        database: Database,
        tenant_id: str,
        store: Callable[[AsyncSession, DataKey], Awaitable[T]],
    ) -> T:
        """Run ``store`` with a new data key in the transaction that stores its wrapped form.

        The transaction first locks the tenant's key state; a key whose
        version an erasure retired after Vault handed it out is never
        stored (its data would be lost for good) — a new key is fetched.
        """
        for _ in range(NEW_KEY_ATTEMPTS):
            data_key = await self.new_data_key(tenant_id)
            async with database.unit_of_work() as session:
                if wrapped_version(data_key.wrapped) >= await lock_key_state(session, tenant_id):
                    return await store(session, data_key)
        raise Unavailable("the tenant key is being rotated; retry")

    def cipher_from_new_key(
        self, tenant_id: str, customer_id: str, data_key: DataKey
    ) -> CustomerCipher:
        self._cache.put(tenant_id, customer_id, data_key.wrapped, data_key.plaintext)
        return CustomerCipher(tenant_id, customer_id, data_key.plaintext)

    async def cipher(self, holder: KeyHolder) -> CustomerCipher:
        """The holder's cipher; :class:`Erased` once its data key is destroyed."""
        wrapped = holder.wrapped_key
        if wrapped is None:
            raise Erased()
        key = self._cache.get(holder.tenant_id, holder.id, wrapped)
        DATA_KEY_CACHE.labels("hit" if key is not None else "miss").inc()
        if key is None:
            key = await self._vault.decrypt(tenant_key_name(holder.tenant_id), wrapped)
            self._cache.put(holder.tenant_id, holder.id, wrapped, key)
        return CustomerCipher(holder.tenant_id, holder.id, key)

    def forget(self, tenant_id: str, customer_id: str) -> None:
        self._cache.evict(tenant_id, customer_id)

    async def rotate(self, database: Database, tenant_id: str) -> RotationResult:
        """New tenant key version; every data key re-wrapped with it, online."""
        name = tenant_key_name(tenant_id)
        await self.ensure(tenant_id)
        version = await self._vault.rotate_transit_key(name)
        rewrapped = await self._rewrap_below(database, tenant_id, version)
        return RotationResult(version, rewrapped)

    async def shred_old_versions(self, database: Database, tenant_id: str) -> RotationResult:
        """Rotate, re-wrap everything still live, then destroy the older key versions.

        A customer created while this runs may have been given a data key of
        the old version: the re-wrap pass repeats until, under the tenant's
        key state lock, no stored key is left below the new version; the old
        versions are recorded as retired in that same transaction (so such a
        key is refused from then on) and only then destroyed in Vault.
        """
        result = await self.rotate(database, tenant_id)
        while True:
            while await self._rewrap_below(database, tenant_id, result.key_version):
                pass
            if await self._retire_below(database, tenant_id, result.key_version):
                break
        await self._vault.retire_transit_key_versions(
            tenant_key_name(tenant_id), below=result.key_version
        )
        return result

    async def _retire_below(self, database: Database, tenant_id: str, version: int) -> bool:
        """Record versions below ``version`` as retired, unless a stored key still uses one."""
        async with database.unit_of_work() as session:
            retired_below = await lock_key_state(session, tenant_id)
            for model in (Customer, OrganizationKey, Share):
                still_used = await session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(
                        model.tenant_id == tenant_id,
                        model.key_version < version,
                        model.wrapped_key.is_not(None),
                    )
                )
                if still_used:
                    return False
            await session.execute(
                update(TenantKeyState)
                .where(TenantKeyState.tenant_id == tenant_id)
                .values(retired_below=max(retired_below, version))
            )
        return True

    async def _rewrap_below(self, database: Database, tenant_id: str, version: int) -> int:
        total = 0
        for model in (Customer, OrganizationKey, Share):
            total += await self._rewrap_model_below(database, model, tenant_id, version)
        return total

    async def _rewrap_model_below(
        self,
        database: Database,
        model: type[Customer] | type[OrganizationKey] | type[Share],
        tenant_id: str,
        version: int,
    ) -> int:
        name = tenant_key_name(tenant_id)
        mapper: Mapper[Any] = sa_inspect(model)
        key_columns = list(mapper.primary_key)
        total = 0
        while True:
            async with database.unit_of_work() as session:
                rows = (
                    await session.execute(
                        select(*key_columns, model.wrapped_key)
                        .where(
                            model.tenant_id == tenant_id,
                            model.key_version < version,
                            model.wrapped_key.is_not(None),
                        )
                        .order_by(*key_columns)
                        .limit(REWRAP_BATCH)
                    )
                ).all()
            if not rows:
                return total
            rewrapped = await self._vault.rewrap(name, [str(row.wrapped_key) for row in rows])
            async with database.unit_of_work() as session:
                for row, new_wrapped in zip(rows, rewrapped, strict=True):
                    identity = [column == row[i] for i, column in enumerate(key_columns)]
                    # Conditional on the old value: an erasure in between wins.
                    await session.execute(
                        update(model)
                        .where(*identity, model.wrapped_key == row.wrapped_key)
                        .values(wrapped_key=new_wrapped, key_version=wrapped_version(new_wrapped))
                    )
            total += len(rows)
