"""GDPR: the DPO's export holds everything including who looked, and erasure shreds for good."""

from __future__ import annotations

import asyncio
import json

import grpc
import hvac
import hvac.exceptions
import pytest
from sqlalchemy import select
from vault_testkit import (
    TIMEOUT,
    RunningVault,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    reveal,
)

from customer_vault.keys import tenant_key_name
from customer_vault.models import Customer
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


async def test_the_export_holds_the_customers_data_codes_and_access_history(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1", work_order_id="wo-9")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    revealed = await reveal(customer_vault, place.site.id, technician)
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"], user_id="dpo-1")
    exported = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(id=place.customer.id), metadata=dpo, timeout=TIMEOUT
    )
    document = json.loads(exported.document)
    assert document["customer"]["email"] == "ada@example.com"
    assert document["sites"][0]["secrets"][0]["value"] == "4711"
    assert document["grants"][0]["work_order_id"] == "wo-9"
    history = {(e["action"], e["actor_id"], e["purpose"]) for e in document["access_history"]}
    assert ("secret.reveal", "tech-1", "wo-9") in history
    assert revealed.audit_event_id in {e["id"] for e in document["access_history"]}
    # The export is itself on the record.
    auditor = await customer_vault.mint.user(place.tenant_id, roles=["auditor"])
    trail = await customer_vault.stub.ListAuditEvents(
        pb.ListAuditEventsRequest(action="customer.export"), metadata=auditor, timeout=TIMEOUT
    )
    assert [(e.actor_id, e.customer_id) for e in trail.events] == [("dpo-1", place.customer.id)]


async def test_only_the_dpo_exports_and_erases(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    admin = await customer_vault.mint.user(place.tenant_id, roles=["admin"])
    for caller in (place.dispatcher, admin):
        for call, request in (
            (customer_vault.stub.ExportCustomer, pb.ExportCustomerRequest(id=place.customer.id)),
            (
                customer_vault.stub.EraseCustomer,
                pb.EraseCustomerRequest(id=place.customer.id, reason="asked"),
            ),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(request, metadata=caller, timeout=TIMEOUT)  # type: ignore[operator]
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_erasure_shreds_the_customer_and_leaves_the_others_readable(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    erased = await new_place(customer_vault, tenant, door_code="1234")
    kept = await new_place(customer_vault, tenant, email="kept@example.com", door_code="5678")
    await grant(customer_vault, erased, user_id="tech-1")
    await grant(customer_vault, kept, user_id="tech-1")
    async with customer_vault.database.unit_of_work() as session:
        wrapped_before = await session.scalar(
            select(Customer.wrapped_key).where(Customer.id == erased.customer.id)
        )
    assert wrapped_before is not None

    dpo = await customer_vault.mint.user(tenant, roles=["dpo"])
    response = await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=erased.customer.id, reason="Art. 17 request of 2026-11-28"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    assert response.customer_id == erased.customer.id
    # Erasing again is harmless (a retry).
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=erased.customer.id, reason="retry"),
        metadata=dpo,
        timeout=TIMEOUT,
    )

    technician = await customer_vault.mint.user(tenant, roles=["technician"], user_id="tech-1")
    for attempt in (
        customer_vault.stub.GetCustomer(
            pb.GetCustomerRequest(id=erased.customer.id), metadata=dpo, timeout=TIMEOUT
        ),
        customer_vault.stub.ExportCustomer(
            pb.ExportCustomerRequest(id=erased.customer.id), metadata=dpo, timeout=TIMEOUT
        ),
        customer_vault.stub.GetSite(
            pb.GetSiteRequest(id=erased.site.id), metadata=erased.dispatcher, timeout=TIMEOUT
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await attempt
        assert (caught.value.code(), error_code(caught.value)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "erased",
        )
    # The erasure revoked its grants: the reveal is refused before anything else.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await reveal(customer_vault, erased.site.id, technician)
    assert error_code(caught.value) == "no_active_grant"
    # Not findable any more, and nothing personal left in its row.
    found = await customer_vault.stub.ListCustomers(
        pb.ListCustomersRequest(email="ada@example.com"), metadata=dpo, timeout=TIMEOUT
    )
    assert list(found.customers) == []
    async with customer_vault.database.unit_of_work() as session:
        stub = await session.get(Customer, erased.customer.id)
    assert stub is not None and stub.erased_at is not None
    assert (stub.wrapped_key, stub.name_ct, stub.email_index) == (None, None, None)

    # Even with root access to Vault, the wrapped key copied before erasure is useless:
    # the tenant key versions that could unwrap it are destroyed.
    root = hvac.Client(url=customer_vault.openbao.addr, token=customer_vault.openbao.root_token)
    with pytest.raises(hvac.exceptions.VaultError):
        await asyncio.to_thread(
            root.secrets.transit.decrypt_data,
            name=tenant_key_name(tenant),
            ciphertext=wrapped_before,
        )
    key = await asyncio.to_thread(root.secrets.transit.read_key, name=tenant_key_name(tenant))
    assert key["data"]["min_decryption_version"] == key["data"]["latest_version"]

    # The other customer of the tenant is untouched.
    assert (await reveal(customer_vault, kept.site.id, technician)).value == "5678"
    other = await customer_vault.stub.GetCustomer(
        pb.GetCustomerRequest(id=kept.customer.id), metadata=dpo, timeout=TIMEOUT
    )
    assert other.customer.email == "kept@example.com"
