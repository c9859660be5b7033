"""The tenant's retention policy: defaults, legal minimums, who may read and set it, and
the whole policy published as tenant_retention_policy_changed."""

from __future__ import annotations

import grpc
import pytest
from identity_testkit import (
    RunningIdentity,
    admin_metadata,
    error_code,
    for_identity,
    login,
    seed_user,
)
from sqlalchemy import select

from fieldvault.identity.v1 import identity_events_pb2 as events_pb
from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.events import OutboxEvent
from fieldvault_platform.retention import DEFAULT_DAYS, MINIMUM_DAYS

pytestmark = pytest.mark.integration


async def published(
    identity: RunningIdentity, tenant_id: str
) -> list[events_pb.TenantRetentionPolicyChanged]:
    async with identity.database.unit_of_work() as session:
        rows = await session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.subject.like(
                    f"%.{tenant_id}.identity.v1.tenant_retention_policy_changed"
                )
            )
        )
        return [events_pb.TenantRetentionPolicyChanged.FromString(p) for p in rows.all()]


async def test_defaults_then_a_change_is_validated_stored_and_published(
    identity: RunningIdentity,
) -> None:
    admin, metadata = await admin_metadata(identity)
    policy = (
        await identity.stub.GetRetentionPolicy(pb.GetRetentionPolicyRequest(), metadata=metadata)
    ).policy
    assert dict(policy.days) == dict(DEFAULT_DAYS) and policy.defaults
    assert policy.minimum_days["audit_records"] == MINIMUM_DAYS["audit_records"] == 365

    with pytest.raises(grpc.aio.AioRpcError) as too_short:
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"audit_records": 100}), metadata=metadata
        )
    assert too_short.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(too_short.value) == "retention_below_minimum"
    assert "audit_records" in too_short.value.details() and "365" in too_short.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"selfies": 30}), metadata=metadata
        )
    assert "selfies" in unknown.value.details()
    assert await published(identity, admin.tenant_id) == []

    changed = (
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"inbox": 30}, etag=policy.etag),
            metadata=metadata,
        )
    ).policy
    assert changed.days["inbox"] == 30 and not changed.defaults
    assert changed.days["audit_records"] == DEFAULT_DAYS["audit_records"]
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"inbox": 40}, etag=policy.etag),
            metadata=metadata,
        )
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    again = (
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"ended_grants": 400}), metadata=metadata
        )
    ).policy
    assert (again.days["inbox"], again.days["ended_grants"]) == (30, 400)

    events = await published(identity, admin.tenant_id)
    assert sorted(event.version for event in events) == [1, 2]
    latest = max(events, key=lambda event: event.version)
    assert dict(latest.days) == {**DEFAULT_DAYS, "inbox": 30, "ended_grants": 400}


async def test_auditors_read_it_and_only_admins_set_it(identity: RunningIdentity) -> None:
    admin, _ = await admin_metadata(identity)
    auditor = await seed_user(identity, roles=["auditor"], mfa_required_roles=[])
    auditor_metadata = await for_identity(identity, (await login(identity, auditor)).access_token)
    read = await identity.stub.GetRetentionPolicy(
        pb.GetRetentionPolicyRequest(), metadata=auditor_metadata
    )
    assert dict(read.policy.days) == dict(DEFAULT_DAYS)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.UpdateRetentionPolicy(
            pb.UpdateRetentionPolicyRequest(days={"inbox": 30}), metadata=auditor_metadata
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    technician = await seed_user(identity, roles=["technician"], mfa_required_roles=[])
    tech_metadata = await for_identity(identity, (await login(identity, technician)).access_token)
    with pytest.raises(grpc.aio.AioRpcError) as technician_refused:
        await identity.stub.GetRetentionPolicy(
            pb.GetRetentionPolicyRequest(), metadata=tech_metadata
        )
    assert technician_refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert admin.tenant_id
