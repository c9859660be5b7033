"""After someone leaves, the codes they saw get changed — with every service as its own process.

Leaver: a technician reveals the door codes of two sites (one in each area) and is
deactivated. Their exposure report lists exactly those two codes; a rotation task for each
reaches the dispatchers of that site's area (inbox and e-mail) and not the other area's;
storing a new door code closes its task, and a dispatcher closes the other by hand.

Subcontractor: two technicians of a subcontractor reveal codes; the organisation's DPA
lapses: one report for the organisation covers both people's reveals.

Nothing leaks: planted codes, the address, the customer's name and contact data and a
dispatcher's closing words appear in no rotation-task message, webhook, event, log line or
span (spans go to each service's log: ``OTEL_TRACES_EXPORTER=console``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.recorders import (
    Receiver,
    eventually,
)
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel

pytestmark = pytest.mark.stack

CANARIES = {
    "north_code": "CANARY-DOOR-31337",
    "south_code": "CANARY-DOOR-27182",
    "sub_code": "CANARY-ALARM-16180",
    "new_code": "CANARY-NEW-14142",
    "name": "Philippa Canarywood",
    "email": "philippa.canarywood@example.org",
    "phone": "+358 40 555 0123",
    "north_address": "12 Canary Wharf Lane",
    "south_address": "34 Linnunlaulu Canarykatu",
    "close_reason": "Canary close words Quillby 5521",
}
HOOK_PATH = "/partner/rotation"


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> tuple[LocalStack, Receiver]:
    return shared_stack.stack, shared_stack.receiver


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


def leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


async def until(check: Any, *, within: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.1)
    return True


async def new_customer(http: httpx.AsyncClient, office: dict[str, str], area: str) -> str:
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
    customer_id: str = customer.json()["id"]
    return customer_id


async def new_site(
    http: httpx.AsyncClient, office: dict[str, str], customer_id: str, area: str, address: str
) -> str:
    site = await http.post(
        "/v1/sites",
        json={"customer_id": customer_id, "area_id": area, "name": "Depot", "address": address},
        headers=office,
    )
    assert site.status_code == 201, site.text
    site_id: str = site.json()["id"]
    return site_id


async def put_code(
    http: httpx.AsyncClient, office: dict[str, str], site_id: str, kind: str, value: str
) -> None:
    written = await http.put(
        f"/v1/sites/{site_id}/secrets/{kind}", json={"value": value}, headers=office
    )
    assert written.status_code == 204, written.text


async def job_and_reveal(
    http: httpx.AsyncClient,
    office: dict[str, str],
    site_id: str,
    technician: Person,
    kind: str,
    expected: str,
) -> None:
    """A job at the site assigned to the technician, who reveals the code for it."""
    created = await http.post(
        "/v1/work-orders", json={"site_id": site_id, "title": "Service visit"}, headers=office
    )
    assert created.status_code == 201, created.text
    assigned = await http.post(
        f"/v1/work-orders/{created.json()['id']}/assign",
        json={"assignee_user_id": technician.id},
        headers=office,
    )
    assert assigned.status_code == 200, assigned.text
    shown: dict[str, Any] = {}

    async def revealed() -> bool:
        response = await http.post(
            f"/v1/sites/{site_id}/secrets/{kind}/reveal", json={}, headers=bearer(technician)
        )
        shown.update(response.json() if response.status_code == 200 else {})
        return response.status_code == 200

    assert await until(revealed)
    assert shown["value"] == expected  # the one place a code may appear


async def exposure(http: httpx.AsyncClient, auditor: Person, path: str) -> dict[str, Any]:
    answer: dict[str, Any] = {}

    async def made() -> bool:
        response = await http.get(path, headers=bearer(auditor))
        assert response.status_code in (200, 404), response.text
        answer.update(response.json() if response.status_code == 200 else {})
        return response.status_code == 200

    assert await until(made), path
    return answer


def items(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for section in report["sections"] for item in section["items"]]


async def tasks_of(http: httpx.AsyncClient, person: Person, **params: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/rotation-tasks", params=params, headers=bearer(person))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def rotation_notes(http: httpx.AsyncClient, person: Person) -> list[dict[str, Any]]:
    inbox = await http.get("/v1/me/notifications", headers=bearer(person))
    assert inbox.status_code == 200, inbox.text
    return [n for n in inbox.json()["items"] if n["type"] == "rotation_task.created"]


async def published_payloads(nats_url: str, tenant_id: str) -> bytes:
    """Every customer-vault event of the tenant, as published on NATS."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        subscription = await js.subscribe(
            f"fieldvault.{tenant_id}.customer_vault.v1.>", ordered_consumer=True
        )
        payloads = []
        try:
            while True:
                message = await subscription.next_msg(timeout=1.0)
                payloads.append(message.data)
        except nats.errors.TimeoutError:
            pass
        await subscription.unsubscribe()
        return b"\n".join(payloads)
    finally:
        await client.close()


async def test_a_leavers_and_a_lapsed_subcontractors_codes_become_office_work_and_nothing_leaks(
    platform: tuple[LocalStack, Receiver], shared_stack: SharedStack
) -> None:
    stack, receiver = platform
    assert stack.endpoints is not None
    process = stack.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        north = await people.new_area(tenant, "North")
        south = await people.new_area(tenant, "South")
        admin = await people.new_person(tenant, roles=["admin"])
        auditor = await people.new_person(tenant, roles=["auditor"])
        north_dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
        south_dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
        leaver = await people.new_person(tenant, roles=["technician"], area_ids=[north, south])
        sub = await people.new_subcontractor(
            tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
        )
        sub_first = await people.new_person(tenant, roles=["technician"], organization_id=sub)
        sub_second = await people.new_person(tenant, roles=["technician"], organization_id=sub)

        async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=20) as http:
            hook = await http.post(
                "/v1/webhooks",
                json={
                    "url": receiver.url(HOOK_PATH),
                    "events": ["rotation_task.created", "rotation_task.closed"],
                },
                headers=bearer(admin),
            )
            assert hook.status_code == 201, hook.text
            north_office, south_office = bearer(north_dispatcher), bearer(south_dispatcher)
            north_site = await new_site(
                http,
                north_office,
                await new_customer(http, north_office, north),
                north,
                CANARIES["north_address"],
            )
            south_site = await new_site(
                http,
                south_office,
                await new_customer(http, south_office, south),
                south,
                CANARIES["south_address"],
            )
            await put_code(http, north_office, north_site, "door_code", CANARIES["north_code"])
            await put_code(http, south_office, south_site, "door_code", CANARIES["south_code"])
            await put_code(http, north_office, north_site, "alarm_code", CANARIES["sub_code"])

            # --- the leaver --------------------------------------------------------
            for office, site_id, code in (
                (north_office, north_site, "north_code"),
                (south_office, south_site, "south_code"),
            ):
                await job_and_reveal(http, office, site_id, leaver, "door_code", CANARIES[code])
            gone = await http.post(f"/v1/users/{leaver.id}/deactivate", headers=bearer(admin))
            assert gone.status_code in (200, 204), gone.text

            report = await exposure(http, auditor, f"/v1/users/{leaver.id}/exposure")
            assert report["trigger"] == "user_deactivated"
            assert sorted((i["site_id"], i["subject"]) for i in items(report)) == sorted(
                [(north_site, "door_code"), (south_site, "door_code")]
            )
            assert all(i["task_id"] for i in items(report))
            refused = await http.get(
                f"/v1/users/{leaver.id}/exposure", headers=bearer(north_dispatcher)
            )
            assert refused.status_code == 403, refused.text

            north_tasks = await tasks_of(http, north_dispatcher)
            south_tasks = await tasks_of(http, south_dispatcher)
            assert [(t["site_id"], t["subject"], t["reason"]) for t in north_tasks] == [
                (north_site, "door_code", "revealed_by_leaver")
            ]
            assert [(t["site_id"], t["reason"]) for t in south_tasks] == [
                (south_site, "revealed_by_leaver")
            ]

            async def both_areas_told() -> bool:
                return bool(await rotation_notes(http, north_dispatcher)) and bool(
                    await rotation_notes(http, south_dispatcher)
                )

            assert await until(both_areas_told)
            [north_note] = await rotation_notes(http, north_dispatcher)
            [south_note] = await rotation_notes(http, south_dispatcher)
            assert north_site in north_note["body"] and south_site not in north_note["body"]
            assert south_site in south_note["body"] and north_site not in south_note["body"]
            assert "someone who has left revealed it" in north_note["body"]
            assert await rotation_notes(http, admin) == []

            # A new door code closes the north task; the south one is closed by hand.
            await put_code(http, north_office, north_site, "door_code", CANARIES["new_code"])
            [closed_north] = await tasks_of(http, north_dispatcher)
            assert (closed_north["status"], closed_north["closed_how"]) == ("closed", "new_value")
            by_hand = await http.post(
                f"/v1/rotation-tasks/{south_tasks[0]['id']}/close",
                json={"reason": CANARIES["close_reason"]},
                headers=south_office,
            )
            assert by_hand.status_code == 200, by_hand.text
            assert (by_hand.json()["status"], by_hand.json()["closed_how"]) == ("closed", "by_hand")
            again = await http.post(
                f"/v1/rotation-tasks/{south_tasks[0]['id']}/close",
                json={"reason": CANARIES["close_reason"]},
                headers=south_office,
            )
            assert (again.status_code, again.json()["code"]) == (409, "task_closed")

            # --- the subcontractor -------------------------------------------------
            await job_and_reveal(
                http, north_office, north_site, sub_first, "alarm_code", CANARIES["sub_code"]
            )
            await job_and_reveal(
                http, south_office, south_site, sub_second, "door_code", CANARIES["south_code"]
            )
            await people.stub.UpdateOrganization(
                identity_pb2.UpdateOrganizationRequest(
                    id=sub, update_mask=["dpa_expires_on"], dpa_expires_on="2021-01-01"
                ),
                metadata=bearer_metadata(tenant.admin_identity_token),
            )
            organization = await exposure(http, auditor, f"/v1/organizations/{sub}/exposure")
            assert organization["trigger"] == "dpa_lapsed"
            assert sorted(
                (i["site_id"], i["subject"], tuple(i["user_ids"])) for i in items(organization)
            ) == sorted(
                [
                    (north_site, "alarm_code", (sub_first.id,)),
                    (south_site, "door_code", (sub_second.id,)),
                ]
            )
            for person in (sub_first, sub_second):  # one report: the organisation's
                own = await http.get(f"/v1/users/{person.id}/exposure", headers=bearer(auditor))
                assert own.status_code == 404, own.text
            open_now = await tasks_of(http, admin, status="open")
            assert sorted(
                (t["site_id"], t["subject"], t["reason"], t["exposed_organization_id"])
                for t in open_now
            ) == sorted(
                [
                    (north_site, "alarm_code", "revealed_by_organization", sub),
                    (south_site, "door_code", "revealed_by_organization", sub),
                ]
            )

            async def hooks_arrived() -> bool:
                types = [json.loads(r.body)["type"] for r in receiver.at(HOOK_PATH)]
                return types.count("rotation_task.created") == 4 and (
                    types.count("rotation_task.closed") == 2
                )

            assert await until(hooks_arrived)

            async def mailed() -> bool:
                return bool(shared_stack.mail_to(north_dispatcher.email)) and bool(
                    shared_stack.mail_to(south_dispatcher.email)
                )

            await eventually(mailed, timeout=20)
            inboxes = [
                (await http.get("/v1/me/notifications", headers=bearer(p))).text
                for p in (north_dispatcher, south_dispatcher)
            ]
            events = await published_payloads(stack.endpoints.nats_url, tenant.id)

    told = {
        "emails": shared_stack.raw_mails(),
        "webhooks": "".join(r.body.decode() for r in receiver.at(HOOK_PATH)),
        "inboxes": "\n".join(inboxes),
        "events": events.decode(errors="replace"),
    }
    assert north_site in told["webhooks"] and north_site in told["emails"]
    assert b"RotationTaskCreated" in events or b"revealed_by_leaver" in events
    for channel, text in told.items():
        assert leaks(text) == [], channel
    await asyncio.to_thread(_check_logs_and_spans, stack)


def _check_logs_and_spans(stack: LocalStack) -> None:
    for service in ("identity", "customer_vault", "work_order", "notification", "gateway"):
        log = Path(stack.service_log(service)).read_text(errors="replace")
        assert log, service
        assert leaks(log) == [], service
    # The console exporter's spans are in there (and so was the check above).
    assert "SpanKind.CONSUMER" in Path(stack.service_log("customer_vault")).read_text()
