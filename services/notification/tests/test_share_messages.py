"""Secure shares at notification: ``share_created`` queues one e-mail and one SMS that hold
nothing (address, link and PIN are fetched from customer-vault only when sending, which
the whole-stack ``tests/test_secure_sharing.py`` proves); ``share_opened`` and
``share_locked`` tell the share's sender, once, in ids only."""

from __future__ import annotations

import uuid

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, publish
from sqlalchemy import select
from test_people import inbox

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as vault_pb
from notification.models import MessageDelivery

pytestmark = pytest.mark.integration


async def test_a_share_queues_an_empty_email_and_sms_and_its_sender_hears_the_ending(
    notification: Notification,
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    sender = await n.people.new_person(tenant, roles=["dpo"])
    share_id = str(uuid.uuid4())
    created = vault_pb.ShareCreated(
        event_id=uuid.uuid4().hex, tenant_id=tenant.id, share_id=share_id, user_id=sender.id
    )
    # Published twice (a relay's retry): queued once.
    for _ in range(2):
        await publish(n.js, "customer_vault", "share_created", created)

    async def queued() -> list[MessageDelivery]:
        async with n.database.unit_of_work() as session:
            return list(
                (
                    await session.scalars(
                        select(MessageDelivery).where(MessageDelivery.share_id == share_id)
                    )
                ).all()
            )

    async def both_queued() -> bool:
        return len(await queued()) == 2

    await eventually(both_queued)
    rows = await queued()
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    assert {(r.kind, r.subject, r.body, r.link) for r in rows} == {("share", "", "", "")}

    for event, message in (
        ("share_opened", vault_pb.ShareOpened),
        ("share_locked", vault_pb.ShareLocked),
    ):
        await publish(
            n.js,
            "customer_vault",
            event,
            message(
                event_id=uuid.uuid4().hex,
                tenant_id=tenant.id,
                share_id=share_id,
                user_id=sender.id,
            ),
        )

    async def told() -> bool:
        return len(await inbox(n, sender)) == 2

    await eventually(told)
    entries = {entry.type: entry for entry in await inbox(n, sender)}
    assert set(entries) == {"share.opened", "share.locked"}
    assert share_id in entries["share.opened"].body
    assert entries["share.locked"].subject == "Your secure share was locked"
