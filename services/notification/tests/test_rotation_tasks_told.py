"""Rotation tasks reach the dispatchers of the site's area (inbox and e-mail) and partners
(``rotation_task.created`` / ``.closed`` webhooks), with ids and words only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, publish, text_of
from test_delivery import partner_webhook
from test_people import inbox

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb

pytestmark = pytest.mark.integration


async def test_the_areas_dispatchers_are_told_of_a_task_and_partners_of_its_whole_life(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north = await n.people.new_area(tenant, "North")
    south = await n.people.new_area(tenant, "South")
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    elsewhere = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
    technician = await n.people.new_person(tenant, roles=["technician"], area_ids=[north])
    await partner_webhook(n, tenant, "/hooks/rotation")
    task_id, site_id = str(uuid.uuid4()), str(uuid.uuid4())
    created = vault_pb.RotationTaskCreated(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        task_id=task_id,
        site_id=site_id,
        area_id=north,
        subject="door_code",
        reason="revealed_by_leaver",
        exposed_user_id=str(uuid.uuid4()),
    )
    created.since.FromDatetime(datetime(2026, 3, 2, 7, tzinfo=UTC))
    created.occurred_at.FromDatetime(datetime.now(UTC))
    closed = vault_pb.RotationTaskClosed(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        task_id=task_id,
        site_id=site_id,
        area_id=north,
        subject="door_code",
        reason="revealed_by_leaver",
        closed_how="new_value",
    )
    closed.occurred_at.FromDatetime(datetime.now(UTC))
    await publish(n.js, "customer_vault", "rotation_task_created", created)
    await publish(n.js, "customer_vault", "rotation_task_closed", closed)

    async def told() -> bool:
        return bool(n.mailbox.to(dispatcher.email)) and len(n.receiver.at("/hooks/rotation")) == 2

    await eventually(told)
    [entry] = await inbox(n, dispatcher)
    assert entry.type == "rotation_task.created"
    assert entry.subject == f"Change the door code of site {site_id}"
    assert entry.body.startswith(
        f"Rotation task {task_id}: the door code of site {site_id} must be changed, because "
        "someone who has left revealed it (since 2026-03-02 07:00 UTC)."
    )
    assert entry.link == f"/office/rotation-tasks?site_id={site_id}"
    [mail] = n.mailbox.to(dispatcher.email)
    assert task_id in text_of(mail)
    assert await inbox(n, elsewhere) == [] and await inbox(n, technician) == []
    assert not n.mailbox.to(elsewhere.email)

    bodies = sorted(
        (json.loads(call.body) for call in n.receiver.at("/hooks/rotation")),
        key=lambda body: body["type"],
    )
    assert [(b["type"], b["id"]) for b in bodies] == [
        ("rotation_task.closed", closed.event_id),
        ("rotation_task.created", created.event_id),
    ]
    assert bodies[1]["data"] == {
        "task_id": task_id,
        "site_id": site_id,
        "area_id": north,
        "subject": "door_code",
        "reason": "revealed_by_leaver",
        "since": "2026-03-02T07:00:00Z",
    }
    assert bodies[0]["data"]["closed_how"] == "new_value"


async def test_a_reason_notification_does_not_know_is_told_in_general_words(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north = await n.people.new_area(tenant, "North")
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    created = vault_pb.RotationTaskCreated(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        task_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        area_id=north,
        subject="lock",
        reason="key_swallowed_by_dog",
    )
    created.since.FromDatetime(datetime(2026, 3, 2, 7, tzinfo=UTC))
    await publish(n.js, "customer_vault", "rotation_task_created", created)

    async def told() -> bool:
        return bool(n.mailbox.to(dispatcher.email))

    await eventually(told)
    [entry] = await inbox(n, dispatcher)
    assert "the lock of site" in entry.body
    assert "may be known to someone who should not know it" in entry.body
    assert "key_swallowed_by_dog" not in entry.body
