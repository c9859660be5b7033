"""Delivers queued grant changes to customer-vault, in order, until each succeeds.

Assignment is durable even while customer-vault is down: the change commits
with its grant task, and this background job keeps trying (with backoff)
until customer-vault takes it. Both calls are idempotent there (one open
grant per work order and grantee; revoking the revoked is a no-op), so a
retry after a lost answer is harmless. Tasks of one work order go in order:
a later task waits while an earlier one is failing. Several replicas run this
job: a replica delivers a work order's tasks only while it holds that work
order's lease (``grant_leases``), so a slow replica cannot land a stale
"create" after another replica's "revoke" and resurrect the grant. The lease
(``GRANT_LEASE_SECONDS``) is renewed before each call and must outlast one
call's timeout. A refusal that retrying
cannot fix (the site was erased, a bad request) is recorded and skipped.

Each attempt is a span in the trace of the change that queued the task (its
stored traceparent), so the assignment request's trace reaches customer-vault.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.backoff import backoff_seconds
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.grpc_client import PeerRefused
from fieldvault_platform.metrics import GRANT_DELIVERY_DURATION
from fieldvault_platform.peer_client import PeerClient
from fieldvault_platform.polling import Poller
from fieldvault_platform.telemetry import context_of
from fieldvault_platform.timestamps import to_timestamp
from work_order.models import GrantLease, GrantTask
from work_order.settings import Settings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("work_order.grant_sync")

BATCH = 50
GRANTS_WRITE = "grants:write"
#: Refusals worth another try. UNAVAILABLE and DEADLINE_EXCEEDED arrive as
#: ``Unavailable`` (the peer client's mapping) and are retried too.
_RETRYABLE = frozenset(
    {
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAUTHENTICATED,  # a token that expired in flight
    }
)


class GrantSync:
    def __init__(
        self,
        database: Database,
        tokens: ServiceTokens,
        customer_vault: grpc.aio.Channel,
        settings: Settings,
    ) -> None:
        self._database = database
        self._vault = PeerClient(tokens, audience="customer_vault")
        self._stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)
        self._settings = settings
        #: This instance's name on the leases it takes (one per process and job).
        self._holder = uuid.uuid4().hex
        self._poller = Poller("grant tasks", self.deliver_due, settings.grant_retry_seconds)
        #: Nudge after a commit that queued a task; run as a background job.
        self.wake = self._poller.wake
        self.run = self._poller.run

    async def deliver_due(self) -> int:
        """One pass over the work orders with pending tasks; returns how many were delivered."""
        async with self._database.unit_of_work() as session:
            work_order_ids = list(
                (
                    await session.scalars(
                        select(GrantTask.work_order_id)
                        .where(GrantTask.done_at.is_(None))
                        .group_by(GrantTask.work_order_id)
                        .order_by(func.min(GrantTask.sequence))
                        .limit(BATCH)
                    )
                ).all()
            )
        delivered = 0
        for work_order_id in work_order_ids:
            if not await self._lease(work_order_id):
                continue  # another replica is delivering this work order's tasks
            try:
                delivered += await self._deliver_work_order(work_order_id)
            finally:
                await self._release(work_order_id)
        return delivered

    async def _deliver_work_order(self, work_order_id: str) -> int:
        """This work order's due tasks, in order, while the lease is held.

        Each task is read afresh after the previous one: a task another replica
        finished before this one took the lease is not delivered again, and one
        queued meanwhile (a cancellation after the assignment) follows in order.
        """
        delivered = 0
        while True:
            async with self._database.unit_of_work() as session:
                task = await session.scalar(
                    select(GrantTask)
                    .where(GrantTask.work_order_id == work_order_id, GrantTask.done_at.is_(None))
                    .order_by(GrantTask.sequence)
                    .limit(1)
                )
            if task is None or as_utc(task.next_attempt_at) > datetime.now(UTC):
                return delivered  # nothing left, or the first one waits: keep the order
            if not await self._lease(work_order_id):
                return delivered  # the lease ran out; whoever holds it now goes on
            with tracer.start_as_current_span(
                f"deliver grant {task.kind}",
                context=context_of(task.traceparent),
                attributes={
                    "fieldvault.work_order_id": task.work_order_id,
                    "fieldvault.grant_task.attempt": task.attempts + 1,
                },
            ) as span:
                outcome = await self._deliver(task)
                if outcome is not None:
                    # "retry" or the status name only: details may quote the request.
                    span.set_status(Status(StatusCode.ERROR, outcome.split(":")[0]))
            async with self._database.unit_of_work() as session:
                row = await session.get(GrantTask, task.sequence)
                if row is None:
                    return delivered
                row.attempts += 1
                if outcome is None:
                    row.done_at = datetime.now(UTC)
                    delivered += 1
                    _observe_delivery(task, row.done_at)
                elif outcome == "retry":
                    delay = backoff_seconds(
                        row.attempts,
                        base=self._settings.grant_retry_seconds,
                        cap=self._settings.grant_max_retry_seconds,
                    )
                    row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
                else:
                    row.done_at = datetime.now(UTC)
                    row.failed_reason = outcome[:200]
                    log.error(
                        "customer-vault refused a grant change for good",
                        extra={"work_order_id": task.work_order_id, "reason": row.failed_reason},
                    )
            if outcome == "retry":
                return delivered

    async def _lease(self, work_order_id: str) -> bool:
        """Take (or extend) the lease on the work order's tasks; False if another holds it.

        A conditional UPDATE takes an expired or own lease: on PostgreSQL a
        concurrent one waits for the first and then finds the lease taken; SQLite
        serialises writers. A missing lease row is inserted, and of two inserts
        the primary key lets one win.
        """
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self._settings.grant_lease_seconds)
        try:
            async with self._database.unit_of_work() as session:
                taken = await session.execute(
                    update(GrantLease)
                    .where(
                        GrantLease.work_order_id == work_order_id,
                        or_(GrantLease.holder == self._holder, GrantLease.leased_until <= now),
                    )
                    .values(holder=self._holder, leased_until=until)
                )
                if cast(CursorResult[Any], taken).rowcount == 1:
                    return True
                if await session.get(GrantLease, work_order_id) is not None:
                    return False
                session.add(
                    GrantLease(work_order_id=work_order_id, holder=self._holder, leased_until=until)
                )
        except IntegrityError:
            return False  # another replica inserted it first
        return True

    async def _release(self, work_order_id: str) -> None:
        async with self._database.unit_of_work() as session:
            await session.execute(
                delete(GrantLease).where(
                    GrantLease.work_order_id == work_order_id, GrantLease.holder == self._holder
                )
            )

    async def _deliver(self, task: GrantTask) -> str | None:
        """None when customer-vault took it, "retry", or why it was refused for good."""
        payload = task.payload
        try:
            if task.kind == "create":
                await self._vault.call(
                    self._stub.CreateGrant,
                    customer_vault_pb2.CreateGrantRequest(
                        site_id=str(payload["site_id"]),
                        user_id=str(payload["user_id"]),
                        organization_id=str(payload["organization_id"]),
                        subcontractor=bool(payload["subcontractor"]),
                        fields=[str(f) for f in payload["fields"]],  # type: ignore[attr-defined]
                        work_order_id=task.work_order_id,
                        valid_from=to_timestamp(datetime.fromisoformat(str(payload["valid_from"]))),
                        valid_until=to_timestamp(
                            datetime.fromisoformat(str(payload["valid_until"]))
                        ),
                        acting_user_id=str(payload["acting_user_id"]),
                    ),
                    scope=GRANTS_WRITE,
                    tenant_id=task.tenant_id,
                )
            else:
                await self._vault.call(
                    self._stub.RevokeGrants,
                    customer_vault_pb2.RevokeGrantsRequest(
                        work_order_id=task.work_order_id,
                        user_id=str(payload["user_id"]),
                        organization_id=str(payload["organization_id"]),
                        reason=str(payload["reason"]),
                        acting_user_id=str(payload["acting_user_id"]),
                    ),
                    scope=GRANTS_WRITE,
                    tenant_id=task.tenant_id,
                )
        except Unavailable:
            return "retry"  # customer-vault or identity (the token) down or too slow
        except PeerRefused as exc:
            # Refused by customer-vault, or its token by identity; NOT_FOUND included
            # (no ``not_found`` given), so an unknown site is a refusal for good.
            if exc.status in _RETRYABLE:
                return "retry"
            return f"{exc.status.name}: {exc.details}"
        return None


def _observe_delivery(task: GrantTask, done_at: datetime) -> None:
    """Time from the queuing change to the applied grant (tasks queued before it was kept
    in the payload fall back to their first due time, exact when delivered first time)."""
    queued = task.payload.get("queued_at")
    if isinstance(queued, str):
        started = as_utc(datetime.fromisoformat(queued))
    elif task.attempts == 0:
        started = as_utc(task.next_attempt_at)
    else:
        return
    GRANT_DELIVERY_DURATION.labels(task.kind).observe(max(0.0, (done_at - started).total_seconds()))
