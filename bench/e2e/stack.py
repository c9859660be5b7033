"""The real local stack for the benchmark, and the tenant the load runs as.

``LocalStack`` from the devstack (every service its own process, real NATS and
OpenBao) on free ports in a temporary folder, with the rate limits lifted
through settings: the gateway's per-user/per-client buckets and
customer_vault's reveal rate would otherwise refuse most of the load (which is
what they are for). On PostgreSQL each service gets a scratch database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.databases import isolated_database
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_devstack.population import DOOR_CODE, bearer, identity_process
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import DB_SERVICES, DevStackSettings
from fieldvault_devstack.stack import LocalStack, StackError
from fieldvault_platform.grpc_client import open_channel

log = logging.getLogger("bench.e2e")

UNLIMITED = str(10_000_000)
#: Ports are picked free but may be taken by someone else before a service binds them.
START_ATTEMPTS = 3
#: Settings that lift the rate limits (and give tokens the longest allowed life).
LIFTED_LIMITS = {
    "FIELDVAULT_GATEWAY_RATE_LIMIT_CLIENT_PER_MINUTE": UNLIMITED,
    "FIELDVAULT_GATEWAY_RATE_LIMIT_USER_PER_MINUTE": UNLIMITED,
    "FIELDVAULT_GATEWAY_RATE_LIMIT_REVEAL_PER_MINUTE": UNLIMITED,
    "FIELDVAULT_GATEWAY_RATE_LIMIT_TOKEN_PER_MINUTE": UNLIMITED,
    "FIELDVAULT_CUSTOMER_VAULT_REVEAL_RATE_LIMIT": UNLIMITED,
    "FIELDVAULT_IDENTITY_ACCESS_TOKEN_TTL_SECONDS": "600",
}


@contextlib.contextmanager
def bench_stack(database_url: str | None) -> Iterator[LocalStack]:
    """A started stack (SQLite, or scratch PostgreSQL databases on ``database_url``)."""
    os.environ.update(LIFTED_LIMITS)  # service_env() passes this process's environment on
    with contextlib.ExitStack() as cleanup:
        urls: dict[str, str] = {}
        if database_url:
            for service in DB_SERVICES:
                urls[service] = cleanup.enter_context(isolated_database(database_url))
        for attempt in range(1, START_ATTEMPTS + 1):
            data_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="fv-bench-")))
            ports = {k: free_port() for k in DevStackSettings.model_fields if k.endswith("_port")}
            settings = DevStackSettings(
                data_dir=data_dir / "dev",
                database_urls=urls,
                **ports,  # type: ignore[arg-type]
            )
            stack = LocalStack(settings)
            try:
                stack.start()  # stops what it started when it fails
            except (StackError, TimeoutError) as exc:
                # A free port can be taken by another process before a service binds it.
                if attempt == START_ATTEMPTS:
                    raise
                log.warning("the stack did not start (%s); again on other ports", exc)
                continue
            cleanup.callback(stack.stop)
            yield stack
            return


def service_database_url(stack: LocalStack, service: str) -> str:
    from fieldvault_devstack.service_env import database_url

    return stack.settings.database_urls.get(service) or database_url(stack.data_dir, service)


@dataclass
class Tenancy:
    """The benchmark's tenant: people (with gateway tokens), a site with a door code."""

    gateway_url: str
    tenant: Tenant
    area_id: str
    admin: Person
    dispatcher: Person
    technicians: list[Person]
    customer_id: str = ""
    site_id: str = ""
    #: One assigned work order per technician (their grant on ``site_id``).
    work_orders: dict[str, str] = field(default_factory=dict)

    def reveal_path(self, site_id: str = "") -> str:
        return f"/v1/sites/{site_id or self.site_id}/secrets/door_code/reveal"


async def _post(http: httpx.AsyncClient, path: str, token: str, body: object) -> dict:  # type: ignore[type-arg]
    response = await http.post(path, json=body, headers=bearer(token))
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    answer: dict = response.json()  # type: ignore[type-arg]
    return answer


async def new_site(http: httpx.AsyncClient, tenancy: Tenancy) -> str:
    """A site of the tenant's customer with a door code."""
    token = tenancy.dispatcher.gateway_token
    site = await _post(
        http,
        "/v1/sites",
        token,
        {
            "customer_id": tenancy.customer_id,
            "area_id": tenancy.area_id,
            "name": "Bench site",
            "address": "1 Harbour Road",
        },
    )
    written = await http.put(
        f"/v1/sites/{site['id']}/secrets/door_code",
        json={"value": DOOR_CODE},
        headers=bearer(token),
    )
    if written.status_code != 204:
        raise RuntimeError(f"door code: {written.status_code} {written.text}")
    site_id: str = site["id"]
    return site_id


async def new_work_order(http: httpx.AsyncClient, tenancy: Tenancy, site_id: str) -> str:
    order = await _post(
        http,
        "/v1/work-orders",
        tenancy.dispatcher.gateway_token,
        {"site_id": site_id, "title": "Lift inspection"},
    )
    order_id: str = order["id"]
    return order_id


async def assign(http: httpx.AsyncClient, tenancy: Tenancy, order_id: str, user_id: str) -> None:
    await _post(
        http,
        f"/v1/work-orders/{order_id}/assign",
        tenancy.dispatcher.gateway_token,
        {"assignee_user_id": user_id},
    )


async def new_technician(stack: LocalStack, tenancy: Tenancy) -> Person:
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        driver = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))  # type: ignore[no-untyped-call]
        return await driver.new_person(
            tenancy.tenant, roles=["technician"], area_ids=[tenancy.area_id]
        )


async def set_up_tenancy(stack: LocalStack, technicians: int) -> Tenancy:
    """A tenant, its admin and dispatcher, ``technicians`` technicians each granted the site."""
    assert stack.endpoints is not None
    process = identity_process(stack)
    async with open_channel(process.addr) as channel:
        driver = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))  # type: ignore[no-untyped-call]
        tenant = await driver.new_tenant()
        area = await driver.new_area(tenant, "North")
        admin = await driver.new_person(tenant, roles=["admin"])
        dispatcher = await driver.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        people = [
            await driver.new_person(tenant, roles=["technician"], area_ids=[area])
            for _ in range(technicians)
        ]
    tenancy = Tenancy(stack.endpoints.gateway_url, tenant, area, admin, dispatcher, people)
    async with httpx.AsyncClient(base_url=tenancy.gateway_url, timeout=30) as http:
        customer = await _post(
            http,
            "/v1/customers",
            dispatcher.gateway_token,
            {"name": "Customer Bench", "area_id": area},
        )
        tenancy.customer_id = customer["id"]
        tenancy.site_id = await new_site(http, tenancy)
        for person in people:
            order_id = await new_work_order(http, tenancy, tenancy.site_id)
            await assign(http, tenancy, order_id, person.id)
            tenancy.work_orders[person.id] = order_id
        # Grants are made asynchronously (work_order → customer_vault).
        deadline = time.monotonic() + 30
        for person in people:
            while True:
                revealed = await http.post(
                    tenancy.reveal_path(), json={}, headers=bearer(person.gateway_token)
                )
                if revealed.status_code == 200:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no grant: {revealed.status_code} {revealed.text}")
                await asyncio.sleep(0.05)
    return tenancy
