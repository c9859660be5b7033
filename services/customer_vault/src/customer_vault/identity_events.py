"""Identity's events that end access here: deactivations, organisation moves and lapsed
DPAs revoke grants.

A durable consumer (shared by every replica) applies each event once; the
revocations and their audit records commit together with the processed-event
row, so a redelivery changes nothing. What an event says about a user (their
deactivation, their new organisation) is also kept in ``directory_users``, so
a grant created after it — work-order acting on an older view — is refused.
Users' events take the tenant's audit chain lock first, as grant creation does:
a grant is either refused by the new facts or committed before and revoked here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault import audit
from customer_vault.access.grants import revoke_where
from customer_vault.dpa import DpaStatus
from customer_vault.models import DirectoryUser, Grant
from fieldvault.identity.v1 import identity_events_pb2 as pb
from fieldvault_platform.auth.contract import IDENTITY_SERVICE
from fieldvault_platform.db import Database, as_utc
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, service_subjects, stream_name
from fieldvault_platform.timestamps import from_timestamp

DURABLE = "customer_vault-grant-revocations"


async def _directory_user(
    session: AsyncSession, tenant_id: str, user_id: str, changed_at: datetime
) -> DirectoryUser:
    known = await session.get(DirectoryUser, (tenant_id, user_id))
    if known is None:
        known = DirectoryUser(tenant_id=tenant_id, user_id=user_id, changed_at=changed_at)
        session.add(known)
    return known


class GrantRevocations:
    """The handler: which grants each identity event ends."""

    def __init__(self, dpa: DpaStatus, trail: audit.AuditTrail) -> None:
        self._dpa = dpa
        self._trail = trail

    async def __call__(self, session: AsyncSession, event: ReceivedEvent) -> None:
        now = datetime.now(UTC)
        if event.event_type == pb.UserDeactivated.DESCRIPTOR.full_name:
            deactivated = pb.UserDeactivated.FromString(event.payload)
            await self._user_deactivated(session, deactivated, now)
        elif event.event_type == pb.UserOrganizationChanged.DESCRIPTOR.full_name:
            moved = pb.UserOrganizationChanged.FromString(event.payload)
            await self._user_moved(session, moved, now)
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

    async def _user_deactivated(
        self, session: AsyncSession, event: pb.UserDeactivated, now: datetime
    ) -> None:
        await audit.lock_chain(session, event.tenant_id)
        at = from_timestamp(event, "occurred_at") or now
        known = await _directory_user(session, event.tenant_id, event.user_id, at)
        known.deactivated_at = known.deactivated_at or at  # for good: identity never reactivates
        await revoke_where(
            session,
            self._trail,
            event.tenant_id,
            [Grant.user_id == event.user_id],
            actor=audit.SYSTEM,
            reason="user_deactivated",
            now=now,
        )

    async def _user_moved(
        self, session: AsyncSession, event: pb.UserOrganizationChanged, now: datetime
    ) -> None:
        await audit.lock_chain(session, event.tenant_id)
        at = from_timestamp(event, "occurred_at") or now
        known = await _directory_user(session, event.tenant_id, event.user_id, at)
        if known.organization_id is None or as_utc(known.changed_at) <= at:
            known.organization_id, known.changed_at = event.organization_id, at
        # Grants for another organisation's work end; one already made for the
        # new organisation (work-order caught up first) stays.
        await revoke_where(
            session,
            self._trail,
            event.tenant_id,
            [Grant.user_id == event.user_id, Grant.organization_id != known.organization_id],
            actor=audit.SYSTEM,
            reason="organization_changed",
            now=now,
        )

    async def _revoke_organization(
        self, session: AsyncSession, tenant_id: str, organization_id: str, now: datetime
    ) -> None:
        self._dpa.forget(tenant_id, organization_id)
        await revoke_where(
            session,
            self._trail,
            tenant_id,
            [Grant.organization_id == organization_id],
            actor=audit.SYSTEM,
            reason="dpa_inactive",
            now=now,
        )


def grant_revocation_consumer(
    database: Database, jetstream: JetStreamContext, dpa: DpaStatus, trail: audit.AuditTrail
) -> ConsumerRunner:
    return ConsumerRunner(
        database,
        jetstream,
        stream=stream_name(IDENTITY_SERVICE),
        durable=DURABLE,
        filter_subject=service_subjects(IDENTITY_SERVICE),
        handler=GrantRevocations(dpa, trail),
    )
