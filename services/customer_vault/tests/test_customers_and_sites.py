"""Customers and sites: encrypted records, exact-match search, areas and tenants."""

from __future__ import annotations

import grpc
import pytest
from vault_testkit import TIMEOUT, RunningVault, error_code, grant, new_place, new_tenant_id

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


async def test_a_dispatcher_records_a_customer_and_site_and_reads_them_back(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    customer = (
        await customer_vault.stub.GetCustomer(
            pb.GetCustomerRequest(id=place.customer.id), metadata=place.dispatcher, timeout=TIMEOUT
        )
    ).customer
    assert (customer.name, customer.email, customer.phone) == (
        "Ada Lovelace",
        "ada@example.com",
        "+44 20 7946 0000",
    )
    assert customer.etag == '"1"' and customer.area_id == place.area_id
    site = (
        await customer_vault.stub.GetSite(
            pb.GetSiteRequest(id=place.site.id), metadata=place.dispatcher, timeout=TIMEOUT
        )
    ).site
    assert (site.name, site.access_instructions) == ("Harbour House", "Side door, ring twice")


@pytest.mark.parametrize(
    ("field", "query"),
    [
        ("email", "  ADA@Example.COM "),
        ("phone", "0044 (20) 7946-0000"),
        ("phone", "+442079460000"),
    ],
)
async def test_exact_match_search_finds_the_customer_however_the_value_is_written(
    customer_vault: RunningVault, field: str, query: str
) -> None:
    tenant = new_tenant_id()
    place = await new_place(customer_vault, tenant)
    await new_place(customer_vault, tenant, email="grace@example.com", phone="+1 555 0100")
    found = await customer_vault.stub.ListCustomers(
        pb.ListCustomersRequest(**{field: query}), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert [c.id for c in found.customers] == [place.customer.id]


async def test_another_tenants_customer_and_site_are_not_found(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    stranger = await customer_vault.mint.user(
        new_tenant_id(), roles=["dispatcher", "admin"], areas=[place.area_id]
    )
    for call, request in (
        (customer_vault.stub.GetCustomer, pb.GetCustomerRequest(id=place.customer.id)),
        (customer_vault.stub.GetSite, pb.GetSiteRequest(id=place.site.id)),
        (customer_vault.stub.ListSecrets, pb.ListSecretsRequest(site_id=place.site.id)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request, metadata=stranger, timeout=TIMEOUT)  # type: ignore[operator]
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_dispatcher_sees_only_customers_and_sites_of_their_areas(
    customer_vault: RunningVault,
) -> None:
    tenant = new_tenant_id()
    north = await new_place(customer_vault, tenant, area_id="area-north")
    south = await new_place(customer_vault, tenant, area_id="area-south", email="s@example.com")
    listed = await customer_vault.stub.ListCustomers(
        pb.ListCustomersRequest(), metadata=north.dispatcher, timeout=TIMEOUT
    )
    assert [c.id for c in listed.customers] == [north.customer.id]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.GetSite(
            pb.GetSiteRequest(id=south.site.id), metadata=north.dispatcher, timeout=TIMEOUT
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.CreateCustomer(
            pb.CreateCustomerRequest(area_id="area-south", name="Someone"),
            metadata=north.dispatcher,
            timeout=TIMEOUT,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = await customer_vault.mint.user(tenant, roles=["admin"])
    everyone = await customer_vault.stub.ListCustomers(
        pb.ListCustomersRequest(), metadata=admin, timeout=TIMEOUT
    )
    assert {c.id for c in everyone.customers} == {north.customer.id, south.customer.id}


async def test_a_technician_sees_a_site_only_while_a_grant_names_them(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    request = pb.GetSiteRequest(id=place.site.id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.GetSite(request, metadata=technician, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    await grant(customer_vault, place, user_id="tech-1")
    site = (await customer_vault.stub.GetSite(request, metadata=technician, timeout=TIMEOUT)).site
    assert site.address == "1 Harbour Road, Portsmouth"


async def test_a_stale_etag_is_refused_and_a_partial_update_keeps_other_fields(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    updated = (
        await customer_vault.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(id=place.customer.id, etag='"1"', phone=""),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    ).customer
    assert (updated.phone, updated.email, updated.etag) == ("", "ada@example.com", '"2"')
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(id=place.customer.id, etag='"1"', notes="late"),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(caught.value) == "precondition_failed"
    # The cleared phone no longer finds the customer.
    found = await customer_vault.stub.ListCustomers(
        pb.ListCustomersRequest(phone="+44 20 7946 0000"),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    assert list(found.customers) == []


async def test_listing_pages_through_every_customer_once(customer_vault: RunningVault) -> None:
    tenant = new_tenant_id()
    admin = await customer_vault.mint.user(tenant, roles=["admin"])
    created = set()
    for index in range(5):
        response = await customer_vault.stub.CreateCustomer(
            pb.CreateCustomerRequest(name=f"Customer {index}"), metadata=admin, timeout=TIMEOUT
        )
        created.add(response.customer.id)
    seen: list[str] = []
    token = ""
    while True:
        page = await customer_vault.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=2, page_token=token), metadata=admin, timeout=TIMEOUT
        )
        seen.extend(c.id for c in page.customers)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 5


async def test_listing_pages_through_every_site_once_and_refuses_a_forged_token(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), door_code=None)
    created = [place.site.id]
    for index in range(4):
        response = await customer_vault.stub.CreateSite(
            pb.CreateSiteRequest(
                customer_id=place.customer.id,
                area_id=place.area_id,
                name=f"Annex {index}",
                address=f"{index} Harbour Road, Portsmouth",
            ),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
        created.append(response.site.id)
    seen: list[str] = []
    token = ""
    while True:
        page = await customer_vault.stub.ListSites(
            pb.ListSitesRequest(page_size=2, page_token=token, customer_id=place.customer.id),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
        assert all(site.customer_id == place.customer.id for site in page.sites)
        seen.extend(site.id for site in page.sites)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 5
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await customer_vault.stub.ListSites(
            pb.ListSitesRequest(page_token="WyJzaXRlLTEiXQ"),  # ["site-1"]: not (time, id)
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "page_token is not one this service issued"


async def test_bad_input_is_refused_with_a_message_naming_the_field(
    customer_vault: RunningVault,
) -> None:
    admin = await customer_vault.mint.user(new_tenant_id(), roles=["admin"])
    for request, expected in (
        (pb.CreateCustomerRequest(name=""), "name is required"),
        (pb.CreateCustomerRequest(name="A", email="not-an-address"), "email must look like"),
        (pb.CreateCustomerRequest(name="A", phone="12"), "phone must be"),
        (pb.CreateCustomerRequest(name="A\x00B"), "name must not contain control characters"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.CreateCustomer(request, metadata=admin, timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected in (caught.value.details() or "")


async def test_work_order_locates_a_site_without_learning_anything_personal(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    locator = await customer_vault.mint.service("work_order", place.tenant_id, ["sites:locate"])
    located = await customer_vault.stub.LocateSite(
        pb.LocateSiteRequest(id=place.site.id), metadata=locator, timeout=TIMEOUT
    )
    assert (located.customer_id, located.area_id, located.erased) == (
        place.customer.id,
        place.area_id,
        False,
    )
    assert set(located.DESCRIPTOR.fields_by_name) == {"site_id", "customer_id", "area_id", "erased"}
    for token in (
        await customer_vault.mint.service("notification", place.tenant_id, ["sites:locate"]),
        await customer_vault.mint.service("work_order", new_tenant_id(), ["sites:locate"]),
        place.dispatcher,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.LocateSite(
                pb.LocateSiteRequest(id=place.site.id), metadata=token, timeout=TIMEOUT
            )
        assert caught.value.code() in (
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.NOT_FOUND,
        )
