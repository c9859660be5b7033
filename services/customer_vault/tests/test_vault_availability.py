"""customer-vault answers UNAVAILABLE while OpenBao is down, and recovers when it returns.

Calls carry identity's service token (``service:identity``, ``tenant_keys:ensure``),
issued by a real identity process the way identity's tenant creation gets one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from customer_vault.main import build_runtime
from customer_vault.settings import Settings
from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_devstack.ports import free_port
from fieldvault_platform.auth import bearer_metadata
from fieldvault_platform.auth.wiring import ServiceTokens
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

pytestmark = pytest.mark.integration


async def _settings(
    bao: OpenBaoServer, identity: IdentityProcess, database_url: str, creds_dir: Path
) -> Settings:
    role_id, secret_id = bootstrap_vault(bao.addr, bao.root_token, creds_dir)["customer_vault"]
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    return Settings(
        environment="development",
        grpc_port=free_port(),
        database_url=database_url,
        nats_url=identity.nats_url,
        vault_addr=bao.addr,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
        identity_addr=identity.addr,
    )


async def _identity_token(identity: IdentityProcess) -> tuple[tuple[str, str]]:
    """Call metadata with identity's own token for customer-vault (tenant-agnostic)."""
    async with open_channel(identity.addr) as channel:
        tokens = ServiceTokens(
            service="identity",
            secret=lambda: identity.service_account_secrets["identity"],
            channel=channel,
        )
        token = await tokens.token(audience="customer_vault", scope="tenant_keys:ensure")
    return bearer_metadata(token)


async def test_vault_calls_answer_unavailable_while_openbao_is_stopped_and_recover(
    openbao_factory: Callable[..., OpenBaoServer],
    identity_service: IdentityProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    bao = openbao_factory()
    settings = await _settings(bao, identity_service, database_url, tmp_path / "creds")
    request = customer_vault_pb2.EnsureTenantKeyRequest(tenant_id="acme")
    auth = await _identity_token(identity_service)

    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)
        first = await stub.EnsureTenantKey(request, metadata=auth, timeout=10)
        assert first.created and first.key_name == "fv-tenant-acme" and first.latest_version == 1

        await asyncio.to_thread(bao.stop)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.EnsureTenantKey(request, metadata=auth, timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert (
            caught.value.details() == "Vault is unavailable: cannot reach it (transit.ensure_key)"
        )

        await asyncio.to_thread(bao.start)
        again = await stub.EnsureTenantKey(request, metadata=auth, timeout=10)
        assert again.key_name == "fv-tenant-acme"
        assert not again.created, "the key made before the outage must still exist"


async def test_a_sealed_openbao_is_reported_as_sealed(
    openbao_factory: Callable[..., OpenBaoServer],
    identity_service: IdentityProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    bao = openbao_factory()
    settings = await _settings(bao, identity_service, database_url, tmp_path / "creds")
    auth = await _identity_token(identity_service)
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)
        await asyncio.to_thread(bao.client().sys.seal)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.EnsureTenantKey(
                customer_vault_pb2.EnsureTenantKeyRequest(tenant_id="acme"),
                metadata=auth,
                timeout=10,
            )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "sealed" in (caught.value.details() or "")


async def test_an_invalid_tenant_id_is_rejected_with_a_clear_message(
    openbao: OpenBaoServer,
    openbao_credentials: dict[str, tuple[str, str]],
    identity_service: IdentityProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    settings = await _settings(
        openbao, identity_service, database_url, openbao.data_dir / "credentials"
    )
    auth = await _identity_token(identity_service)
    async with serving(await build_runtime(settings)) as target, open_channel(target) as channel:
        stub = customer_vault_pb2_grpc.CustomerVaultServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.EnsureTenantKey(
                customer_vault_pb2.EnsureTenantKeyRequest(tenant_id="a.b/../c"),
                metadata=auth,
                timeout=10,
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "tenant_id must be" in (caught.value.details() or "")
