"""Envelope encryption as stored: nothing personal in the clear, ciphertexts bound to their
place, Vault outages answered UNAVAILABLE without half-writes, key rotation online."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select, text
from vault_testkit import (
    TIMEOUT,
    RunningVault,
    database_file,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    reveal,
    stored_bytes,
    vault_settings,
)

from customer_vault.main import build_runtime
from customer_vault.models import AuditRecord, Customer, SiteSecret
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.integration

CANARY_NAME = "Canary Quintessa Vantablack"
CANARY_EMAIL = "quintessa.canary@example.org"
CANARY_PHONE = "+44 7700 900461"
CANARY_DOOR_CODE = "C4N4RY-D00R-9183"
CANARY_DOCUMENT = b"%PDF-1.7 canary contract body 5512"


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    # No data-key cache: every read must unwrap through Vault, which is what
    # the outage and rotation tests are about.
    return {"data_key_cache_size": 0}


async def test_personal_data_and_codes_are_never_stored_in_the_clear(
    customer_vault: RunningVault, database_url: str
) -> None:
    place = await new_place(
        customer_vault,
        new_tenant_id(),
        name=CANARY_NAME,
        email=CANARY_EMAIL,
        phone=CANARY_PHONE,
        door_code=CANARY_DOOR_CODE,
    )
    await customer_vault.stub.UploadContract(
        pb.UploadContractRequest(
            customer_id=place.customer.id,
            filename="contract.pdf",
            content_type="application/pdf",
            content=CANARY_DOCUMENT,
        ),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    raw = await stored_bytes(customer_vault, database_file(database_url))
    assert place.customer.id.encode() in raw, "the dump must hold the rows it checks"
    for canary in (CANARY_NAME, CANARY_EMAIL, CANARY_PHONE, CANARY_DOOR_CODE):
        for form in (canary.encode(), canary.encode().hex().encode(), canary.lower().encode()):
            assert form not in raw
    assert CANARY_DOCUMENT not in raw and CANARY_DOCUMENT.hex().encode() not in raw


async def test_a_ciphertext_moved_to_another_row_or_field_does_not_decrypt(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    first = await new_place(customer_vault, tenant)
    second = await new_place(customer_vault, tenant, email="other@example.com")
    async with customer_vault.database.engine.begin() as connection:
        # Another customer's name into this customer's name: wrong key and wrong record.
        await connection.execute(
            text(
                "UPDATE customers SET name_ct = (SELECT name_ct FROM customers WHERE id = :a) "
                "WHERE id = :b"
            ),
            {"a": first.customer.id, "b": second.customer.id},
        )
        # This customer's email into its own notes: same key, wrong field.
        await connection.execute(
            text("UPDATE customers SET notes_ct = email_ct WHERE id = :a"),
            {"a": first.customer.id},
        )
    for customer_id in (first.customer.id, second.customer.id):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.GetCustomer(
                pb.GetCustomerRequest(id=customer_id), metadata=first.dispatcher, timeout=TIMEOUT
            )
        assert caught.value.code() == grpc.StatusCode.DATA_LOSS
        assert error_code(caught.value) == "cannot_decrypt"


async def test_a_secret_moved_to_another_site_does_not_decrypt(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    first = await new_place(customer_vault, tenant, door_code="1111")
    second = await new_place(customer_vault, tenant, door_code="2222")
    async with customer_vault.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE site_secrets SET value_ct = "
                "(SELECT value_ct FROM site_secrets WHERE site_id = :a) WHERE site_id = :b"
            ),
            {"a": first.site.id, "b": second.site.id},
        )
    await grant(customer_vault, second, user_id="tech-1")
    technician = await customer_vault.mint.user(tenant, roles=["technician"], user_id="tech-1")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await reveal(customer_vault, second.site.id, technician)
    assert caught.value.code() == grpc.StatusCode.DATA_LOSS
    assert "1111" not in str(caught.value)


async def test_key_rotation_rewraps_every_data_key_and_everything_stays_readable(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    places = [
        await new_place(customer_vault, tenant, email=f"c{i}@example.com", door_code=f"90{i}")
        for i in range(3)
    ]
    admin = await customer_vault.mint.user(tenant, roles=["admin"])
    rotated = await customer_vault.stub.RotateTenantKey(
        pb.RotateTenantKeyRequest(tenant_id=tenant), metadata=admin, timeout=TIMEOUT
    )
    assert (rotated.key_version, rotated.rewrapped_count) == (2, 3)
    async with customer_vault.database.unit_of_work() as session:
        rows = (await session.scalars(select(Customer).where(Customer.tenant_id == tenant))).all()
    assert {(row.key_version, row.wrapped_key[:9]) for row in rows} == {(2, "vault:v2:")}  # type: ignore[index]
    for index, place in enumerate(places):
        await grant(customer_vault, place, user_id="tech-1")
        technician = await customer_vault.mint.user(tenant, roles=["technician"], user_id="tech-1")
        assert (await reveal(customer_vault, place.site.id, technician)).value == f"90{index}"
        found = await customer_vault.stub.ListCustomers(
            pb.ListCustomersRequest(email=f"c{index}@example.com"),
            metadata=admin,
            timeout=TIMEOUT,
        )
        assert [c.name for c in found.customers] == ["Ada Lovelace"]
    # A dispatcher may not rotate, nor an admin of another tenant.
    for caller, tenant_id in (
        (places[0].dispatcher, tenant),
        (await customer_vault.mint.user(new_tenant_id(), roles=["admin"]), tenant),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.RotateTenantKey(
                pb.RotateTenantKeyRequest(tenant_id=tenant_id), metadata=caller, timeout=TIMEOUT
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def counts(vault: RunningVault) -> tuple[int, int, int]:
    async with vault.database.unit_of_work() as session:
        return (
            await session.scalar(select(func.count()).select_from(Customer)) or 0,
            await session.scalar(select(func.count()).select_from(SiteSecret)) or 0,
            await session.scalar(select(func.count()).select_from(AuditRecord)) or 0,
        )


async def test_with_vault_stopped_reveal_and_writes_are_unavailable_and_nothing_is_half_written(
    customer_vault: RunningVault,
    openbao_factory: Callable[..., OpenBaoServer],
    identity_service: IdentityProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    bao = openbao_factory()
    credentials = bootstrap_vault(bao.addr, bao.root_token, tmp_path / "creds")
    settings = vault_settings(
        database_url=database_url,
        identity=identity_service,
        openbao=bao,
        credentials=credentials,
        data_key_cache_size=0,
    )
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        vault = RunningVault(
            target,
            customer_vault_pb2_grpc.CustomerVaultServiceStub(channel),
            settings,
            customer_vault.database,
            customer_vault.mint,
            bao,
        )
        place = await new_place(vault, new_tenant_id())
        await grant(vault, place, user_id="tech-1")
        technician = await vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-1")
        assert (await reveal(vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
        before = await counts(vault)

        await asyncio.to_thread(bao.stop)
        attempts = [
            reveal(vault, place.site.id, technician),
            vault.stub.CreateCustomer(
                pb.CreateCustomerRequest(area_id=place.area_id, name="New"),
                metadata=place.dispatcher,
                timeout=TIMEOUT,
            ),
            vault.stub.PutSecret(
                pb.PutSecretRequest(
                    site_id=place.site.id, kind=pb.SECRET_KIND_DOOR_CODE, value="9999"
                ),
                metadata=place.dispatcher,
                timeout=TIMEOUT,
            ),
        ]
        for attempt in attempts:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await attempt
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert (caught.value.details() or "").startswith("Vault is unavailable")
        assert await counts(vault) == before

        await asyncio.to_thread(bao.start)
        assert (await reveal(vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
        await vault.stub.PutSecret(
            pb.PutSecretRequest(site_id=place.site.id, kind=pb.SECRET_KIND_DOOR_CODE, value="9999"),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
        assert (await reveal(vault, place.site.id, technician)).value == "9999"


async def test_operators_rotate_a_tenant_key_from_the_command_line(
    customer_vault: RunningVault,
) -> None:
    import os
    import subprocess
    import sys

    tenant = new_tenant_id()
    place = await new_place(customer_vault, tenant)
    settings = customer_vault.settings
    assert settings.vault_secret_id is not None
    env = {
        **os.environ,
        "FIELDVAULT_ENVIRONMENT": "development",
        "FIELDVAULT_CUSTOMER_VAULT_DATABASE_URL": settings.database_url,
        "FIELDVAULT_CUSTOMER_VAULT_VAULT_ADDR": settings.vault_addr,
        "FIELDVAULT_CUSTOMER_VAULT_VAULT_ROLE_ID": str(settings.vault_role_id),
        "FIELDVAULT_CUSTOMER_VAULT_VAULT_SECRET_ID": settings.vault_secret_id.get_secret_value(),
    }
    completed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "customer_vault", "rotate-tenant-key", tenant],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == (
        "tenant key now at version 2; 1 data keys re-wrapped; 0 codes re-sealed to their site"
    )
    await grant(customer_vault, place, user_id="tech-1")
    technician = await customer_vault.mint.user(tenant, roles=["technician"], user_id="tech-1")
    assert (await reveal(customer_vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
