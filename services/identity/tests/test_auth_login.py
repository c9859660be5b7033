"""Password login against a real identity: the tokens it mints, the errors it gives,
and the brute-force defence under parallel attempts."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from identity_testkit import RunningIdentity, error_code, login, seed_user

from fieldvault.identity.v1 import identity_pb2 as pb
from fieldvault_platform.auth import DenyList, JwksCache, TokenVerifier
from fieldvault_platform.errors import RETRY_AFTER_KEY, Unauthenticated
from identity.scopes import scopes_for_roles
from identity.throttling import ACCOUNT_POLICY

pytestmark = pytest.mark.integration


async def _jwks(identity: RunningIdentity) -> dict[str, object]:
    import json

    response = await identity.stub.GetJwks(pb.GetJwksRequest())
    document: dict[str, object] = json.loads(response.jwks_json)
    return document


def _verifier(identity: RunningIdentity, audience: str) -> TokenVerifier:
    async def fetch() -> dict[str, object]:
        return await _jwks(identity)

    return TokenVerifier(
        JwksCache(fetch),
        issuer=identity.settings.token_issuer,
        audience=audience,
        deny_list=DenyList(),
    )


async def test_a_dispatcher_gets_a_gateway_token_carrying_exactly_the_dispatcher_scopes(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["dispatcher"])
    response = await login(identity, seeded)

    principal = await _verifier(identity, "gateway").verify(response.access_token)
    assert principal.subject == seeded.user_id
    assert principal.tenant_id == seeded.tenant_id
    assert principal.organization_id == seeded.organization_id
    assert principal.roles == {"dispatcher"}
    assert principal.scopes == scopes_for_roles(["dispatcher"])
    assert principal.session_id
    assert principal.amr == ("pwd",)
    assert response.token_type == "Bearer"
    assert response.expires_in == identity.settings.access_token_ttl_seconds
    assert 0 < (principal.expires_at - principal.issued_at).total_seconds() <= 600
    assert response.refresh_token and not response.mfa_enrollment_required


async def test_a_gateway_token_is_refused_by_every_other_audience(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    token = (await login(identity, seeded)).access_token
    for audience in ("customer_vault", "work_order", "notification", "identity"):
        with pytest.raises(Unauthenticated, match="not valid for this service"):
            await _verifier(identity, audience).verify(token)


async def test_exchange_gives_a_token_for_one_backend_only_and_never_longer_lived(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity, roles=["dispatcher"])
    token = (await login(identity, seeded)).access_token
    original = await _verifier(identity, "gateway").verify(token)

    exchanged = await identity.stub.ExchangeToken(
        pb.ExchangeTokenRequest(subject_token=token, audience="customer_vault")
    )
    principal = await _verifier(identity, "customer_vault").verify(exchanged.access_token)
    assert (principal.subject, principal.session_id, principal.scopes) == (
        original.subject,
        original.session_id,
        original.scopes,
    )
    assert principal.expires_at <= original.expires_at
    with pytest.raises(Unauthenticated):
        await _verifier(identity, "work_order").verify(exchanged.access_token)
    # An exchanged token cannot be exchanged again (it is not a gateway token).
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await identity.stub.ExchangeToken(
            pb.ExchangeTokenRequest(subject_token=exchanged.access_token, audience="work_order")
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_unknown_tenant_unknown_email_and_wrong_password_look_the_same(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)
    attempts = [
        pb.LoginRequest(tenant="no-such-tenant", email=seeded.email, password="x" * 16),
        pb.LoginRequest(tenant=seeded.slug, email="nobody@example.com", password="x" * 16),
        pb.LoginRequest(tenant=seeded.slug, email=seeded.email, password="x" * 16),
    ]
    seen = set()
    for request in attempts:
        request.source_address = "198.51.100.7"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await identity.stub.Login(request)
        seen.add((refused.value.code(), refused.value.details(), error_code(refused.value)))
    assert seen == {
        (
            grpc.StatusCode.UNAUTHENTICATED,
            "invalid tenant, email or password",
            "invalid_credentials",
        )
    }


async def test_unknown_users_cost_about_as_much_time_as_wrong_passwords(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)

    async def timed(email: str, source: str) -> float:
        start = time.perf_counter()
        with pytest.raises(grpc.aio.AioRpcError):
            await identity.stub.Login(
                pb.LoginRequest(
                    tenant=seeded.slug, email=email, password="y" * 16, source_address=source
                )
            )
        return time.perf_counter() - start

    known = min([await timed(seeded.email, f"203.0.113.{i}") for i in range(3)])
    unknown = min([await timed(f"ghost{i}@example.com", f"203.0.113.{10 + i}") for i in range(3)])
    # Both pay one argon2id verification; without the dummy check the unknown
    # case would be an order of magnitude faster.
    assert unknown > known / 3


async def test_fifty_parallel_wrong_passwords_get_no_more_checks_than_the_policy_allows(
    identity: RunningIdentity,
) -> None:
    seeded = await seed_user(identity)

    async def attempt() -> tuple[str, str | None]:
        try:
            await login(identity, seeded, password="wrong password guess", source_address="")
        except grpc.aio.AioRpcError as exc:
            retry_after = dict(exc.trailing_metadata() or ()).get(RETRY_AFTER_KEY)
            return exc.code().name, retry_after
        return "OK", None

    started = time.monotonic()
    outcomes = await asyncio.gather(*(attempt() for _ in range(50)))
    elapsed = time.monotonic() - started
    codes = [code for code, _ in outcomes]
    assert "OK" not in codes
    # The free failures got a password check, plus one more for each delay that
    # had fully run out while the 50 were in flight (argon2 on a small machine
    # can take longer than the first 1 s delay); racing bought nothing beyond that.
    evaluated = codes.count("UNAUTHENTICATED")
    assert ACCOUNT_POLICY.free_failures <= evaluated <= _allowed_within(elapsed)
    assert codes.count("RESOURCE_EXHAUSTED") == 50 - evaluated
    waits = [int(wait) for code, wait in outcomes if code == "RESOURCE_EXHAUSTED" and wait]
    assert len(waits) == 50 - evaluated and min(waits) >= 1

    # The next failure earns a longer delay, and while it runs even the right
    # password is not checked.
    await asyncio.sleep(max(waits))
    with pytest.raises(grpc.aio.AioRpcError):
        await login(identity, seeded, password="one more wrong guess", source_address="")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await login(identity, seeded, source_address="")
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_code(refused.value) == "rate_limited"


def _allowed_within(seconds: float) -> int:
    """Attempts the account policy lets through within ``seconds`` from the first one."""
    allowed, spent = ACCOUNT_POLICY.free_failures, 0.0
    while True:
        delay = ACCOUNT_POLICY.delay_after(allowed)
        assert delay is not None
        spent += delay.total_seconds()
        if spent > seconds:
            return allowed
        allowed += 1


async def test_a_deactivated_user_cannot_sign_in_and_gets_the_generic_error(
    identity: RunningIdentity,
) -> None:
    from sqlalchemy import update

    from identity.models import User

    seeded = await seed_user(identity)
    async with identity.database.unit_of_work() as session:
        await session.execute(
            update(User).where(User.id == seeded.user_id).values(status="deactivated")
        )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await login(identity, seeded)
    assert error_code(refused.value) == "invalid_credentials"
