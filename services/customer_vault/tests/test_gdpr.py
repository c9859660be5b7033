"""GDPR: the DPO's export holds everything including who looked, and erasure shreds for good."""

from __future__ import annotations

import asyncio
import hashlib
import json

import grpc
import hvac
import hvac.exceptions
import pytest
from sqlalchemy import select
from vault_testkit import (
    TIMEOUT,
    RunningVault,
    audit_events,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    published,
    reveal,
)

from customer_vault.keys import tenant_key_name
from customer_vault.models import Contract, Customer
from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as events_pb
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"export_values_rate_limit": 2}


async def test_the_export_holds_data_and_access_history_and_lists_codes_without_values(
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
    assert document["secret_values_included"] is False
    [code] = document["sites"][0]["secrets"]
    assert (code["kind"], code["version"], "value" in code) == ("door_code", 1, False)
    assert code["written_at"]
    assert "DOOR-4711-CANARY" not in exported.document.decode()
    assert document["grants"][0]["work_order_id"] == "wo-9"
    history = {(e["action"], e["actor_id"], e["purpose"]) for e in document["access_history"]}
    assert ("secret.reveal", "tech-1", "wo-9") in history
    assert revealed.audit_event_id in {e["id"] for e in document["access_history"]}
    # The export is itself on the record, revealing no code.
    [record] = await audit_events(customer_vault, place.tenant_id, action="customer.export")
    assert (record.actor_id, record.customer_id, list(record.fields), record.purpose) == (
        "dpo-1",
        place.customer.id,
        [],
        "",
    )
    await asyncio.sleep(0.5)  # what the relay would publish by now
    assert (
        await published(
            customer_vault.settings.nats_url, place.tenant_id, "secret_values_exported", timeout=0.5
        )
        == []
    )


async def test_exporting_code_values_needs_a_reason(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"])
    for reason in ("", "   ", "because"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.ExportCustomer(
                pb.ExportCustomerRequest(
                    id=place.customer.id, include_secret_values=True, reason=reason
                ),
                metadata=dpo,
                timeout=TIMEOUT,
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "reason" in (caught.value.details() or "")
    assert await audit_events(customer_vault, place.tenant_id, action="customer.export") == []


async def test_an_export_with_code_values_is_audited_with_the_kinds_and_alerts_the_auditors(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), door_code="DOOR-4711-CANARY")
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=place.site.id, kind=pb.SECRET_KIND_ALARM_CODE, value="9090"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"], user_id="dpo-1")
    reason = "Data subject asked for the codes we hold (ticket 5512)"
    exported = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(id=place.customer.id, include_secret_values=True, reason=reason),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    document = json.loads(exported.document)
    assert document["secret_values_included"] is True
    values = {(s["kind"], s["value"]) for s in document["sites"][0]["secrets"]}
    assert values == {("door_code", "DOOR-4711-CANARY"), ("alarm_code", "9090")}

    [record] = await audit_events(customer_vault, place.tenant_id, action="customer.export")
    assert (record.actor_id, list(record.fields), record.purpose, record.reason) == (
        "dpo-1",
        ["alarm_code", "door_code"],
        "secret_values",
        reason,
    )
    [payload] = await published(
        customer_vault.settings.nats_url, place.tenant_id, "secret_values_exported"
    )
    alert = events_pb.SecretValuesExported.FromString(payload)
    assert (alert.audit_event_id, alert.user_id, alert.customer_id, list(alert.kinds)) == (
        record.id,
        "dpo-1",
        place.customer.id,
        ["alarm_code", "door_code"],
    )
    for leaked in (b"DOOR-4711-CANARY", b"9090", b"ticket 5512"):
        assert leaked not in payload


async def test_exports_with_code_values_are_rate_limited_per_dpo(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"], user_id="dpo-1")
    with_values = pb.ExportCustomerRequest(
        id=place.customer.id, include_secret_values=True, reason="Art. 15 request 2026-12-04"
    )
    for _ in range(2):  # the limit in this module
        await customer_vault.stub.ExportCustomer(with_values, metadata=dpo, timeout=TIMEOUT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.ExportCustomer(with_values, metadata=dpo, timeout=TIMEOUT)
    assert (caught.value.code(), error_code(caught.value)) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "rate_limited",
    )
    assert ("fieldvault-retry-after", "86400") in tuple(caught.value.trailing_metadata() or ())
    assert "DOOR-4711-CANARY" not in str(caught.value)
    records = await audit_events(customer_vault, place.tenant_id, action="customer.export")
    assert [(r.outcome, r.reason) for r in records if r.outcome == "denied"] == [
        ("denied", "rate_limited")
    ]
    # Without values the same DPO still exports; another DPO still may ask for values.
    plain = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(id=place.customer.id), metadata=dpo, timeout=TIMEOUT
    )
    assert b"DOOR-4711-CANARY" not in plain.document
    other = await customer_vault.mint.user(place.tenant_id, roles=["dpo"], user_id="dpo-2")
    again = await customer_vault.stub.ExportCustomer(with_values, metadata=other, timeout=TIMEOUT)
    assert b"DOOR-4711-CANARY" in again.document


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


async def test_erasure_leaves_no_contract_size_or_hash_behind(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    document = b"%PDF-1.7 service contract of Ada Lovelace"
    uploaded = await customer_vault.stub.UploadContract(
        pb.UploadContractRequest(
            customer_id=place.customer.id,
            filename="contract.pdf",
            content_type="application/pdf",
            content=document,
        ),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    assert uploaded.contract.sha256 == hashlib.sha256(document).hexdigest()
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"])
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=place.customer.id, reason="Art. 17 request of 2026-12-04"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    async with customer_vault.database.unit_of_work() as session:
        stub = await session.get(Contract, uploaded.contract.id)
    assert stub is not None, "the contract's stub (id, type, dates) stays"
    assert (stub.size, stub.sha256, stub.filename_ct, stub.content_ct) == (None, None, None, None)
    assert stub.content_type == "application/pdf"
