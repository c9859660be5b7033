"""An API client's secret is shown once and then appears nowhere: not in logs, spans,
events, the audit log or its own database row."""

from __future__ import annotations

import logging

import grpc
import pytest
from identity_testkit import RunningIdentity, admin_metadata
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from identity.models import ApiClient, AuditRecord

pytestmark = pytest.mark.integration


async def test_an_api_client_secret_leaves_no_trace_and_other_tenants_cannot_delete_it(
    identity: RunningIdentity, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    _, metadata = await admin_metadata(identity)
    _, other_metadata = await admin_metadata(identity)
    created = await identity.stub.CreateApiClient(
        pb.CreateApiClientRequest(name="ERP", scopes=["customers:read", "work_orders:read"]),
        metadata=metadata,
    )
    secret = created.client_secret
    assert created.api_client.client_id.startswith("fvc_") and len(secret) >= 43
    await identity.stub.IssueClientToken(
        pb.IssueClientTokenRequest(client_id=created.api_client.client_id, client_secret=secret)
    )

    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await identity.stub.DeleteApiClient(
            pb.DeleteApiClientRequest(id=created.api_client.id), metadata=other_metadata
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    for _ in range(2):  # idempotent
        await identity.stub.DeleteApiClient(
            pb.DeleteApiClientRequest(id=created.api_client.id), metadata=metadata
        )
    listed = await identity.stub.ListApiClients(pb.ListApiClientsRequest(), metadata=metadata)
    assert created.api_client.id not in [client.id for client in listed.api_clients]

    async with identity.database.unit_of_work() as session:
        payloads = b"".join((await session.scalars(select(OutboxEvent.payload))).all())
        rows = [
            *(await session.scalars(select(ApiClient))).all(),
            *(await session.scalars(select(AuditRecord))).all(),
        ]
    stored = " ".join(str(row.__dict__) for row in rows)
    span_text = " ".join(
        f"{span.name} {dict(span.attributes or {})} {[e.attributes for e in span.events]}"
        for span in spans.get_finished_spans()
    )
    assert caplog.records and span_text and created.api_client.id in stored
    assert secret not in caplog.text
    assert secret not in span_text
    assert secret.encode() not in payloads
    assert secret not in stored


async def test_revoking_an_api_client_announces_it_once_with_ids_only(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    tenant_id = admin.tenant_id
    created = await identity.stub.CreateApiClient(
        pb.CreateApiClientRequest(name="ERP", scopes=["webhooks:manage"]), metadata=metadata
    )

    for _ in range(2):  # a repeated DELETE announces nothing new
        await identity.stub.DeleteApiClient(
            pb.DeleteApiClientRequest(id=created.api_client.id), metadata=metadata
        )

    async with identity.database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.subject == f"fieldvault.{tenant_id}.identity.v1.api_client_revoked"
                )
            )
        ).all()
    assert len(rows) == 1
    event = events_pb.ApiClientRevoked.FromString(rows[0].payload)
    assert (event.tenant_id, event.api_client_id, event.client_id) == (
        tenant_id,
        created.api_client.id,
        created.api_client.client_id,
    )
    assert event.occurred_at.seconds > 0
    assert created.client_secret.encode() not in rows[0].payload
