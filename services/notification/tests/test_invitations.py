"""A new person's invitation arrives by email; its link works, and exists nowhere else."""

from __future__ import annotations

import logging
import re
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from notification_fixtures import Notification
from notification_testkit import eventually, every_row, text_of
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import PASSWORD, invitation_token
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.logging import JsonFormatter
from notification.channels import FileMailer
from notification.channels import email as email_message
from notification.settings import Settings

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
    # (The test's own mail server, aiosmtpd, logs every line it receives as "mail.log":
    # that is the recipient's side, which has to see the link.)
    ours = [r for r in caplog.records if r.name != "mail.log"]
    assert not [r for r in ours if token in formatter.format(r)]
    finished = spans.get_finished_spans()
    assert finished
    for span in finished:
        texts = [span.name, str(span.status.description or "")]
        texts += [str(value) for value in (span.attributes or {}).values()]
        texts += [str(e.attributes) for e in span.events]
        assert token not in " ".join(texts), span.name


#: What a person at a terminal would grep for in a saved ``.eml`` file.
PLAIN_LINK = re.compile(rb"https?://[^\s\"<>]+")


def _the_one_eml(directory: Path) -> bytes:
    [eml] = list(directory.glob("*.eml"))
    return eml.read_bytes()


async def test_an_invitation_link_is_copied_out_of_the_raw_message_with_a_plain_regex(
    notification: Notification, tmp_path: Path
) -> None:
    n = notification
    tenant = await n.people.new_tenant()
    email = f"raw-{uuid.uuid4().hex[:8]}@{tenant.slug}.example"
    await n.people.stub.CreateUser(
        identity_pb2.CreateUserRequest(email=email, name="Raili", roles=["technician"]),
        metadata=bearer_metadata(tenant.admin_identity_token),
    )

    async def arrived() -> bool:
        return bool(n.mailbox.to(email, invitations=True))

    await eventually(arrived)
    raw = next(
        r for r, m in zip(n.mailbox.raw, n.mailbox.messages, strict=True) if m["To"] == email
    )
    # The local stack writes exactly these bytes to its .eml file.
    await FileMailer(tmp_path).send(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
    for text in (raw, _the_one_eml(tmp_path)):
        assert b"quoted-printable" not in text.lower()
        [url] = PLAIN_LINK.findall(text)
        assert b"=3D" not in url
    token = invitation_token(url.decode())
    await n.people.stub.AcceptInvitation(
        identity_pb2.AcceptInvitationRequest(token=token, password=PASSWORD)
    )
    assert (await n.people.login(tenant.slug, email)).access_token


def test_a_long_link_and_finnish_text_keep_their_lines_whole() -> None:
    url = "http://localhost:8080/invitations/accept#token=" + "A" * 120
    body = f"Hei Äijä,\nAseta salasana:\n{url}\n"
    message = email_message(
        Settings.model_construct(mail_from="fv@example.com"), "a@b.example", "s", body
    )  # type: ignore[call-arg]
    raw = message.as_bytes()
    assert message["Content-Transfer-Encoding"] == "8bit"
    assert url.encode() in raw
    assert "Äijä".encode() in raw
