"""Delivers queued grant changes to customer-vault, in order, until each succeeds.

Assignment is durable even while customer-vault is down: the change commits
with its grant task, and this background job keeps trying (with backoff)
until customer-vault takes it. Both calls are idempotent there (one open
grant per work order and grantee; revoking the revoked is a no-op), so a
retry after a lost answer is harmless. Tasks of one work order go in order:
a later task waits while an earlier one is failing. A refusal that retrying
cannot fix (the site was erased, a bad request) is recorded and skipped.

Each attempt is a span in the trace of the change that queued the task (its
stored traceparent), so the assignment request's trace reaches customer-vault.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import select

from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.db import Database
from fieldvault_platform.errors import Unavailable
from fieldvault_platform.polling import Poller
from fieldvault_platform.telemetry import context_of
from work_order.models import GrantTask
from work_order.settings import Settings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("work_order.grant_sync")

BATCH = 50
CALL_TIMEOUT_SECONDS = 5.0
_RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAUTHENTICATED,  # a token that expired in flight
    }
)


def _timestamp(value: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(str(value)))
    return stamp


class GrantSync:
    def __init__(
        self,
        database: Database,
        tokens: ServiceTokens,
        customer_vault: grpc.aio.Channel,
        settings: Settings,
    ) -> None:
        self._database = database
        self._tokens = tokens
        self._stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(customer_vault)  # type: ignore[no-untyped-call]
        self._settings = settings
        self._poller = Poller("grant tasks", self.deliver_due, settings.grant_retry_seconds)
        #: Nudge after a commit that queued a task; run as a background job.
        self.wake = self._poller.wake
        self.run = self._poller.run

    async def deliver_due(self) -> int:
        """One pass over the due tasks; returns how many were delivered."""
        now = datetime.now(UTC)
        async with self._database.unit_of_work() as session:
            tasks = list(
                (
                    await session.scalars(
                        select(GrantTask)
                        .where(GrantTask.done_at.is_(None))
                        .order_by(GrantTask.sequence)
                        .limit(BATCH)
                    )
                ).all()
            )
        blocked: set[str] = set()
        delivered = 0
        for task in tasks:
            if task.work_order_id in blocked:
                continue
            if task.next_attempt_at.replace(tzinfo=task.next_attempt_at.tzinfo or UTC) > now:
                blocked.add(task.work_order_id)  # keep this work order's order
                continue
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
                    continue
                row.attempts += 1
                if outcome is None:
                    row.done_at = datetime.now(UTC)
                    delivered += 1
                elif outcome == "retry":
                    delay = min(
                        self._settings.grant_retry_seconds * 2 ** min(row.attempts, 16),
                        self._settings.grant_max_retry_seconds,
                    )
                    row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
                    blocked.add(task.work_order_id)
                else:
                    row.done_at = datetime.now(UTC)
                    row.failed_reason = outcome[:200]
                    log.error(
                        "customer-vault refused a grant change for good",
                        extra={"work_order_id": task.work_order_id, "reason": row.failed_reason},
                    )
        return delivered

    async def _deliver(self, task: GrantTask) -> str | None:
        """None when customer-vault took it, "retry", or why it was refused for good."""
        payload = task.payload
        try:
            token = await self._tokens.token(
                audience="customer_vault", scope="grants:write", tenant_id=task.tenant_id
            )
            metadata = bearer_metadata(token)
            if task.kind == "create":
                await self._stub.CreateGrant(
                    customer_vault_pb2.CreateGrantRequest(
                        site_id=str(payload["site_id"]),
                        user_id=str(payload["user_id"]),
                        organization_id=str(payload["organization_id"]),
                        subcontractor=bool(payload["subcontractor"]),
                        fields=[str(f) for f in payload["fields"]],  # type: ignore[attr-defined]
                        work_order_id=task.work_order_id,
                        valid_from=_timestamp(payload["valid_from"]),
                        valid_until=_timestamp(payload["valid_until"]),
                        acting_user_id=str(payload["acting_user_id"]),
                    ),
                    metadata=metadata,
                    timeout=CALL_TIMEOUT_SECONDS,
                )
            else:
                await self._stub.RevokeGrants(
                    customer_vault_pb2.RevokeGrantsRequest(
                        work_order_id=task.work_order_id,
                        user_id=str(payload["user_id"]),
                        organization_id=str(payload["organization_id"]),
                        reason=str(payload["reason"]),
                        acting_user_id=str(payload["acting_user_id"]),
                    ),
                    metadata=metadata,
                    timeout=CALL_TIMEOUT_SECONDS,
                )
        except Unavailable:
            return "retry"  # identity could not issue the token
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _RETRYABLE:
                return "retry"
            return f"{exc.code().name}: {exc.details() or ''}"
        return None
