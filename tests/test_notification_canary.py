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
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.recorders import (
    Mailbox,
    Receiver,
    eventually,
    receiver_in_thread,
    smtp_server,
)
from fieldvault_devstack.settings import DevStackSettings
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
SMS_PATH = "/sms"
HOOK_PATH = "/partner/hooks"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    controller, box = smtp_server(free_port())
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[tuple[LocalStack, Receiver]]:
    ports = {name: free_port() for name in DevStackSettings.model_fields if name.endswith("_port")}
    settings = DevStackSettings(
        data_dir=tmp_path_factory.mktemp("canary") / "dev",
        **ports,  # type: ignore[arg-type]
    )
    prefix = "FIELDVAULT_NOTIFICATION_"
    with (
        receiver_in_thread(Receiver(port=free_port())) as receiver,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("OTEL_TRACES_EXPORTER", "console")
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # spans reach the log at once
        env.setenv(f"{prefix}EMAIL_TRANSPORT", "smtp")
        env.setenv(f"{prefix}SMTP_HOST", "127.0.0.1")
        env.setenv(f"{prefix}SMTP_PORT", str(mailbox.port))
        env.setenv(f"{prefix}SMTP_SECURITY", "none")
        env.setenv(f"{prefix}SMS_GATEWAY_URL", receiver.url(SMS_PATH))
        env.setenv(f"{prefix}DELIVERY_POLL_SECONDS", "0.1")
        stack = LocalStack(settings)
        stack.start()
        env.undo()
        try:
            yield stack, receiver
        finally:
            stack.stop()


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


async def test_nothing_planted_leaves_through_any_message_log_or_span(
    platform: tuple[LocalStack, Receiver], mailbox: Mailbox
) -> None:
    stack, receiver = platform
    await _walk_the_job(stack, receiver, mailbox)


async def _walk_the_job(stack: LocalStack, receiver: Receiver, mailbox: Mailbox) -> None:
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
            json={"sms": True, "sms_number": "+358401112233"},
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
                and bool(mailbox.to(technician.email))
                and bool(receiver.at(SMS_PATH))
                and bool(mailbox.to(auditor.email))
            )

        await eventually(everything_arrived, timeout=20)
        inbox = await http.get("/v1/me/notifications", headers=bearer(technician))
        assert inbox.status_code == 200, inbox.text
        assert [n["work_order_id"] for n in inbox.json()["items"]] == [order_id]
        alerts = await http.get("/v1/me/notifications", headers=bearer(auditor))
        assert alerts.status_code == 200, alerts.text
        assert [n["type"] for n in alerts.json()["items"]] == ["security.secret_values_exported"]

    told = {
        "emails": b"".join(mailbox.raw).decode(errors="replace"),
        "sms": "".join(r.body.decode() for r in receiver.at(SMS_PATH)),
        "webhooks": "".join(r.body.decode() for r in receiver.at(HOOK_PATH)),
        "inbox": inbox.text,
        "auditor's inbox": alerts.text,
    }
    assert order_id in told["webhooks"] and reference in told["sms"]
    for channel, text in told.items():
        assert leaks(text) == [], channel
    await asyncio.to_thread(_check_logs_spans_and_storage, stack)


def _check_logs_spans_and_storage(stack: LocalStack) -> None:
    for service in ("identity", "customer_vault", "work_order", "notification", "gateway"):
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert log, service
        assert leaks(log) == [], service
    # The console exporter's spans are in there (and so was the check above).
    assert "SpanKind.CONSUMER" in Path(stack.service_log("notification")).read_text()
    notification_db = Path(stack.settings.data_dir) / "notification.db"
    assert leaks(notification_db.read_bytes().decode(errors="replace")) == []
