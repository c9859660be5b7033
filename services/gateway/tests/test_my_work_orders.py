"""``GET /v1/me/work-orders``: the caller's jobs from work_order joined with each site's
name and address, read from customer_vault with the caller's own authority; a site the
caller may not see, or that cannot be read, is ``null`` rather than a failed list, and
nothing from a site beyond its name and address ever leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest

from fieldvault.customer_vault.v1 import customer_vault_pb2 as vault_pb
from fieldvault.work_order.v1 import work_order_pb2 as pb

from .fake_customer_vault import FakeCustomerVault
from .fake_identity import TENANT, USER
from .fake_work_order import WorkOrderGateway, fake_work_order_gateway

CANARY = "CANARY-key-under-the-mat-4711"
ASSIGNED = pb.WORK_ORDER_STATUS_ASSIGNED


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[WorkOrderGateway]:
    async with fake_work_order_gateway(start_peer) as gateway:
        yield gateway


def add_site(fake: WorkOrderGateway, site_id: str, name: str, *, customer: str = "c-1") -> None:
    fake.vault.customers.setdefault(
        customer, vault_pb.Customer(id=customer, tenant_id=TENANT, name="Virtanen Oy", etag='"1"')
    )
    fake.vault.sites[site_id] = vault_pb.Site(
        id=site_id,
        tenant_id=TENANT,
        customer_id=customer,
        area_id="area-1",
        name=name,
        address=f"{name} street 1",
        access_instructions=f"Ring at the {name} back door",
        etag='"1"',
    )
    fake.vault.secrets[(site_id, vault_pb.SECRET_KIND_DOOR_CODE)] = (
        CANARY,
        vault_pb.SecretMetadata(kind=vault_pb.SECRET_KIND_DOOR_CODE, version=1),
    )


def my_job(fake: WorkOrderGateway, site_id: str, **fields: Any) -> str:
    fields.setdefault("status", ASSIGNED)
    return fake.work_orders.add(site_id=site_id, assignee_user_id=USER, **fields).id


async def my_work_orders(fake: WorkOrderGateway, **params: Any) -> dict[str, Any]:
    response = await fake.client.get("/v1/me/work-orders", params=params, headers=fake.bearer())
    assert response.status_code == 200, response.text
    # The kinds of code kept are shown, a value never.
    assert CANARY not in response.text
    return dict(response.json())


async def test_my_jobs_carry_their_sites_address_access_instructions_and_code_kinds(
    fake: WorkOrderGateway,
) -> None:
    add_site(fake, "site-a", "Depot")
    add_site(fake, "site-b", "Clinic")
    first = my_job(fake, "site-a")
    second = my_job(fake, "site-b", status=pb.WORK_ORDER_STATUS_IN_PROGRESS)
    fake.work_orders.add(site_id="site-a", assignee_user_id="someone-else", status=ASSIGNED)

    body = await my_work_orders(fake)

    assert [(item["id"], item["status"]) for item in body["items"]] == [
        (first, "assigned"),
        (second, "in_progress"),
    ]
    assert [item["site"] for item in body["items"]] == [
        {
            "id": "site-a",
            "name": "Depot",
            "address": "Depot street 1",
            "access_instructions": "Ring at the Depot back door",
            "code_kinds": ["door_code"],
        },
        {
            "id": "site-b",
            "name": "Clinic",
            "address": "Clinic street 1",
            "access_instructions": "Ring at the Clinic back door",
            "code_kinds": ["door_code"],
        },
    ]
    assert body["items"][0]["etag"] and body["items"][0]["site_id"] == "site-a"
    assert body["next_page_token"] == ""


async def test_sites_are_read_with_the_callers_own_customer_vault_token(
    fake: WorkOrderGateway,
) -> None:
    add_site(fake, "site-a", "Depot")
    my_job(fake, "site-a")
    headers = fake.bearer()

    response = await fake.client.get("/v1/me/work-orders", headers=headers)

    assert response.status_code == 200, response.text
    caller_token = headers["Authorization"].removeprefix("Bearer ")
    exchanges = {e.audience: e.subject_token for e in fake.identity.requests("ExchangeToken")}
    assert exchanges == {"work_order": caller_token, "customer_vault": caller_token}
    (metadata,) = fake.vault.metadata("GetSite")
    token = metadata["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["sub"]) == ("customer_vault", USER)
    assert token != caller_token
    assert metadata["x-request-id"] == response.headers["x-request-id"]


async def test_each_site_is_read_once_however_many_jobs_are_there(
    fake: WorkOrderGateway,
) -> None:
    add_site(fake, "site-a", "Depot")
    for _ in range(3):
        my_job(fake, "site-a")

    body = await my_work_orders(fake)

    assert len(body["items"]) == 3
    assert {item["site"]["name"] for item in body["items"]} == {"Depot"}
    assert [request.id for request in fake.vault.requests("GetSite")] == ["site-a"]


async def test_a_site_the_caller_may_not_see_or_that_was_erased_is_null(
    fake: WorkOrderGateway,
) -> None:
    add_site(fake, "site-a", "Depot")
    add_site(fake, "site-erased", "Gone", customer="c-erased")
    fake.vault.erased.add("c-erased")
    visible = my_job(fake, "site-a")
    unseen = my_job(fake, "site-not-visible")
    erased = my_job(fake, "site-erased")

    body = await my_work_orders(fake)

    sites = {item["id"]: item["site"] for item in body["items"]}
    assert sites == {
        visible: {
            "id": "site-a",
            "name": "Depot",
            "address": "Depot street 1",
            "access_instructions": "Ring at the Depot back door",
            "code_kinds": ["door_code"],
        },
        unseen: None,
        erased: None,
    }
    assert "Gone" not in str(body)


async def test_the_list_survives_customer_vault_being_down(
    fake: WorkOrderGateway, caplog: pytest.LogCaptureFixture
) -> None:
    add_site(fake, "site-a", "Depot")
    job = my_job(fake, "site-a")
    await fake.vault_server.server.stop(0)

    response = await fake.client.get("/v1/me/work-orders", headers=fake.bearer())

    assert response.status_code == 200, response.text
    assert [(item["id"], item["site"]) for item in response.json()["items"]] == [(job, None)]
    assert "site of a job could not be read" in caplog.text


async def test_paging_is_passed_through_and_an_empty_list_reads_no_site(
    fake: WorkOrderGateway,
) -> None:
    fake.work_orders.next_page_token = "page-2"

    body = await my_work_orders(fake, page_size=5, page_token="p1")

    assert body == {"items": [], "next_page_token": "page-2"}
    (request,) = fake.work_orders.requests("ListMyWorkOrders")
    assert (request.page_size, request.page_token) == (5, "p1")
    assert fake.vault.requests("GetSite") == []


class SlowSites(FakeCustomerVault):
    """GetSite takes a while and counts how many reads overlap."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.in_flight = 0
        self.most_in_flight = 0

    async def GetSite(self, request: Any, context: Any) -> vault_pb.GetSiteResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.2)
            return await super().GetSite(request, context)
        finally:
            self.in_flight -= 1


async def test_sites_are_read_concurrently(start_peer: Any) -> None:
    async with fake_work_order_gateway(start_peer, vault=SlowSites) as fake:
        for number in range(3):
            add_site(fake, f"site-{number}", f"Site {number}")
            my_job(fake, f"site-{number}")

        body = await my_work_orders(fake)

        assert [item["site"]["name"] for item in body["items"]] == ["Site 0", "Site 1", "Site 2"]
        assert isinstance(fake.vault, SlowSites)
        assert fake.vault.most_in_flight == 3


async def test_without_a_bearer_token_nothing_is_called(fake: WorkOrderGateway) -> None:
    response = await fake.client.get("/v1/me/work-orders")

    assert response.status_code == 401
    assert fake.work_orders.calls == {} and fake.vault.calls == {}
