"""The physical key register against the real service: check-out only with a grant, the tag
that tells only the area's office which site it opens, the overdue alert announced once
however many replicas sweep, every movement in the audit chain, and no canary anywhere."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from test_exposure import exposure_of
from vault_testkit import (
    TIMEOUT,
    Metadata,
    Place,
    RunningVault,
    audit_events,
    database_file,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    published,
    stored_bytes,
)

from customer_vault import operator
from customer_vault.audit import AuditTrail, ChainAnchor
from customer_vault.records.key_overdue import alert_overdue_keys
from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as events_pb
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_pb2
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.logging import JsonFormatter
from fieldvault_platform.vault import VaultClient

pytestmark = pytest.mark.integration

LABEL = "Canary label Brindlewick back door"
SITE_NAME = "Harbour House"


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    # The sweep is driven by the tests themselves, at a moment of their choosing.
    return {"key_overdue_check_seconds": 0, "key_return_grace_minutes": 30}


async def register(vault: RunningVault, place: Place, label: str = LABEL) -> pb.RegisterKeyResponse:
    response: pb.RegisterKeyResponse = await vault.stub.RegisterKey(
        pb.RegisterKeyRequest(site_id=place.site.id, kind="key", label=label),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    return response


async def check_out(
    vault: RunningVault, place: Place, key_id: str, user_id: str, caller: Metadata | None = None
) -> pb.PhysicalKey:
    response = await vault.stub.CheckOutKey(
        pb.CheckOutKeyRequest(key_id=key_id, user_id=user_id),
        metadata=caller or place.dispatcher,
        timeout=TIMEOUT,
    )
    return response.key


async def scan(vault: RunningVault, tag_code: str, caller: Metadata) -> pb.FindKeyByTagResponse:
    response: pb.FindKeyByTagResponse = await vault.stub.FindKeyByTag(
        pb.FindKeyByTagRequest(tag_code=tag_code), metadata=caller, timeout=TIMEOUT
    )
    return response


async def test_a_key_cannot_be_checked_out_without_a_grant(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    registered = await register(customer_vault, place)
    assert registered.key.status == "in_office" and registered.key.label == LABEL
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await check_out(customer_vault, place, registered.key.id, "tech-without-job")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(refused.value) == "no_active_grant"
    # A grant at another site does not count either.
    elsewhere = await new_place(customer_vault, place.tenant_id, door_code=None)
    await grant(customer_vault, elsewhere, user_id="tech-elsewhere")
    with pytest.raises(grpc.aio.AioRpcError) as wrong_site:
        await check_out(customer_vault, place, registered.key.id, "tech-elsewhere")
    assert error_code(wrong_site.value) == "no_active_grant"
    listed = await customer_vault.stub.ListSiteKeys(
        pb.ListSiteKeysRequest(site_id=place.site.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert [(k.status, k.holder_user_id) for k in listed.keys] == [("in_office", "")]
    denied = [
        (e.outcome, e.reason)
        for e in await audit_events(customer_vault, place.tenant_id, action="key.check_out")
    ]
    assert denied == [("denied", "no_active_grant"), ("denied", "no_active_grant")]

    job = await grant(customer_vault, place, user_id="tech-1")
    key = await check_out(customer_vault, place, registered.key.id, "tech-1")
    assert (key.status, key.holder_user_id) == ("checked_out", "tech-1")
    assert key.work_order_id == job.grant.work_order_id
    expected_due = job.grant.valid_until.ToDatetime(tzinfo=UTC) + timedelta(minutes=30)
    assert key.due_time.ToDatetime(tzinfo=UTC) == expected_due and not key.overdue
    # A retry of the same hand-over changes nothing; another technician cannot have it.
    again = await check_out(customer_vault, place, registered.key.id, "tech-1")
    assert again.checkout_id == key.checkout_id
    await grant(customer_vault, place, user_id="tech-2")
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await check_out(customer_vault, place, registered.key.id, "tech-2")
    assert error_code(taken.value) == "key_out"

    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    mine = await customer_vault.stub.ListMyKeys(
        pb.ListMyKeysRequest(), metadata=technician, timeout=TIMEOUT
    )
    assert [(k.id, k.label) for k in mine.keys] == [(registered.key.id, LABEL)]
    # A technician cannot hand keys out, not even to themselves.
    with pytest.raises(grpc.aio.AioRpcError) as not_office:
        await check_out(customer_vault, place, registered.key.id, "tech-1", technician)
    assert not_office.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The holder checks it in from the field; then they hold nothing.
    back = await customer_vault.stub.CheckInKey(
        pb.CheckInKeyRequest(key_id=registered.key.id), metadata=technician, timeout=TIMEOUT
    )
    assert (back.key.status, back.key.holder_user_id) == ("in_office", "")
    mine = await customer_vault.stub.ListMyKeys(
        pb.ListMyKeysRequest(), metadata=technician, timeout=TIMEOUT
    )
    assert list(mine.keys) == []
    # Someone else's key is not found for a technician.
    other = await customer_vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-2")
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await customer_vault.stub.MarkKeyLost(
            pb.MarkKeyLostRequest(key_id=registered.key.id), metadata=other, timeout=TIMEOUT
        )
    assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_tag_tells_only_the_areas_office_which_site_the_key_opens(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), area_id="area-north")
    registered = await register(customer_vault, place)
    tag = registered.tag_code
    assert len(tag) == 19 and tag.count("-") == 3
    admin = await customer_vault.mint.user(place.tenant_id, roles=["admin"])
    for caller in (place.dispatcher, admin):
        found = await scan(customer_vault, tag.lower().replace("-", " "), caller)
        assert (found.key.id, found.key.site_id, found.site_name) == (
            registered.key.id,
            place.site.id,
            SITE_NAME,
        )
    mint = customer_vault.mint
    strangers = {
        "dispatcher of another area": await mint.user(
            place.tenant_id, roles=["dispatcher"], areas=["area-south"]
        ),
        "technician of another area": await mint.user(
            place.tenant_id, roles=["technician"], areas=["area-south"]
        ),
        "technician of the area": await mint.user(
            place.tenant_id, roles=["technician"], areas=["area-north"]
        ),
        "auditor": await mint.user(place.tenant_id, roles=["auditor"]),
        "admin of another tenant": await mint.user(new_tenant_id(), roles=["admin"]),
    }
    answers = {}
    for who, caller in strangers.items():
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await scan(customer_vault, tag, caller)
        answers[who] = refused.value.code()
        assert place.site.id not in str(refused.value) and tag not in str(refused.value)
    assert set(answers.values()) == {grpc.StatusCode.NOT_FOUND}, answers
    # A tag that is no key's answers the same; a malformed one says what is wrong.
    unknown = "0000-0000-0000-0000" if tag != "0000-0000-0000-0000" else "1111-1111-1111-1111"
    with pytest.raises(grpc.aio.AioRpcError) as nothing:
        await scan(customer_vault, unknown, place.dispatcher)
    assert nothing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await scan(customer_vault, "not a tag", place.dispatcher)
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tag_code" in (malformed.value.details() or "")
    scans = await audit_events(customer_vault, place.tenant_id, action="key.scan")
    assert sorted(e.outcome for e in scans) == ["denied"] * 5 + ["success"] * 2


async def test_an_overdue_key_is_announced_once_however_many_replicas_sweep(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    returned_in_time = await register(customer_vault, place, "returned in time")
    kept = await register(customer_vault, place, "kept too long")
    job = await grant(customer_vault, place, user_id="tech-1", hours=2)
    await check_out(customer_vault, place, returned_in_time.key.id, "tech-1")
    await check_out(customer_vault, place, kept.key.id, "tech-1")
    await customer_vault.stub.CheckInKey(
        pb.CheckInKeyRequest(key_id=returned_in_time.key.id),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    end = job.grant.valid_until.ToDatetime(tzinfo=UTC)
    trail = AuditTrail(ChainAnchor(VaultClient(customer_vault.settings)))

    async def sweep(at: datetime) -> int:
        return await alert_overdue_keys(
            customer_vault.database, trail, grace=timedelta(minutes=30), now=at
        )

    # Inside the grace period: not overdue yet.
    assert await sweep(end + timedelta(minutes=29)) == 0
    # Three replicas sweep at once after it: one of them announces it.
    counts = await asyncio.gather(*(sweep(end + timedelta(minutes=31)) for _ in range(3)))
    assert sorted(counts) == [0, 0, 1]
    assert await sweep(end + timedelta(hours=5)) == 0
    payloads = await published(customer_vault.settings.nats_url, place.tenant_id, "key_overdue")
    assert len(payloads) == 1
    overdue = events_pb.KeyOverdue.FromString(payloads[0])
    assert (overdue.key_id, overdue.site_id, overdue.area_id, overdue.user_id) == (
        kept.key.id,
        place.site.id,
        place.area_id,
        "tech-1",
    )
    assert overdue.work_order_id == job.grant.work_order_id
    assert overdue.due_time.ToDatetime(tzinfo=UTC) == end + timedelta(minutes=30)
    alerts = await audit_events(customer_vault, place.tenant_id, action="key.overdue")
    assert [(e.resource_id, e.actor_id) for e in alerts] == [
        (kept.key.id, "service:customer_vault")
    ]


async def test_a_job_ended_early_makes_its_key_due_then(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    registered = await register(customer_vault, place)
    job = await grant(customer_vault, place, user_id="tech-1", hours=8)
    await check_out(customer_vault, place, registered.key.id, "tech-1")
    await customer_vault.stub.RevokeGrants(
        pb.RevokeGrantsRequest(work_order_id=job.grant.work_order_id, reason="completed"),
        metadata=await customer_vault.mint.work_order(place.tenant_id),
        timeout=TIMEOUT,
    )
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    mine = await customer_vault.stub.ListMyKeys(
        pb.ListMyKeysRequest(), metadata=technician, timeout=TIMEOUT
    )
    due = mine.keys[0].due_time.ToDatetime(tzinfo=UTC)
    assert due < job.grant.valid_until.ToDatetime(tzinfo=UTC)
    trail = AuditTrail(ChainAnchor(VaultClient(customer_vault.settings)))
    alerted = await alert_overdue_keys(
        customer_vault.database, trail, grace=timedelta(minutes=30), now=due + timedelta(seconds=1)
    )
    assert alerted == 1


async def test_every_key_movement_verifies_in_the_audit_chain_and_no_canary_leaks(
    customer_vault: RunningVault,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.DEBUG, logger="customer_vault")
    caplog.set_level(logging.DEBUG, logger="fieldvault_platform")
    place = await new_place(customer_vault, new_tenant_id())
    registered = await register(customer_vault, place)
    canaries = [LABEL, registered.tag_code, registered.tag_code.replace("-", ""), SITE_NAME]
    await grant(customer_vault, place, user_id="tech-1")
    key_id = registered.key.id
    await check_out(customer_vault, place, key_id, "tech-1")
    await customer_vault.stub.CheckInKey(
        pb.CheckInKeyRequest(key_id=key_id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    await check_out(customer_vault, place, key_id, "tech-1")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    lost = await customer_vault.stub.MarkKeyLost(
        pb.MarkKeyLostRequest(key_id=key_id), metadata=technician, timeout=TIMEOUT
    )
    assert lost.key.status == "lost"
    found = await scan(customer_vault, registered.tag_code, place.dispatcher)
    assert found.key.status == "lost"
    back = await customer_vault.stub.CheckInKey(
        pb.CheckInKeyRequest(key_id=key_id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert back.key.status == "in_office"

    records = await audit_events(customer_vault, place.tenant_id, site_id=place.site.id)
    movements = [e.action for e in sorted(records, key=lambda e: e.sequence) if "key." in e.action]
    assert movements == [
        "key.register",
        "key.check_out",
        "key.check_in",
        "key.check_out",
        "key.lost",
        "key.scan",
        "key.found",
    ]
    auditor = await customer_vault.mint.user(place.tenant_id, roles=["auditor"])
    verified = await customer_vault.stub.VerifyAuditTrail(
        pb.VerifyAuditTrailRequest(), metadata=auditor, timeout=TIMEOUT
    )
    assert verified.ok and verified.checked > len(records)  # the customer's record too

    def leaks(text: str) -> list[str]:
        return [canary for canary in canaries if canary.lower() in text.lower()]

    raw = await stored_bytes(customer_vault, database_file(database_url))
    assert not leaks(raw.decode(errors="replace"))
    formatter = JsonFormatter("customer_vault")
    assert not [line for r in caplog.records if leaks(line := formatter.format(r))]
    messages = await published(
        customer_vault.settings.nats_url, place.tenant_id, "audit_recorded", count=len(records)
    )
    assert len(messages) >= len(records)
    assert not [m for m in messages if leaks(m.decode(errors="replace"))]
    for span in spans.get_finished_spans():
        texts = [span.name, str(span.status.description or "")]
        texts += [json.dumps(dict(span.attributes or {}), default=str)]
        assert not leaks(" ".join(texts)), span.name


async def test_a_lost_key_opens_a_change_the_lock_task_once(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    registered = await register(customer_vault, place)
    await grant(customer_vault, place, user_id="tech-1")
    await check_out(customer_vault, place, registered.key.id, "tech-1")
    for _attempt in range(2):  # a retry marks nothing new
        lost = await customer_vault.stub.MarkKeyLost(
            pb.MarkKeyLostRequest(key_id=registered.key.id),
            metadata=place.dispatcher,
            timeout=TIMEOUT,
        )
        assert (lost.key.status, lost.key.holder_user_id) == ("lost", "")
    tasks = await customer_vault.stub.ListRotationTasks(
        pb.ListRotationTasksRequest(page_size=50), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert [(t.site_id, t.subject, t.reason, t.status, t.exposed_user_id) for t in tasks.tasks] == [
        (place.site.id, "lock", "key_lost", "open", "tech-1")
    ]
    created = await published(
        customer_vault.settings.nats_url, place.tenant_id, "rotation_task_created"
    )
    assert len(created) == 1
    announced = events_pb.RotationTaskCreated.FromString(created[0])
    assert (announced.subject, announced.reason, announced.area_id) == (
        "lock",
        "key_lost",
        place.area_id,
    )
    # A lost key cannot be handed out; found again, it is back in the office.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await check_out(customer_vault, place, registered.key.id, "tech-1")
    assert error_code(refused.value) == "key_lost"


async def test_a_leavers_exposure_lists_the_keys_they_hold_or_lost(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    person = await identity.new_person(tenant)
    place = await new_place(customer_vault, tenant.id)
    held = await register(customer_vault, place, "held")
    lost = await register(customer_vault, place, "lost")
    returned = await register(customer_vault, place, "returned")
    await grant(customer_vault, place, user_id=person.id)
    for key in (held, lost, returned):
        await check_out(customer_vault, place, key.key.id, person.id)
    await customer_vault.stub.MarkKeyLost(
        pb.MarkKeyLostRequest(key_id=lost.key.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    await customer_vault.stub.CheckInKey(
        pb.CheckInKeyRequest(key_id=returned.key.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    await identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=person.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=TIMEOUT,
    )
    report = await exposure_of(customer_vault, tenant.id, "user", person.id)
    assert report is not None
    [section] = [s for s in report.sections if s.name == "physical_keys"]
    listed = {(item.reference_id, item.note, item.subject) for item in section.items}
    assert listed == {(held.key.id, "held", "lock"), (lost.key.id, "lost", "lock")}
    held_item = next(item for item in section.items if item.reference_id == held.key.id)
    assert held_item.task_id and list(held_item.user_ids) == [person.id]
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"])
    tasks = await customer_vault.stub.ListRotationTasks(
        pb.ListRotationTasksRequest(page_size=50), metadata=admin, timeout=TIMEOUT
    )
    assert sorted((t.subject, t.reason) for t in tasks.tasks) == [
        ("lock", "key_lost"),
        ("lock", "key_not_returned"),
    ]
    # Still a key held: the office sees who has it even after the person left.
    listed_keys = await customer_vault.stub.ListSiteKeys(
        pb.ListSiteKeysRequest(site_id=place.site.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert {(k.id, k.status, k.holder_user_id) for k in listed_keys.keys} == {
        (held.key.id, "checked_out", person.id),
        (lost.key.id, "lost", ""),
        (returned.key.id, "in_office", ""),
    }


async def test_the_operator_command_announces_overdue_keys_now(
    customer_vault: RunningVault,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    registered = await register(customer_vault, place)
    job = await grant(customer_vault, place, user_id="tech-1")
    await check_out(customer_vault, place, registered.key.id, "tech-1")
    await customer_vault.stub.RevokeGrants(
        pb.RevokeGrantsRequest(work_order_id=job.grant.work_order_id, reason="completed"),
        metadata=await customer_vault.mint.work_order(place.tenant_id),
        timeout=TIMEOUT,
    )
    # The command reads the service's settings from the environment; here, this service's.
    settings = customer_vault.settings.model_copy(update={"key_return_grace_minutes": 0})
    monkeypatch.setattr(operator, "Settings", lambda: settings)
    await operator.alert_overdue_keys([])
    await operator.alert_overdue_keys([])  # run again: nothing new
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["1", "0"]
    alerts = await audit_events(customer_vault, place.tenant_id, action="key.overdue")
    assert [e.resource_id for e in alerts] == [registered.key.id]


async def test_a_subcontractors_technician_takes_a_key_while_the_dpa_is_active(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    today = datetime.now(UTC).date()
    organization_id = await identity.new_subcontractor(
        tenant,
        dpa_signed_on=(today - timedelta(days=30)).isoformat(),
        dpa_expires_on=(today + timedelta(days=30)).isoformat(),
    )
    place = await new_place(customer_vault, tenant.id)
    registered = await register(customer_vault, place)
    await grant(
        customer_vault,
        place,
        user_id="sub-tech",
        organization_id=organization_id,
        subcontractor=True,
    )
    key = await check_out(customer_vault, place, registered.key.id, "sub-tech")
    assert (key.status, key.holder_user_id) == ("checked_out", "sub-tech")
