"""Data-handling instructions: versions an admin publishes, acknowledgements people give.

A tenant that never published instructions requires nothing. Once it has,
version *n* is *required* from its ``effective_from`` (publish time + the
grace days the admin chose): a person may see customer data while the newest
version they acknowledged is at least the newest version already in force.
During a grace period an acknowledgement of the previous version still
suffices; an acknowledgement of the new one counts at once.

customer_vault enforces this (it owns the data); it learns of versions and
acknowledgements from the events written here, and asks
:func:`acknowledged_version` when its copy says no (so an acknowledgement is
effective for the person's very next call, whatever the event's delay).

Publishing and acknowledging are audited in identity's audit log
(``instructions.publish``, ``instructions.acknowledge``). The text is never
put in an event or a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from identity import audit, events
from identity.directory.access import Caller, flush_unique
from identity.models import (
    HandlingInstructionsVersion,
    InstructionsAcknowledgement,
    Organization,
    User,
)

MAX_MARKDOWN_CHARS = 50_000
MAX_GRACE_DAYS = 90


@dataclass(frozen=True, slots=True)
class Standing:
    """The latest version, and where one person stands against it."""

    latest: HandlingInstructionsVersion | None
    acknowledged_version: int
    required_version: int


@dataclass(frozen=True, slots=True)
class Reader:
    user: User
    acknowledged_version: int
    acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrganizationStatus:
    organization: Organization
    acknowledged: list[Reader]
    pending: list[Reader]


async def latest_version(
    session: AsyncSession, tenant_id: str
) -> HandlingInstructionsVersion | None:
    found: HandlingInstructionsVersion | None = await session.scalar(
        select(HandlingInstructionsVersion)
        .where(HandlingInstructionsVersion.tenant_id == tenant_id)
        .order_by(HandlingInstructionsVersion.version.desc())
        .limit(1)
    )
    return found


async def required_version(session: AsyncSession, tenant_id: str, now: datetime) -> int:
    """The newest version in force now; 0 when none is (yet)."""
    found = await session.scalar(
        select(func.max(HandlingInstructionsVersion.version)).where(
            HandlingInstructionsVersion.tenant_id == tenant_id,
            HandlingInstructionsVersion.effective_from <= now,
        )
    )
    return int(found or 0)


async def acknowledged_version(session: AsyncSession, tenant_id: str, user_id: str) -> int:
    found = await session.scalar(
        select(func.max(InstructionsAcknowledgement.version)).where(
            InstructionsAcknowledgement.tenant_id == tenant_id,
            InstructionsAcknowledgement.user_id == user_id,
        )
    )
    return int(found or 0)


async def publish(
    session: AsyncSession, caller: Caller, *, markdown: str, grace_days: int, now: datetime
) -> HandlingInstructionsVersion:
    if not markdown.strip():
        raise InvalidArgument("markdown must not be empty")
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise InvalidArgument(f"markdown must be at most {MAX_MARKDOWN_CHARS} characters")
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise InvalidArgument(f"grace_days must be between 0 and {MAX_GRACE_DAYS}")
    latest = await latest_version(session, caller.tenant_id)
    published = HandlingInstructionsVersion(
        tenant_id=caller.tenant_id,
        version=(latest.version if latest else 0) + 1,
        markdown=markdown,
        published_at=now,
        effective_from=now + timedelta(days=grace_days),
        grace_days=grace_days,
        published_by=caller.name,
    )
    session.add(published)
    # Two admins publishing at once: one wins the version number, the other is told.
    await flush_unique(
        session, AlreadyExists("another version was published at the same moment; try again")
    )
    events.instructions_published(
        session,
        tenant_id=caller.tenant_id,
        version=published.version,
        effective_from=published.effective_from,
        at=now,
    )
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="instructions.publish",
            target_id=str(published.version),
            detail=f"grace_days={grace_days}",
        ),
        at=now,
    )
    return published


async def standing(session: AsyncSession, caller: Caller, *, now: datetime) -> Standing:
    return Standing(
        latest=await latest_version(session, caller.tenant_id),
        acknowledged_version=await acknowledged_version(session, caller.tenant_id, caller.name),
        required_version=await required_version(session, caller.tenant_id, now),
    )


async def acknowledge(
    session: AsyncSession, caller: Caller, *, version: int, now: datetime
) -> InstructionsAcknowledgement:
    """The caller accepts ``version``, which must be the latest; a repeat changes nothing."""
    latest = await latest_version(session, caller.tenant_id)
    if latest is None:
        raise NotFound("this tenant has published no data-handling instructions")
    if version != latest.version:
        raise FailedPrecondition(
            f"version {version} is not the current one; read version {latest.version}",
            code="not_current_version",
        )
    known = await session.get(InstructionsAcknowledgement, (caller.tenant_id, caller.name, version))
    if known is not None:
        return known
    given = InstructionsAcknowledgement(
        tenant_id=caller.tenant_id, user_id=caller.name, version=version, acknowledged_at=now
    )
    session.add(given)
    await flush_unique(session, AlreadyExists("acknowledged twice at the same moment"))
    events.instructions_acknowledged(
        session, tenant_id=caller.tenant_id, user_id=caller.name, version=version, at=now
    )
    audit.record(
        session,
        audit.AuditEntry(
            tenant_id=caller.tenant_id,
            actor=caller.name,
            action="instructions.acknowledge",
            target_id=str(version),
        ),
        at=now,
    )
    return given


async def get_version(
    session: AsyncSession, tenant_id: str, version: int
) -> HandlingInstructionsVersion:
    if version < 0:
        raise InvalidArgument("version must be 0 (the latest) or a published version")
    found = (
        await latest_version(session, tenant_id)
        if version == 0
        else await session.get(HandlingInstructionsVersion, (tenant_id, version))
    )
    if found is None:
        raise NotFound("no such version of the data-handling instructions")
    return found


async def acknowledgement(session: AsyncSession, caller: Caller, *, user_id: str) -> int:
    """The newest version ``user_id`` of the caller's tenant accepted; 0 for none."""
    return await acknowledged_version(session, caller.tenant_id, user_id)


async def report(
    session: AsyncSession, caller: Caller, *, version: int
) -> tuple[HandlingInstructionsVersion, list[OrganizationStatus]]:
    """Every person not deactivated, by organisation: who accepted ``version`` (or newer)."""
    reported = await get_version(session, caller.tenant_id, version)
    newest: dict[str, int] = {}
    accepted_at: dict[str, datetime] = {}
    rows = await session.execute(
        select(
            InstructionsAcknowledgement.user_id,
            InstructionsAcknowledgement.version,
            InstructionsAcknowledgement.acknowledged_at,
        ).where(InstructionsAcknowledgement.tenant_id == caller.tenant_id)
    )
    for user_id, acked, at in rows:
        newest[user_id] = max(newest.get(user_id, 0), acked)
        if acked >= reported.version:
            earlier = accepted_at.get(user_id)
            accepted_at[user_id] = as_utc(at) if earlier is None else min(earlier, as_utc(at))
    organizations = (
        await session.scalars(
            select(Organization)
            .where(Organization.tenant_id == caller.tenant_id)
            .order_by(Organization.kind, Organization.name)
        )
    ).all()
    people = (
        await session.scalars(
            select(User)
            .where(User.tenant_id == caller.tenant_id, User.status != "deactivated")
            .order_by(User.name, User.id)
        )
    ).all()
    statuses: list[OrganizationStatus] = []
    for organization in organizations:
        done: list[Reader] = []
        pending: list[Reader] = []
        for person in people:
            if person.organization_id != organization.id:
                continue
            reader = Reader(person, newest.get(person.id, 0), accepted_at.get(person.id))
            (done if reader.acknowledged_at is not None else pending).append(reader)
        statuses.append(OrganizationStatus(organization, done, pending))
    return reported, statuses
