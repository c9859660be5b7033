"""Finding a customer by name: the whole name exactly, through a keyed blind index."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import update
from vault_testkit import TIMEOUT, RunningVault, new_place, new_tenant_id

from customer_vault.models import Customer
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration

#: "Office Ltd" in full-width letters, as some input methods type it.
FULLWIDTH_OFFICE_LTD = "\uff2f\uff46\uff46\uff49\uff43\uff45 \uff2c\uff54\uff44"


async def found_by_name(vault: RunningVault, metadata: object, name: str) -> list[str]:
    listed = await vault.stub.ListCustomers(
        pb.ListCustomersRequest(name=name), metadata=metadata, timeout=TIMEOUT
    )
    return [c.id for c in listed.customers]


async def test_a_customer_is_found_by_its_whole_name_however_it_is_written(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    place = await new_place(customer_vault, tenant, name="Åsa  Öberg-Lindqvist")
    await new_place(customer_vault, tenant, name="Åsa Öberg", email="other@example.com")
    for query in ("åsa öberg-lindqvist", "  ÅSA\tÖBERG-LINDQVIST ", "Åsa Öberg-Lindqvist"):
        assert await found_by_name(customer_vault, place.dispatcher, query) == [place.customer.id]
    # Exact by design: no prefix, no part of it.
    for part in ("Åsa", "Öberg-Lindqvist", "åsa öberg-lindq"):
        assert await found_by_name(customer_vault, place.dispatcher, part) == []


async def test_compatibility_forms_of_a_name_find_each_other(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), name=FULLWIDTH_OFFICE_LTD)
    assert await found_by_name(customer_vault, place.dispatcher, "office ltd") == [
        place.customer.id
    ]


async def test_another_tenants_customer_of_the_same_name_is_not_found(
    customer_vault: RunningVault,
) -> None:
    mine = await new_place(customer_vault, new_tenant_id(), name="Ada Lovelace")
    await new_place(customer_vault, new_tenant_id(), name="Ada Lovelace")
    assert await found_by_name(customer_vault, mine.dispatcher, "Ada Lovelace") == [
        mine.customer.id
    ]


@pytest.mark.parametrize(
    "request_fields",
    [
        {"name": "Ada Lovelace", "email": "ada@example.com"},
        {"name": "Ada Lovelace", "phone": "+44 20 7946 0000"},
        {"name": " \t "},
    ],
)
async def test_a_name_search_with_another_search_term_or_nothing_in_it_is_refused(
    customer_vault: RunningVault, request_fields: dict[str, str]
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.ListCustomers(
            pb.ListCustomersRequest(**request_fields), metadata=place.dispatcher, timeout=TIMEOUT
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_customer_stored_before_names_were_indexed_is_found_after_its_next_write(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), name="Grace Hopper")
    async with customer_vault.database.unit_of_work() as session:
        await session.execute(
            update(Customer).where(Customer.id == place.customer.id).values(name_index=None)
        )
    assert await found_by_name(customer_vault, place.dispatcher, "grace hopper") == []

    await customer_vault.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(id=place.customer.id, etag='"1"', notes="Back door"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )

    assert await found_by_name(customer_vault, place.dispatcher, "grace hopper") == [
        place.customer.id
    ]


async def test_a_renamed_customer_is_found_by_the_new_name_only(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), name="Grace Hopper")
    await customer_vault.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(id=place.customer.id, etag='"1"', name="Grace Brewster Hopper"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    assert await found_by_name(customer_vault, place.dispatcher, "grace hopper") == []
    assert await found_by_name(customer_vault, place.dispatcher, "Grace Brewster Hopper") == [
        place.customer.id
    ]


async def test_the_name_index_holds_no_form_of_the_name(customer_vault: RunningVault) -> None:
    name = "Canary Quintessa Vantablack"
    place = await new_place(customer_vault, new_tenant_id(), name=name)
    async with customer_vault.database.unit_of_work() as session:
        row = await session.get(Customer, place.customer.id)
        assert row is not None
        stored = row.name_index
    assert stored is not None and stored.startswith("vault:v")
    for form in (name, name.casefold(), "Quintessa", "quintessa", name.encode().hex()):
        assert form not in stored
