"""Identity's tokens as a second service sees them: customer-vault verifies and refuses.

A real identity process (its own deny list, its own database) issues the
tokens; customer-vault runs in this process and checks them only with what
every service has — identity's JWKS and its own deny list fed from NATS. So a
refusal here is customer-vault's, and a revocation reaching it within a second
went through NATS: customer-vault never asks identity about a token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pydantic import SecretStr

from customer_vault.main import build_runtime
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from fieldvault_platform.settings import VaultSettings
from fieldvault_platform.vault import VaultClient
from identity.scopes import SERVICE_ACCOUNT_SCOPES
from identity.signing import TokenSigner

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
CUSTOMER_VAULT_MIGRATIONS = ROOT / "services" / "customer_vault" / "migrations"
#: How fast a revocation must reach another service (the identity issue's promise).
REVOCATION_SECONDS = 1.0


# --- the services -----------------------------------------------------------------------------


@pytest.fixture
async def identity(identity_service: IdentityProcess) -> AsyncIterator[IdentityDriver]:
    async with open_channel(identity_service.addr) as channel:
        yield IdentityDriver(identity_service, identity_pb2_grpc.IdentityServiceStub(channel))


@pytest.fixture
async def customer_vault(
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: dict[str, tuple[str, str]],
    database_url: str,
) -> AsyncIterator[customer_vault_pb2_grpc.CustomerVaultServiceStub]:
    """customer-vault trusting that identity: its JWKS, its revocations on NATS."""
    role_id, secret_id = openbao_credentials["customer_vault"]
    await asyncio.to_thread(upgrade, CUSTOMER_VAULT_MIGRATIONS, database_url)
    settings = Settings(  # type: ignore[call-arg]
        environment="development",
        grpc_port=free_port(),
        database_url=database_url,
        nats_url=identity_service.nats_url,
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
        identity_addr=identity_service.addr,
    )
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        yield customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)


async def ensure_tenant_key(
    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub, token: str, tenant_id: str
) -> customer_vault_pb2.EnsureTenantKeyResponse:
    response: customer_vault_pb2.EnsureTenantKeyResponse = await customer_vault.EnsureTenantKey(
        customer_vault_pb2.EnsureTenantKeyRequest(tenant_id=tenant_id),
        metadata=bearer_metadata(token),
        timeout=10,
    )
    return response


async def refusal(
    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub, token: str, tenant_id: str
) -> tuple[grpc.StatusCode, str]:
    """How customer-vault refuses ``token`` (fails the test if it accepts it)."""
    try:
        await ensure_tenant_key(customer_vault, token, tenant_id)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    pytest.fail("customer-vault accepted the token")


def segments(token: str) -> list[str]:
    return token.split(".")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def identity_signer(openbao: OpenBaoServer, credentials: dict[str, tuple[str, str]]) -> TokenSigner:
    """identity's own signer (its AppRole, its Transit key): tokens only identity could sign."""
    role_id, secret_id = credentials["identity"]
    settings = VaultSettings(
        environment="development",  # type: ignore[arg-type]
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=SecretStr(secret_id),
    )
    return TokenSigner(VaultClient(settings))


# --- what customer-vault accepts --------------------------------------------------------------


def test_the_devstack_gives_every_service_account_identity_knows_a_secret(
    identity_service: IdentityProcess,
) -> None:
    assert set(identity_service.service_account_secrets) == set(SERVICE_ACCOUNT_SCOPES)


async def test_identitys_own_service_token_provisions_a_tenant_key(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    token = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure"
    )
    answer = await ensure_tenant_key(customer_vault, token, tenant_id)
    assert (answer.key_name, answer.created) == (f"fv-tenant-{tenant_id}", True)
    scoped = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure", tenant_id=tenant_id
    )
    again = await ensure_tenant_key(customer_vault, scoped, tenant_id)
    assert (again.key_name, again.created) == (f"fv-tenant-{tenant_id}", False)


# --- what customer-vault refuses --------------------------------------------------------------


async def test_a_token_with_a_bad_signature_is_refused(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    token = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure"
    )
    header, payload, signature = segments(token)
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    flipped = f"{header}.{payload}.{b64url(bytes(raw))}"
    # The claims of another token under this token's signature: a signature over other bytes.
    other = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure", tenant_id="other"
    )
    spliced = f"{header}.{segments(other)[1]}.{signature}"
    for forged in (flipped, spliced):
        assert await refusal(customer_vault, forged, "other") == (
            grpc.StatusCode.UNAUTHENTICATED,
            "token invalid",
        )


async def test_a_token_with_alg_none_is_refused(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    token = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure"
    )
    header = b64url_json(segments(token)[0])
    for alg in ("none", "None", "HS256"):
        forged_header = b64url(json.dumps({**header, "alg": alg}).encode())
        payload = segments(token)[1]
        unsigned = f"{forged_header}.{payload}."
        assert await refusal(customer_vault, unsigned, "acme") == (
            grpc.StatusCode.UNAUTHENTICATED,
            "token invalid",
        ), alg


async def test_tokens_for_another_audience_are_refused(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant = await identity.new_tenant()
    technician = await identity.new_person(tenant)
    for_work_order = await identity.exchange(technician.gateway_token, "work_order")
    work_order_at_identity = await identity.service_token(
        "work_order", audience="identity", scope="directory:read", tenant_id=tenant.id
    )
    for token in (
        technician.gateway_token,  # a gateway token, as Login issues it
        for_work_order,  # the same user's token exchanged for work-order
        tenant.admin_identity_token,  # an admin's token for identity
        work_order_at_identity,  # a service token for identity
    ):
        assert await refusal(customer_vault, token, tenant.id) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "token not valid for this service",
        )


async def test_identitys_token_for_one_tenant_is_refused_for_another(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant_a, tenant_b = (f"tenant-{uuid.uuid4().hex[:10]}" for _ in range(2))
    token = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure", tenant_id=tenant_a
    )
    code, details = await refusal(customer_vault, token, tenant_b)
    assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED, "token not valid for this tenant")
    assert (await ensure_tenant_key(customer_vault, token, tenant_a)).created


async def test_an_expired_token_signed_by_identitys_key_is_refused(
    identity: IdentityDriver,
    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub,
    openbao: OpenBaoServer,
    openbao_credentials: dict[str, tuple[str, str]],
) -> None:
    # A token identity issued, to learn the key it signs with now.
    issued = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure"
    )
    signer = identity_signer(openbao, openbao_credentials)
    claims = b64url_json(segments(issued)[1])
    now = int(time.time())
    lifetime = claims["exp"] - claims["iat"]
    # Expired a minute ago: well past the verifier's 30 s leeway.
    expired_claims = {**claims, "iat": now - 60 - lifetime, "nbf": now - 60 - lifetime}
    expired_claims.update(exp=now - 60, jti=uuid.uuid4().hex)
    expired = await signer.sign(expired_claims)
    assert segments(expired)[0] == segments(issued)[0], "not signed like identity signs"
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    assert await refusal(customer_vault, expired, tenant_id) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "token expired",
    )
    # The same claims, still valid, pass: the refusal was the expiry.
    fresh = await signer.sign({**claims, "jti": uuid.uuid4().hex})
    assert (await ensure_tenant_key(customer_vault, fresh, tenant_id)).created


async def test_work_orders_service_token_may_not_provision_tenant_keys(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    token = await identity.service_token(
        "work_order", audience="customer_vault", scope="grants:write", tenant_id=tenant_id
    )
    assert await refusal(customer_vault, token, tenant_id) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "token lacks the required scope: tenant_keys:ensure",
    )


# --- revocation, through NATS -----------------------------------------------------------------


async def refused_as_revoked_within(
    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub,
    tokens: list[str],
    tenant_id: str,
    started: float,
    seconds: float,
) -> float:
    """Seconds from ``started`` until customer-vault refuses every token as revoked."""
    pending = list(tokens)
    while pending:
        for token in list(pending):
            code, details = await refusal(customer_vault, token, tenant_id)
            if code == grpc.StatusCode.UNAUTHENTICATED:
                # Only customer-vault's own deny list says "revoked": it has no
                # database of sessions or users to ask.
                assert details == "token revoked"
                pending.remove(token)
            else:
                assert code == grpc.StatusCode.PERMISSION_DENIED, details
        if time.monotonic() - started > seconds + 4:
            break
        await asyncio.sleep(0.02)
    assert not pending, f"{len(pending)} token(s) still accepted"
    return time.monotonic() - started


async def test_a_deactivated_users_tokens_are_refused_by_customer_vault_within_a_second(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant = await identity.new_tenant()
    technician = await identity.new_person(tenant)
    exchanged = await identity.exchange(technician.gateway_token, "customer_vault")
    # work-order calling customer-vault on the technician's behalf (act = technician).
    for_work_order = await identity.exchange(technician.gateway_token, "work_order")
    on_behalf = await identity.service_token(
        "work_order", audience="customer_vault", scope="grants:write", subject_token=for_work_order
    )
    provisioner = await identity.service_token(
        "identity", audience="customer_vault", scope="tenant_keys:ensure", tenant_id=tenant.id
    )
    # Authentic until now: refused only for what they may not do.
    for token in (exchanged, on_behalf):
        code, _ = await refusal(customer_vault, token, tenant.id)
        assert code == grpc.StatusCode.PERMISSION_DENIED

    await identity.stub.DeactivateUser(
        identity_pb2.DeactivateUserRequest(id=technician.id),
        metadata=bearer_metadata(tenant.admin_identity_token),
        timeout=10,
    )
    started = time.monotonic()
    elapsed = await refused_as_revoked_within(
        customer_vault, [exchanged, on_behalf], tenant.id, started, REVOCATION_SECONDS
    )
    assert elapsed < REVOCATION_SECONDS

    # Nobody else was caught by it.
    assert (await ensure_tenant_key(customer_vault, provisioner, tenant.id)).key_name


async def test_a_logged_out_session_is_refused_by_customer_vault_within_a_second(
    identity: IdentityDriver, customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
) -> None:
    tenant = await identity.new_tenant()
    technician = await identity.new_person(tenant)
    exchanged = await identity.exchange(technician.gateway_token, "customer_vault")
    code, _ = await refusal(customer_vault, exchanged, tenant.id)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # The same user's other session stays valid.
    other_login = await identity.login(tenant.slug, technician.email)
    other = await identity.exchange(other_login.access_token, "customer_vault")

    for_identity = await identity.exchange(technician.gateway_token, "identity")
    await identity.stub.Logout(
        identity_pb2.LogoutRequest(), metadata=bearer_metadata(for_identity), timeout=10
    )
    started = time.monotonic()
    elapsed = await refused_as_revoked_within(
        customer_vault, [exchanged], tenant.id, started, REVOCATION_SECONDS
    )
    assert elapsed < REVOCATION_SECONDS
    code, _ = await refusal(customer_vault, other, tenant.id)
    assert code == grpc.StatusCode.PERMISSION_DENIED, "the other session was revoked too"
