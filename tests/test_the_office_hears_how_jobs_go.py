"""The first hour's surprises, over the public REST API with every service as its own
process: a job's reference is a real field one can search by, and the office hears when
a job is started, completed or cannot be done — in the dispatcher's own inbox, naming
the job by that reference.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def until(check: object, *, within: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():  # type: ignore[operator]
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_the_dispatcher_hears_completion_and_inability_and_finds_jobs_by_reference(
    platform: LocalStack,
) -> None:
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[north])

        base_url = f"http://{platform.settings.host}:{platform.settings.gateway_port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
            office, field = bearer(dispatcher), bearer(technician)
            customer = await http.post(
                "/v1/customers", json={"name": "Mrs Hudson", "area_id": north}, headers=office
            )
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

            async def filed(scheduled: bool) -> dict[str, str]:
                body: dict[str, str] = {"site_id": site.json()["id"], "title": "Lift stuck"}
                if scheduled:
                    start = datetime.now(UTC)
                    body["scheduled_start"] = start.isoformat()
                    body["scheduled_end"] = (start + timedelta(hours=2)).isoformat()
                created = await http.post("/v1/work-orders", json=body, headers=office)
                assert created.status_code == 201, created.text
                order: dict[str, str] = created.json()
                assigned = await http.post(
                    f"/v1/work-orders/{order['id']}/assign",
                    json={"assignee_user_id": technician.id},
                    headers=office,
                )
                assert assigned.status_code == 200, assigned.text
                return order

            done, impossible = await filed(True), await filed(False)
            assert (done["reference"], impossible["reference"]) == ("WO-000001", "WO-000002")

            # The reference is a field to search by, as typed on the phone.
            for typed in ("WO-000002", "wo-2", "2"):
                found = await http.get(
                    "/v1/work-orders", params={"reference": typed}, headers=office
                )
                assert found.status_code == 200, found.text
                assert [o["id"] for o in found.json()["items"]] == [impossible["id"]], typed
            refused = await http.get(
                "/v1/work-orders", params={"reference": "B6E34952"}, headers=office
            )
            assert refused.status_code == 400, refused.text

            for step in ("start", "complete"):
                moved = await http.post(f"/v1/work-orders/{done['id']}/{step}", headers=field)
                assert moved.status_code == 200, moved.text
            unable = await http.post(
                f"/v1/work-orders/{impossible['id']}/unable",
                json={"reason": "customer_absent", "notes": "Rang twice, nobody home"},
                headers=field,
            )
            assert unable.status_code == 200, unable.text
            back = unable.json()
            assert (back["status"], back["assignee_user_id"]) == ("new", None)
            assert back["unable_notes"] == "Rang twice, nobody home"
            wrong = await http.post(
                f"/v1/work-orders/{done['id']}/unable", json={"reason": "bored"}, headers=field
            )
            assert wrong.status_code == 422, wrong.text

            async def inbox() -> dict[str, dict[str, str]]:
                listed = await http.get("/v1/me/notifications", headers=office)
                assert listed.status_code == 200, listed.text
                return {n["type"]: n for n in listed.json()["items"]}

            async def told() -> bool:
                return {
                    "work_order.started",
                    "work_order.completed",
                    "work_order.unable",
                } <= set(await inbox())

            assert await until(told)
            notes = await inbox()
            completed = notes["work_order.completed"]
            assert completed["work_order_id"] == done["id"]
            assert completed["subject"] == "Work order WO-000001 completed"
            cannot = notes["work_order.unable"]
            assert cannot["work_order_id"] == impossible["id"]
            assert cannot["body"].startswith(
                "The assignee could not do work order WO-000002: the customer was not there."
            )
            assert "nobody home" not in str(notes)  # the notes are free text: never in messages
