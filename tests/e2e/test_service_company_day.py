"""A service company's day, end to end: every service as its own process (real
nats-server, OpenBao, and SQLite — or PostgreSQL when ``FIELDVAULT_TEST_DATABASE_URL``
names a server), every step over the gateway's public REST API.

The operator creates the tenant; its admin accepts the invitation and enrols a second
factor; areas, a subcontractor with a DPA, a dispatcher, technicians, an auditor, a DPO
and a partner system are set up, people through the invitation e-mails notification
writes. The dispatcher records a customer, a site and its door code; the partner files a
work order and the dispatcher assigns it; the technician hears of it (no code anywhere in
the message), reveals the code (audited); a technician of another area and a
subcontractor without a job are refused; completion ends the grant; a deactivated
technician is refused within a second; the auditor reads and verifies the trail; the DPO
exports and then erases the customer; and the partner has received signed webhooks
throughout.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from e2e_people import Someone, accept_and_sign_in, invite, mails_to

from fieldvault_devstack.recorders import Receiver, eventually
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack

pytestmark = pytest.mark.stack

DOOR_CODE = "E2E-DOOR-48151"
CUSTOMER = {"name": "Edna Endtoend", "email": "edna.e2e@example.net", "phone": "+358 40 111 2222"}
HOOK = "/partner/fieldvault"
#: The contract: a deactivated person's tokens stop working within a second.
DEACTIVATION_SECONDS = 1.0


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> tuple[LocalStack, Receiver]:
    return shared_stack.stack, shared_stack.receiver


async def until(check: object, *, seconds: float = 10) -> None:
    await eventually(check, timeout=seconds)  # type: ignore[arg-type]


async def test_a_service_company_day(platform: tuple[LocalStack, Receiver]) -> None:
    stack, receiver = platform
    assert stack.endpoints is not None
    data = Path(stack.settings.data_dir)
    # On PostgreSQL, no service kept a SQLite file.
    assert bool(stack.settings.database_urls) != (data / "identity.db").exists()
    mail = data / "mail"
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=30) as http:
        # --- the operator creates the tenant; its admin signs up with a second factor
        created = await http.post(
            "/v1/tenants",
            json={
                "slug": slug,
                "name": "Harbour Lifts Ltd",
                "admin_email": f"ada@{slug}.example",
                "admin_name": "Ada",
            },
            headers={"Authorization": f"Bearer {stack.operator_token()}"},
        )
        assert created.status_code == 201, created.text
        admin = Someone(
            id=created.json()["admin_user"]["id"],
            email=f"ada@{slug}.example",
            token=await accept_and_sign_in(
                http, slug, f"ada@{slug}.example", created.json()["admin_invitation_url"]
            ),
        )

        # --- areas, a subcontractor with a DPA, the people, a partner system
        north = (await http.post("/v1/areas", json={"name": "North"}, headers=admin.auth)).json()
        south = (await http.post("/v1/areas", json={"name": "South"}, headers=admin.auth)).json()
        sub = await http.post(
            "/v1/organizations",
            json={
                "name": "Fast Fixers Oy",
                "kind": "subcontractor",
                "dpa_signed_on": "2026-01-01",
                "dpa_expires_on": "2030-12-31",
            },
            headers=admin.auth,
        )
        assert sub.status_code == 201, sub.text

        async def person(name: str, roles: list[str], **where: object) -> Someone:
            return await invite(http, admin, slug, mail, name=name, roles=roles, **where)  # type: ignore[arg-type]

        dispatcher = await person("Dora", ["dispatcher"], area_ids=[north["id"]])
        technician = await person("Tero", ["technician"], area_ids=[north["id"]])
        second_technician = await person("Tuula", ["technician"], area_ids=[north["id"]])
        southerner = await person("Sami", ["technician"], area_ids=[south["id"]])
        subbie = await person("Sune", ["technician"], organization_id=sub.json()["id"])
        auditor = await person("Aino", ["auditor"])
        dpo = await person("Pekka", ["dpo"])

        client = await http.post(
            "/v1/api-clients",
            json={
                "name": "Facility portal",
                "scopes": ["work_orders:write", "work_orders:read", "webhooks:manage"],
            },
            headers=admin.auth,
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
        partner = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        hook = await http.post(
            "/v1/webhooks", json={"url": receiver.url(HOOK), "events": ["*"]}, headers=partner
        )
        assert hook.status_code == 201, hook.text
        hook_secret = hook.json()["secret"]

        # --- the dispatcher records the customer, the site and its door code
        customer = await http.post(
            "/v1/customers", json={**CUSTOMER, "area_id": north["id"]}, headers=dispatcher.auth
        )
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer_id,
                "area_id": north["id"],
                "name": "Harbour Tower",
                "address": "1 Quay Street",
            },
            headers=dispatcher.auth,
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        written = await http.put(
            f"/v1/sites/{site_id}/secrets/door_code",
            json={"value": DOOR_CODE},
            headers=dispatcher.auth,
        )
        assert written.status_code == 204, written.text

        # --- the partner files the work order, the dispatcher assigns it
        order = await http.post(
            "/v1/work-orders",
            json={"site_id": site_id, "title": "Lift 2 stuck", "priority": "urgent"},
            headers=partner,
        )
        assert order.status_code == 201, order.text
        order_id = order.json()["id"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers=dispatcher.auth,
        )
        assert assigned.status_code == 200, assigned.text

        # --- the technician hears of it: inbox and e-mail, no code in either
        async def told() -> bool:
            inbox = await http.get("/v1/me/notifications", headers=technician.auth)
            return any(n["work_order_id"] == order_id for n in inbox.json()["items"])

        await until(told)
        inbox = await http.get("/v1/me/notifications", headers=technician.auth)
        assert DOOR_CODE not in inbox.text

        async def mailed() -> bool:
            texts = await asyncio.to_thread(mails_to, mail, technician.email)
            return any(order_id in text for text in texts)

        await until(mailed)
        for text in await asyncio.to_thread(mails_to, mail, technician.email):
            assert DOOR_CODE not in text and CUSTOMER["email"] not in text

        # --- the technician reveals the code (audited); others are refused
        async def reveal(who: Someone, **body: object) -> httpx.Response:
            return await http.post(
                f"/v1/sites/{site_id}/secrets/door_code/reveal", json=body, headers=who.auth
            )

        async def revealed() -> bool:
            return (await reveal(technician)).status_code == 200

        await until(revealed, seconds=5)
        shown = await reveal(technician)
        assert shown.json()["value"] == DOOR_CODE and shown.json()["audit_event_id"]
        for stranger in (southerner, subbie, second_technician):
            refused = await reveal(stranger)
            assert refused.status_code in (403, 404), refused.text
            assert DOOR_CODE not in refused.text

        # --- the job is done: the grant ends with it
        for step in ("start", "complete"):
            moved = await http.post(
                f"/v1/work-orders/{order_id}/{step}", json={}, headers=technician.auth
            )
            assert moved.status_code == 200, moved.text

        async def grant_ended() -> bool:
            return (await reveal(technician)).status_code == 403

        await until(grant_ended, seconds=5)
        assert (await reveal(technician)).json()["code"] == "no_active_grant"

        # --- a deactivated technician is refused within a second
        second_job = await http.post(
            "/v1/work-orders",
            json={"site_id": site_id, "title": "Service visit"},
            headers=dispatcher.auth,
        )
        await http.post(
            f"/v1/work-orders/{second_job.json()['id']}/assign",
            json={"assignee_user_id": second_technician.id},
            headers=dispatcher.auth,
        )

        async def second_may_reveal() -> bool:
            return (await reveal(second_technician)).status_code == 200

        await until(second_may_reveal, seconds=5)
        deactivated = await http.post(
            f"/v1/users/{second_technician.id}/deactivate", headers=admin.auth
        )
        assert deactivated.status_code in (200, 204), deactivated.text
        started = time.monotonic()
        while (after := await reveal(second_technician)).status_code == 200:
            assert time.monotonic() - started < DEACTIVATION_SECONDS, "still revealing"
            await asyncio.sleep(0.02)
        assert after.status_code in (401, 403), after.text

        # --- the auditor reads the trail and verifies it
        trail = await http.get(
            "/v1/audit-events", params={"site_id": site_id}, headers=auditor.auth
        )
        assert trail.status_code == 200, trail.text
        seen = {(e["action"], e["outcome"], e["actor_id"]) for e in trail.json()["items"]}
        assert ("secret.reveal", "success", technician.id) in seen
        assert ("secret.reveal", "denied", southerner.id) in seen or (
            "secret.reveal",
            "denied",
            subbie.id,
        ) in seen
        assert DOOR_CODE not in trail.text
        verified = await http.get("/v1/audit-events/verify", headers=auditor.auth)
        assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text

        # --- the DPO exports everything about the customer, then erases it
        export = await http.get(f"/v1/customers/{customer_id}/export", headers=dpo.auth)
        assert export.status_code == 200, export.text
        assert CUSTOMER["email"] in export.text and technician.id in export.text
        erased = await http.post(
            f"/v1/customers/{customer_id}/erase",
            json={"reason": "customer asked to be forgotten (Art. 17)"},
            headers=dpo.auth,
        )
        assert erased.status_code in (200, 204), erased.text
        gone = await http.get(f"/v1/customers/{customer_id}", headers=dispatcher.auth)
        assert gone.status_code == 410 and gone.json()["code"] == "erased", gone.text

        # --- the partner heard all of it, signed
        async def partner_heard() -> bool:
            types = {
                json.loads(r.body)["type"]
                for r in receiver.at(HOOK)
                # Other events reach the hook too (rotation tasks name no work order).
                if json.loads(r.body)["data"].get("work_order_id") == order_id
            }
            return {
                "work_order.created",
                "work_order.assigned",
                "work_order.started",
                "work_order.completed",
            } <= types

        await until(partner_heard)
    from notification.webhooks.signing import verify

    for call in receiver.at(HOOK):
        assert verify(
            call.headers["fieldvault-signature"], hook_secret, call.body, now=int(time.time())
        )
        assert call.headers["fieldvault-event-id"] == json.loads(call.body)["id"]
        for value in (DOOR_CODE, *CUSTOMER.values()):
            assert value not in call.body.decode()
