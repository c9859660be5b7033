"""The metrics the alerts and dashboards name exist, and no label carries a person's data.

One local stack (every service a process of its own, real NATS, OpenBao and
SQLite), each service's metrics port on; a short scripted workload with
canary names — a customer, site, area, work order and door code nobody else
would use — runs the paths the operator's metrics count: sign-ins (one
refused), a door code written, a work order assigned (its grant delivered and
its email sent), a granted and a refused reveal, the technician's job list,
a logout. Then every service is scraped:

- every metric a rule or dashboard names is in the output of some service;
- no label value anywhere holds a canary or an id of the tenant, a person,
  the customer, the site or the work order.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import pytest
from monitoring_sources import named_metrics
from prometheus_client.parser import text_string_to_metric_families

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel

# The stack's start and the workload count against the first test: room for a busy machine.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(420)]

SERVICES = ("identity", "customer_vault", "work_order", "notification", "gateway")
CANARIES = {
    "area": "Canary Area Quokka-5521",
    "customer": "Zebedee Canaryfeather",
    "email": "zebedee.canaryfeather@canary.example",
    "site": "Canary Lodge 77",
    "address": "77 Canaryweg, 9999 QZ Canarytown",
    "title": "Canary job: fix the quokka gate",
    "door_code": "CANARY-4711-DOOR",
    "password": "Canary-Wrong-Password-1",
}


@dataclass
class Scraped:
    texts: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def stack(shared_stack: SharedStack) -> tuple[LocalStack, dict[str, int]]:
    return shared_stack.stack, shared_stack.metrics_ports


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def workload(stack: LocalStack) -> dict[str, str]:
    """The scripted workload; the ids it created, by what they are."""
    assert stack.endpoints is not None
    process = stack.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, CANARIES["area"])
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[area])

    async with httpx.AsyncClient(base_url=stack.endpoints.gateway_url, timeout=20) as http:
        office = bearer(dispatcher)
        refused = await http.post(
            "/v1/auth/login",
            json={
                "tenant": tenant.slug,
                "email": technician.email,
                "password": CANARIES["password"],
            },
        )
        assert refused.status_code == 401, refused.text
        customer = await http.post(
            "/v1/customers",
            json={"name": CANARIES["customer"], "email": CANARIES["email"], "area_id": area},
            headers=office,
        )
        assert customer.status_code == 201, customer.text
        site = await http.post(
            "/v1/sites",
            json={
                "customer_id": customer.json()["id"],
                "area_id": area,
                "name": CANARIES["site"],
                "address": CANARIES["address"],
            },
            headers=office,
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        code = await http.put(
            f"/v1/sites/{site_id}/secrets/door_code",
            json={"value": CANARIES["door_code"]},
            headers=office,
        )
        assert code.status_code == 204, code.text
        created = await http.post(
            "/v1/work-orders",
            json={"site_id": site_id, "title": CANARIES["title"], "priority": "urgent"},
            headers=office,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        assigned = await http.post(
            f"/v1/work-orders/{order_id}/assign",
            json={"assignee_user_id": technician.id},
            headers={**office, "If-Match": created.headers["ETag"]},
        )
        assert assigned.status_code == 200, assigned.text
        jobs = await http.get("/v1/me/work-orders", headers=bearer(technician))
        assert jobs.status_code == 200, jobs.text
        # The grant reaches customer-vault in the background: reveal once it has.
        reveal = f"/v1/sites/{site_id}/secrets/door_code/reveal"
        deadline = time.monotonic() + 30
        while True:
            revealed = await http.post(reveal, json={}, headers=bearer(technician))
            if revealed.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert revealed.status_code == 200, revealed.text
        denied = await http.post(reveal, json={}, headers=office)
        assert denied.status_code == 403, denied.text
        logout = await http.post("/v1/auth/logout", headers=bearer(technician))
        assert logout.status_code == 204, logout.text
    return {
        "tenant": tenant.id,
        "tenant slug": tenant.slug,
        "dispatcher": dispatcher.id,
        "dispatcher email": dispatcher.email,
        "technician": technician.id,
        "technician email": technician.email,
        "area": area,
        "customer": customer.json()["id"],
        "site": site_id,
        "work order": order_id,
    }


async def scrape(ports: dict[str, int], host: str) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=10) as http:
        answers = {s: await http.get(f"http://{host}:{port}/metrics") for s, port in ports.items()}
    assert all(answer.status_code == 200 for answer in answers.values())
    return {service: answer.text for service, answer in answers.items()}


@pytest.fixture(scope="module")
def scraped(stack: tuple[LocalStack, dict[str, int]]) -> Scraped:
    running, ports = stack
    ids = asyncio.run(workload(running))
    host = running.settings.host
    # The email about the assignment is sent by notification's poller.
    deadline = time.monotonic() + 30
    while True:
        texts = asyncio.run(scrape(ports, host))
        if "fieldvault_notification_deliveries_settled_total" in texts["notification"]:
            break
        assert time.monotonic() < deadline, "notification never settled a delivery"
        time.sleep(0.5)
    return Scraped(texts, ids)


def sample_names(text: str) -> set[str]:
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_metric_the_alerts_and_dashboards_name_is_served_after_a_workload(
    scraped: Scraped,
) -> None:
    served: set[str] = set()
    for text in scraped.texts.values():
        served |= sample_names(text)
    named = named_metrics()
    assert len(named) > 20
    assert sorted(named - served) == []


def test_no_metric_label_carries_a_canary_or_an_id(scraped: Scraped) -> None:
    forbidden = {**{f"canary {k}": v for k, v in CANARIES.items()}, **scraped.ids}
    leaks = []
    for service, text in scraped.texts.items():
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                for label, value in sample.labels.items():
                    for what, secret in forbidden.items():
                        if secret.lower() in value.lower():
                            leaks.append((service, sample.name, label, what))
        # Nor anywhere else in the output (help texts, exemplars).
        for what, secret in forbidden.items():
            if secret.lower() in text.lower():
                leaks.append((service, "text", "", what))
    assert leaks == []


def test_the_workload_shows_in_the_operators_metrics(scraped: Scraped) -> None:
    # What the workload did is counted, by outcome only.
    vault = {
        (s.labels["outcome"])
        for f in text_string_to_metric_families(scraped.texts["customer_vault"])
        for s in f.samples
        if s.name == "fieldvault_reveals_total" and s.value >= 1
    }
    assert {"granted", "denied"} <= vault
    logins = {
        s.labels["outcome"]
        for f in text_string_to_metric_families(scraped.texts["identity"])
        for s in f.samples
        if s.name == "fieldvault_logins_total" and s.value >= 1
    }
    assert {"ok", "invalid_credentials"} <= logins
