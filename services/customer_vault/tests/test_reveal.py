"""Reveal: grants from work-order, audited before the value leaves, denials audited,
break-glass and the reveal rate announced to auditors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from vault_testkit import (
    OWN_ORG,
    TIMEOUT,
    RunningVault,
    audit_events,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    published,
    reveal,
    timestamp,
)

from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as events_pb
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

pytestmark = pytest.mark.integration


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"reveal_rate_limit": 4, "reveal_rate_window_seconds": 600}


async def denial(call: object) -> tuple[grpc.StatusCode, str | None]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code(), error_code(exc)
    pytest.fail("the call succeeded")


async def test_a_technician_with_a_grant_reveals_and_the_reveal_is_audited_with_the_purpose(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    created = await grant(customer_vault, place, user_id="tech-1", work_order_id="wo-42")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    revealed = await reveal(customer_vault, place.site.id, technician)
    assert revealed.value == "DOOR-4711-CANARY" and revealed.kind == pb.SECRET_KIND_DOOR_CODE
    assert revealed.hide_after_seconds == customer_vault.settings.reveal_hide_after_seconds
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert [(r.id, r.outcome, r.purpose, r.actor_id) for r in records] == [
        (revealed.audit_event_id, "success", "wo-42", "tech-1")
    ]
    assert created.created and created.grant.active and created.grant.fields == ["door_code"]


async def test_without_a_grant_the_reveal_is_refused_and_the_refusal_is_audited(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1", fields=["alarm_code"])
    others = [
        await customer_vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-2"),
        # tech-1's grant is for the alarm code only.
        await customer_vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-1"),
    ]
    for technician in others:
        assert await denial(reveal(customer_vault, place.site.id, technician)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "no_active_grant",
        )
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert sorted((r.actor_id, r.outcome, r.reason) for r in records) == [
        ("tech-1", "denied", "no_active_grant"),
        ("tech-2", "denied", "no_active_grant"),
    ]


async def test_revoking_the_work_orders_grants_ends_the_reveal(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1", work_order_id="wo-7")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    assert (await reveal(customer_vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
    revoked = await customer_vault.stub.RevokeGrants(
        pb.RevokeGrantsRequest(work_order_id="wo-7", reason="completed"),
        metadata=await customer_vault.mint.work_order(place.tenant_id),
        timeout=TIMEOUT,
    )
    assert revoked.revoked_count == 1
    assert (await denial(reveal(customer_vault, place.site.id, technician)))[1] == "no_active_grant"
    # Both the reveal and the refusal name the job as their purpose.
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert sorted((r.outcome, r.purpose) for r in records) == [
        ("denied", "wo-7"),
        ("success", "wo-7"),
    ]


async def test_creating_a_grant_twice_for_one_work_order_and_assignee_keeps_one_grant(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    first, again = await asyncio.gather(
        grant(customer_vault, place, user_id="tech-1", work_order_id="wo-1"),
        grant(customer_vault, place, user_id="tech-1", work_order_id="wo-1"),
    )
    assert first.grant.id == again.grant.id
    assert sorted([first.created, again.created]) == [False, True]
    dispatcher_view = await customer_vault.stub.ListGrants(
        pb.ListGrantsRequest(site_id=place.site.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert [g.id for g in dispatcher_view.grants] == [first.grant.id]


@pytest.mark.parametrize(
    ("who", "scopes"),
    [("notification", ["grants:write"]), ("identity", ["grants:write"]), ("work_order", [])],
)
async def test_only_work_orders_service_token_creates_grants(
    customer_vault: RunningVault, who: str, scopes: list[str]
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    token = await customer_vault.mint.service(who, place.tenant_id, scopes)
    code, _ = await denial(
        customer_vault.stub.CreateGrant(
            pb.CreateGrantRequest(
                site_id=place.site.id, organization_id="org-own", fields=["door_code"]
            ),
            metadata=token,
            timeout=TIMEOUT,
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    dispatcher = place.dispatcher  # a person cannot either, whatever their role
    code, _ = await denial(
        customer_vault.stub.CreateGrant(
            pb.CreateGrantRequest(site_id=place.site.id), metadata=dispatcher, timeout=TIMEOUT
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_break_glass_needs_a_reason_is_flagged_and_tells_the_auditors(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    code, _ = await denial(
        reveal(customer_vault, place.site.id, place.dispatcher, break_glass=True)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    # Without break-glass a dispatcher's role does not reveal: refused, and audited.
    assert (await denial(reveal(customer_vault, place.site.id, place.dispatcher)))[1] == (
        "not_permitted"
    )
    revealed = await reveal(
        customer_vault,
        place.site.id,
        place.dispatcher,
        break_glass=True,
        reason="Flooding reported, technician cannot reach office",
    )
    assert revealed.value == "DOOR-4711-CANARY"
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert [r.reason for r in records if r.outcome == "denied"] == ["not_permitted"]
    flagged = [r for r in records if r.id == revealed.audit_event_id]
    assert flagged[0].break_glass and flagged[0].purpose == "break_glass"
    assert "Flooding" in flagged[0].reason
    payloads = await published(
        customer_vault.settings.nats_url, place.tenant_id, "break_glass_reveal"
    )
    alert = events_pb.BreakGlassReveal.FromString(payloads[0])
    assert (alert.audit_event_id, alert.site_id, alert.kind) == (
        revealed.audit_event_id,
        place.site.id,
        "door_code",
    )
    assert len(payloads) == 1


async def test_a_dispatcher_cannot_break_glass_outside_their_areas(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), area_id="area-north")
    elsewhere = await customer_vault.mint.user(
        place.tenant_id, roles=["dispatcher"], areas=["area-south"]
    )
    assert await denial(
        reveal(customer_vault, place.site.id, elsewhere, break_glass=True, reason="x" * 20)
    ) == (grpc.StatusCode.PERMISSION_DENIED, "not_in_your_areas")


async def test_crossing_the_reveal_rate_is_refused_audited_and_alerted_once(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    for _ in range(4):  # the limit in this module
        await reveal(customer_vault, place.site.id, technician)
    for _ in range(2):
        assert await denial(reveal(customer_vault, place.site.id, technician)) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "rate_limited",
        )
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert [r.reason for r in records if r.outcome == "denied"] == ["rate_limited"] * 2
    alerts = await published(
        customer_vault.settings.nats_url, place.tenant_id, "reveal_rate_exceeded"
    )
    assert len(alerts) == 1
    alert = events_pb.RevealRateExceeded.FromString(alerts[0])
    assert (alert.user_id, alert.limit) == ("tech-1", 4)
    # Another technician is not affected by tech-1's limit.
    await grant(customer_vault, place, user_id="tech-2")
    other = await customer_vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-2")
    assert (await reveal(customer_vault, place.site.id, other)).value == "DOOR-4711-CANARY"


async def test_with_the_audit_store_failing_nothing_is_revealed(
    customer_vault: RunningVault,
) -> None:
    from sqlalchemy import text

    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    async with customer_vault.database.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await reveal(customer_vault, place.site.id, technician)
        assert "DOOR-4711-CANARY" not in str(caught.value)
        # SQLite reports a missing table as an operational error (UNAVAILABLE),
        # PostgreSQL as a programming error (INTERNAL): either way, no value.
        assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
    finally:
        async with customer_vault.database.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE audit_records_away RENAME TO audit_records"))
    assert (await reveal(customer_vault, place.site.id, technician)).value == "DOOR-4711-CANARY"


async def test_partners_and_services_never_reveal(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    partner = await customer_vault.mint.client(
        place.tenant_id, ["customers:read", "customers:write", "work_orders:read"]
    )
    work_order = await customer_vault.mint.work_order(place.tenant_id)
    for token in (partner, work_order):
        code, _ = await denial(reveal(customer_vault, place.site.id, token))
        assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_technician_writes_a_code_found_on_site_without_reading_it(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id(), door_code=None)
    await grant(customer_vault, place, user_id="tech-1", fields=["alarm_code"])
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    written = await customer_vault.stub.PutSecret(
        pb.PutSecretRequest(
            site_id=place.site.id, kind=pb.SECRET_KIND_KEY_SAFE_CODE, value="KS-7391"
        ),
        metadata=technician,
        timeout=TIMEOUT,
    )
    assert (written.secret.version, written.secret.updated_by) == (1, "tech-1")
    listed = await customer_vault.stub.ListSecrets(
        pb.ListSecretsRequest(site_id=place.site.id), metadata=place.dispatcher, timeout=TIMEOUT
    )
    assert [(s.kind, s.version) for s in listed.secrets] == [(pb.SECRET_KIND_KEY_SAFE_CODE, 1)]
    # (A value that cannot occur by chance in a timestamp or an id.)
    assert "KS-7391" not in str(listed)
    # Writing did not let them read it: their grant names the alarm code only.
    code = await denial(
        reveal(customer_vault, place.site.id, technician, kind=pb.SECRET_KIND_KEY_SAFE_CODE)
    )
    assert code == (grpc.StatusCode.PERMISSION_DENIED, "no_active_grant")


async def test_before_the_grant_opens_the_refusal_says_when_it_opens(
    customer_vault: RunningVault,
) -> None:
    # work-order creates grants a margin before the job starts: valid_from in the future.
    place = await new_place(customer_vault, new_tenant_id())
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    await customer_vault.stub.CreateGrant(
        pb.CreateGrantRequest(
            site_id=place.site.id,
            user_id="tech-1",
            organization_id=OWN_ORG,
            fields=["door_code"],
            work_order_id="wo-later",
            valid_from=timestamp(opens),
            valid_until=timestamp(opens + timedelta(hours=4)),
        ),
        metadata=await customer_vault.mint.work_order(place.tenant_id),
        timeout=TIMEOUT,
    )
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await reveal(customer_vault, place.site.id, technician)
    assert (refused.value.code(), error_code(refused.value)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "no_active_grant",
    )
    detail = refused.value.details() or ""
    assert opens.isoformat().replace("+00:00", "Z") in detail
    assert "DOOR-4711-CANARY" not in detail
    # Someone without any grant here is told nothing of the kind.
    stranger = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-2"
    )
    with pytest.raises(grpc.aio.AioRpcError) as plain:
        await reveal(customer_vault, place.site.id, stranger)
    assert "opens" not in (plain.value.details() or "")


async def test_concurrent_reveals_never_pass_the_limit_and_alert_exactly_once(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    results = await asyncio.gather(
        *(reveal(customer_vault, place.site.id, technician) for _ in range(12)),
        return_exceptions=True,
    )
    successes = [r for r in results if isinstance(r, pb.RevealSecretResponse)]
    refusals = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(successes) == 4  # the limit in this module
    assert [(e.code(), error_code(e)) for e in refusals] == [
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "rate_limited")
    ] * 8
    alerts = await published(
        customer_vault.settings.nats_url, place.tenant_id, "reveal_rate_exceeded", count=2
    )
    assert len(alerts) == 1
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert sorted(r.outcome for r in records) == ["denied"] * 8 + ["success"] * 4


async def test_a_refusal_past_the_limit_alerts_even_when_the_crossing_was_not_seen(
    customer_vault: RunningVault,
) -> None:
    # Attempts that never reached the old "attempts == limit" moment (not found
    # ones were not even counted) still lead to one alert at the first refusal.
    place = await new_place(customer_vault, new_tenant_id())
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    for _ in range(4):
        assert (await denial(reveal(customer_vault, "no-such-site", technician)))[0] == (
            grpc.StatusCode.NOT_FOUND
        )
    assert await denial(reveal(customer_vault, place.site.id, technician)) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "rate_limited",
    )
    alerts = await published(
        customer_vault.settings.nats_url, place.tenant_id, "reveal_rate_exceeded"
    )
    assert len(alerts) == 1


async def test_reveals_of_nothing_are_audited_and_counted(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    await grant(customer_vault, place, user_id="tech-1", fields=["door_code", "alarm_code"])
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    assert (await denial(reveal(customer_vault, "no-such-site", technician)))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    no_alarm_code = reveal(
        customer_vault, place.site.id, technician, kind=pb.SECRET_KIND_ALARM_CODE
    )
    assert (await denial(no_alarm_code))[0] == grpc.StatusCode.NOT_FOUND
    records = await audit_events(
        customer_vault, place.tenant_id, action="secret.reveal", actor_id="tech-1"
    )
    assert sorted((r.site_id, r.outcome, r.reason) for r in records) == sorted(
        [("no-such-site", "denied", "not_found"), (place.site.id, "denied", "not_found")]
    )
    # An erased customer's code (erasure revokes grants: a dispatcher's break-glass).
    dispatcher = await customer_vault.mint.user(
        place.tenant_id, roles=["dispatcher"], areas=[place.area_id], user_id="disp-1"
    )
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"])
    await customer_vault.stub.EraseCustomer(
        pb.EraseCustomerRequest(id=place.customer.id, reason="customer asked to be forgotten"),
        metadata=dpo,
        timeout=TIMEOUT,
    )
    erased = reveal(
        customer_vault, place.site.id, dispatcher, break_glass=True, reason="Fire alarm at night"
    )
    assert await denial(erased) == (grpc.StatusCode.FAILED_PRECONDITION, "erased")
    records = await audit_events(
        customer_vault, place.tenant_id, action="secret.reveal", actor_id="disp-1"
    )
    assert [(r.outcome, r.reason, r.break_glass) for r in records] == [("denied", "erased", True)]
    # They count towards the rate: two more attempts make four, the next is refused.
    for _ in range(2):
        await denial(reveal(customer_vault, "no-such-site", technician))
    assert await denial(reveal(customer_vault, "no-such-site", technician)) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "rate_limited",
    )


async def test_a_dispatchers_plain_reveal_names_break_glass_and_the_reason_it_needs(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await reveal(customer_vault, place.site.id, place.dispatcher)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code(refused.value) == "not_permitted"  # the stable code stays
    minimum = customer_vault.settings.break_glass_min_reason_length
    assert refused.value.details() == (
        "your role reveals secrets only by break-glass: send break_glass: true with a "
        f"reason of at least {minimum} characters saying why (and, where your "
        "organisation's policy asks for it, the current code of your authenticator app "
        "as otp); the reveal is flagged in the audit trail and the auditors are told"
    )
