"""Two-channel secure shares at customer-vault: the link alone opens nothing, the PIN alone
opens nothing, together they open once; wrong PINs up to the limit kill the share; the
sender revokes; only notification fetches a channel, one channel at a time; and nothing
shared sits in clear in the database, a log line, a NATS message or a span."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import grpc
import nats
import pytest
from nats.js.api import DeliverPolicy
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vault_testkit import (
    TIMEOUT,
    Metadata,
    RunningVault,
    audit_events,
    database_file,
    error_code,
    new_place,
    new_tenant_id,
    published,
    stored_bytes,
)

from customer_vault.models import Share
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.logging import JsonFormatter

pytestmark = pytest.mark.integration

CONTRACT = b"%PDF-1.7 Maintenance contract CANARY-CONTRACT-7781 signed\n%%EOF\n"
RECIPIENT_EMAIL = "board.canary@example.org"
RECIPIENT_PHONE = "+358 40 999 1234"
CREDENTIAL = "one-off CANARY-CRED-55310"


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"share_max_pin_attempts": 3}


async def _contract(vault: RunningVault, tenant_id: str) -> tuple[str, Metadata]:
    place = await new_place(vault, tenant_id)
    uploaded = await vault.stub.UploadContract(
        pb.UploadContractRequest(
            customer_id=place.customer.id,
            filename="Contract 2026.pdf",
            content_type="application/pdf",
            content=CONTRACT,
        ),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    return uploaded.contract.id, place.dispatcher


async def _share(
    vault: RunningVault, sender: Metadata, *, kind: int, document_id: str = "", credential: str = ""
) -> pb.Share:
    response = await vault.stub.CreateShare(
        pb.CreateShareRequest(
            kind=kind,
            document_id=document_id,
            credential=credential,
            recipient_email=RECIPIENT_EMAIL,
            recipient_phone=RECIPIENT_PHONE,
            label="Board copy",
        ),
        metadata=sender,
        timeout=TIMEOUT,
    )
    return response.share


async def _channel(
    vault: RunningVault, tenant_id: str, share_id: str, channel: str
) -> pb.GetShareDeliveryResponse:
    notification = await vault.mint.service("notification", tenant_id, ["shares:deliver"])
    response: pb.GetShareDeliveryResponse = await vault.stub.GetShareDelivery(
        pb.GetShareDeliveryRequest(tenant_id=tenant_id, share_id=share_id, channel=channel),
        metadata=notification,
        timeout=TIMEOUT,
    )
    return response


async def _open(vault: RunningVault, token: str, pin: str) -> pb.OpenShareResponse:
    response: pb.OpenShareResponse = await vault.stub.OpenShare(
        pb.OpenShareRequest(token=token, pin=pin), timeout=TIMEOUT
    )
    return response


async def _refused(vault: RunningVault, token: str, pin: str) -> str | None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _open(vault, token, pin)
    return error_code(refused.value)


def _other_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 10 ** len(pin):0{len(pin)}d}"


async def test_link_alone_and_pin_alone_open_nothing_together_they_open_once(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    contract_id, _ = await _contract(customer_vault, tenant_id)
    admin = await customer_vault.mint.user(tenant_id, roles=["admin"], user_id="admin-1")
    share = await _share(
        customer_vault, admin, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id
    )
    assert share.status == pb.SHARE_STATUS_ACTIVE and share.max_attempts == 3
    mail = await _channel(customer_vault, tenant_id, share.id, "email")
    sms = await _channel(customer_vault, tenant_id, share.id, "sms")
    assert mail.address == "board.canary@example.org" and sms.address == "+358409991234"
    token, pin = mail.secret, sms.secret
    assert token.startswith(share.id + ".") and pin.isdigit() and len(pin) == 8
    assert pin not in token and token not in pin

    # The link with no PIN, or a guessed one: refused (and counted).
    assert await _refused(customer_vault, token, "") == "share_pin_wrong"
    # The PIN with another share's link, or a forged one: nothing at all.
    assert await _refused(customer_vault, share.id + ".x" * 20, pin) == "share_unavailable"
    assert await _refused(customer_vault, "", pin) == "share_unavailable"

    opened = await _open(customer_vault, token, pin)
    assert opened.content == CONTRACT and opened.filename == "Contract 2026.pdf"
    assert opened.kind == pb.SHARE_KIND_CONTRACT
    # Once: the same link and PIN again are refused like any dead share.
    assert await _refused(customer_vault, token, pin) == "share_unavailable"

    listed = await customer_vault.stub.ListShares(
        pb.ListSharesRequest(), metadata=admin, timeout=TIMEOUT
    )
    [mine] = listed.shares
    assert (mine.id, mine.status, mine.label) == (share.id, pb.SHARE_STATUS_OPENED, "Board copy")
    events = await audit_events(customer_vault, tenant_id, action="share.open")
    assert sorted((e.outcome, e.reason) for e in events) == sorted(
        [
            ("denied", "pin_wrong"),
            ("denied", "link_invalid"),
            ("success", ""),
            ("denied", "share_unavailable"),
        ]
    )
    assert [e.action for e in await audit_events(customer_vault, tenant_id, action="share.create")]
    [opened_event] = await published(customer_vault.settings.nats_url, tenant_id, "share_opened")
    assert share.id.encode() in opened_event


async def test_wrong_pins_are_refused_up_to_the_limit_then_the_share_is_dead(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    contract_id, _ = await _contract(customer_vault, tenant_id)
    dpo = await customer_vault.mint.user(tenant_id, roles=["dpo"])
    share = await _share(customer_vault, dpo, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id)
    token = (await _channel(customer_vault, tenant_id, share.id, "email")).secret
    pin = (await _channel(customer_vault, tenant_id, share.id, "sms")).secret
    wrong = _other_pin(pin)
    assert await _refused(customer_vault, token, wrong) == "share_pin_wrong"
    assert await _refused(customer_vault, token, wrong) == "share_pin_wrong"
    # The third wrong PIN is the last: the share dies, and says so like any dead share.
    assert await _refused(customer_vault, token, wrong) == "share_unavailable"
    assert await _refused(customer_vault, token, pin) == "share_unavailable"
    listed = await customer_vault.stub.ListShares(
        pb.ListSharesRequest(), metadata=dpo, timeout=TIMEOUT
    )
    assert [(s.status, s.failed_attempts) for s in listed.shares] == [(pb.SHARE_STATUS_LOCKED, 3)]
    # Its channels can no longer be delivered either.
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await _channel(customer_vault, tenant_id, share.id, "email")
    assert error_code(gone.value) == "share_unavailable"
    assert await published(customer_vault.settings.nats_url, tenant_id, "share_locked")


async def test_the_sender_revokes_and_nobody_else_can(customer_vault: RunningVault) -> None:
    tenant_id = new_tenant_id()
    admin = await customer_vault.mint.user(tenant_id, roles=["admin"], user_id="admin-a")
    share = await _share(customer_vault, admin, kind=pb.SHARE_KIND_CREDENTIAL, credential="x-1")
    token = (await _channel(customer_vault, tenant_id, share.id, "email")).secret
    pin = (await _channel(customer_vault, tenant_id, share.id, "sms")).secret
    other_admin = await customer_vault.mint.user(tenant_id, roles=["admin"], user_id="admin-b")
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await customer_vault.stub.RevokeShare(
            pb.RevokeShareRequest(id=share.id), metadata=other_admin, timeout=TIMEOUT
        )
    assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND
    revoked = await customer_vault.stub.RevokeShare(
        pb.RevokeShareRequest(id=share.id), metadata=admin, timeout=TIMEOUT
    )
    assert revoked.share.status == pb.SHARE_STATUS_REVOKED
    assert await _refused(customer_vault, token, pin) == "share_unavailable"
    actions = {e.action for e in await audit_events(customer_vault, tenant_id)}
    assert {"share.create", "share.revoke", "share.open"} <= actions


async def test_who_may_share_what_and_who_may_fetch_a_channel(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    contract_id, dispatcher = await _contract(customer_vault, tenant_id)
    # A dispatcher does not share; a DPO shares documents but no credential.
    with pytest.raises(grpc.aio.AioRpcError) as dispatcher_refused:
        await _share(
            customer_vault, dispatcher, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id
        )
    assert dispatcher_refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    dpo = await customer_vault.mint.user(tenant_id, roles=["dpo"])
    with pytest.raises(grpc.aio.AioRpcError) as dpo_refused:
        await _share(customer_vault, dpo, kind=pb.SHARE_KIND_CREDENTIAL, credential="secret")
    assert dpo_refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Another tenant's contract is not found.
    stranger = await customer_vault.mint.user(new_tenant_id(), roles=["admin"])
    with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
        await _share(customer_vault, stranger, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id)
    assert elsewhere.value.code() == grpc.StatusCode.NOT_FOUND
    # Bad input names what is wrong.
    with pytest.raises(grpc.aio.AioRpcError) as bad_phone:
        await customer_vault.stub.CreateShare(
            pb.CreateShareRequest(
                kind=pb.SHARE_KIND_CONTRACT,
                document_id=contract_id,
                recipient_email=RECIPIENT_EMAIL,
                recipient_phone="call me",
            ),
            metadata=dpo,
            timeout=TIMEOUT,
        )
    assert bad_phone.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "phone" in (bad_phone.value.details() or "")

    share = await _share(customer_vault, dpo, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id)
    request = pb.GetShareDeliveryRequest(tenant_id=tenant_id, share_id=share.id, channel="sms")
    # A person, even the sender, never fetches a channel; nor a service without the scope.
    for metadata in (
        dpo,
        await customer_vault.mint.service("work_order", tenant_id, ["grants:write"]),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await customer_vault.stub.GetShareDelivery(request, metadata=metadata, timeout=TIMEOUT)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Once notification confirms a channel sent, its address and secret are gone.
    notification = await customer_vault.mint.service("notification", tenant_id, ["shares:deliver"])
    await customer_vault.stub.ConfirmShareDelivery(
        pb.ConfirmShareDeliveryRequest(tenant_id=tenant_id, share_id=share.id, channel="sms"),
        metadata=notification,
        timeout=TIMEOUT,
    )
    with pytest.raises(grpc.aio.AioRpcError) as sent:
        await customer_vault.stub.GetShareDelivery(request, metadata=notification, timeout=TIMEOUT)
    assert error_code(sent.value) == "share_unavailable"
    listed = await customer_vault.stub.ListShares(
        pb.ListSharesRequest(), metadata=dpo, timeout=TIMEOUT
    )
    assert [(s.sms_sent, s.email_sent) for s in listed.shares] == [(True, False)]


async def _every_message(nats_url: str, tenant_id: str) -> list[str]:
    client = await nats.connect(nats_url)
    messages: list[str] = []
    try:
        subscription = await client.jetstream().subscribe(
            f"fieldvault.{tenant_id}.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        try:
            while True:
                message = await subscription.next_msg(timeout=1.0)
                messages.append(
                    message.data.decode(errors="replace") + json.dumps(message.headers or {})
                )
        except nats.errors.TimeoutError:
            pass
        await subscription.unsubscribe()
    finally:
        await client.close()
    return messages


async def test_nothing_shared_sits_in_clear_in_the_database_logs_events_or_spans(
    customer_vault: RunningVault,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.DEBUG, logger="customer_vault")
    caplog.set_level(logging.DEBUG, logger="fieldvault_platform")
    tenant_id = new_tenant_id()
    contract_id, _ = await _contract(customer_vault, tenant_id)
    admin = await customer_vault.mint.user(tenant_id, roles=["admin"])
    credential_share = await _share(
        customer_vault, admin, kind=pb.SHARE_KIND_CREDENTIAL, credential=CREDENTIAL
    )
    contract_share = await _share(
        customer_vault, admin, kind=pb.SHARE_KIND_CONTRACT, document_id=contract_id
    )
    canaries = {
        "contract": "CANARY-CONTRACT-7781",
        "credential": CREDENTIAL,
        "email": RECIPIENT_EMAIL,
        "phone": "+358409991234",
    }
    secrets: dict[str, str] = {}
    for share in (credential_share, contract_share):
        token = (await _channel(customer_vault, tenant_id, share.id, "email")).secret
        pin = (await _channel(customer_vault, tenant_id, share.id, "sms")).secret
        secrets[f"token {share.id}"] = token.split(".", 1)[1]
        secrets[f"pin {share.id}"] = pin
    # Before anything is opened, the database holds none of it in clear.
    raw = (await stored_bytes(customer_vault, database_file(database_url))).decode(errors="replace")
    found = [name for name, value in {**canaries, **secrets}.items() if value in raw]
    assert found == [], found

    credential_token = f"{credential_share.id}.{secrets[f'token {credential_share.id}']}"
    assert await _refused(customer_vault, credential_token, "00000000") in {"share_pin_wrong"}
    opened = await _open(customer_vault, credential_token, secrets[f"pin {credential_share.id}"])
    assert opened.content.decode() == CREDENTIAL

    lines = [JsonFormatter("customer_vault").format(record) for record in caplog.records]
    messages = await _every_message(customer_vault.settings.nats_url, tenant_id)
    assert any("share_created" in m or "ShareCreated" in m for m in messages)
    texts: list[str] = []
    for span in spans.get_finished_spans():
        texts += [span.name, str(span.status.description or "")]
        texts += [str(value) for value in (span.attributes or {}).values()]
    assert texts, "the flow must have produced spans"
    for channel, items in (("log", lines), ("event", messages), ("span", texts)):
        for name, value in {**canaries, **secrets}.items():
            assert not [item for item in items if value in item], (channel, name)
    raw = (await stored_bytes(customer_vault, database_file(database_url))).decode(errors="replace")
    assert [name for name, value in {**canaries, **secrets}.items() if value in raw] == []


async def test_a_share_outlives_key_rotation_and_erasure_and_dies_when_it_expires(
    customer_vault: RunningVault,
) -> None:
    tenant_id = new_tenant_id()
    admin = await customer_vault.mint.user(tenant_id, roles=["admin"])
    kept = await _share(customer_vault, admin, kind=pb.SHARE_KIND_CREDENTIAL, credential="k-1")
    expiring = await _share(customer_vault, admin, kind=pb.SHARE_KIND_CREDENTIAL, credential="e-1")
    # An erasure rotates the tenant key and destroys the old versions: the share's own
    # data key must have been re-wrapped, or its credential would be lost.
    place = await new_place(customer_vault, tenant_id)
    dpo = await customer_vault.mint.user(tenant_id, roles=["dpo"])
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=place.customer.id, reason="Art. 17"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    async with customer_vault.database.unit_of_work() as session:
        row = await session.get(Share, kept.id)
        assert row is not None and row.key_version >= 2
        # And one share runs out of time.
        expired = await session.get(Share, expiring.id)
        assert expired is not None
        expired.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    token = (await _channel(customer_vault, tenant_id, kept.id, "email")).secret
    pin = (await _channel(customer_vault, tenant_id, kept.id, "sms")).secret
    assert (await _open(customer_vault, token, pin)).content == b"k-1"

    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await _channel(customer_vault, tenant_id, expiring.id, "email")
    assert error_code(gone.value) == "share_unavailable"
    listed = await customer_vault.stub.ListShares(
        pb.ListSharesRequest(), metadata=admin, timeout=TIMEOUT
    )
    assert {s.id: s.status for s in listed.shares} == {
        kept.id: pb.SHARE_STATUS_OPENED,
        expiring.id: pb.SHARE_STATUS_EXPIRED,
    }
