"""Nothing sensitive leaves through notification: a site with a planted door code and a
customer with a planted email and phone go through filing, assignment and completion with
every service as its own process; the technician gets an inbox entry, an email and an SMS,
a partner gets signed webhooks, the auditor hears of the DPO's export with code values —
and none of those, no log line and no span of any service holds a planted value (nor the
DPO's stated reason).

Spans are exported to each service's log (``OTEL_TRACES_EXPORTER=console``), so reading
the logs reads the spans too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.recorders import (
    Receiver,
    eventually,
)
from fieldvault_devstack.shared_stack import SharedStack, database_text
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack


CANARIES = {
    "door_code": "CANARY-DOOR-90210",
    "email": "cassandra.canary@example.org",
    "phone": "+358 40 555 0199",
    "name": "Cassandra Canaryfield",
    "address": "99 Canary Row",
    # A DPO's stated reason for exporting code values: kept in the audit trail only.
    "export_reason": "Canary reason Wendlebury 4417",
}
#: The technician's number for SMS notifications.
TECHNICIAN_SMS = "+358401112233"
HOOK_PATH = "/partner/hooks"


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> tuple[LocalStack, Receiver]:
    return shared_stack.stack, shared_stack.receiver


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


async def test_nothing_planted_leaves_through_any_message_log_or_span(
    platform: tuple[LocalStack, Receiver], shared_stack: SharedStack
) -> None:
    stack, receiver = platform
    await _walk_the_job(stack, receiver, shared_stack)


async def _walk_the_job(stack: LocalStack, receiver: Receiver, shared_stack: SharedStack) -> None:
    assert stack.endpoints is not None
    process = stack.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        admin = await people.new_person(tenant, roles=["admin"])
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[area])
        dpo = await people.new_person(tenant, roles=["dpo"])
        auditor = await people.new_person(tenant, roles=["auditor"])

    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=20) as http:
        hook = await http.post(
            "/v1/webhooks",
            json={"url": receiver.url(HOOK_PATH), "events": ["*"]},
            headers=bearer(admin),
        )
        assert hook.status_code == 201, hook.text
        sms = await http.patch(
            "/v1/me/notification-preferences",
            json={"sms": True, "sms_number": TECHNICIAN_SMS},
            headers=bearer(technician),
        )
        assert sms.status_code == 200, sms.text

        office = bearer(dispatcher)
        customer = await http.post(
            "/v1/customers",
            json={
                "name": CANARIES["name"],
                "email": CANARIES["email"],
                "phone": CANARIES["phone"],
                "area_id": area,
            },
            headers=office,
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": area,
                "name": "Canary site",
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
        created = await http.post(
            "/v1/work-orders", json={"site_id": site_id, "title": "Door closer"}, headers=office
        )
        assert created.status_code == 201, created.text
        order_id, reference = created.json()["id"], created.json()["reference"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (
            shown := await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(technician)
            )
        ).status_code != 200:
            assert loop.time() < deadline, shown.text
            await asyncio.sleep(0.05)
        assert shown.json()["value"] == CANARIES["door_code"]  # the one place it may appear
        export = f"/v1/customers/{customer.json()['id']}/export"
        plain = await http.get(export, headers=bearer(dpo))
        assert plain.status_code == 200, plain.text
        assert CANARIES["door_code"] not in plain.text  # listed by kind and date only
        # The DPO asks for the values, with a reason: the auditors are told, without either.
        with_values = await http.get(
            export,
            params={"include_secret_values": "true", "reason": CANARIES["export_reason"]},
            headers=bearer(dpo),
        )
        assert with_values.status_code == 200, with_values.text
        for step in ("start", "complete"):
            moved = await http.post(
                f"/v1/work-orders/{order_id}/{step}", json={}, headers=bearer(technician)
            )
            assert moved.status_code == 200, moved.text

        async def everything_arrived() -> bool:
            types = {json.loads(r.body)["type"] for r in receiver.at(HOOK_PATH)}
            return (
                {"work_order.created", "work_order.assigned", "work_order.completed"} <= types
                and bool(shared_stack.mail_to(technician.email))
                and bool(shared_stack.sms_to(TECHNICIAN_SMS))
                and bool(shared_stack.mail_to(auditor.email))
            )

        await eventually(everything_arrived, timeout=20)
        inbox = await http.get("/v1/me/notifications", headers=bearer(technician))
        assert inbox.status_code == 200, inbox.text
        assert [n["work_order_id"] for n in inbox.json()["items"]] == [order_id]
        alerts = await http.get("/v1/me/notifications", headers=bearer(auditor))
        assert alerts.status_code == 200, alerts.text
        assert [n["type"] for n in alerts.json()["items"]] == ["security.secret_values_exported"]

    told = {
        "emails": shared_stack.raw_mails(),
        "sms": "".join(shared_stack.sms_to(TECHNICIAN_SMS)),
        "webhooks": "".join(r.body.decode() for r in receiver.at(HOOK_PATH)),
        "inbox": inbox.text,
        "auditor's inbox": alerts.text,
    }
    assert order_id in told["webhooks"] and reference in told["sms"]
    for channel, text in told.items():
        assert leaks(text) == [], channel
    await asyncio.to_thread(_check_logs_and_spans, stack)
    assert leaks(await database_text(stack, "notification")) == []


def _check_logs_and_spans(stack: LocalStack) -> None:
    for service in ("identity", "customer_vault", "work_order", "notification", "gateway"):
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert log, service
        assert leaks(log) == [], service
    # The console exporter's spans are in there (and so was the check above).
    assert "SpanKind.CONSUMER" in Path(stack.service_log("notification")).read_text()
