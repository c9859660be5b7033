"""TOTP: enrolment forced by tenant policy, confirmation, login with a code, replay refused."""

from __future__ import annotations

import grpc
import pyotp
import pytest
from identity_testkit import (
    PASSWORD,
    RunningIdentity,
    error_code,
    for_identity,
    login,
    seed_user,
)
from sqlalchemy import select

from fieldvault.identity.v1 import identity_pb2 as pb
from identity.models import User

pytestmark = pytest.mark.integration


async def _enrol_and_confirm(identity: RunningIdentity, access_token: str) -> str:
    metadata = await for_identity(identity, access_token)
    enrolled = await identity.stub.EnrollTotp(pb.EnrollTotpRequest(), metadata=metadata)
    assert enrolled.otpauth_uri.startswith("otpauth://totp/")
    confirmed = await identity.stub.ConfirmTotp(
        pb.ConfirmTotpRequest(code=pyotp.TOTP(enrolled.secret).now()), metadata=metadata
    )
    assert confirmed.user.mfa_enabled
    return enrolled.secret


async def test_an_admin_without_a_second_factor_may_only_enrol_one(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["admin"])
    response = await login(identity, seeded)
    assert response.mfa_enrollment_required
    assert response.refresh_token == ""

    metadata = await for_identity(identity, response.access_token)
    # The enrolment token reads the profile and enrols, nothing else.
    await identity.stub.GetMe(pb.GetMeRequest(), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.ChangePassword(
            pb.ChangePasswordRequest(current_password="x", new_password="y"), metadata=metadata
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_after_enrolment_login_needs_a_fresh_code_and_records_it(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["admin"])
    enrolment = await login(identity, seeded)
    seed = await _enrol_and_confirm(identity, enrolment.access_token)

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await login(identity, seeded)
    assert error_code(missing.value) == "mfa_required"

    # The code used to confirm was consumed; a new step's code is needed.
    totp = pyotp.TOTP(seed)
    import time

    next_code = totp.at(time.time() + 30)
    response = await login(identity, seeded, otp=next_code)
    assert response.refresh_token and not response.mfa_enrollment_required

    with pytest.raises(grpc.aio.AioRpcError) as replayed:
        await login(identity, seeded, otp=next_code)
    assert error_code(replayed.value) == "invalid_credentials"

    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await login(identity, seeded, otp="000000" if next_code != "000000" else "111111")
    assert error_code(wrong.value) == "invalid_credentials"


async def test_the_seed_is_stored_only_as_vault_ciphertext(identity: RunningIdentity) -> None:
    seeded = await seed_user(identity, roles=["technician"])
    response = await login(identity, seeded)
    metadata = await for_identity(identity, response.access_token)
    enrolled = await identity.stub.EnrollTotp(pb.EnrollTotpRequest(), metadata=metadata)
    async with identity.database.unit_of_work() as session:
        stored = await session.scalar(
            select(User.totp_secret_ciphertext).where(User.id == seeded.user_id)
        )
    assert stored is not None and stored.startswith("vault:v")
    assert enrolled.secret not in stored


async def test_a_technician_is_not_forced_to_enrol_but_may(identity: RunningIdentity) -> None:
    seeded = await seed_user(identity, roles=["technician"])
    response = await login(identity, seeded)
    assert not response.mfa_enrollment_required
    await _enrol_and_confirm(identity, response.access_token)
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await identity.stub.EnrollTotp(
            pb.EnrollTotpRequest(), metadata=await for_identity(identity, response.access_token)
        )
    assert error_code(again.value) == "mfa_already_enabled"


async def test_a_refused_code_says_to_wait_for_the_next_one_and_a_wrong_password_says_the_same(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["admin"])
    enrolment = await login(identity, seeded)
    totp = pyotp.TOTP(await _enrol_and_confirm(identity, enrolment.access_token))
    import time

    used = totp.at(time.time() + 30)
    await login(identity, seeded, otp=used)

    async def refusal(**changes: str) -> tuple[grpc.StatusCode, str, str | None]:
        request = pb.LoginRequest(
            tenant=seeded.slug, email=seeded.email, password=PASSWORD, source_address="192.0.2.44"
        )
        for name, value in changes.items():
            setattr(request, name, value)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.Login(request)
        return refused.value.code(), refused.value.details() or "", error_code(refused.value)

    replayed = await refusal(otp=used)
    code, message, error = replayed
    assert (code, error) == (grpc.StatusCode.UNAUTHENTICATED, "invalid_credentials")
    assert "one-time code was not accepted" in message
    assert "wait for the next code" in message
    # Whoever does not know the password learns nothing from it: a wrong password,
    # an unknown e-mail or tenant, sent with a code, get the very same answer.
    assert await refusal(otp=used, password="x" * 16) == replayed
    assert await refusal(otp="123456", email="nobody@example.com") == replayed
    assert await refusal(otp="123456", tenant="no-such-tenant") == replayed
    # Without a code, a wrong password still says only that.
    assert (await refusal(password="x" * 16))[1] == "invalid tenant, email or password"
