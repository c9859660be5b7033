"""Who hears what: auditors about break-glass and reveal-rate alerts, a subcontractor's
managers about their organisation's job, a person by SMS when they asked for it."""

from __future__ import annotations

import json
import uuid

import pytest
from notification_fixtures import SMS_PATH, Notification
from notification_testkit import eventually, publish
from sqlalchemy import select
from test_delivery import assignment

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb
from fieldvault.notification.v1 import notification_pb2 as pb
from fieldvault.work_order.v1 import work_order_events_pb2 as work_order_pb
from fieldvault_devstack.identity_driver import Person
from fieldvault_platform.auth import bearer_metadata
from notification.models import InboxEntry

pytestmark = pytest.mark.integration


async def inbox(n: Notification, person: Person) -> list[pb.Notification]:
    token = await n.people.exchange(person.gateway_token, "notification")
    listed = await n.stub.ListMyNotifications(
        pb.ListMyNotificationsRequest(), metadata=bearer_metadata(token)
    )
    return list(listed.notifications)


async def test_a_break_glass_reveal_reaches_every_auditor_and_nobody_else(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    auditors = [await n.people.new_person(tenant, roles=["auditor"]) for _ in range(2)]
    dispatcher = await n.people.new_person(tenant, roles=["dispatcher"])
    reveal = vault_pb.BreakGlassReveal(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        audit_event_id=str(uuid.uuid4()),
        user_id=dispatcher.id,
        site_id=str(uuid.uuid4()),
        kind="door_code",
    )
    await publish(n.js, "customer_vault", "break_glass_reveal", reveal)

    async def everyone_mailed() -> bool:
        return all(n.mailbox.to(a.email) for a in auditors)

    await eventually(everyone_mailed)
    for auditor in auditors:
        [entry] = await inbox(n, auditor)
        assert entry.type == "security.break_glass_reveal"
        assert dispatcher.id in entry.body and reveal.site_id in entry.body
    assert await inbox(n, dispatcher) == []
    assert not n.mailbox.to(dispatcher.email)


async def test_an_export_with_code_values_reaches_every_auditor_naming_the_kinds_only(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    auditors = [await n.people.new_person(tenant, roles=["auditor"]) for _ in range(2)]
    dpo = await n.people.new_person(tenant, roles=["dpo"])
    export = vault_pb.SecretValuesExported(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        audit_event_id=str(uuid.uuid4()),
        user_id=dpo.id,
        customer_id=str(uuid.uuid4()),
        kinds=["alarm_code", "door_code"],
    )
    await publish(n.js, "customer_vault", "secret_values_exported", export)

    async def everyone_mailed() -> bool:
        return all(n.mailbox.to(a.email) for a in auditors)

    await eventually(everyone_mailed)
    for auditor in auditors:
        [entry] = await inbox(n, auditor)
        assert entry.type == "security.secret_values_exported"
        assert dpo.id in entry.body and export.customer_id in entry.body
        assert "(alarm code, door code)" in entry.body
    assert await inbox(n, dpo) == []


async def test_a_reveal_rate_alert_reaches_the_auditors(notification: Notification) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    auditor = await n.people.new_person(tenant, roles=["auditor"])
    alert = vault_pb.RevealRateExceeded(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        user_id=str(uuid.uuid4()),
        limit=20,
        window_seconds=3600,
    )
    await publish(n.js, "customer_vault", "reveal_rate_exceeded", alert)

    async def mailed() -> bool:
        return bool(n.mailbox.to(auditor.email))

    await eventually(mailed)
    [entry] = await inbox(n, auditor)
    assert "more than 20 secrets within 3600 seconds" in entry.body


async def test_an_organisation_assigned_as_a_whole_is_told_through_its_managers(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    subcontractor = await n.people.new_subcontractor(
        tenant, dpa_signed_on="2026-01-01", dpa_expires_on="2030-12-31"
    )
    manager = await n.people.new_person(
        tenant, roles=["subcontractor_manager"], organization_id=subcontractor
    )
    their_technician = await n.people.new_person(
        tenant, roles=["technician"], organization_id=subcontractor
    )
    event = assignment(tenant.id, "")
    event.assignee_organization_id = subcontractor
    await publish(n.js, "work_order", "assigned", event)

    async def mailed() -> bool:
        return bool(n.mailbox.to(manager.email))

    await eventually(mailed)
    assert [e.work_order_id for e in await inbox(n, manager)] == [event.work_order_id]
    assert await inbox(n, their_technician) == []


async def test_a_job_back_in_the_office_queue_reaches_the_dispatchers_of_its_area_once(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    north, south = (
        await n.people.new_area(tenant, "North"),
        await n.people.new_area(tenant, "South"),
    )
    north_dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[north])
    south_dispatcher = await n.people.new_person(tenant, roles=["dispatcher"], area_ids=[south])
    technician = await n.people.new_person(tenant, roles=["technician"], area_ids=[north])
    returned = work_order_pb.WorkOrderReturned(
        event_id=uuid.uuid4().hex,
        tenant_id=tenant.id,
        work_order_id=str(uuid.uuid4()),
        site_id=str(uuid.uuid4()),
        area_id=north,
        status="scheduled",
        previous_assignee_user_id=technician.id,
        previous_assignee_organization_id=str(uuid.uuid4()),
        reason="dpa_inactive",
        reference="WO-000314",
        created_by=north_dispatcher.id,
    )
    for _ in range(2):  # the same event twice tells nobody twice
        await publish(n.js, "work_order", "returned", returned)

    async def mailed() -> bool:
        return bool(n.mailbox.to(north_dispatcher.email))

    await eventually(mailed)
    [entry] = await inbox(n, north_dispatcher)
    assert entry.type == "work_order.returned"
    assert entry.work_order_id == returned.work_order_id
    assert "back in the office queue" in entry.subject
    assert entry.subject == "Work order WO-000314 is back in the office queue"
    assert "because their organisation's data-processing agreement is no longer active" in (
        entry.body
    )
    assert "It is scheduled again" in entry.body
    assert await inbox(n, south_dispatcher) == []
    assert await inbox(n, technician) == []
    assert len(n.mailbox.to(north_dispatcher.email)) == 1


async def test_sms_and_muting_follow_the_persons_preferences(notification: Notification) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    technician = await n.people.new_person(tenant, roles=["technician"])
    metadata = bearer_metadata(await n.people.exchange(technician.gateway_token, "notification"))
    defaults = await n.stub.GetMyPreferences(pb.GetMyPreferencesRequest(), metadata=metadata)
    assert (defaults.preferences.email, defaults.preferences.sms) == (True, False)

    with pytest.raises(Exception) as no_number:
        await n.stub.UpdateMyPreferences(
            pb.UpdateMyPreferencesRequest(
                update_mask=["sms"], preferences=pb.Preferences(sms=True)
            ),
            metadata=metadata,
        )
    assert "sms_number" in str(no_number.value)
    updated = await n.stub.UpdateMyPreferences(
        pb.UpdateMyPreferencesRequest(
            update_mask=["sms", "sms_number", "email"],
            preferences=pb.Preferences(sms=True, sms_number="+358401234567", email=False),
            etag=defaults.preferences.etag,
        ),
        metadata=metadata,
    )
    assert updated.preferences.sms and not updated.preferences.email
    with pytest.raises(Exception) as stale:
        await n.stub.UpdateMyPreferences(
            pb.UpdateMyPreferencesRequest(
                update_mask=["email"],
                preferences=pb.Preferences(email=True),
                etag=defaults.preferences.etag,
            ),
            metadata=metadata,
        )
    assert "precondition_failed" in str(stale.value) or "changed" in str(stale.value)

    event = assignment(tenant.id, technician.id)
    await publish(n.js, "work_order", "assigned", event)

    async def texted() -> bool:
        return bool(n.receiver.at(SMS_PATH))

    await eventually(texted)
    [sms] = n.receiver.at(SMS_PATH)
    assert sms.headers["authorization"] == "Bearer sms-gateway-token-for-tests"
    text = json.loads(sms.body)
    assert text["to"] == "+358401234567"
    assert event.work_order_id in text["text"]
    assert not n.mailbox.to(technician.email)  # email was turned off

    # Muted: still in the inbox, but no SMS.
    await n.stub.UpdateMyPreferences(
        pb.UpdateMyPreferencesRequest(
            update_mask=["muted_types"],
            preferences=pb.Preferences(muted_types=["work_order.cancelled"]),
        ),
        metadata=metadata,
    )
    cancelled = assignment(tenant.id, technician.id, event_type="work_order.cancelled")
    await publish(n.js, "work_order", "cancelled", cancelled)

    async def in_inbox() -> bool:
        async with n.database.unit_of_work() as session:
            found = await session.scalar(
                select(InboxEntry.id).where(InboxEntry.event_id == cancelled.event_id)
            )
        return found is not None

    await eventually(in_inbox)
    later = assignment(tenant.id, technician.id)
    await publish(n.js, "work_order", "assigned", later)

    async def second_sms() -> bool:
        return len(n.receiver.at(SMS_PATH)) >= 2

    await eventually(second_sms)
    assert [json.loads(r.body)["text"] for r in n.receiver.at(SMS_PATH)][1].count(
        later.reference
    ) == 1
    assert len(n.receiver.at(SMS_PATH)) == 2
