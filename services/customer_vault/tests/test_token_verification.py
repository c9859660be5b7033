"""Who may call customer-vault: the caller check and EnsureTenantKey's authorisation.

Only identity's service account, holding ``tenant_keys:ensure``, may provision a
tenant's key — for that tenant, or tenant-agnostic while the tenant is being
created. Tokens themselves (signature, audience, expiry, revocation) are
checked with a real identity in ``tests/test_tokens_across_services.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import hvac.exceptions
import pytest

from customer_vault.main import build_runtime
from customer_vault.settings import Settings
from customer_vault.tenant_key_lifecycle import authorize_tenant_key_provisioning, ensure_tenant_key
from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import (
    Actor,
    DenyList,
    JwksCache,
    Principal,
    PrincipalKind,
    TokenVerifier,
)
from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.errors import (
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def principal(
    subject: str,
    *,
    scopes: Iterable[str] = (),
    tenant_id: str | None = None,
    roles: Iterable[str] = (),
    actor: Actor | None = None,
) -> Principal:
    now = datetime.now(UTC)
    kind = (
        PrincipalKind.SERVICE
        if subject.startswith("service:")
        else PrincipalKind.CLIENT
        if subject.startswith("client:")
        else PrincipalKind.USER
    )
    return Principal(
        subject=subject,
        kind=kind,
        tenant_id=tenant_id,
        organization_id=None,
        roles=frozenset(roles),
        area_ids=frozenset(),
        scopes=frozenset(scopes),
        session_id="session-1" if kind is PrincipalKind.USER else None,
        token_id=uuid.uuid4().hex,
        audience="customer_vault",
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        actor=actor,
    )


IDENTITY = "service:identity"
ENSURE = "tenant_keys:ensure"


@pytest.mark.parametrize("token_tenant", [None, "acme"], ids=["platform-level", "same tenant"])
def test_only_identity_may_provision_a_tenant_key_with_the_scope(token_tenant: str | None) -> None:
    """Identity's token passes (tenant-agnostic or naming the tenant); the same token
    with another service's name does not, so passing is the account check, not luck."""
    allowed = principal(IDENTITY, scopes=[ENSURE], tenant_id=token_tenant)
    outcomes = []
    for caller in (
        allowed,
        principal("service:work_order", scopes=[ENSURE], tenant_id=token_tenant),
    ):
        try:
            authorize_tenant_key_provisioning(caller, "acme")
            outcomes.append("allowed")
        except PermissionDenied:
            outcomes.append("refused")
    assert outcomes == ["allowed", "refused"]


def test_identity_may_not_provision_another_tenants_key_with_a_tenant_scoped_token() -> None:
    caller = principal(IDENTITY, scopes=[ENSURE], tenant_id="acme")
    with pytest.raises(PermissionDenied, match="not valid for this tenant"):
        authorize_tenant_key_provisioning(caller, "globex")


def test_identity_without_the_scope_is_refused() -> None:
    with pytest.raises(PermissionDenied, match="tenant_keys:ensure"):
        authorize_tenant_key_provisioning(principal(IDENTITY, scopes=["directory:read"]), "acme")


def test_work_orders_service_token_for_grants_is_refused() -> None:
    caller = principal("service:work_order", scopes=["grants:write"], tenant_id="acme")
    with pytest.raises(PermissionDenied, match="tenant_keys:ensure"):
        authorize_tenant_key_provisioning(caller, "acme")


def test_another_service_is_refused_even_if_identity_wrongly_gave_it_the_scope() -> None:
    caller = principal("service:work_order", scopes=[ENSURE])
    with pytest.raises(PermissionDenied, match="only identity's service account"):
        authorize_tenant_key_provisioning(caller, "acme")


@pytest.mark.parametrize(
    "caller",
    [
        principal("user-1", scopes=[ENSURE], tenant_id="acme", roles=["admin"]),
        principal("client:partner-1", scopes=[ENSURE], tenant_id="acme"),
    ],
    ids=["user", "partner client"],
)
def test_users_and_partner_clients_are_refused_whatever_their_token_says(caller: Principal) -> None:
    with pytest.raises(PermissionDenied):
        authorize_tenant_key_provisioning(caller, "acme")


async def test_the_caller_is_checked_before_the_tenant_id_so_a_stranger_learns_nothing() -> None:
    class NoVault:
        async def ensure(self, tenant_id: str) -> Any:
            raise AssertionError("Vault must not be reached")

    stranger = principal("service:work_order", scopes=["grants:write"])
    with pytest.raises(PermissionDenied):
        await ensure_tenant_key(keys=NoVault(), principal=stranger, tenant_id="a.b/../c")  # type: ignore[arg-type]
    allowed = principal(IDENTITY, scopes=[ENSURE])
    with pytest.raises(InvalidArgument, match="tenant_id must be"):
        await ensure_tenant_key(keys=NoVault(), principal=allowed, tenant_id="a.b/../c")  # type: ignore[arg-type]


# --- the caller of an RPC ------------------------------------------------------------------


class Metadata:
    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.pairs


def callers(current: asyncio.Event, *, timeout: float = 0.2) -> Callers:
    async def no_keys() -> dict[str, Any]:
        return {"keys": []}

    verifier = TokenVerifier(
        JwksCache(no_keys),
        issuer="fieldvault-identity",
        audience="customer_vault",
        deny_list=DenyList(),
    )
    return Callers(verifier=verifier, revocations_current=current, catch_up_timeout=timeout)


@pytest.mark.parametrize(
    "metadata",
    [(), (("authorization", "Basic dXNlcjpwYXNz"),), (("authorization", "Bearer "),)],
    ids=["none", "basic", "empty bearer"],
)
async def test_a_call_without_a_bearer_token_is_unauthenticated(
    metadata: tuple[tuple[str, str], ...],
) -> None:
    current = asyncio.Event()
    current.set()
    with pytest.raises(Unauthenticated, match="bearer token required"):
        await callers(current).principal(Metadata(*metadata))


async def test_a_token_that_is_not_a_jwt_is_unauthenticated() -> None:
    current = asyncio.Event()
    current.set()
    with pytest.raises(Unauthenticated, match="token invalid"):
        await callers(current).principal(Metadata(("authorization", "Bearer not-a-jwt")))


async def test_until_revocations_are_loaded_calls_wait_then_fail_closed_as_unavailable() -> None:
    current = asyncio.Event()
    with pytest.raises(Unavailable, match="revocations are not loaded yet"):
        await callers(current, timeout=0.05).principal(Metadata(("authorization", "Bearer x.y.z")))

    waiting = asyncio.create_task(
        callers(current, timeout=5).principal(Metadata(("authorization", "Bearer x.y.z")))
    )
    await asyncio.sleep(0.05)
    assert not waiting.done(), "a call must wait for the revocation list"
    current.set()
    with pytest.raises(Unauthenticated, match="token invalid"):
        await waiting


# --- through the real service --------------------------------------------------------------


@pytest.mark.integration
async def test_the_service_refuses_a_call_without_a_token_before_reaching_vault(
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
    nats_server: NatsServer,
    database_url: str,
) -> None:
    role_id, secret_id = openbao_credentials["customer_vault"]
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = Settings(  # type: ignore[call-arg]
        environment="development",
        grpc_port=free_port(),
        database_url=database_url,
        nats_url=nats_server.url,
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
        # Nobody listens there: refusing a missing token needs no key from identity.
        identity_addr=f"127.0.0.1:{free_port()}",
    )
    tenant_id = f"tenant-{uuid.uuid4().hex[:10]}"
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)
        for metadata in ((), (("authorization", "Bearer not-a-jwt"),)):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.EnsureTenantKey(
                    customer_vault_pb2.EnsureTenantKeyRequest(tenant_id=tenant_id),
                    metadata=metadata,
                    timeout=10,
                )
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert dict(caught.value.trailing_metadata() or ())["fieldvault-error-code"] == (
                "unauthenticated"
            )
    with pytest.raises(hvac.exceptions.InvalidPath):
        openbao.client().secrets.transit.read_key(name=f"fv-tenant-{tenant_id}")
