"""No DPA, no access — over the public REST API with every service as its own process.

A subcontractor's technician holds a job and can reveal the door code; their
organisation's DPA lapses. The job goes back to the office queue unassigned, the
technician can no longer reveal the code, and the dispatcher of the job's area is
told in their inbox (ids, status and a reason code, nothing else).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

DOOR_CODE = "CANARY-DOOR-7741"


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def until(check: object, *, within: float = 15.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():  # type: ignore[operator]
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.1)
    return True


async def test_a_subcontractor_whose_dpa_lapses_gives_the_job_back_and_the_office_hears(
    platform: LocalStack,
) -> None:
    assert platform.endpoints is not None
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        south = await people.new_area(tenant, "South")
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        elsewhere = await people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
        sub = await people.new_subcontractor(
            tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
        )
        their_technician = await people.new_person(
            tenant, roles=["technician"], organization_id=sub
        )

        base_url = f"http://{platform.settings.host}:{platform.settings.gateway_port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
            office = bearer(dispatcher)
            customer = await http.post(
                "/v1/customers", json={"name": "Mrs Hudson", "area_id": north}, headers=office
            )
            assert customer.status_code == 201, customer.text
            site = await http.post(
                "/v1/sites",
                json={
                    "customer_id": customer.json()["id"],
                    "area_id": north,
                    "name": "221B",
                    "address": "221B Baker Street",
                },
                headers=office,
            )
            assert site.status_code == 201, site.text
            site_id = site.json()["id"]
            written = await http.put(
                f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
            )
            assert written.status_code == 204, written.text
            start = datetime.now(UTC)
            created = await http.post(
                "/v1/work-orders",
                json={
                    "site_id": site_id,
                    "title": "Lift stuck",
                    "scheduled_start": start.isoformat(),
                    "scheduled_end": (start + timedelta(hours=2)).isoformat(),
                },
                headers=office,
            )
            assert created.status_code == 201, created.text
            order_id = created.json()["id"]
            assigned = await http.post(
                f"/v1/work-orders/{order_id}/assign",
                json={"assignee_user_id": their_technician.id},
                headers=office,
            )
            assert assigned.status_code == 200, assigned.text

            async def revealed() -> bool:
                response = await http.post(
                    f"/v1/sites/{site_id}/secrets/door_code/reveal",
                    json={},
                    headers=bearer(their_technician),
                )
                return response.status_code == 200

            assert await until(revealed)

            # The subcontractor's DPA lapses.
            await people.stub.UpdateOrganization(
                identity_pb2.UpdateOrganizationRequest(
                    id=sub, update_mask=["dpa_expires_on"], dpa_expires_on="2021-01-01"
                ),
                metadata=bearer_metadata(tenant.admin_identity_token),
            )

            async def back_in_the_office() -> bool:
                order = (await http.get(f"/v1/work-orders/{order_id}", headers=office)).json()
                return order["status"] == "scheduled" and order["assignee_user_id"] is None

            assert await until(back_in_the_office)
            assert not await revealed()
            history = await http.get(f"/v1/work-orders/{order_id}/history", headers=office)
            last = history.json()["items"][-1]
            assert (last["action"], last["reason"], last["to_status"]) == (
                "returned",
                "dpa_inactive",
                "scheduled",
            )

            async def told() -> list[dict[str, object]]:
                inbox = await http.get("/v1/me/notifications", headers=office)
                assert inbox.status_code == 200, inbox.text
                items: list[dict[str, object]] = inbox.json()["items"]
                return [n for n in items if n["type"] == "work_order.returned"]

            async def dispatcher_told() -> bool:
                return bool(await told())

            assert await until(dispatcher_told)
            [note] = await told()
            assert note["work_order_id"] == order_id
            assert "back in the office queue" in str(note["subject"])
            assert "data-processing agreement is no longer active" in str(note["body"])
            assert DOOR_CODE not in str(note) and "Hudson" not in str(note)
            other_inbox = await http.get("/v1/me/notifications", headers=bearer(elsewhere))
            assert all(n["type"] != "work_order.returned" for n in other_inbox.json()["items"])
