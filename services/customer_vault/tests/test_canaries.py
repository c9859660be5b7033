"""Planted canaries travel the whole life of a customer — created, coded, granted, revealed,
exported, erased — and appear nowhere but in the one reveal response and the DPO's export
(the door code only in the export the DPO asked values for, with a reason): not in the
database, a log line, a NATS message (the auditors' alert included) or an exported span."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.js.api import DeliverPolicy
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vault_testkit import (
    OWN_ORG,
    TIMEOUT,
    RunningVault,
    database_file,
    grant,
    new_place,
    new_tenant_id,
    reveal,
    stored_bytes,
    timestamp,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.logging import JsonFormatter

pytestmark = pytest.mark.integration

CANARIES = {
    "name": "Canary Ottoline Wexfordshire",
    "email": "ottoline.canary@example.net",
    "phone": "+358 40 7391 2284",
    "door_code": "DC-55817-CANARY",
    "address": "17 Canary Wharf Lane",
}


async def every_message(nats_url: str, tenant_id: str) -> list[bytes]:
    """Every message customer-vault published for the tenant: payloads and headers."""
    client = await nats.connect(nats_url)
    messages: list[bytes] = []
    try:
        subscription = await client.jetstream().subscribe(
            f"fieldvault.{tenant_id}.customer_vault.v1.>",
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        try:
            while True:
                message = await subscription.next_msg(timeout=1.0)
                messages.append(message.data + json.dumps(message.headers or {}).encode())
        except nats.errors.TimeoutError:
            pass
        await subscription.unsubscribe()
    finally:
        await client.close()
    return messages


#: The DPO's reason for exporting code values: in the audit trail, nowhere else.
EXPORT_REASON = "Canary reason Quillfeather 6402"


def leaks(text: str) -> list[str]:
    return [name for name, canary in CANARIES.items() if canary.lower() in text.lower()]


def leaks_reason(text: str) -> bool:
    return EXPORT_REASON.lower() in text.lower()


async def test_canaries_appear_only_in_the_reveal_response_and_the_export(
    customer_vault: RunningVault,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="customer_vault")
    caplog.set_level(logging.DEBUG, logger="fieldvault_platform")
    place = await new_place(
        customer_vault,
        new_tenant_id(),
        name=CANARIES["name"],
        email=CANARIES["email"],
        phone=CANARIES["phone"],
        door_code=CANARIES["door_code"],
    )
    await customer_vault.stub.UpdateSite(
        pb.UpdateSiteRequest(id=place.site.id, address=CANARIES["address"]),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    await grant(customer_vault, place, user_id="tech-1")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    revealed = await reveal(customer_vault, place.site.id, technician)
    assert revealed.value == CANARIES["door_code"]
    # A refused reveal and bad input mention no value either.
    other = await customer_vault.mint.user(place.tenant_id, roles=["technician"])
    with pytest.raises(Exception) as refused:
        await reveal(customer_vault, place.site.id, other)
    assert not leaks(str(refused.value))
    # Nor a refusal that says when a grant opens, nor an attempt at a code not stored.
    later = datetime.now(UTC) + timedelta(hours=2)
    await customer_vault.stub.CreateGrant(
        pb.CreateGrantRequest(
            site_id=place.site.id,
            user_id="tech-3",
            organization_id=OWN_ORG,
            fields=["door_code", "alarm_code"],
            work_order_id="wo-later",
            valid_from=timestamp(later),
            valid_until=timestamp(later + timedelta(hours=1)),
        ),
        metadata=await customer_vault.mint.work_order(place.tenant_id),
        timeout=TIMEOUT,
    )
    early = await customer_vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-3")
    for kind in (pb.SECRET_KIND_DOOR_CODE, pb.SECRET_KIND_ALARM_CODE):
        with pytest.raises(Exception) as not_yet:
            await reveal(customer_vault, place.site.id, early, kind=kind)
        assert "opens at" in str(not_yet.value) and not leaks(str(not_yet.value))
    with pytest.raises(Exception) as nothing_stored:
        await reveal(customer_vault, place.site.id, technician, kind=pb.SECRET_KIND_ALARM_CODE)
    assert not leaks(str(nothing_stored.value))
    with pytest.raises(Exception) as invalid:
        await customer_vault.stub.PutSecret(
            pb.PutSecretRequest(
                site_id=place.site.id,
                kind=pb.SECRET_KIND_ALARM_CODE,
                value=CANARIES["door_code"] + "\x07",
            ),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
    assert not leaks(str(invalid.value))
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"])
    exported = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(id=place.customer.id), metadata=dpo, timeout=TIMEOUT
    )
    # By default the export lists the code by kind and date, without its value.
    assert sorted(leaks(exported.document.decode())) == sorted(set(CANARIES) - {"door_code"})
    with_values = await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(
            id=place.customer.id, include_secret_values=True, reason=EXPORT_REASON
        ),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    assert sorted(leaks(with_values.document.decode())) == sorted(CANARIES)
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=place.customer.id, reason="data subject request"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    # A break-glass attempt at the erased customer's code: refused, audited, no value.
    glass = await customer_vault.mint.user(
        place.tenant_id, roles=["dispatcher"], areas=[place.area_id]
    )
    with pytest.raises(Exception) as erased:
        await reveal(
            customer_vault, place.site.id, glass, break_glass=True, reason="Alarm going off now"
        )
    assert not leaks(str(erased.value))

    formatter = JsonFormatter("customer_vault")
    lines = [formatter.format(record) for record in caplog.records]
    assert not [line for line in lines if leaks(line) or leaks_reason(line)]

    messages = await every_message(customer_vault.settings.nats_url, place.tenant_id)
    assert len(messages) >= 8, "the audit events of the flow must have been published"
    assert not [m for m in messages if leaks(m.decode(errors="replace"))]
    assert not [m for m in messages if leaks_reason(m.decode(errors="replace"))]
    assert any(b"secret_values_exported" in m or b"SecretValuesExported" in m for m in messages)

    finished = spans.get_finished_spans()
    assert finished, "the flow must have produced spans"
    for span in finished:
        texts = [span.name, str(span.status.description or "")]
        texts += [str(value) for value in (span.attributes or {}).values()]
        for event in span.events:
            texts += [event.name, *(str(v) for v in (event.attributes or {}).values())]
        assert not leaks(" ".join(texts)), span.name
        assert not leaks_reason(" ".join(texts)), span.name

    raw = await stored_bytes(customer_vault, database_file(database_url))
    assert not leaks(raw.decode(errors="replace"))
