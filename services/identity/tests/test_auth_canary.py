"""Planted secrets — a password, a TOTP seed and code, a client secret, refresh and access
tokens — appear in no log line, span attribute, event payload or audit record."""

from __future__ import annotations

import logging

import grpc
import pyotp
import pytest
from identity_testkit import (
    RunningIdentity,
    for_identity,
    login,
    seed_api_client,
    seed_user,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from identity.models import AuditRecord

pytestmark = pytest.mark.integration

CANARY_PASSWORD = "CANARY-pw-5d1e9a horse battery"
CANARY_CLIENT_SECRET = "CANARY-client-secret-77c2be0f14"


async def test_no_secret_of_a_sign_in_leaves_a_trace(
    identity: RunningIdentity, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    seeded = await seed_user(identity, roles=["technician"], password=CANARY_PASSWORD)
    first = await login(identity, seeded, password=CANARY_PASSWORD)
    metadata = await for_identity(identity, first.access_token)
    enrolled = await identity.stub.EnrollTotp(pb.EnrollTotpRequest(), metadata=metadata)
    code = pyotp.TOTP(enrolled.secret).now()
    await identity.stub.ConfirmTotp(pb.ConfirmTotpRequest(code=code), metadata=metadata)
    second = await identity.stub.Refresh(pb.RefreshRequest(refresh_token=first.refresh_token))
    with pytest.raises(grpc.aio.AioRpcError):  # a wrong password, logged as a failure
        await login(identity, seeded, password=CANARY_PASSWORD + "x")
    client_id = await seed_api_client(
        identity, tenant_id=seeded.tenant_id, scopes=["customers:read"], secret=CANARY_CLIENT_SECRET
    )
    client_token = await identity.stub.IssueClientToken(
        pb.IssueClientTokenRequest(client_id=client_id, client_secret=CANARY_CLIENT_SECRET)
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await identity.stub.IssueClientToken(
            pb.IssueClientTokenRequest(
                client_id=client_id, client_secret=CANARY_CLIENT_SECRET + "x"
            )
        )

    canaries = {
        "password": CANARY_PASSWORD,
        "totp seed": enrolled.secret,
        "client secret": CANARY_CLIENT_SECRET,
        "refresh token": first.refresh_token,
        "rotated refresh token": second.refresh_token,
        "access token signature": first.access_token.rsplit(".", 1)[1],
        "client token signature": client_token.access_token.rsplit(".", 1)[1],
    }
    async with identity.database.unit_of_work() as session:
        payloads = b"".join((await session.scalars(select(OutboxEvent.payload))).all())
        audit_rows = " ".join(
            str(row.__dict__) for row in (await session.scalars(select(AuditRecord))).all()
        )
    span_text = " ".join(
        f"{span.name} {dict(span.attributes or {})} {[e.attributes for e in span.events]}"
        for span in spans.get_finished_spans()
    )
    assert caplog.records, "the run logged nothing: the check would prove nothing"
    assert span_text
    for name, value in canaries.items():
        assert value not in caplog.text, f"{name} in a log line"
        assert value not in span_text, f"{name} in a span"
        assert value.encode() not in payloads, f"{name} in an event"
        assert value not in audit_rows, f"{name} in the audit log"
