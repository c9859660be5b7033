"""Handling instructions over the public REST API, with every service as its own process.

A technician has a job and reveals its door code. The tenant's admin publishes
data-handling instructions: the technician's next reveal is refused with 403
``instructions_not_acknowledged`` naming the version to read. They read it and
acknowledge it, and the very next reveal works. The admin's report names them
among those who acknowledged. No planted value — door code, customer name,
address, the instructions' text — appears in any NATS message, log line or span
(spans go to the services' logs: ``OTEL_TRACES_EXPORTER=console``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.api import DeliverPolicy

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

CANARIES = {
    "door_code": "CANARY-DOOR-31337",
    "name": "Canary Philippa Thistlewood",
    "address": "42 Canary Crescent",
    "instructions": "CANARY-RULE-7781",
}
INSTRUCTIONS = (
    "# Handling customer data\n\n"
    f"1. Never write a door code down ({CANARIES['instructions']}).\n"
    "2. Close the key safe.\n"
)
SERVICES = ("identity", "customer_vault", "work_order", "notification", "gateway")


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.1)
    return True


async def every_message(nats_url: str, tenant_id: str) -> list[str]:
    """Every event any service published for the tenant: subjects, payloads and headers."""
    client = await nats.connect(nats_url)
    found: list[str] = []
    try:
        for service in ("identity", "customer_vault", "work_order", "notification"):
            subscription = await client.jetstream().subscribe(
                f"fieldvault.{tenant_id}.{service}.v1.>",
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.ALL,
            )
            try:
                while True:
                    message = await subscription.next_msg(timeout=1.0)
                    found.append(
                        f"{message.subject} {message.data.decode(errors='replace')} "
                        f"{json.dumps(message.headers or {})}"
                    )
            except nats.errors.TimeoutError:
                pass
            await subscription.unsubscribe()
    finally:
        await client.close()
    return found


async def test_a_technician_reveals_only_after_acknowledging_the_instructions(
    platform: LocalStack,
) -> None:
    assert platform.endpoints is not None
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        admin = await people.new_person(tenant, roles=["admin"])
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[area])

    async with httpx.AsyncClient(base_url=platform.endpoints.gateway_url, timeout=20) as http:
        office = bearer(dispatcher)
        customer = await http.post(
            "/v1/customers", json={"name": CANARIES["name"], "area_id": area}, headers=office
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": area,
                "name": "Harbour House",
                "address": CANARIES["address"],
            },
            headers=office,
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        written = await http.put(
            f"/v1/sites/{site_id}/secrets/door_code",
            json={"value": CANARIES["door_code"]},
            headers=office,
        )
        assert written.status_code == 204, written.text
        start = datetime.now(UTC)
        order = await http.post(
            "/v1/work-orders",
            json={
                "site_id": site_id,
                "title": "Lift stuck",
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + timedelta(hours=2)).isoformat(),
            },
            headers=office,
        )
        assert order.status_code == 201, order.text
        assigned = await http.post(
            f"/v1/work-orders/{order.json()['id']}/assign",
            json={"assignee_user_id": technician.id},
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text

        async def reveal() -> httpx.Response:
            return await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(technician)
            )

        async def revealed() -> bool:
            return (await reveal()).status_code == 200

        assert await until(revealed), "the grant never arrived"

        published = await http.post(
            "/v1/tenant/instructions",
            json={"markdown": INSTRUCTIONS, "grace_days": 0},
            headers=bearer(admin),
        )
        assert published.status_code == 201, published.text
        version = published.json()["version"]
        assert version == 1

        async def refused() -> bool:
            return (await reveal()).status_code == 403

        assert await until(refused), "customer_vault never heard of the instructions"
        refusal = await reveal()
        body = refusal.json()
        assert refusal.headers["content-type"] == "application/problem+json"
        assert (body["code"], body["instructions_version"]) == (
            "instructions_not_acknowledged",
            version,
        )
        assert set(body) == {
            "type",
            "title",
            "status",
            "detail",
            "code",
            "request_id",
            "instructions_version",
        }
        assert leaks(refusal.text) == []

        current = await http.get("/v1/tenant/instructions", headers=bearer(technician))
        assert current.status_code == 200, current.text
        standing = current.json()
        assert (
            standing["instructions"]["version"],
            standing["instructions"]["markdown"],
            standing["acknowledgement_due"],
        ) == (version, INSTRUCTIONS, True)

        acknowledged = await http.put(
            f"/v1/tenant/instructions/{version}/acknowledgement", headers=bearer(technician)
        )
        assert acknowledged.status_code == 200, acknowledged.text
        # The very next call: no waiting for the event to travel.
        works = await reveal()
        assert works.status_code == 200, works.text
        assert works.json()["value"] == CANARIES["door_code"]

        report = await http.get("/v1/tenant/instructions/report", headers=bearer(admin))
        assert report.status_code == 200, report.text
        [own] = report.json()["organizations"]
        assert technician.id in [reader["user_id"] for reader in own["acknowledged"]]
        assert dispatcher.id in [reader["user_id"] for reader in own["pending"]]
        not_for_technicians = await http.get(
            "/v1/tenant/instructions/report", headers=bearer(technician)
        )
        assert not_for_technicians.status_code == 403

    messages = await every_message(platform.endpoints.nats_url, tenant.id)
    assert any("instructions_acknowledged" in message for message in messages)
    assert [leaks(message) for message in messages if leaks(message)] == []
    await asyncio.to_thread(_check_logs_and_spans, platform)


def _check_logs_and_spans(stack: LocalStack) -> None:
    for service in SERVICES:
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert log, service
        assert leaks(log) == [], service
    # The console exporter's spans are in there (and so was the check above).
    assert "SpanKind.CONSUMER" in Path(stack.service_log("customer_vault")).read_text()
