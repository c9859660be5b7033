"""A code is sealed to its site too: a row moved to another site of the same customer no
longer decrypts. Codes sealed before that (associated data version 1) stay readable and are
re-sealed by key rotation and by the site's next code write."""

from __future__ import annotations

import asyncio
import base64
import uuid

import grpc
import hvac
import pytest
from sqlalchemy import select, text
from vault_testkit import (
    TIMEOUT,
    Place,
    RunningVault,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    reveal,
)

from customer_vault.crypto import CustomerCipher
from customer_vault.keys import tenant_key_name
from customer_vault.models import Customer, SiteSecret
from customer_vault.records.site_secrets import TABLE
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


async def second_site(vault: RunningVault, place: Place) -> pb.Site:
    site: pb.Site = (
        await vault.stub.CreateSite(
            pb.CreateSiteRequest(
                customer_id=place.customer.id,
                area_id=place.area_id,
                name="Harbour Annex",
                address="3 Harbour Road, Portsmouth",
            ),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    ).site
    return site


async def door_code_row(vault: RunningVault, site_id: str) -> SiteSecret:
    async with vault.database.unit_of_work() as session:
        row = await session.scalar(
            select(SiteSecret)
            .where(SiteSecret.site_id == site_id, SiteSecret.kind == "door_code")
            .order_by(SiteSecret.version.desc())
            .limit(1)
        )
    assert row is not None
    return row


async def customer_cipher(vault: RunningVault, tenant_id: str, customer_id: str) -> CustomerCipher:
    """The customer's cipher, as someone with root access to Vault could build it."""
    async with vault.database.unit_of_work() as session:
        customer = await session.get(Customer, customer_id)
    assert customer is not None
    root = hvac.Client(url=vault.openbao.addr, token=vault.openbao.root_token)
    unwrapped = await asyncio.to_thread(
        root.secrets.transit.decrypt_data,
        name=tenant_key_name(tenant_id),
        ciphertext=customer.wrapped_key,
    )
    return CustomerCipher(tenant_id, customer_id, base64.b64decode(unwrapped["data"]["plaintext"]))


async def technician_at(vault: RunningVault, place: Place, site: pb.Site) -> tuple[str, ...]:
    await grant(
        vault,
        Place(place.tenant_id, place.area_id, place.customer, site, place.dispatcher),
        user_id="tech-1",
    )
    return await vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-1")


async def test_a_code_row_moved_to_another_site_of_the_same_customer_does_not_decrypt(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), door_code="1111")
    other = await second_site(customer_vault, place)
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=other.id, kind=pb.SECRET_KIND_DOOR_CODE, value="2222"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    moved = await door_code_row(customer_vault, place.site.id)
    async with customer_vault.database.engine.begin() as connection:
        # The first site's code, row and all, now posing as the other site's latest code.
        await connection.execute(
            text("UPDATE site_secrets SET site_id = :site, version = 99 WHERE id = :id"),
            {"site": other.id, "id": moved.id},
        )
    technician = await technician_at(customer_vault, place, other)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await reveal(customer_vault, other.id, technician)
    assert (caught.value.code(), error_code(caught.value)) == (
        grpc.StatusCode.DATA_LOSS,
        "cannot_decrypt",
    )
    assert "1111" not in str(caught.value)
    # Nor can it be passed off as a row of the older, site-less format.
    async with customer_vault.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE site_secrets SET aad_version = 1 WHERE id = :id"), {"id": moved.id}
        )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await reveal(customer_vault, other.id, technician)
    assert caught.value.code() == grpc.StatusCode.DATA_LOSS


async def plant_old_format_code(vault: RunningVault, place: Place, value: str) -> str:
    """A door code as stored before migration 0006: sealed without its site."""
    cipher = await customer_cipher(vault, place.tenant_id, place.customer.id)
    secret_id = str(uuid.uuid4())
    async with vault.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE site_secrets SET id = :new_id, value_ct = :value_ct, aad_version = 1 "
                "WHERE site_id = :site"
            ),
            {
                "new_id": secret_id,
                "value_ct": cipher.seal(TABLE, secret_id, "door_code", value),
                "site": place.site.id,
            },
        )
    return secret_id


async def test_an_old_format_code_still_decrypts_and_key_rotation_reseals_it_to_its_site(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    secret_id = await plant_old_format_code(customer_vault, place, "DOOR-4711-CANARY")
    technician = await technician_at(customer_vault, place, place.site)
    assert (await reveal(customer_vault, place.site.id, technician)).value == "DOOR-4711-CANARY"

    admin = await customer_vault.mint.user(place.tenant_id, roles=["admin"])
    await customer_vault.stub.RotateTenantKey(
        pb.RotateTenantKeyRequest(tenant_id=place.tenant_id), metadata=admin, timeout=TIMEOUT
    )
    row = await door_code_row(customer_vault, place.site.id)
    assert (row.id, row.aad_version) == (secret_id, 2)
    assert (await reveal(customer_vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
    # Re-sealed with the site bound in: opening it the old way fails now.
    cipher = await customer_cipher(customer_vault, place.tenant_id, place.customer.id)
    assert row.value_ct is not None
    assert cipher.open(TABLE, row.id, "door_code", row.value_ct, owner=f"site:{place.site.id}")
    with pytest.raises(Exception, match="could not be decrypted"):
        cipher.open(TABLE, row.id, "door_code", row.value_ct)


async def test_the_sites_next_code_write_reseals_its_old_format_codes(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    secret_id = await plant_old_format_code(customer_vault, place, "DOOR-4711-CANARY")
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=place.site.id, kind=pb.SECRET_KIND_DOOR_CODE, value="8080"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    async with customer_vault.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(SiteSecret)
                .where(SiteSecret.site_id == place.site.id)
                .order_by(SiteSecret.version)
            )
        ).all()
    assert [(r.id == secret_id, r.aad_version) for r in rows] == [(True, 2), (False, 2)]
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"])
    exported = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(
            id=place.customer.id, include_secret_values=True, reason="Art. 15 request 2026-12"
        ),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    assert (
        b'"value": "DOOR-4711-CANARY"' in exported.document
        and b'"value": "8080"' in exported.document
    )
