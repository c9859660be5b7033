"""The whole stack (every service its own process, the web app among them), a tenant
with a dispatcher and technicians, a job for today with a door code, and a phone-sized
headless Chromium. One stack for the whole session: each test uses people of its own.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_devstack.population import identity_process
from fieldvault_devstack.shared_stack import REVEAL_HIDE_AFTER_SECONDS, SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import CHROMIUM_ARGS, DESKTOP, PHONE, SCREENSHOTS, chromium_path

DOOR_CODE = "WEBCANARY-DOOR-73914"
CUSTOMER = {
    "name": "Carla Canary",
    "email": "carla.canary.web@example.net",
    "phone": "+358 40 999 7391",
}
#: How long a revealed code stays on the page in these tests.
HIDE_AFTER_SECONDS = REVEAL_HIDE_AFTER_SECONDS


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Job:
    id: str
    site_id: str
    title: str


@dataclass
class World:
    stack: LocalStack
    #: The same stack with its SMS gateway and outbox (fieldvault_devstack.shared_stack).
    shared: SharedStack
    web_url: str
    gateway_url: str
    tenant: Tenant
    area_id: str
    dispatcher: Person
    driver_addr: str
    people: list[Person] = field(default_factory=list)

    @property
    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway_url, timeout=30)

    async def person(
        self, roles: tuple[str, ...] = ("technician",), *, organization_id: str = ""
    ) -> Person:
        async with open_channel(self.driver_addr) as channel:
            driver = IdentityDriver(
                identity_process(self.stack),
                identity_pb2_grpc.IdentityServiceStub(channel),
            )
            return await driver.new_person(
                self.tenant,
                roles=list(roles),
                area_ids=[self.area_id],
                organization_id=organization_id,
            )

    async def newcomer(self, roles: tuple[str, ...]) -> Person:
        """Invited and the password set, never signed in: the first sign-in is the
        browser's (a role that must have a second factor enrols it there)."""
        async with open_channel(self.driver_addr) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            driver = IdentityDriver(identity_process(self.stack), stub)
            created = await stub.CreateUser(
                identity_pb2.CreateUserRequest(
                    email=f"{roles[0]}-{uuid.uuid4().hex[:8]}@{self.tenant.slug}.example",
                    name="Nora",
                    roles=list(roles),
                    area_ids=[self.area_id],
                ),
                metadata=bearer_metadata(self.tenant.admin_identity_token),
                timeout=30,
            )
            deliverer = await driver.service_token(
                "notification",
                audience="identity",
                scope="invitations:deliver",
                tenant_id=self.tenant.id,
            )
            link = await stub.GetInvitationLink(
                identity_pb2.GetInvitationLinkRequest(
                    tenant_id=self.tenant.id, invitation_id=created.invitation_id
                ),
                metadata=bearer_metadata(deliverer),
                timeout=30,
            )
            await driver.accept(link.url)
        return Person(id=created.user.id, email=created.user.email, gateway_token="")

    async def subcontractor(self, *, dpa_signed_on: str, dpa_expires_on: str) -> str:
        async with open_channel(self.driver_addr) as channel:
            driver = IdentityDriver(
                identity_process(self.stack),
                identity_pb2_grpc.IdentityServiceStub(channel),
            )
            return await driver.new_subcontractor(
                self.tenant, dpa_signed_on=dpa_signed_on, dpa_expires_on=dpa_expires_on
            )

    async def job_for(self, technician: Person, title: str) -> Job:
        """A job at a new site with a door code, scheduled today, assigned to ``technician``,
        once customer-vault has granted the technician access (asynchronously)."""
        dispatcher = bearer(self.dispatcher.gateway_token)
        async with self.http as http:
            customer = await http.post(
                "/v1/customers", json={**CUSTOMER, "area_id": self.area_id}, headers=dispatcher
            )
            assert customer.status_code == 201, customer.text
            site = await http.post(
                "/v1/sites",
                json={
                    "customer_id": customer.json()["id"],
                    "area_id": self.area_id,
                    "name": "Harbour Court",
                    "address": "Satamakatu 7, Helsinki",
                    "access_instructions": "Staff entrance on the left; ring twice.",
                },
                headers=dispatcher,
            )
            assert site.status_code == 201, site.text
            site_id = site.json()["id"]
            written = await http.put(
                f"/v1/sites/{site_id}/secrets/door_code",
                json={"value": DOOR_CODE},
                headers=dispatcher,
            )
            assert written.status_code == 204, written.text
            now = datetime.now(UTC)
            order = await http.post(
                "/v1/work-orders",
                json={
                    "site_id": site_id,
                    "title": title,
                    "priority": "high",
                    "scheduled_start": (now - timedelta(minutes=30)).isoformat(),
                    "scheduled_end": (now + timedelta(hours=2)).isoformat(),
                },
                headers=dispatcher,
            )
            assert order.status_code == 201, order.text
            order_id = order.json()["id"]
            assigned = await http.post(
                f"/v1/work-orders/{order_id}/assign",
                json={"assignee_user_id": technician.id},
                headers=dispatcher,
            )
            assert assigned.status_code == 200, assigned.text
            deadline = time.monotonic() + 15
            while True:
                grants = await http.get(
                    "/v1/grants",
                    params={"site_id": site_id, "user_id": technician.id, "active": "true"},
                    headers=dispatcher,
                )
                if grants.status_code == 200 and grants.json()["items"]:
                    break
                assert time.monotonic() < deadline, f"no grant: {grants.text}"
                await asyncio.sleep(0.1)
        return Job(id=order_id, site_id=site_id, title=title)


@pytest.fixture(scope="session")
def stack(shared_stack: SharedStack) -> LocalStack:
    chromium_path()  # skip before anything starts when there is no browser
    return shared_stack.stack


@pytest.fixture(scope="session")
async def world(stack: LocalStack, shared_stack: SharedStack) -> World:
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        driver = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await driver.new_tenant()
        area = await driver.new_area(tenant, "Harbour")
        dispatcher = await driver.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    assert stack.endpoints is not None
    return World(
        stack=stack,
        shared=shared_stack,
        web_url=f"http://{stack.settings.host}:{stack.settings.web_port}",
        gateway_url=stack.endpoints.gateway_url,
        tenant=tenant,
        area_id=area,
        dispatcher=dispatcher,
        driver_addr=process.addr,
    )


@pytest.fixture(scope="session")
async def chromium(stack: LocalStack) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def phone(chromium: Browser, world: World) -> AsyncIterator[BrowserContext]:
    """A fresh phone-sized browser profile (no cookies) for one test."""
    context = await chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=world.web_url,
        locale="en-GB",
        timezone_id="Europe/Helsinki",
    )
    yield context
    await context.close()


async def _desktop_context(chromium: Browser, world: World) -> BrowserContext:
    return await chromium.new_context(
        viewport=DESKTOP,
        base_url=world.web_url,
        locale="en-GB",
        timezone_id="Europe/Helsinki",
        accept_downloads=True,
    )


@pytest.fixture
async def desktop(chromium: Browser, world: World) -> AsyncIterator[BrowserContext]:
    """A fresh desktop-sized browser profile for office staff, for one test."""
    context = await _desktop_context(chromium, world)
    yield context
    await context.close()


@pytest.fixture
async def second_desktop(chromium: Browser, world: World) -> AsyncIterator[BrowserContext]:
    """Another person's browser in the same test (a third party signing in)."""
    context = await _desktop_context(chromium, world)
    yield context
    await context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"
