"""Step-up for break-glass: one fresh code, the same replay guard and throttle as login,
and a token that says exactly what it is for."""

from __future__ import annotations

import time

import grpc
import jwt
import pyotp
import pytest
from identity_testkit import (
    RunningIdentity,
    admin_metadata,
    error_code,
    for_identity,
    login,
    seed_user,
)

from fieldvault.identity.v1 import identity_pb2 as pb

pytestmark = pytest.mark.integration

SITE = "site-1"


def step_up(otp: str, *, kind: str = "door_code") -> pb.IssueStepUpTokenRequest:
    return pb.IssueStepUpTokenRequest(
        purpose="break_glass", otp=otp, site_id=SITE, secret_kind=kind, source_address="192.0.2.10"
    )


async def enrolled_dispatcher(identity: RunningIdentity) -> tuple[object, pyotp.TOTP, object]:
    seeded = await seed_user(identity, roles=["dispatcher"])
    signed_in = await login(identity, seeded)
    metadata = await for_identity(identity, signed_in.access_token)
    enrolled = await identity.stub.EnrollTotp(pb.EnrollTotpRequest(), metadata=metadata)
    totp = pyotp.TOTP(enrolled.secret)
    await identity.stub.ConfirmTotp(pb.ConfirmTotpRequest(code=totp.now()), metadata=metadata)
    return seeded, totp, metadata


async def test_a_code_used_to_sign_in_cannot_be_used_again_to_break_glass(
    identity: RunningIdentity,
) -> None:
    seeded, totp, _ = await enrolled_dispatcher(identity)
    code = totp.at(time.time() + 30)
    signed_in = await login(identity, seeded, otp=code)
    metadata = await for_identity(identity, signed_in.access_token)
    with pytest.raises(grpc.aio.AioRpcError) as replayed:
        await identity.stub.IssueStepUpToken(step_up(code), metadata=metadata)
    assert replayed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code(replayed.value) == "invalid_otp"


async def test_a_step_up_token_names_its_user_purpose_and_secret_and_nothing_more(
    identity: RunningIdentity,
) -> None:
    seeded, totp, metadata = await enrolled_dispatcher(identity)
    issued = await identity.stub.IssueStepUpToken(
        step_up(totp.at(time.time() + 30)), metadata=metadata
    )
    assert 0 < issued.expires_in <= 60
    header = jwt.get_unverified_header(issued.step_up_token)
    claims = jwt.decode(issued.step_up_token, options={"verify_signature": False})
    assert header["typ"] == "step-up+jwt"
    assert (claims["aud"], claims["sub"], claims["purpose"], claims["amr"]) == (
        "customer_vault",
        seeded.user_id,
        "break_glass",
        ["otp"],
    )
    assert claims["target"] == {"site_id": SITE, "kind": "door_code"}
    assert "scope" not in claims


async def test_wrong_step_up_codes_use_up_the_same_allowance_as_wrong_logins(
    identity: RunningIdentity,
) -> None:
    seeded, totp, metadata = await enrolled_dispatcher(identity)
    wrong = totp.at(time.time() - 3600)
    codes = []
    for _ in range(6):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.IssueStepUpToken(step_up(wrong), metadata=metadata)
        codes.append(error_code(refused.value))
    assert codes == ["invalid_otp"] * 5 + ["rate_limited"]
    with pytest.raises(grpc.aio.AioRpcError) as login_refused:
        await login(identity, seeded, otp=totp.at(time.time() + 30))
    assert login_refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_only_a_role_that_may_break_glass_gets_a_step_up(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["technician"])
    metadata = await for_identity(identity, (await login(identity, seeded)).access_token)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.IssueStepUpToken(step_up(""), metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    _, _, dispatcher = await enrolled_dispatcher(identity)
    with pytest.raises(grpc.aio.AioRpcError) as bad_kind:
        await identity.stub.IssueStepUpToken(step_up("", kind="pin"), metadata=dispatcher)
    assert bad_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_break_glass_step_up_policy_is_on_by_default_and_changes_only_when_named(
    identity: RunningIdentity,
) -> None:
    _, admin = await admin_metadata(identity)
    tenant = (await identity.stub.GetTenant(pb.GetTenantRequest(), metadata=admin)).tenant
    assert tenant.break_glass_step_up_required
    off = await identity.stub.UpdateTenantPolicy(
        pb.UpdateTenantPolicyRequest(
            mfa_required_roles=["admin"], break_glass_step_up_required=False
        ),
        metadata=admin,
    )
    assert not off.tenant.break_glass_step_up_required
    roles_only = await identity.stub.UpdateTenantPolicy(
        pb.UpdateTenantPolicyRequest(mfa_required_roles=["admin", "dispatcher"]), metadata=admin
    )
    assert not roles_only.tenant.break_glass_step_up_required
    assert list(roles_only.tenant.mfa_required_roles) == ["admin", "dispatcher"]
