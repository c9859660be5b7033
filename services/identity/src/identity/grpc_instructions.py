"""IdentityService RPCs for the tenant's data-handling instructions.

Proto ⇄ domain only (the rules are in :mod:`identity.directory.instructions`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.timestamps import to_timestamp
from identity.components import Components
from identity.directory import instructions
from identity.directory.access import authorize
from identity.models import HandlingInstructionsVersion
from identity.scopes import INSTRUCTIONS_REPORT

Context: TypeAlias = grpc.aio.ServicerContext

#: Every signed-in person holds it: reading and acknowledging is for everyone.
EVERYONE = "profile"

_KIND = {"own": pb.ORGANIZATION_KIND_OWN, "subcontractor": pb.ORGANIZATION_KIND_SUBCONTRACTOR}


def _now() -> datetime:
    return datetime.now(UTC)


def instructions_message(row: HandlingInstructionsVersion) -> pb.HandlingInstructions:
    return pb.HandlingInstructions(
        version=row.version,
        markdown=row.markdown,
        publish_time=to_timestamp(row.published_at),
        effective_time=to_timestamp(row.effective_from),
        grace_days=row.grace_days,
        published_by=row.published_by,
    )


def _reader(reader: instructions.Reader) -> pb.InstructionsReader:
    message = pb.InstructionsReader(
        user_id=reader.user.id,
        name=reader.user.name,
        roles=sorted(reader.user.roles),
        acknowledged_version=reader.acknowledged_version,
    )
    if reader.acknowledged_at is not None:
        message.acknowledge_time.CopyFrom(to_timestamp(reader.acknowledged_at))
    return message


class InstructionsRpcs:
    _components: Components

    async def PublishInstructions(
        self, request: pb.PublishInstructionsRequest, context: Context
    ) -> pb.PublishInstructionsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope="tenant:manage")
            published = await instructions.publish(
                session,
                caller,
                markdown=request.markdown,
                grace_days=request.grace_days,
                now=_now(),
            )
            response = pb.PublishInstructionsResponse(instructions=instructions_message(published))
        self._components.wake_relay()
        return response

    async def GetCurrentInstructions(
        self, request: pb.GetCurrentInstructionsRequest, context: Context
    ) -> pb.GetCurrentInstructionsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope=EVERYONE)
            found = await instructions.standing(session, caller, now=_now())
        response = pb.GetCurrentInstructionsResponse(
            acknowledged_version=found.acknowledged_version,
            required_version=found.required_version,
        )
        if found.latest is not None:
            response.instructions.CopyFrom(instructions_message(found.latest))
        return response

    async def AcknowledgeInstructions(
        self, request: pb.AcknowledgeInstructionsRequest, context: Context
    ) -> pb.AcknowledgeInstructionsResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope=EVERYONE)
            given = await instructions.acknowledge(
                session, caller, version=request.version, now=_now()
            )
            response = pb.AcknowledgeInstructionsResponse(
                version=given.version, acknowledge_time=to_timestamp(given.acknowledged_at)
            )
        self._components.wake_relay()
        return response

    async def GetInstructionsReport(
        self, request: pb.GetInstructionsReportRequest, context: Context
    ) -> pb.GetInstructionsReportResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            caller = await authorize(session, principal, scope=INSTRUCTIONS_REPORT)
            reported, statuses = await instructions.report(session, caller, version=request.version)
            return pb.GetInstructionsReportResponse(
                instructions=instructions_message(reported),
                organizations=[
                    pb.OrganizationInstructionsStatus(
                        organization_id=status.organization.id,
                        name=status.organization.name,
                        kind=_KIND[status.organization.kind],
                        acknowledged=[_reader(reader) for reader in status.acknowledged],
                        pending=[_reader(reader) for reader in status.pending],
                    )
                    for status in statuses
                ],
            )

    async def GetInstructionsAcknowledgement(
        self, request: pb.GetInstructionsAcknowledgementRequest, context: Context
    ) -> pb.GetInstructionsAcknowledgementResponse:
        principal = await self._components.callers.principal(context)
        async with self._components.database.unit_of_work() as session:
            # Services only (customer_vault): "users:read" is no scope a service holds.
            caller = await authorize(
                session, principal, scope="directory:read", service_may_read=True
            )
            version = await instructions.acknowledgement(
                session, caller, user_id=request.user_id[:100]
            )
        return pb.GetInstructionsAcknowledgementResponse(acknowledged_version=version)
