"""Retention over the public REST API with every service as its own process.

An admin shortens the tenant's periods (a period below its legal minimum is
refused); each purging service hears of it (its report shows the new period).
A cancelled job whose cancellation is back-dated past the period has its free
text cleared by ``python -m work_order purge-retention --now``; a second run
clears nothing; the report says what the last run purged, and the purge's
output and every service's log carry no planted canary.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver, Person
from fieldvault_devstack.shared_stack import SharedStack
from fieldvault_devstack.stack import LocalStack
from fieldvault_platform.grpc_client import open_channel
from work_order.models import HistoryEntry

pytestmark = pytest.mark.stack

CANARY = "CANARY-retention Marjoribanks gate 3318"
PURGING = ("work_order", "notification", "customer_vault")


@pytest.fixture(scope="module")
def platform(shared_stack: SharedStack) -> LocalStack:
    return shared_stack.stack


def bearer(person: Person) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.gateway_token}"}


async def until(check: Any, *, within: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > within:
            return False
        await asyncio.sleep(0.2)
    return True


async def purge(platform: LocalStack, service: str) -> str:
    """The service's purge job, run now, as the chart's CronJob runs it."""
    job = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        service,
        "purge-retention",
        "--now",
        env={**os.environ, **platform.env_for(service)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await job.communicate()
    assert job.returncode == 0, output.decode()[-2000:]
    return output.decode()


async def backdate_cancellation(platform: LocalStack, order_id: str, days: int) -> None:
    """As if the job had been cancelled ``days`` ago (its history says when)."""
    engine = create_async_engine(
        platform.env_for("work_order")["FIELDVAULT_WORK_ORDER_DATABASE_URL"]
    )
    try:
        async with engine.begin() as connection:
            changed = (
                await connection.execute(
                    update(HistoryEntry)
                    .where(HistoryEntry.work_order_id == order_id)
                    .values(occurred_at=datetime.now(UTC) - timedelta(days=days))
                )
            ).rowcount
    finally:
        await engine.dispose()
    assert changed >= 2


async def test_a_tenant_policy_reaches_every_purge_and_the_report_says_what_was_purged(
    platform: LocalStack,
) -> None:
    assert platform.endpoints is not None
    process = platform.identity_process()
    async with open_channel(process.addr) as channel:
        people = IdentityDriver(process, identity_pb2_grpc.IdentityServiceStub(channel))
        tenant = await people.new_tenant()
        area = await people.new_area(tenant, "North")
        admin = await people.new_person(tenant, roles=["admin"])
        auditor = await people.new_person(tenant, roles=["auditor"])
        dispatcher = await people.new_person(tenant, roles=["dispatcher"], area_ids=[area])
        technician = await people.new_person(tenant, roles=["technician"], area_ids=[area])

    base_url = f"http://{platform.settings.host}:{platform.settings.gateway_port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        policy = await http.get("/v1/tenant/retention", headers=bearer(auditor))
        assert policy.status_code == 200, policy.text
        assert policy.json()["defaults"] is True
        assert policy.json()["days"]["audit_records"] == 2190

        too_short = await http.put(
            "/v1/tenant/retention", json={"audit_records": 100}, headers=bearer(admin)
        )
        assert too_short.status_code == 400, too_short.text
        assert too_short.headers["content-type"].startswith("application/problem+json")
        assert too_short.json()["code"] == "retention_below_minimum"
        assert "audit_records" in too_short.json()["detail"]
        not_admin = await http.put(
            "/v1/tenant/retention", json={"inbox": 30}, headers=bearer(auditor)
        )
        assert not_admin.status_code == 403, not_admin.text
        unknown = await http.put(
            "/v1/tenant/retention", json={"selfies": 30}, headers=bearer(admin)
        )
        assert unknown.status_code == 422, unknown.text

        changed = await http.put(
            "/v1/tenant/retention",
            json={"work_order_text": 30, "inbox": 7, "ended_grants": 30},
            headers={**bearer(admin), "If-Match": policy.json()["etag"]},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["days"]["work_order_text"] == 30
        assert changed.headers["etag"] == changed.json()["etag"]

        async def periods() -> dict[tuple[str, str], int]:
            report = await http.get("/v1/retention/report", headers=bearer(auditor))
            assert report.status_code == 200, report.text
            return {
                (item["service"], item["category"]): item["retention_days"]
                for item in report.json()["items"]
            }

        async def every_service_heard() -> bool:
            known = await periods()
            return (
                known[("work_order", "work_order_text")] == 30
                and known[("notification", "inbox")] == 7
                and known[("customer_vault", "ended_grants")] == 30
            )

        assert await until(every_service_heard)
        assert (await periods())[("customer_vault", "audit_records")] == 2190
        refused = await http.get("/v1/retention/report", headers=bearer(technician))
        assert refused.status_code == 403, refused.text

        # A job with free text, cancelled (as if) 40 days ago: past the 30 days.
        customer = await http.post(
            "/v1/customers",
            json={"name": "Mrs Hudson", "area_id": area},
            headers=bearer(dispatcher),
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
            headers=bearer(dispatcher),
        )
        assert site.status_code == 201, site.text
        orders = []
        for title in (f"Old job {CANARY}", f"New job {CANARY}"):
            created = await http.post(
                "/v1/work-orders",
                json={"site_id": site.json()["id"], "title": title, "description": CANARY},
                headers=bearer(dispatcher),
            )
            assert created.status_code == 201, created.text
            cancelled = await http.post(
                f"/v1/work-orders/{created.json()['id']}/cancel",
                json={"reason": CANARY},
                headers=bearer(dispatcher),
            )
            assert cancelled.status_code == 200, cancelled.text
            orders.append(created.json()["id"])
        old, new = orders
        await backdate_cancellation(platform, old, days=40)

        output = await purge(platform, "work_order")
        assert "work_order_text" in output
        cleared = (await http.get(f"/v1/work-orders/{old}", headers=bearer(dispatcher))).json()
        assert (cleared["title"], cleared["status"]) == ("[removed after retention]", "cancelled")
        assert CANARY not in str(cleared)
        kept = (await http.get(f"/v1/work-orders/{new}", headers=bearer(dispatcher))).json()
        assert CANARY in kept["title"]

        report = await http.get("/v1/retention/report", headers=bearer(admin))
        [text_report] = [
            item for item in report.json()["items"] if item["category"] == "work_order_text"
        ]
        assert (text_report["service"], text_report["purged"]) == ("work_order", 1)
        assert text_report["last_run_at"] is not None

        # A second run clears nothing more.
        outputs = [output, await purge(platform, "work_order")]
        report = await http.get("/v1/retention/report", headers=bearer(admin))
        [text_report] = [
            item for item in report.json()["items"] if item["category"] == "work_order_text"
        ]
        assert text_report["purged"] == 0
        for service in ("notification", "customer_vault"):
            outputs.append(await purge(platform, service))

    for text in outputs:
        assert CANARY not in text and "Hudson" not in text
    for service in PURGING:
        assert CANARY not in platform.service_log(service).read_text(errors="replace")
