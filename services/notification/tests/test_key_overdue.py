"""A physical key not returned after its job: the dispatchers of the site's area are told,
once, with references only — never the key's tag code, label, site name or address."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from notification_fixtures import Notification
from notification_testkit import eventually, publish, text_of
from test_people import inbox

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb

pytestmark = pytest.mark.integration


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def test_an_overdue_key_tells_the_areas_dispatchers_once_by_reference(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north = await n.people.new_area(tenant, "North")
    south = await n.people.new_area(tenant, "South")
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    elsewhere = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
    technician = await n.people.new_person(tenant, roles=["technician"], area_ids=[north])
    due = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    overdue = vault_pb.KeyOverdue(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        key_id=str(uuid.uuid4()),
        checkout_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        area_id=north,
        user_id=technician.id,
        work_order_id=str(uuid.uuid4()),
        due_time=_stamp(due),
        occurred_at=_stamp(due + timedelta(minutes=1)),
    )
    # Published twice (a relay re-publishing): the dispatcher is told once.
    await publish(n.js, "customer_vault", "key_overdue", overdue)
    await publish(n.js, "customer_vault", "key_overdue", overdue)

    async def mailed() -> bool:
        return bool(n.mailbox.to(dispatcher.email))

    await eventually(mailed)
    [entry] = await inbox(n, dispatcher)
    assert entry.type == "key.overdue"
    assert entry.subject == "A key was not returned"
    assert entry.body.startswith(
        f"User {technician.id} has not returned key {overdue.key_id} of site "
        f"{overdue.site_id}; it was due back at 2026-12-04 18:30 UTC."
    )
    assert entry.link.endswith(f"/office/sites/{overdue.site_id}/keys")
    [mail] = n.mailbox.to(dispatcher.email)
    assert overdue.key_id in text_of(mail)
    assert await inbox(n, elsewhere) == []
    assert await inbox(n, technician) == []
