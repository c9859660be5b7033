"""A service company's job from start to end over the public REST API, with every service
running as its own process (real nats-server, OpenBao and SQLite, as ``make run`` starts them).

A dispatcher records a customer, a site and its door code, files a work order and assigns
it; the technician sees the job (site name and address, never the code) and reveals the
code; reassignment moves that ability; completion ends it, the refusal is audited with the
work order as purpose; another area's technician sees nothing; two dispatchers editing from
the same etag do not overwrite each other.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

DOOR_CODE = "CANARY-DOOR-5531"
#: The promise of the work-order issue: the grant is active within a second.
GRANT_SECONDS = 1.0


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def reveal(http: httpx.AsyncClient, site_id: str, who: Person) -> httpx.Response:
    return await http.post(
        f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(who)
    )


async def until_revealed(http: httpx.AsyncClient, site_id: str, who: Person) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        response = await reveal(http, site_id, who)
        if response.status_code == 200 or loop.time() - started > 10:
            assert response.status_code == 200, response.text
            return loop.time() - started
        await asyncio.sleep(0.05)


async def test_a_job_from_filing_to_completion_over_rest(platform: LocalStack) -> None:
    assert platform.endpoints is not None
    host = platform.settings.host
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        south = await people.new_area(tenant, "South")
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        first = await people.new_person(tenant, roles=["technician"], area_ids=[north])
        second = await people.new_person(tenant, roles=["technician"], area_ids=[north])
        elsewhere = await people.new_person(tenant, roles=["technician"], area_ids=[south])
        auditor = await people.new_person(tenant, roles=["auditor"])

    base_url = f"http://{host}:{platform.settings.gateway_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
        office = bearer(dispatcher)
        customer = await http.post(
            "/v1/customers",
            json={"name": "Mrs Hudson", "email": "hudson@example.com", "area_id": north},
            headers=office,
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": north,
                "name": "221B",
                "address": "221B Baker Street, London",
                "access_instructions": "Ask Mrs Hudson downstairs",
            },
            headers=office,
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        written = await http.put(
            f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
        )
        assert written.status_code == 204, written.text

        created = await http.post(
            "/v1/work-orders",
            json={"site_id": site_id, "title": "Lift stuck", "priority": "urgent"},
            headers=office,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": first.id},
            headers={**office, "If-Match": created.headers["ETag"]},
        )
        assert assigned.status_code == 200, assigned.text
        assert await until_revealed(http, site_id, first) < GRANT_SECONDS

        mine = await http.get("/v1/me/work-orders", headers=bearer(first))
        assert mine.status_code == 200, mine.text
        [job] = mine.json()["items"]
        assert job["id"] == order_id
        assert job["site"]["name"] == "221B" and "Baker Street" in job["site"]["address"]
        # What a technician needs before arriving: how to get in, which codes are kept.
        assert job["site"]["access_instructions"] == "Ask Mrs Hudson downstairs"
        assert job["site"]["code_kinds"] == ["door_code"]
        assert DOOR_CODE not in mine.text

        hidden = await http.get(f"/v1/work-orders/{order_id}", headers=bearer(elsewhere))
        assert hidden.status_code == 404
        refused = await reveal(http, site_id, elsewhere)
        assert refused.status_code == 403 and refused.json()["code"] == "no_active_grant"

        # Reassignment moves the ability to reveal.
        moved = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": second.id},
            headers=office,
        )
        assert moved.status_code == 200, moved.text
        await until_revealed(http, site_id, second)
        assert (await reveal(http, site_id, first)).status_code == 403

        started = await http.post(f"/v1/work-orders/{order_id}/start", headers=bearer(second))
        assert started.status_code == 200, started.text
        done = await http.post(
            f"/v1/work-orders/{order_id}/complete",
            json={"notes": "Reset the controller"},
            headers=bearer(second),
        )
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while (after := await reveal(http, site_id, second)).status_code == 200:
            assert loop.time() < deadline, "completion did not end the grant"
            await asyncio.sleep(0.05)
        assert after.status_code == 403 and after.json()["code"] == "no_active_grant"
        again = await http.post(
            f"/v1/work-orders/{order_id}/cancel", json={"reason": "late"}, headers=office
        )
        assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

        trail = await http.get(
            "/v1/audit-events",
            params={"action": "secret.reveal", "actor_id": second.id},
            headers=bearer(auditor),
        )
        assert trail.status_code == 200, trail.text
        outcomes = {(e["outcome"], e["purpose"]) for e in trail.json()["items"]}
        assert ("success", order_id) in outcomes and ("denied", order_id) in outcomes

        # Two dispatchers editing from the same etag: one wins, the other is told.
        other = await http.post(
            "/v1/work-orders", json={"site_id": site_id, "title": "Service visit"}, headers=office
        )
        etag = other.headers["ETag"]
        edits = await asyncio.gather(
            *(
                http.patch(
                    f"/v1/work-orders/{other.json()['id']}",
                    json={"title": title},
                    headers={**office, "If-Match": etag},
                )
                for title in ("Service visit (AM)", "Service visit (PM)")
            )
        )
        assert sorted(r.status_code for r in edits) == [200, 412]
        assert [r.json()["code"] for r in edits if r.status_code == 412] == ["precondition_failed"]
