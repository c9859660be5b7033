"""Rotation tasks: opened once per dedupe key with an event, closed by a new value."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from vault_testkit import TIMEOUT, RunningVault, new_place, new_tenant_id, published

from customer_vault import rotation_tasks
from customer_vault.models import RotationTask
from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as events_pb
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


async def test_a_task_opens_once_per_key_and_closes_when_a_new_code_is_stored(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    place = await new_place(customer_vault, tenant_id, door_code="CANARY-4711")
    since = datetime.now(UTC) - timedelta(days=3)
    opened = []
    for _ in range(2):
        async with customer_vault.database.unit_of_work() as session:
            task = await rotation_tasks.open_rotation_task(
                session,
                tenant_id=tenant_id,
                site_id=uuid.UUID(place.site.id),
                subject="door_code",
                reason=rotation_tasks.REVEALED_BY_LEAVER,
                since=since,
                dedupe_key=f"test:{place.site.id}:door_code",
            )
            opened.append(task.id if task else None)
    assert opened[0] is not None and opened[1] is None

    # An alarm code stored closes nothing; a new door code closes the door-code task.
    for kind, value in ((pb.SECRET_KIND_ALARM_CODE, "1234"), (pb.SECRET_KIND_DOOR_CODE, "9999")):
        async with customer_vault.database.unit_of_work() as session:
            status = await session.scalar(
                select(RotationTask.status).where(RotationTask.id == opened[0])
            )
        assert status == "open"
        await customer_vault.stub.PutSecret(
            pb.PutSecretRequest(site_id=place.site.id, kind=kind, value=value),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    async with customer_vault.database.unit_of_work() as session:
        task_row = await session.get(RotationTask, opened[0])
    assert task_row is not None
    assert (task_row.status, task_row.closed_how) == ("closed", "new_value")

    created = [
        events_pb.RotationTaskCreated.FromString(p)
        for p in await published(
            customer_vault.settings.nats_url, tenant_id, "rotation_task_created"
        )
    ]
    closed = [
        events_pb.RotationTaskClosed.FromString(p)
        for p in await published(
            customer_vault.settings.nats_url, tenant_id, "rotation_task_closed"
        )
    ]
    assert [(e.task_id, e.site_id, e.area_id, e.subject, e.reason) for e in created] == [
        (opened[0], place.site.id, place.area_id, "door_code", "revealed_by_leaver")
    ]
    assert [(e.task_id, e.closed_how) for e in closed] == [(opened[0], "new_value")]
