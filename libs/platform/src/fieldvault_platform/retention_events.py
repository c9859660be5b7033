"""The durable consumer that keeps a purging service's copy of every tenant's retention policy.

identity publishes the whole policy as ``tenant_retention_policy_changed``;
each purging service (customer_vault, work_order, notification) runs one of
these with its own durable name, so every replica shares it and each event is
applied once (``processed_events``). An older version never overwrites a newer
one, so a redelivered or reordered event changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault.identity.v1 import identity_events_pb2 as identity_pb
from fieldvault_platform.db import Database
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, stream_name
from fieldvault_platform.events.subjects import EVENT_VERSION, SUBJECT_PREFIX
from fieldvault_platform.retention import apply_policy_change

IDENTITY = "identity"
EVENT = "tenant_retention_policy_changed"


async def apply_retention_event(session: AsyncSession, event: ReceivedEvent) -> None:
    changed = identity_pb.TenantRetentionPolicyChanged.FromString(event.payload)
    await apply_policy_change(
        session,
        tenant_id=changed.tenant_id,
        days=dict(changed.days),
        version=changed.version,
        now=datetime.now(UTC),
    )


def retention_policy_consumer(
    database: Database, jetstream: JetStreamContext, *, service: str
) -> ConsumerRunner:
    return ConsumerRunner(
        database,
        jetstream,
        stream=stream_name(IDENTITY),
        durable=f"{service}-retention-policies",
        filter_subject=f"{SUBJECT_PREFIX}.*.{IDENTITY}.{EVENT_VERSION}.{EVENT}",
        handler=apply_retention_event,
    )
