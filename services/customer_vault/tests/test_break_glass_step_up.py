"""A break-glass reveal needs identity's step-up token for exactly this dispatcher,
session, site and kind — checked here, whoever carried the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from vault_testkit import (
    RunningVault,
    audit_events,
    error_code,
    new_place,
    new_tenant_id,
    reveal,
)

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.auth import BREAK_GLASS, STEP_UP_TOKEN_TYPE, bearer_metadata
from identity.auth.tokens import mint

pytestmark = pytest.mark.integration

REASON = "Flooding reported, office unreachable"


async def refusal(call: object) -> tuple[grpc.StatusCode, str | None]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code(), error_code(exc)
    pytest.fail("the call succeeded")


async def test_break_glass_without_a_step_up_token_is_refused_and_audited(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    assert await refusal(
        reveal(
            customer_vault,
            place.site.id,
            place.dispatcher,
            break_glass=True,
            reason=REASON,
            step_up_token="",
        )
    ) == (grpc.StatusCode.PERMISSION_DENIED, "step_up_required")
    records = await audit_events(customer_vault, place.tenant_id, action="secret.reveal")
    assert [(r.outcome, r.reason, r.break_glass) for r in records] == [
        ("denied", "step_up_required", True)
    ]
    revealed = await reveal(
        customer_vault, place.site.id, place.dispatcher, break_glass=True, reason=REASON
    )
    assert revealed.value == "DOOR-4711-CANARY"


async def test_a_step_up_token_for_another_site_kind_person_or_time_does_not_count(
    customer_vault: RunningVault,
) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    other = await new_place(customer_vault, place.tenant_id, area_id=place.area_id)
    colleague = await customer_vault.mint.user(
        place.tenant_id, roles=["dispatcher"], areas=[place.area_id]
    )
    mint_step_up = customer_vault.mint.step_up
    stale = await mint(
        customer_vault.mint.signer,
        {"sub": "x", "tid": place.tenant_id, "sid": "s", "purpose": BREAK_GLASS, "target": {}},
        audience="customer_vault",
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(minutes=5),
        token_type=STEP_UP_TOKEN_TYPE,
    )
    access_token = dict(place.dispatcher)["authorization"].removeprefix("Bearer ")
    for wrong in (
        await mint_step_up(place.dispatcher, site_id=other.site.id, kind=pb.SECRET_KIND_DOOR_CODE),
        await mint_step_up(place.dispatcher, site_id=place.site.id, kind=pb.SECRET_KIND_ALARM_CODE),
        await mint_step_up(colleague, site_id=place.site.id, kind=pb.SECRET_KIND_DOOR_CODE),
        stale.token,
        access_token,  # an access token is not a step-up token
        "not-a-token",
    ):
        assert await refusal(
            reveal(
                customer_vault,
                place.site.id,
                place.dispatcher,
                break_glass=True,
                reason=REASON,
                step_up_token=wrong,
            )
        ) == (grpc.StatusCode.PERMISSION_DENIED, "step_up_required")


async def test_a_step_up_token_is_not_an_access_token(customer_vault: RunningVault) -> None:
    place = await new_place(customer_vault, new_tenant_id())
    step_up = await customer_vault.mint.step_up(
        place.dispatcher, site_id=place.site.id, kind=pb.SECRET_KIND_DOOR_CODE
    )
    code, _ = await refusal(
        customer_vault.stub.ListSecrets(
            pb.ListSecretsRequest(site_id=place.site.id), metadata=bearer_metadata(step_up)
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
