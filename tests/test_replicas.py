"""Two replicas of every service, correct together: one stack with two processes of each
service on PostgreSQL, a three-node NATS JetStream cluster (streams and buckets at
replication 3), and a client that alternates between the two gateways.

Each test proves one thing replicas must agree on: rate limits and ``Idempotency-Key``
shared by the gateways (NATS key-value), each DPA lapse announced once although both
identity watchers look, each event having one effect although two relays publish and
two consumers pull (work orders returned once, one inbox entry and one e-mail per job,
the notification workers' leases), and grant tasks delivered under a lease, so no
revoked grant comes back.

PostgreSQL only (``FIELDVAULT_TEST_DATABASE_URL``): several processes on one SQLite
file are not a supported deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from itertools import cycle

import httpx
import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from fieldvault.identity.v1 import identity_events_pb2, identity_pb2, identity_pb2_grpc
from fieldvault_devstack.databases import isolated_database
from fieldvault_devstack.identity_driver import IdentityDriver, Person, Tenant
from fieldvault_devstack.nats import NatsCluster
from fieldvault_devstack.ports import free_port
from fieldvault_devstack.settings import DB_SERVICES, DevStackSettings
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel

# Its own stack on PostgreSQL databases (skipped without a server).
pytestmark = [pytest.mark.stack, pytest.mark.database]

DATABASE_SERVER = os.environ.get("FIELDVAULT_TEST_DATABASE_URL")
DOOR_CODE = "CANARY-DOOR-5512"
LOGIN_BUDGET = 4


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    if not DATABASE_SERVER:
        pytest.skip(
            "replicas need PostgreSQL (set FIELDVAULT_TEST_DATABASE_URL): several processes "
            "on one SQLite file are not a supported deployment"
        )
    ports = {name: free_port() for name in DevStackSettings.model_fields if name.endswith("_port")}
    with contextlib.ExitStack() as databases:
        urls = {
            service: databases.enter_context(isolated_database(DATABASE_SERVER))
            for service in DB_SERVICES
        }
        settings = DevStackSettings(
            data_dir=tmp_path_factory.mktemp("replicas") / "dev",
            database_urls=urls,
            replicas=2,
            # Twelve processes and a NATS cluster start at once on a shared machine.
            ready_timeout_seconds=180,
            **ports,  # type: ignore[arg-type]
        )
        stack = LocalStack(
            settings,
            extra_env={
                "FIELDVAULT_GATEWAY_RATE_LIMIT_LOGIN_PER_MINUTE": str(LOGIN_BUDGET),
                # Both identity replicas look for lapsed DPAs often, so they race.
                "FIELDVAULT_IDENTITY_DPA_CHECK_INTERVAL_SECONDS": "0.5",
            },
        )
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
async def gateways(platform: LocalStack) -> AsyncIterator[list[httpx.AsyncClient]]:
    urls = platform.gateway_urls()
    assert len(urls) == 2
    async with contextlib.AsyncExitStack() as clients:
        yield [
            await clients.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
            for url in urls
        ]


@pytest.fixture
async def people(platform: LocalStack) -> AsyncIterator[IdentityDriver]:
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        yield IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.2)
    return True


async def settle() -> None:
    """Time for a duplicate to show up, if either replica were to make one."""
    await asyncio.sleep(3)


def test_the_stack_runs_two_of_everything_on_a_nats_cluster(platform: LocalStack) -> None:
    names = set(platform.processes)
    for service in (*DB_SERVICES, "gateway", "web"):
        assert {service, f"{service}-2"} <= names
    assert isinstance(platform.nats, NatsCluster) and len(platform.nats.nodes) == 3
    assert not platform.dead_services()


async def test_streams_and_buckets_are_replicated_three_times(
    platform: LocalStack, gateways: list[httpx.AsyncClient]
) -> None:
    # A keyed create makes sure the idempotency bucket exists.
    await gateways[0].post("/v1/customers", json={}, headers={"Idempotency-Key": "probe"})
    client = await nats.connect(platform.nats.url.split(","))
    try:
        js = client.jetstream()
        for service in DB_SERVICES:
            info = await js.stream_info(f"FIELDVAULT_{service.upper()}")
            assert info.config.num_replicas == 3, service
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        for bucket in ("gateway_rate_limits", "gateway_idempotency"):
            status = await (await js.key_value(bucket)).status()
            assert status.stream_info.config.num_replicas == 3, bucket
    finally:
        await client.close()


async def test_the_gateways_share_one_login_budget(
    gateways: list[httpx.AsyncClient],
) -> None:
    attempt = {"tenant": f"nobody-{uuid.uuid4().hex[:6]}", "password": "not the password"}
    began = time.monotonic()
    answers = []
    for n, gateway in zip(range(3 * LOGIN_BUDGET), cycle(gateways), strict=False):
        answers.append(
            await gateway.post("/v1/auth/login", json=attempt | {"email": f"u{n}@x.example"})
        )
    elapsed = time.monotonic() - began

    statuses = [answer.status_code for answer in answers]
    assert 503 not in statuses
    let_through = sum(status != 429 for status in statuses)
    # One budget for both: what it holds, plus what refilled meanwhile (one a
    # 60/LOGIN_BUDGET s) — never the budget of each gateway added up.
    refilled = int(elapsed * LOGIN_BUDGET / 60)
    assert let_through <= LOGIN_BUDGET + refilled, statuses
    if refilled == 0:
        assert let_through == LOGIN_BUDGET, statuses
        # Both gateways refuse once the shared budget is spent.
        assert {a.url.port for a in answers if a.status_code == 429} == {
            g.base_url.port for g in gateways
        }


async def test_an_idempotency_key_holds_across_gateways(
    people: IdentityDriver, gateways: list[httpx.AsyncClient]
) -> None:
    tenant = await people.new_tenant()
    area = await people.new_area(tenant, "North")
    office = bearer(await people.new_person(tenant, roles=["dispatcher"], area_ids=[area]))
    one, two = gateways
    body = {"name": "Replica Oy", "area_id": area}
    keyed = office | {"Idempotency-Key": str(uuid.uuid4())}

    first = await one.post("/v1/customers", json=body, headers=keyed)
    again = await two.post("/v1/customers", json=body, headers=keyed)
    other_body = await two.post("/v1/customers", json=body | {"name": "Other Oy"}, headers=keyed)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"

    # Both at once, one through each gateway: one customer, whoever wins.
    racing = office | {"Idempotency-Key": str(uuid.uuid4())}
    raced = await asyncio.gather(
        *(gateway.post("/v1/customers", json=body, headers=racing) for gateway in gateways)
    )
    assert sorted(r.status_code for r in raced) in ([201, 201], [201, 409]), [r.text for r in raced]
    made = {r.json()["id"] for r in raced if r.status_code == 201}
    assert len(made) == 1


async def lapsed_announcements(platform: LocalStack, tenant: Tenant) -> list[str]:
    """The organisation id of every ``organization_dpa_lapsed`` event in the stream."""
    client = await nats.connect(platform.nats.url.split(","))
    try:
        subject = f"fieldvault.{tenant.id}.identity.v1.organization_dpa_lapsed"
        subscription = await client.jetstream().subscribe(subject, ordered_consumer=True)
        found = []
        with contextlib.suppress(nats.errors.TimeoutError):
            while True:
                message = await subscription.next_msg(timeout=2)
                event = identity_events_pb2.OrganizationDpaLapsed.FromString(message.data)
                found.append(event.organization_id)
        return found
    finally:
        await client.close()


async def test_each_lapsed_dpa_is_announced_once_by_two_watchers(
    platform: LocalStack, people: IdentityDriver
) -> None:
    tenant = await people.new_tenant()
    # Already expired when made: no one announces it but the watchers, which both look.
    lapsed = [
        await people.new_subcontractor(
            tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2021-01-01"
        )
        for _ in range(4)
    ]

    async def all_announced() -> bool:
        return set(await lapsed_announcements(platform, tenant)) == set(lapsed)

    assert await until(all_announced)
    await settle()
    announced = await lapsed_announcements(platform, tenant)
    assert sorted(announced) == sorted(lapsed)


async def open_job(
    http: httpx.AsyncClient, office: dict[str, str], site_id: str, title: str
) -> dict[str, str]:
    start = datetime.now(UTC)
    created = await http.post(
        "/v1/work-orders",
        json={
            "site_id": site_id,
            "title": title,
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=2)).isoformat(),
        },
        headers=office,
    )
    assert created.status_code == 201, created.text
    job: dict[str, str] = created.json()
    return job


async def new_site(http: httpx.AsyncClient, office: dict[str, str], area: str) -> str:
    customer = await http.post(
        "/v1/customers", json={"name": "Mrs Hudson", "area_id": area}, headers=office
    )
    assert customer.status_code == 201, customer.text
    site = await http.post(
        "/v1/sites",
        json={
            "customer_id": customer.json()["id"],
            "area_id": area,
            "name": "221B",
            "address": "221B Baker Street",
        },
        headers=office,
    )
    assert site.status_code == 201, site.text
    site_id: str = site.json()["id"]
    written = await http.put(
        f"/v1/sites/{site_id}/secrets/door_code", json={"value": DOOR_CODE}, headers=office
    )
    assert written.status_code == 204, written.text
    return site_id


def mail_to(platform: LocalStack, address: str) -> list[Message]:
    messages = [message_from_bytes(path.read_bytes()) for path in platform.mail_dir.glob("*.eml")]
    return [m for m in messages if address in str(m.get("To", ""))]


async def test_one_effect_per_event_with_two_relays_consumers_and_workers(
    platform: LocalStack, people: IdentityDriver, gateways: list[httpx.AsyncClient]
) -> None:
    tenant = await people.new_tenant()
    area = await people.new_area(tenant, "North")
    dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    office = bearer(dispatcher)
    sub = await people.new_subcontractor(
        tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2099-12-31"
    )
    technicians = [
        await people.new_person(tenant, roles=["technician"], organization_id=sub) for _ in range(2)
    ]
    http = cycle(gateways)
    site_id = await new_site(next(http), office, area)
    jobs = []
    for n in range(4):
        job = await open_job(next(http), office, site_id, f"Lift {n}")
        assigned = await next(http).post(
            f"/v1/work-orders/{job['id']}/assign",
            json={"assignee_user_id": technicians[n % 2].id},
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text
        jobs.append(job)

    # The subcontractor's DPA lapses: every job of its technicians goes back.
    await people.stub.UpdateOrganization(
        identity_pb2.UpdateOrganizationRequest(
            id=sub, update_mask=["dpa_expires_on"], dpa_expires_on="2021-01-01"
        ),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )

    async def returned_notes() -> list[dict[str, object]]:
        inbox = await next(http).get("/v1/me/notifications", headers=office)
        assert inbox.status_code == 200, inbox.text
        return [n for n in inbox.json()["items"] if n["type"] == "work_order.returned"]

    async def everything_back() -> bool:
        return len(await returned_notes()) >= len(jobs) and len(
            mail_to(platform, dispatcher.email)
        ) >= len(jobs)

    assert await until(everything_back, within=60)
    await settle()

    for job in jobs:
        history = await next(http).get(f"/v1/work-orders/{job['id']}/history", headers=office)
        actions = [entry["action"] for entry in history.json()["items"]]
        assert actions.count("returned") == 1, actions
    notes = await returned_notes()
    assert sorted(str(n["work_order_id"]) for n in notes) == sorted(j["id"] for j in jobs)
    mails = mail_to(platform, dispatcher.email)
    for job in jobs:
        about = [m for m in mails if job["reference"] in str(m.get("Subject", ""))]
        assert len(about) == 1, [str(m.get("Subject")) for m in mails]
    # The technicians were told of each of their jobs (assigned, taken back), none twice.
    for n, technician in enumerate(technicians):
        subjects = [str(m.get("Subject", "")) for m in mail_to(platform, technician.email)]
        assert len(subjects) == len(set(subjects)), subjects
        for job in jobs[n::2]:
            assert any(job["reference"] in subject for subject in subjects), subjects


async def open_grant_tasks(platform: LocalStack, work_order_id: str) -> int:
    assert platform.endpoints is not None
    engine = create_async_engine(platform.endpoints.database_urls["work_order"])
    try:
        async with engine.connect() as connection:
            pending = await connection.scalar(
                text(
                    "SELECT count(*) FROM grant_tasks WHERE work_order_id = :id "
                    "AND done_at IS NULL AND failed_reason IS NULL"
                ),
                {"id": work_order_id},
            )
    finally:
        await engine.dispose()
    return int(pending or 0)


async def test_grant_tasks_are_leased_so_no_revoked_grant_comes_back(
    platform: LocalStack, people: IdentityDriver, gateways: list[httpx.AsyncClient]
) -> None:
    tenant = await people.new_tenant()
    area = await people.new_area(tenant, "North")
    office = bearer(await people.new_person(tenant, roles=["dispatcher"], area_ids=[area]))
    ada, bob = [
        await people.new_person(tenant, roles=["technician"], area_ids=[area]) for _ in range(2)
    ]
    http = cycle(gateways)
    site_id = await new_site(next(http), office, area)
    job = await open_job(next(http), office, site_id, "Door sticks")

    async def reveals(person: Person) -> int:
        answer = await next(http).post(
            f"/v1/sites/{site_id}/secrets/door_code/reveal", json={}, headers=bearer(person)
        )
        return answer.status_code

    async def delivered() -> bool:
        return await open_grant_tasks(platform, job["id"]) == 0

    # Back and forth, each change through the other gateway: revoke, create, revoke, ...
    # queued for both work-order replicas' grant deliveries to race on.
    for person in (ada, bob, ada, bob, ada, bob):
        assigned = await next(http).post(
            f"/v1/work-orders/{job['id']}/assign",
            json={"assignee_user_id": person.id},
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text
    assert await until(delivered)
    assert await reveals(bob) == 200
    assert await reveals(ada) == 403

    cancelled = await next(http).post(
        f"/v1/work-orders/{job['id']}/cancel", json={"reason": "customer cancelled"}, headers=office
    )
    assert cancelled.status_code == 200, cancelled.text
    assert await until(delivered)
    await settle()
    assert await reveals(bob) == 403
    assert await reveals(ada) == 403
