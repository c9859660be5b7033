"""Data-handling instructions in identity: admins publish versions with a grace period,
every person reads where they stand and acknowledges the latest (audited, announced once),
and the report says who has and has not, by organisation. The text travels in no event,
log or span."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from identity_testkit import (
    PASSWORD,
    RunningIdentity,
    Seeded,
    admin_metadata,
    error_code,
    for_identity,
    login,
    service_metadata,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from identity.models import AuditRecord, Organization, User
from identity.passwords import hash_password

pytestmark = pytest.mark.integration

TEXT = "# Handling\n\nCANARY-INSTRUCTIONS-5521: never photograph a key safe."

Metadata = tuple[tuple[str, str]]


async def add_person(
    identity: RunningIdentity,
    tenant: Seeded,
    *,
    roles: list[str],
    name: str,
    organization_id: str = "",
    status: str = "active",
) -> tuple[str, Metadata | None]:
    """Another person of ``tenant``; signed in (identity audience) when active."""
    now = datetime.now(UTC)
    user_id, email = str(uuid.uuid4()), f"p-{uuid.uuid4().hex[:6]}@example.com"
    async with identity.database.unit_of_work() as session:
        session.add(
            User(
                id=user_id,
                tenant_id=tenant.tenant_id,
                email=email,
                name=name,
                roles=roles,
                organization_id=organization_id or tenant.organization_id,
                status=status,
                password_hash=await asyncio.to_thread(hash_password, PASSWORD),
                totp_confirmed=False,
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    if status != "active":
        return user_id, None
    seeded = Seeded(tenant.tenant_id, tenant.slug, tenant.organization_id, user_id, email)
    return user_id, await for_identity(identity, (await login(identity, seeded)).access_token)


async def events_of(identity: RunningIdentity, tenant_id: str, event: str) -> list[bytes]:
    async with identity.database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.subject == f"fieldvault.{tenant_id}.identity.v1.{event}"
            )
        )
        return list(rows.all())


async def test_an_admin_publishes_versions_that_bind_after_their_grace_period(
    identity: RunningIdentity, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    # The services' own logging (aiosqlite's DEBUG echo of SQL parameters is no log of ours).
    caplog.set_level(logging.DEBUG, logger="identity")
    caplog.set_level(logging.DEBUG, logger="fieldvault_platform")
    caplog.set_level(logging.INFO)
    admin, as_admin = await admin_metadata(identity)
    _, as_technician = await add_person(identity, admin, roles=["technician"], name="Tess")
    assert as_technician is not None

    nothing = await identity.stub.GetCurrentInstructions(
        pb.GetCurrentInstructionsRequest(), metadata=as_technician
    )
    assert not nothing.HasField("instructions") and nothing.required_version == 0

    first = await identity.stub.PublishInstructions(
        pb.PublishInstructionsRequest(markdown=TEXT, grace_days=0), metadata=as_admin
    )
    second = await identity.stub.PublishInstructions(
        pb.PublishInstructionsRequest(markdown=TEXT + "\n\nAnd lock the van.", grace_days=7),
        metadata=as_admin,
    )
    assert (first.instructions.version, second.instructions.version) == (1, 2)
    published = second.instructions.publish_time.ToDatetime(tzinfo=UTC)
    effective = second.instructions.effective_time.ToDatetime(tzinfo=UTC)
    assert effective - published == timedelta(days=7)

    standing = await identity.stub.GetCurrentInstructions(
        pb.GetCurrentInstructionsRequest(), metadata=as_technician
    )
    assert (
        standing.instructions.version,
        standing.instructions.markdown.endswith("lock the van."),
        standing.acknowledged_version,
        standing.required_version,
    ) == (2, True, 0, 1)

    refused: dict[str, tuple[grpc.StatusCode, str | None]] = {}
    for label, request, metadata in (
        ("technician", pb.PublishInstructionsRequest(markdown=TEXT), as_technician),
        ("empty", pb.PublishInstructionsRequest(markdown="  \n"), as_admin),
        ("too long", pb.PublishInstructionsRequest(markdown="x" * 50_001), as_admin),
        ("grace", pb.PublishInstructionsRequest(markdown=TEXT, grace_days=91), as_admin),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await identity.stub.PublishInstructions(request, metadata=metadata)
        refused[label] = (error.value.code(), error.value.details())
    assert {label: status for label, (status, _) in refused.items()} == {
        "technician": grpc.StatusCode.PERMISSION_DENIED,
        "empty": grpc.StatusCode.INVALID_ARGUMENT,
        "too long": grpc.StatusCode.INVALID_ARGUMENT,
        "grace": grpc.StatusCode.INVALID_ARGUMENT,
    }
    assert "grace_days must be between 0 and 90" in str(refused["grace"][1])

    payloads = await events_of(identity, admin.tenant_id, "instructions_published")
    announced = [events_pb.InstructionsPublished.FromString(p) for p in payloads]
    assert [(e.version, e.effective_time.ToDatetime(tzinfo=UTC)) for e in announced] == [
        (1, first.instructions.effective_time.ToDatetime(tzinfo=UTC)),
        (2, effective),
    ]
    async with identity.database.unit_of_work() as session:
        audited = (
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.tenant_id == admin.tenant_id,
                    AuditRecord.action == "instructions.publish",
                )
            )
        ).all()
    assert sorted((r.actor, r.target_id, r.detail) for r in audited) == [
        (admin.user_id, "1", "grace_days=0"),
        (admin.user_id, "2", "grace_days=7"),
    ]
    span_text = " ".join(
        f"{span.name} {dict(span.attributes or {})} {[e.attributes for e in span.events]}"
        for span in spans.get_finished_spans()
    )
    assert caplog.records and span_text
    assert "CANARY-INSTRUCTIONS" not in caplog.text
    assert "CANARY-INSTRUCTIONS" not in span_text
    assert all(b"CANARY-INSTRUCTIONS" not in p for p in payloads)


async def test_a_person_acknowledges_the_latest_version_once_and_services_can_ask(
    identity: RunningIdentity,
) -> None:
    admin, as_admin = await admin_metadata(identity)
    technician, as_technician = await add_person(identity, admin, roles=["technician"], name="T")
    assert as_technician is not None
    with pytest.raises(grpc.aio.AioRpcError) as nothing_yet:
        await identity.stub.AcknowledgeInstructions(
            pb.AcknowledgeInstructionsRequest(version=1), metadata=as_technician
        )
    assert nothing_yet.value.code() == grpc.StatusCode.NOT_FOUND
    for _ in range(2):
        await identity.stub.PublishInstructions(
            pb.PublishInstructionsRequest(markdown=TEXT), metadata=as_admin
        )

    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await identity.stub.AcknowledgeInstructions(
            pb.AcknowledgeInstructionsRequest(version=1), metadata=as_technician
        )
    assert (stale.value.code(), error_code(stale.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "not_current_version",
    )
    assert "read version 2" in str(stale.value.details())

    given = [
        await identity.stub.AcknowledgeInstructions(
            pb.AcknowledgeInstructionsRequest(version=2), metadata=as_technician
        )
        for _ in range(2)
    ]
    assert given[0] == given[1] and given[0].version == 2

    payloads = await events_of(identity, admin.tenant_id, "instructions_acknowledged")
    assert [
        (e.user_id, e.version) for e in map(events_pb.InstructionsAcknowledged.FromString, payloads)
    ] == [(technician, 2)]
    async with identity.database.unit_of_work() as session:
        audited = (
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.tenant_id == admin.tenant_id,
                    AuditRecord.action == "instructions.acknowledge",
                )
            )
        ).all()
    assert [(r.actor, r.target_id, r.outcome) for r in audited] == [(technician, "2", "success")]

    standing = await identity.stub.GetCurrentInstructions(
        pb.GetCurrentInstructionsRequest(), metadata=as_technician
    )
    assert (standing.acknowledged_version, standing.required_version) == (2, 2)

    vault = await service_metadata(identity, service="customer_vault", tenant_id=admin.tenant_id)
    asked = await identity.stub.GetInstructionsAcknowledgement(
        pb.GetInstructionsAcknowledgementRequest(user_id=technician), metadata=vault
    )
    assert asked.acknowledged_version == 2
    with pytest.raises(grpc.aio.AioRpcError) as people_cannot:
        await identity.stub.GetInstructionsAcknowledgement(
            pb.GetInstructionsAcknowledgementRequest(user_id=technician), metadata=as_technician
        )
    assert people_cannot.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_report_says_who_has_and_has_not_acknowledged_by_organisation(
    identity: RunningIdentity,
) -> None:
    admin, as_admin = await admin_metadata(identity)
    now = datetime.now(UTC)
    subcontractor = str(uuid.uuid4())
    async with identity.database.unit_of_work() as session:
        session.add(
            Organization(
                id=subcontractor,
                tenant_id=admin.tenant_id,
                name="Nordic Locks Oy",
                kind="subcontractor",
                dpa_signed_on=now.date(),
                dpa_expires_on=(now + timedelta(days=300)).date(),
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
    _, as_tess = await add_person(identity, admin, roles=["technician"], name="Tess")
    sub_tech, as_sub_tech = await add_person(
        identity, admin, roles=["technician"], name="Sami", organization_id=subcontractor
    )
    invited, _ = await add_person(
        identity,
        admin,
        roles=["technician"],
        name="Ines",
        organization_id=subcontractor,
        status="invited",
    )
    await add_person(identity, admin, roles=["technician"], name="Gone", status="deactivated")
    _, as_auditor = await add_person(identity, admin, roles=["auditor"], name="Aud")
    assert as_tess and as_sub_tech and as_auditor

    await identity.stub.PublishInstructions(
        pb.PublishInstructionsRequest(markdown=TEXT), metadata=as_admin
    )
    for metadata in (as_admin, as_sub_tech):
        await identity.stub.AcknowledgeInstructions(
            pb.AcknowledgeInstructionsRequest(version=1), metadata=metadata
        )

    report = await identity.stub.GetInstructionsReport(
        pb.GetInstructionsReportRequest(), metadata=as_auditor
    )
    by_organisation = {
        status.name: (
            sorted(reader.name for reader in status.acknowledged),
            sorted(reader.name for reader in status.pending),
        )
        for status in report.organizations
    }
    assert report.instructions.version == 1
    assert by_organisation == {
        f"Tenant {admin.slug}": (["Test User"], ["Aud", "Tess"]),
        "Nordic Locks Oy": (["Sami"], ["Ines"]),
    }
    [sub] = [s for s in report.organizations if s.organization_id == subcontractor]
    assert sub.kind == pb.ORGANIZATION_KIND_SUBCONTRACTOR
    assert sub.acknowledged[0].user_id == sub_tech and sub.acknowledged[0].HasField(
        "acknowledge_time"
    )
    assert sub.pending[0].user_id == invited and not sub.pending[0].HasField("acknowledge_time")

    with pytest.raises(grpc.aio.AioRpcError) as technicians_cannot:
        await identity.stub.GetInstructionsReport(
            pb.GetInstructionsReportRequest(), metadata=as_tess
        )
    assert technicians_cannot.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await identity.stub.GetInstructionsReport(
            pb.GetInstructionsReportRequest(version=9), metadata=as_admin
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
