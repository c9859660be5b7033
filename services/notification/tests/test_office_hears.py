"""The office hears how its jobs go: started, completed, or given back as impossible —
the dispatchers of the job's area and whoever filed it, each in their own language."""

from __future__ import annotations

import uuid
from email.header import decode_header, make_header

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, publish, text_of
from test_delivery import assignment
from test_people import inbox

from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault.work_order.v1 import work_order_events_pb2 as work_order_pb
from fieldvault_platform.auth import bearer_metadata

pytestmark = pytest.mark.integration


async def test_the_areas_dispatchers_and_the_filer_hear_a_job_started_and_completed(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north = await n.people.new_area(tenant, "North")
    south = await n.people.new_area(tenant, "South")
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    elsewhere = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
    # Filed by a dispatcher who has since moved to the south: they still hear of their job.
    filer = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
    technician = await n.people.new_person(tenant, roles=["technician"], area_ids=[north])
    told: dict[str, str] = {}
    for event_type in ("work_order.started", "work_order.completed"):
        event = assignment(tenant.id, technician.id, event_type=event_type)
        event.area_id, event.created_by, event.actor_id = north, filer.id, technician.id
        event.status = "in_progress" if event_type.endswith("started") else "completed"
        await publish(n.js, "work_order", event_type.split(".")[1], event)
        told[event_type] = event.reference

    async def both_mailed() -> bool:
        return len(n.mailbox.to(dispatcher.email)) == 2 and len(n.mailbox.to(filer.email)) == 2

    await eventually(both_mailed)
    for person in (dispatcher, filer):
        entries = {entry.type: entry for entry in await inbox(n, person)}
        assert set(entries) == set(told)
        completed = entries["work_order.completed"]
        assert completed.subject == f"Work order {told['work_order.completed']} completed"
        assert completed.body.startswith(
            f"The assignee has completed work order {told['work_order.completed']}."
        )
    assert await inbox(n, elsewhere) == []
    assert await inbox(n, technician) == []  # they did it themselves


async def test_a_job_that_cannot_be_done_is_told_in_the_dispatchers_own_language(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north = await n.people.new_area(tenant, "North")
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    finn = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    metadata = bearer_metadata(await n.people.exchange(finn.gateway_token, "notification"))
    chosen = await n.stub.UpdateMyPreferences(
        pb.UpdateMyPreferencesRequest(
            update_mask=["language"], preferences=pb.Preferences(language="fi")
        ),
        metadata=metadata,
    )
    assert chosen.preferences.language == "fi"
    returned = work_order_pb.WorkOrderReturned(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        work_order_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        area_id=north,
        status="new",
        previous_assignee_user_id=str(uuid.uuid4()),
        reason="unable_customer_absent",
        reference="WO-000271",
        created_by=dispatcher.id,
    )
    await publish(n.js, "work_order", "returned", returned)

    async def both_mailed() -> bool:
        return bool(n.mailbox.to(dispatcher.email)) and bool(n.mailbox.to(finn.email))

    await eventually(both_mailed)
    [english] = await inbox(n, dispatcher)
    assert english.type == "work_order.unable"
    assert english.subject == "Work order WO-000271 could not be done"
    assert english.body.startswith(
        "The assignee could not do work order WO-000271: the customer was not there. "
        "It is back in the office queue, new, with nobody assigned."
    )
    [finnish] = await inbox(n, finn)
    assert finnish.subject == "Työtilausta WO-000271 ei voitu tehdä"
    assert "asiakas ei ollut paikalla" in finnish.body
    [mail] = n.mailbox.to(finn.email)
    subject = str(make_header(decode_header(mail["Subject"])))  # RFC 2047, non-ASCII
    assert subject == "Työtilausta WO-000271 ei voitu tehdä"
    assert "asiakas ei ollut paikalla" in text_of(mail)


async def test_an_unknown_language_is_refused(notification: Notification) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    person = await n.people.new_person(tenant, roles=["technician"])
    metadata = bearer_metadata(await n.people.exchange(person.gateway_token, "notification"))
    with pytest.raises(Exception) as refused:
        await n.stub.UpdateMyPreferences(
            pb.UpdateMyPreferencesRequest(
                update_mask=["language"], preferences=pb.Preferences(language="sv")
            ),
            metadata=metadata,
        )
    assert "language must be one of: en, fi" in str(refused.value)
