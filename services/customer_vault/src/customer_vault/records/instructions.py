"""Data-handling instructions, enforced where the data lives.

A person (a user token: own staff and subcontractors alike) sees no customer
personal data — no reveal, no customer, site, secret list, contract or export —
until they have acknowledged the tenant's instructions in force; until then the
call is refused with PERMISSION_DENIED ``instructions_not_acknowledged``, and
the problem names the version to read. A tenant that never published
instructions requires nothing. Partner systems (API clients) and services are
not people: their access is governed by their scopes and agreements, so they
are not asked.

Identity owns the instructions. This service keeps a copy of what it needs,
fed by identity's ``instructions_published`` and ``instructions_acknowledged``
events (a durable consumer, applied once per event): each version's
``effective_from`` and each person's newest acknowledged version. The hot path
is two primary-key reads of that copy. When the copy says "not acknowledged",
identity is asked before refusing (the acknowledgement may be younger than its
event's delivery), and a yes is written into the copy — so an acknowledgement
counts from the person's next call. How stale the copy may be: a *new* version
is enforced once its event has arrived, normally within a second, and its grace
period is usually days anyway; while NATS is down the previous requirement
stays in force. Identity unreachable on that refusal path is UNAVAILABLE, never
a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import grpc
from nats.js import JetStreamContext
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from customer_vault.models import InstructionsAcknowledgement, InstructionsVersion
from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_platform.auth import Principal, PrincipalKind
from fieldvault_platform.auth.contract import IDENTITY_SERVICE
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.db import Database
from fieldvault_platform.errors import PermissionDenied
from fieldvault_platform.events import ConsumerRunner, ReceivedEvent, service_subjects, stream_name
from fieldvault_platform.peer_client import PeerClient
from fieldvault_platform.timestamps import from_timestamp

DURABLE = "customer_vault-handling-instructions"
NOT_ACKNOWLEDGED = "instructions_not_acknowledged"

#: Asks identity for the newest version a user acknowledged (0 = none).
AcknowledgedVersion = Callable[[str, str], Coroutine[Any, Any, int]]


class InstructionsNotAcknowledged(PermissionDenied):
    code = NOT_ACKNOWLEDGED

    def __init__(self, version: int) -> None:
        super().__init__(
            f"read and acknowledge version {version} of the data-handling instructions first"
        )
        self.problem_members = {"instructions_version": str(version)}


class IdentityAcknowledgements:
    """identity's answer, for the refusal path only (service token, ``directory:read``)."""

    def __init__(self, tokens: ServiceTokens, channel: grpc.aio.Channel) -> None:
        self._identity = PeerClient(tokens, audience=IDENTITY_SERVICE)
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)

    async def __call__(self, tenant_id: str, user_id: str) -> int:
        response = await self._identity.call(
            self._stub.GetInstructionsAcknowledgement,
            identity_pb2.GetInstructionsAcknowledgementRequest(user_id=user_id),
            scope="directory:read",
            tenant_id=tenant_id,
        )
        return int(response.acknowledged_version)


async def record_acknowledgement(
    session: AsyncSession, tenant_id: str, user_id: str, version: int
) -> None:
    """Keep the newest version the person acknowledged (events may arrive in any order)."""
    known = await session.get(InstructionsAcknowledgement, (tenant_id, user_id))
    if known is None:
        session.add(
            InstructionsAcknowledgement(tenant_id=tenant_id, user_id=user_id, version=version)
        )
    elif known.version < version:
        known.version = version


class InstructionsGate:
    """Refuses a person customer data until they acknowledged the instructions in force."""

    def __init__(self, database: Database, ask_identity: AcknowledgedVersion) -> None:
        self._database = database
        self._ask_identity = ask_identity

    async def require_acknowledged(self, principal: Principal) -> None:
        """Raise :class:`InstructionsNotAcknowledged` unless the caller may see customer data."""
        version = await self.unread_version(principal)
        if version is not None:
            raise InstructionsNotAcknowledged(version)

    async def unread_version(self, principal: Principal) -> int | None:
        """The version the caller must read and acknowledge first; None when they may proceed."""
        if principal.kind is not PrincipalKind.USER or principal.tenant_id is None:
            return None
        tenant_id, user_id, now = principal.tenant_id, principal.subject, datetime.now(UTC)
        async with self._database.unit_of_work() as session:
            latest, required = (
                await session.execute(
                    select(
                        func.max(InstructionsVersion.version),
                        func.max(
                            case(
                                (
                                    InstructionsVersion.effective_from <= now,
                                    InstructionsVersion.version,
                                ),
                            )
                        ),
                    ).where(InstructionsVersion.tenant_id == tenant_id)
                )
            ).one()
            if not required:
                return None
            known = await session.get(InstructionsAcknowledgement, (tenant_id, user_id))
            if known is not None and known.version >= required:
                return None
        acknowledged = await self._ask_identity(tenant_id, user_id)
        if acknowledged < required:
            return int(latest)
        try:
            async with self._database.unit_of_work() as session:
                await record_acknowledgement(session, tenant_id, user_id, acknowledged)
        except IntegrityError:
            pass  # the event's consumer (or a parallel call) wrote it first: same fact
        return None


class InstructionsCopy:
    """The consumer's handler: identity's instruction events into this service's copy."""

    async def __call__(self, session: AsyncSession, event: ReceivedEvent) -> None:
        if event.event_type == events_pb.InstructionsPublished.DESCRIPTOR.full_name:
            published = events_pb.InstructionsPublished.FromString(event.payload)
            known = await session.get(InstructionsVersion, (published.tenant_id, published.version))
            if known is None:
                session.add(
                    InstructionsVersion(
                        tenant_id=published.tenant_id,
                        version=published.version,
                        effective_from=from_timestamp(published, "effective_time", required=True),
                    )
                )
        elif event.event_type == events_pb.InstructionsAcknowledged.DESCRIPTOR.full_name:
            given = events_pb.InstructionsAcknowledged.FromString(event.payload)
            await record_acknowledgement(session, given.tenant_id, given.user_id, given.version)


def instructions_consumer(database: Database, jetstream: JetStreamContext) -> ConsumerRunner:
    return ConsumerRunner(
        database,
        jetstream,
        stream=stream_name(IDENTITY_SERVICE),
        durable=DURABLE,
        filter_subject=service_subjects(IDENTITY_SERVICE),
        handler=InstructionsCopy(),
    )
