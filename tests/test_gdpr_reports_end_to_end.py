"""GDPR reports over the public REST API with every service as its own process.

An admin adds a subcontractor with its DPA dates; a minute later the tenant's record of
processing activities (Art. 30) lists it with those dates, beside the configured
sub-processors. A technician reveals a door code for a job; the DPO's access report for
that customer lists the reveal with the work order as its purpose, and the auditor's
breach question names the technician as one who could and did reveal it. None of this
puts a planted value in any service's log, any span (exported to the logs) or any
message on NATS.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.api import DeliverPolicy

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SUB_PROCESSORS, SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

CANARIES = {
    "door_code": "CANARY-DOOR-31337",
    "name": "Cressida Canarywick",
    "address": "8 Canary Close, Turku",
}
PRODUCERS = ("identity", "customer_vault", "work_order", "notification")


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value.lower() in text.lower()]


async def until(check: object, *, within: float = 15.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():  # type: ignore[operator]
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.1)
    return True


async def every_message(nats_url: str, tenant_id: str) -> list[str]:
    """Every message any service published for the tenant: payloads and headers."""
    client = await nats.connect(nats_url)
    messages: list[str] = []
    try:
        jetstream = client.jetstream()
        for producer in PRODUCERS:
            subscription = await jetstream.subscribe(
                f"fieldvault.{tenant_id}.{producer}.v1.>",
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.ALL,
            )
            try:
                while True:
                    message = await subscription.next_msg(timeout=1.0)
                    headers = json.dumps(message.headers or {})
                    messages.append(message.data.decode(errors="replace") + headers)
            except nats.errors.TimeoutError:
                pass
            await subscription.unsubscribe()
    finally:
        await client.close()
    return messages


async def test_the_art30_record_and_the_access_reports_tell_what_happened_and_leak_nothing(
    platform: LocalStack,
) -> None:
    assert platform.endpoints is not None
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        admin = await people.new_person(tenant, roles=["admin"])
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[north])
        dpo = await people.new_person(tenant, roles=["dpo"])
        auditor = await people.new_person(tenant, roles=["auditor"])

    base_url = f"http://{platform.settings.host}:{platform.settings.gateway_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
        # --- an admin adds a subcontractor; the Art. 30 record lists it with its DPA dates
        added = await http.post(
            "/v1/organizations",
            json={
                "name": "Hissi ja Huolto Oy",
                "kind": "subcontractor",
                "dpa_signed_on": "2026-03-01",
                "dpa_expires_on": "2099-02-28",
            },
            headers=bearer(admin),
        )
        assert added.status_code == 201, added.text
        record = await http.get("/v1/records-of-processing", headers=bearer(dpo))
        assert record.status_code == 200, record.text
        assert record.headers["cache-control"] == "no-store"
        processors = record.json()["processors"]
        [listed] = processors["subcontractors"]
        assert (listed["organization_id"], listed["name"]) == (
            added.json()["id"],
            "Hissi ja Huolto Oy",
        )
        assert (listed["dpa_signed_on"], listed["dpa_expires_on"], listed["dpa_active"]) == (
            "2026-03-01",
            "2099-02-28",
            True,
        )
        assert processors["sub_processors"] == SUB_PROCESSORS
        by_admin = await http.get("/v1/records-of-processing", headers=bearer(admin))
        assert by_admin.status_code == 200
        refused = await http.get("/v1/records-of-processing", headers=bearer(dispatcher))
        assert refused.status_code == 403, refused.text

        # --- a technician reveals the door code for a job
        office = bearer(dispatcher)
        customer = await http.post(
            "/v1/customers",
            json={"name": CANARIES["name"], "address": CANARIES["address"], "area_id": north},
            headers=office,
        )
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer_id,
                "area_id": north,
                "name": "Machine room",
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
                "title": "Annual inspection",
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + timedelta(hours=2)).isoformat(),
            },
            headers=office,
        )
        assert order.status_code == 201, order.text
        order_id = order.json()["id"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text
        reveals: list[str] = []

        async def revealed() -> bool:
            response = await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(technician)
            )
            if response.status_code == 200:
                assert response.json()["value"] == CANARIES["door_code"]
                reveals.append(response.json()["audit_event_id"])
            return response.status_code == 200

        assert await until(revealed), "the grant follows the assignment"

        # --- the DPO's access report lists the reveal with the work order as its purpose
        report = await http.get(f"/v1/customers/{customer_id}/access-report", headers=bearer(dpo))
        assert report.status_code == 200, report.text
        granted = [e for e in report.json()["entries"] if e["outcome"] == "success"]
        assert [
            (e["audit_event_id"], e["access"], e["actor_id"], e["work_order_id"]) for e in granted
        ] == [(reveals[0], "reveal", technician.id, order_id)]
        assert granted[0]["fields"] == ["door_code"]
        assert leaks(report.text) == []
        not_dpo = await http.get(f"/v1/customers/{customer_id}/access-report", headers=office)
        assert not_dpo.status_code == 403, not_dpo.text

        # --- the auditor's breach question: who could, who did
        window = {
            "site_id": site_id,
            "from": (start - timedelta(hours=1)).isoformat(),
            "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        }
        answer = await http.get("/v1/access-query", params=window, headers=bearer(auditor))
        assert answer.status_code == 200, answer.text
        codes = {code["kind"]: code for code in answer.json()["codes"]}
        door = codes["door_code"]
        assert [(g["user_id"], g["work_order_id"]) for g in door["could_reveal"]["grants"]] == [
            (technician.id, order_id)
        ]
        assert [u["user_id"] for u in door["could_reveal"]["break_glass"]] == [dispatcher.id]
        assert [(r["actor_id"], r["work_order_id"]) for r in door["did_reveal"]] == [
            (technician.id, order_id)
        ]
        # The job's grant covers every kind; only the door code was revealed.
        assert all(c["did_reveal"] == [] for kind, c in codes.items() if kind != "door_code")
        assert leaks(answer.text) == []
        naive = await http.get(
            "/v1/access-query",
            params={**window, "from": "2026-12-01T00:00:00"},
            headers=bearer(auditor),
        )
        assert naive.status_code == 422

    # --- no planted value in any message, log line or span
    assert platform.endpoints is not None
    messages = await every_message(platform.endpoints.nats_url, tenant.id)
    assert any("audit_recorded" in m or "AuditRecorded" in m for m in messages)
    assert [m for m in messages if leaks(m)] == []
    await asyncio.to_thread(_check_logs_and_spans, platform)


def _check_logs_and_spans(stack: LocalStack) -> None:
    for service in ("identity", "customer_vault", "work_order", "notification", "gateway"):
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert log, service
        assert leaks(log) == [], service
    # The console exporter's spans are in the logs (so the check above read them too).
    assert "GetCustomerAccessReport" in Path(stack.service_log("customer_vault")).read_text()
