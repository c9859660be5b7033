"""A new person's invitation arrives by email; its link works, and exists nowhere else."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, every_row, text_of
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import PASSWORD, invitation_token
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.logging import JsonFormatter

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://\S+#token=\S+")


async def test_an_invited_person_sets_a_password_through_the_emailed_link(
    notification: Notification,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.DEBUG)
    n = notification
    tenant = await n.people.new_tenant()
    email = f"new-{uuid.uuid4().hex[:8]}@{tenant.slug}.example"
    await n.people.stub.CreateUser(
        identity_pb2.CreateUserRequest(email=email, name="Nina", roles=["technician"]),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )

    async def arrived() -> bool:
        return bool(n.mailbox.to(email, invitations=True))

    await eventually(arrived)
    [mail] = n.mailbox.to(email, invitations=True)
    assert mail["Subject"] == "You are invited to fieldvault"
    [url] = LINK.findall(text_of(mail))
    token = invitation_token(url)

    await n.people.stub.AcceptInvitation(
        identity_pb2.AcceptInvitationRequest(token=token, password=PASSWORD)
    )
    signed_in = await n.people.login(tenant.slug, email)
    assert signed_in.access_token

    # The token was in that one email and nowhere in notification's keeping.
    stored = await every_row(n.database)
    assert email.encode() not in stored  # addresses are looked up, never stored
    assert token.encode() not in stored
    formatter = JsonFormatter("notification")
    assert not [r for r in caplog.records if token in formatter.format(r)]
    finished = spans.get_finished_spans()
    assert finished
    for span in finished:
        texts = [span.name, str(span.status.description or "")]
        texts += [str(value) for value in (span.attributes or {}).values()]
        texts += [str(e.attributes) for e in span.events]
        assert token not in " ".join(texts), span.name
