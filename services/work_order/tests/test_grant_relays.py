"""Two replicas delivering grant changes at once, against one real customer-vault and database.

The chart runs two work-order replicas, so two grant relays race over the same
tasks. A slow replica must not land a stale "create" after the other's "revoke"
and leave a grant nobody revokes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import select
from work_order_fixtures import VaultOnly
from work_order_testkit import TIMEOUT, member, new_site

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.db import Database
from work_order.grant_sync import GrantSync
from work_order.models import GrantTask
from work_order.peer_clients import Directory

pytestmark = pytest.mark.integration

#: How long the slow replica's CreateGrant is held before it goes out.
SLOW_SECONDS = 2.0


class HeldCreateGrant(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Holds CreateGrant calls on their way to customer-vault: a replica that stalled."""

    def __init__(self) -> None:
        self.in_flight = asyncio.Event()

    async def intercept_unary_unary(
        self, continuation: Callable[..., Awaitable[Any]], details: Any, request: Any
    ) -> Any:
        if details.method.endswith(b"/CreateGrant"):
            self.in_flight.set()
            await asyncio.sleep(SLOW_SECONDS)
        return await continuation(details, request)


def task(tenant_id: str, work_order_id: str, kind: str, payload: dict[str, object]) -> GrantTask:
    return GrantTask(
        tenant_id=tenant_id,
        work_order_id=work_order_id,
        kind=kind,
        payload=payload,
        attempts=0,
        next_attempt_at=datetime.now(UTC),
        traceparent="",
    )


async def test_a_slow_replicas_stale_create_does_not_resurrect_a_revoked_grant(
    vault_only: VaultOnly,
) -> None:
    v = vault_only
    tenant = await v.identity.new_tenant()
    area = await v.identity.new_area(tenant, f"North {uuid.uuid4().hex[:4]}")
    dispatcher = await member(v.identity, tenant, roles=["dispatcher"], area_ids=[area])
    technician = await member(v.identity, tenant, roles=["technician"], area_ids=[area])
    site_id = await new_site(v, dispatcher, area)
    work_order_id = str(uuid.uuid4())
    now = datetime.now(UTC)

    settings = v.work_order_settings
    database = Database(settings.database_url)
    tokens = ServiceTokens(
        service="work_order",
        secret=settings.service_account_secret_value,
        channel=v.identity_channel,
    )
    # The technician's own organisation, as work-order learns it at assignment.
    assignee = await Directory(tokens, v.identity_channel, v.identity_channel).person(
        tenant.id, technician.id
    )
    held = HeldCreateGrant()
    async with (
        grpc.aio.insecure_channel(v.customer_vault_target, interceptors=[held]) as slow_channel,
        grpc.aio.insecure_channel(v.customer_vault_target) as fast_channel,
    ):
        slow = GrantSync(database, tokens, slow_channel, settings)
        fast = GrantSync(database, tokens, fast_channel, settings)

        # The assignment queued the grant; the slow replica picks it up and stalls.
        async with database.unit_of_work() as session:
            session.add(
                task(
                    tenant.id,
                    work_order_id,
                    "create",
                    {
                        "site_id": site_id,
                        "user_id": technician.id,
                        "organization_id": assignee.organization_id,
                        "subcontractor": False,
                        "fields": ["door_code"],
                        "valid_from": now.isoformat(),
                        "valid_until": (now + timedelta(hours=2)).isoformat(),
                        "acting_user_id": dispatcher.id,
                    },
                )
            )
        slow_pass = asyncio.create_task(slow.deliver_due())
        await asyncio.wait_for(held.in_flight.wait(), TIMEOUT)

        # Meanwhile the job is cancelled, and the other replica delivers what is due.
        async with database.unit_of_work() as session:
            session.add(
                task(
                    tenant.id,
                    work_order_id,
                    "revoke",
                    {
                        "user_id": technician.id,
                        "organization_id": "",
                        "reason": "cancelled",
                        "acting_user_id": dispatcher.id,
                    },
                )
            )
        await fast.deliver_due()
        await asyncio.wait_for(slow_pass, TIMEOUT)
        await fast.deliver_due()
        await slow.deliver_due()

    open_grants = await v.customer_vault.ListGrants(
        cv.ListGrantsRequest(work_order_id=work_order_id, active_only=True),
        metadata=dispatcher.customer_vault,
        timeout=TIMEOUT,
    )
    assert list(open_grants.grants) == []
    async with database.unit_of_work() as session:
        pending = await session.scalars(select(GrantTask).where(GrantTask.done_at.is_(None)))
        assert list(pending) == []  # both delivered, in order, by whichever held the lease
    await database.engine.dispose()
