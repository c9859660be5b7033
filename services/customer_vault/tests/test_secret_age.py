"""Secret age: the tenant's policy, overdue codes, and the daily job that opens one task per
overdue code — once, however often it runs and however many replicas run it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import select, update
from vault_testkit import TIMEOUT, RunningVault, new_place, new_tenant_id

from customer_vault.access.secret_age import OverdueRotationJob, run_overdue_rotation
from customer_vault.models import RotationTask, SiteSecret
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


async def age(vault: RunningVault, site_id: str, kind: str, days: int) -> None:
    """Make the site's code of ``kind`` look ``days`` old (as if stored back then)."""
    async with vault.database.unit_of_work() as session:
        await session.execute(
            update(SiteSecret)
            .where(SiteSecret.site_id == site_id, SiteSecret.kind == kind)
            .values(written_at=datetime.now(UTC) - timedelta(days=days))
        )


async def test_overdue_codes_get_one_task_each_and_a_second_run_opens_none(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    old_door = await new_place(customer_vault, tenant_id, area_id="area-north")
    old_alarm = await new_place(customer_vault, tenant_id, area_id="area-south", door_code=None)
    fresh = await new_place(customer_vault, tenant_id, area_id="area-north")
    await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(site_id=old_alarm.site.id, kind=pb.SECRET_KIND_ALARM_CODE, value="12"),
        metadata=old_alarm.dispatcher,
        timeout=TIMEOUT,
    )
    await age(customer_vault, old_door.site.id, "door_code", 400)
    await age(customer_vault, old_alarm.site.id, "alarm_code", 200)
    await age(customer_vault, fresh.site.id, "door_code", 100)

    admin = await customer_vault.mint.user(tenant_id, roles=["admin"])
    policy = await customer_vault.stub.UpdateSecretAgePolicy(
        pb.UpdateSecretAgePolicyRequest(
            limits=[
                pb.SecretAgeLimit(kind=pb.SECRET_KIND_DOOR_CODE, max_age_days=365),
                pb.SecretAgeLimit(kind=pb.SECRET_KIND_ALARM_CODE, max_age_days=180),
            ]
        ),
        metadata=admin,
        timeout=TIMEOUT,
    )
    assert [(x.kind, x.max_age_days) for x in policy.limits] == [
        (pb.SECRET_KIND_DOOR_CODE, 365),
        (pb.SECRET_KIND_ALARM_CODE, 180),
    ]
    overdue = await customer_vault.stub.ListOverdueSecrets(
        pb.ListOverdueSecretsRequest(), metadata=admin, timeout=TIMEOUT
    )
    assert [(s.site_id, s.kind) for s in overdue.secrets] == [
        (old_door.site.id, pb.SECRET_KIND_DOOR_CODE),
        (old_alarm.site.id, pb.SECRET_KIND_ALARM_CODE),
    ]
    mine = await customer_vault.stub.ListOverdueSecrets(
        pb.ListOverdueSecretsRequest(), metadata=old_door.dispatcher, timeout=TIMEOUT
    )
    assert [s.site_id for s in mine.secrets] == [old_door.site.id]

    # Two replicas' jobs at once, then the operator's command: one task per code. (A day
    # ahead: the service under test ran today's job when it started, before the policy.)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    jobs = [
        OverdueRotationJob(
            customer_vault.database, interval=3600, wake_relay=lambda: None, clock=lambda: tomorrow
        )
        for _ in range(2)
    ]
    results = await asyncio.gather(*(job.run_once() for job in jobs))
    again = await run_overdue_rotation(customer_vault.database, datetime.now(UTC))
    async with customer_vault.database.unit_of_work() as session:
        tasks = (
            await session.scalars(select(RotationTask).where(RotationTask.tenant_id == tenant_id))
        ).all()
    assert sorted((t.site_id, t.subject, t.reason) for t in tasks) == sorted(
        [
            (old_door.site.id, "door_code", "overdue"),
            (old_alarm.site.id, "alarm_code", "overdue"),
        ]
    )
    assert again == 0
    # The day was claimed once: one replica opened the tasks, the other found it done.
    assert results.count(None) == 1
    assert await jobs[0].run_once() is None


async def test_the_policy_is_checked_and_set_by_admins_only(customer_vault: RunningVault) -> None:
    tenant_id = new_tenant_id()
    dispatcher = await customer_vault.mint.user(tenant_id, roles=["dispatcher"], areas=["a"])
    admin = await customer_vault.mint.user(tenant_id, roles=["admin"])
    request = pb.UpdateSecretAgePolicyRequest(
        limits=[pb.SecretAgeLimit(kind=pb.SECRET_KIND_DOOR_CODE, max_age_days=365)]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await customer_vault.stub.UpdateSecretAgePolicy(
            request, metadata=dispatcher, timeout=TIMEOUT
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for bad in (
        pb.SecretAgeLimit(kind=pb.SECRET_KIND_DOOR_CODE, max_age_days=0),
        pb.SecretAgeLimit(kind=pb.SECRET_KIND_UNSPECIFIED, max_age_days=30),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await customer_vault.stub.UpdateSecretAgePolicy(
                pb.UpdateSecretAgePolicyRequest(limits=[bad]), metadata=admin, timeout=TIMEOUT
            )
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await customer_vault.stub.UpdateSecretAgePolicy(request, metadata=admin, timeout=TIMEOUT)
    read = await customer_vault.stub.GetSecretAgePolicy(
        pb.GetSecretAgePolicyRequest(), metadata=dispatcher, timeout=TIMEOUT
    )
    assert [(x.kind, x.max_age_days) for x in read.limits] == [(pb.SECRET_KIND_DOOR_CODE, 365)]
