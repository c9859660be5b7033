"""Identity's events that end access here: deactivations and lapsed DPAs revoke grants.

A durable consumer (shared by every replica) applies each event once; the
revocations and their audit records commit together with the processed-event
row, so a redelivery changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.dpa import DpaStatus
from customer_vault.grants import revoke_where
from customer_vault.models import Grant
from fieldvault.identity.v1 import identity_events_pb2 as pb
from fieldvault_platform.auth.contract import IDENTITY_SERVICE
from fieldvault_platform.db import Database
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, service_subjects, stream_name

DURABLE = "customer_vault-grant-revocations"


class GrantRevocations:
    """The handler: which grants each identity event ends."""

    def __init__(self, dpa: DpaStatus) -> None:
        self._dpa = dpa

    async def __call__(self, session: AsyncSession, event: ReceivedEvent) -> None:
        now = datetime.now(UTC)
        if event.event_type == pb.UserDeactivated.DESCRIPTOR.full_name:
            deactivated = pb.UserDeactivated.FromString(event.payload)
            await revoke_where(
                session,
                deactivated.tenant_id,
                [Grant.user_id == deactivated.user_id],
                actor=audit.SYSTEM,
                reason="user_deactivated",
                now=now,
            )
        elif event.event_type == pb.OrganizationDpaLapsed.DESCRIPTOR.full_name:
            lapsed = pb.OrganizationDpaLapsed.FromString(event.payload)
            await self._revoke_organization(session, lapsed.tenant_id, lapsed.organization_id, now)
        elif event.event_type == pb.OrganizationDpaUpdated.DESCRIPTOR.full_name:
            updated = pb.OrganizationDpaUpdated.FromString(event.payload)
            self._dpa.forget(updated.tenant_id, updated.organization_id)
            if not updated.dpa_active:
                await self._revoke_organization(
                    session, updated.tenant_id, updated.organization_id, now
                )

    async def _revoke_organization(
        self, session: AsyncSession, tenant_id: str, organization_id: str, now: datetime
    ) -> None:
        self._dpa.forget(tenant_id, organization_id)
        await revoke_where(
            session,
            tenant_id,
            [Grant.organization_id == organization_id],
            actor=audit.SYSTEM,
            reason="dpa_inactive",
            now=now,
        )


def grant_revocation_consumer(
    database: Database, jetstream: JetStreamContext, dpa: DpaStatus
) -> ConsumerRunner:
    return ConsumerRunner(
        database,
        jetstream,
        stream=stream_name(IDENTITY_SERVICE),
        durable=DURABLE,
        filter_subject=service_subjects(IDENTITY_SERVICE),
        handler=GrantRevocations(dpa),
    )
