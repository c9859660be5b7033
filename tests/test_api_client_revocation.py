"""Revoking a partner's API client stops its data at once, over the running stack.

Every service runs as its own process (real nats-server, OpenBao, identity,
customer_vault, work_order, notification and the gateway; SQLite, or PostgreSQL when
``FIELDVAULT_TEST_DATABASE_URL`` names a server) and a real HTTP receiver takes the
webhooks. An admin deletes the partner's API client: within a second the gateway
refuses every token of it, although it had exchanged tokens cached for it; its webhook
subscription is disabled, so work-order events stop reaching it while the admin's own
subscription still gets them; and the admins are told.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.population import bearer, identity_process
from fieldvault_devstack.recorders import Receiver, eventually
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

#: The contract: a revoked client's tokens stop working within a second.
REVOCATION_SECONDS = 1.0
PORTAL, OFFICE = "/portal/hooks", "/office/hooks"


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> tuple[LocalStack, Receiver]:
    return shared_stack.stack, shared_stack.receiver


@pytest.fixture
async def http(platform: tuple[LocalStack, Receiver]) -> AsyncIterator[httpx.AsyncClient]:
    stack, _ = platform
    assert stack.endpoints is not None
    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=30) as client:
        yield client


def work_orders_at(receiver: Receiver, path: str) -> set[str]:
    """Ids of the work orders whose events reached ``path``."""
    return {json.loads(r.body)["data"]["work_order_id"] for r in receiver.at(path)}


async def test_a_revoked_partners_tokens_stop_within_a_second_and_its_webhooks_stop(
    platform: tuple[LocalStack, Receiver], http: httpx.AsyncClient
) -> None:
    stack, receiver = platform
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        admin = await people.new_person(tenant, roles=["admin", "dispatcher"], area_ids=[area])
    office = desk = bearer(admin.gateway_token)

    client = await http.post(
        "/v1/api-clients",
        json={"name": "Facility portal", "scopes": ["webhooks:manage", "work_orders:read"]},
        headers=office,
    )
    assert client.status_code == 201, client.text
    issued = await http.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.json()["client_id"],
            "client_secret": client.json()["client_secret"],
        },
    )
    assert issued.status_code == 200, issued.text
    portal = bearer(issued.json()["access_token"])
    hooks = {}
    for path, caller in ((PORTAL, portal), (OFFICE, office)):
        created = await http.post(
            "/v1/webhooks", json={"url": receiver.url(path), "events": ["*"]}, headers=caller
        )
        assert created.status_code == 201, created.text
        hooks[path] = created.json()["id"]

    customer = await http.post(
        "/v1/customers", json={"name": "Virtanen", "area_id": area}, headers=desk
    )
    assert customer.status_code == 201, customer.text
    site = await http.post(
        "/v1/sites",
        json={
            "customer_id": customer.json()["id"],
            "area_id": area,
            "name": "Depot",
            "address": "Dock Street 3",
        },
        headers=desk,
    )
    assert site.status_code == 201, site.text

    async def new_work_order() -> str:
        order = await http.post(
            "/v1/work-orders",
            json={"site_id": site.json()["id"], "title": "Lift inspection"},
            headers=desk,
        )
        assert order.status_code == 201, order.text
        order_id: str = order.json()["id"]
        return order_id

    before = await new_work_order()

    async def portal_heard_it() -> bool:
        return before in work_orders_at(receiver, PORTAL)

    await eventually(portal_heard_it, timeout=20)
    # The partner reads work orders: the gateway now holds an exchanged token for it.
    assert (await http.get("/v1/work-orders", headers=portal)).status_code == 200

    deleted = await http.delete(f"/v1/api-clients/{client.json()['id']}", headers=office)
    assert deleted.status_code == 204, deleted.text
    revoked_at = time.monotonic()
    while (await http.get("/v1/work-orders", headers=portal)).status_code != 401:
        assert time.monotonic() - revoked_at < REVOCATION_SECONDS, "the client's token still works"
    refused = await http.get("/v1/webhooks", headers=portal)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"

    async def portal_hook_disabled() -> bool:
        listed = await http.get("/v1/webhooks", headers=office)
        status = {hook["id"]: hook["status"] for hook in listed.json()["items"]}
        return status == {hooks[PORTAL]: "disabled", hooks[OFFICE]: "active"}

    await eventually(portal_hook_disabled, timeout=10)

    async def admin_told() -> bool:
        inbox = await http.get("/v1/me/notifications", headers=office)
        return any(
            item["type"] == "webhook.disabled_client_revoked" and hooks[PORTAL] in item["body"]
            for item in inbox.json()["items"]
        )

    await eventually(admin_told, timeout=20)

    after = await new_work_order()

    async def office_heard_it() -> bool:
        return after in work_orders_at(receiver, OFFICE)

    await eventually(office_heard_it, timeout=20)
    assert after not in work_orders_at(receiver, PORTAL)
