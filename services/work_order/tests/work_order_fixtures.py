"""Fixtures of work-order's tests (a plugin module, so that names stay unique across services)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from customer_vault.main import build_runtime as build_customer_vault
from customer_vault.settings import Settings as CustomerVaultSettings
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault.work_order.v1 import work_order_pb2_grpc
from fieldvault_devstack.databases import isolated_database
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_devstack.ports import free_port
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from work_order.main import build_runtime as build_work_order
from work_order.settings import Settings as WorkOrderSettings

SERVICES = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    work_order: work_order_pb2_grpc.WorkOrderServiceStub
    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
    identity: IdentityDriver
    work_order_settings: WorkOrderSettings
    customer_vault_settings: CustomerVaultSettings
    _vault_process: contextlib.AsyncExitStack

    async def stop_customer_vault(self) -> None:
        await self._vault_process.aclose()

    async def start_customer_vault(self) -> None:
        """Again on the same port, with the same database and keys."""
        self._vault_process = contextlib.AsyncExitStack()
        await self._vault_process.enter_async_context(
            serving(await build_customer_vault(self.customer_vault_settings))
        )


@contextlib.contextmanager
def second_database(tmp_path: Path) -> AsyncIterator[str]:  # type: ignore[misc]
    server_url = os.environ.get("FIELDVAULT_TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'customer_vault.db'}"
        return
    with isolated_database(server_url) as url:
        yield url


def customer_vault_settings(
    identity: IdentityProcess,
    openbao: OpenBaoServer,
    credentials: Mapping[str, tuple[str, str]],
    database_url: str,
    port: int,
) -> CustomerVaultSettings:
    role_id, secret_id = credentials["customer_vault"]
    return CustomerVaultSettings(  # type: ignore[call-arg]
        environment="development",
        grpc_port=port,
        database_url=database_url,
        nats_url=identity.nats_url,
        vault_addr=openbao.addr,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
        identity_addr=identity.addr,
        service_account_secret=identity.service_account_secrets["customer_vault"],
    )


@pytest.fixture
async def stack(
    database_url: str,
    tmp_path: Path,
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
) -> AsyncIterator[Stack]:
    with second_database(tmp_path) as vault_database:  # type: ignore[attr-defined]
        await asyncio.to_thread(upgrade, SERVICES / "work_order" / "migrations", database_url)
        await asyncio.to_thread(upgrade, SERVICES / "customer_vault" / "migrations", vault_database)
        vault_settings = customer_vault_settings(
            identity_service, openbao, openbao_credentials, vault_database, free_port()
        )
        settings = WorkOrderSettings(  # type: ignore[call-arg]
            environment="development",
            grpc_port=free_port(),
            database_url=database_url,
            nats_url=identity_service.nats_url,
            identity_addr=identity_service.addr,
            customer_vault_addr=f"{vault_settings.grpc_host}:{vault_settings.grpc_port}",
            service_account_secret=identity_service.service_account_secrets["work_order"],
            grant_retry_seconds=0.2,
            grant_max_retry_seconds=0.5,
        )
        vault_target = f"{vault_settings.grpc_host}:{vault_settings.grpc_port}"
        async with (
            serving(await build_work_order(settings)) as target,
            open_channel(target) as channel,
            open_channel(vault_target) as vault_channel,
            open_channel(identity_service.addr) as identity_channel,
        ):
            stack = Stack(
                work_order_pb2_grpc.WorkOrderServiceStub(channel),
                customer_vault_pb2_grpc.CustomerVaultServiceStub(vault_channel),
                IdentityDriver(
                    identity_service, identity_pb2_grpc.IdentityServiceStub(identity_channel)
                ),
                settings,
                vault_settings,
                contextlib.AsyncExitStack(),
            )
            await stack.start_customer_vault()
            try:
                yield stack
            finally:
                await stack.stop_customer_vault()


@dataclass
class VaultOnly:
    """customer-vault and identity running, work-order's database migrated, no work-order
    service: a test runs work-order's parts (say, two grant relays) against them itself."""

    customer_vault: customer_vault_pb2_grpc.CustomerVaultServiceStub
    identity: IdentityDriver
    identity_channel: grpc.aio.Channel
    customer_vault_target: str
    work_order_settings: WorkOrderSettings


@pytest.fixture
async def vault_only(
    database_url: str,
    tmp_path: Path,
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
) -> AsyncIterator[VaultOnly]:
    with second_database(tmp_path) as vault_database:  # type: ignore[attr-defined]
        await asyncio.to_thread(upgrade, SERVICES / "work_order" / "migrations", database_url)
        await asyncio.to_thread(upgrade, SERVICES / "customer_vault" / "migrations", vault_database)
        vault_settings = customer_vault_settings(
            identity_service, openbao, openbao_credentials, vault_database, free_port()
        )
        vault_target = f"{vault_settings.grpc_host}:{vault_settings.grpc_port}"
        settings = WorkOrderSettings(  # type: ignore[call-arg]
            environment="development",
            grpc_port=free_port(),
            database_url=database_url,
            nats_url=identity_service.nats_url,
            identity_addr=identity_service.addr,
            customer_vault_addr=vault_target,
            service_account_secret=identity_service.service_account_secrets["work_order"],
            grant_retry_seconds=0.2,
            grant_max_retry_seconds=0.5,
        )
        async with (
            serving(await build_customer_vault(vault_settings)),
            open_channel(vault_target) as vault_channel,
            open_channel(identity_service.addr) as identity_channel,
        ):
            yield VaultOnly(
                customer_vault_pb2_grpc.CustomerVaultServiceStub(vault_channel),
                IdentityDriver(
                    identity_service, identity_pb2_grpc.IdentityServiceStub(identity_channel)
                ),
                identity_channel,
                vault_target,
                settings,
            )


@pytest.fixture
def partner_token(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> Callable[[str, list[str]], Awaitable[tuple[tuple[str, str], ...]]]:
    """A partner client's token for work-order, signed with identity's real key."""
    from datetime import UTC, datetime

    from pydantic import SecretStr

    from fieldvault_platform.auth import bearer_metadata
    from fieldvault_platform.settings import VaultSettings
    from fieldvault_platform.vault import VaultClient
    from identity.auth.tokens import client_claims, mint
    from identity.signing import TokenSigner

    role_id, secret_id = openbao_credentials["identity"]
    signer = TokenSigner(
        VaultClient(
            VaultSettings(
                environment="development",  # type: ignore[arg-type]
                vault_addr=openbao.addr,
                vault_role_id=role_id,
                vault_secret_id=SecretStr(secret_id),
            )
        )
    )

    async def issue(tenant_id: str, scopes: list[str]) -> tuple[tuple[str, str], ...]:
        claims = client_claims(client_id="partner-1", tenant_id=tenant_id, scopes=scopes)
        issued = await mint(
            signer, claims, audience="work_order", ttl_seconds=300, now=datetime.now(UTC)
        )
        return tuple(bearer_metadata(issued.token))

    return issue
