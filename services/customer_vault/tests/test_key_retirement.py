"""An erasure destroys the tenant's older key versions: never one that a customer being
created at that moment was given its data key under (that customer's data would be lost
for good). Real OpenBao and database; the two requests are interleaved at the exact
point where the window was: after Vault hands out the new data key, before it is stored."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import hvac
import pytest
from sqlalchemy import select
from vault_testkit import TIMEOUT, RunningVault, new_place, new_tenant_id

from customer_vault.keys import TenantKeys, tenant_key_name
from customer_vault.models import Customer, TenantKeyState
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.db import Database
from fieldvault_platform.vault import DataKey

pytestmark = pytest.mark.integration


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    # No data-key cache: reading the new customer back must unwrap its key through Vault.
    return {"data_key_cache_size": 0}


async def test_a_customer_created_during_an_erasure_keeps_a_data_key_of_a_live_version(
    customer_vault: RunningVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant_id()
    leaving = await new_place(customer_vault, tenant)
    dpo = await customer_vault.mint.user(tenant, roles=["dpo"])
    handed_out: list[DataKey] = []
    original = TenantKeys.new_data_key

    async def erasure_between_key_and_insert(self: TenantKeys, tenant_id: str) -> DataKey:
        data_key = await original(self, tenant_id)
        if not handed_out:
            # Vault has handed out a key of the current version; before the new customer
            # is stored, another customer's erasure rotates and destroys older versions.
            await customer_vault.stub.EraseCustomer(
                pb.EraseCustomerRequest(id=leaving.customer.id, reason="Art. 17 request"),
                metadata=dpo,
                timeout=TIMEOUT,
            )
        handed_out.append(data_key)
        return data_key

    monkeypatch.setattr(TenantKeys, "new_data_key", erasure_between_key_and_insert)
    created = await customer_vault.stub.CreateCustomer(
        pb.CreateCustomerRequest(area_id=leaving.area_id, name="Grace Hopper"),
        metadata=leaving.dispatcher,
        timeout=TIMEOUT,
    )
    monkeypatch.undo()
    assert handed_out[0].wrapped.startswith("vault:v1:"), "the erasure came after the key"

    # Readable: its data key is wrapped with a version Vault still has.
    read = await customer_vault.stub.GetCustomer(
        pb.GetCustomerRequest(id=created.customer.id), metadata=leaving.dispatcher, timeout=TIMEOUT
    )
    assert read.customer.name == "Grace Hopper"
    root = hvac.Client(url=customer_vault.openbao.addr, token=customer_vault.openbao.root_token)
    key = await asyncio.to_thread(root.secrets.transit.read_key, name=tenant_key_name(tenant))
    assert key["data"]["min_decryption_version"] == 2, "version 1 was destroyed"
    async with customer_vault.database.unit_of_work() as session:
        stored = await session.get(Customer, created.customer.id)
        state = await session.scalar(
            select(TenantKeyState).where(TenantKeyState.tenant_id == tenant)
        )
    assert stored is not None and stored.key_version == 2
    assert state is not None and state.retired_below == 2


async def test_a_key_stored_after_the_last_rewrap_pass_is_rewrapped_before_versions_go(
    customer_vault: RunningVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = new_tenant_id()
    leaving = await new_place(customer_vault, tenant)
    dpo = await customer_vault.mint.user(tenant, roles=["dpo"])
    root = hvac.Client(url=customer_vault.openbao.addr, token=customer_vault.openbao.root_token)
    # A creation that got its data key before the erasure rotated the tenant key…
    handed_out = await asyncio.to_thread(
        root.secrets.transit.generate_data_key, name=tenant_key_name(tenant), key_type="plaintext"
    )
    wrapped_v1 = handed_out["data"]["ciphertext"]
    late_id = str(uuid.uuid4())
    original = TenantKeys._rewrap_below
    stored: list[str] = []
    empty_passes: list[int] = []

    async def store_when_nothing_is_left(
        self: TenantKeys, database: Database, tenant_id: str, version: int
    ) -> int:
        rewrapped = await original(self, database, tenant_id, version)
        empty_passes.extend([version] if rewrapped == 0 else [])
        # The rotation's own pass finds nothing (the erased key is gone), then the
        # erasure's pass before destroying versions finds nothing either…
        if len(empty_passes) == 2 and not stored:
            # …and right then the creation commits.
            now = datetime.now(UTC)
            async with database.unit_of_work() as session:
                session.add(
                    Customer(
                        id=late_id,
                        tenant_id=tenant,
                        wrapped_key=wrapped_v1,
                        key_version=1,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
            stored.append(late_id)
        return rewrapped

    monkeypatch.setattr(TenantKeys, "_rewrap_below", store_when_nothing_is_left)
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=leaving.customer.id, reason="Art. 17 request"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    monkeypatch.undo()
    assert stored, "the late customer was stored during the erasure"

    async with customer_vault.database.unit_of_work() as session:
        late = await session.get(Customer, late_id)
    assert late is not None and late.key_version == 2
    # Its data key can still be unwrapped: nothing it encrypted is lost.
    unwrapped = await asyncio.to_thread(
        root.secrets.transit.decrypt_data, name=tenant_key_name(tenant), ciphertext=late.wrapped_key
    )
    assert unwrapped["data"]["plaintext"] == handed_out["data"]["plaintext"]
