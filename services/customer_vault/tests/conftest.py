"""customer-vault under test: in-process on a free port, trusting the session's real
identity process, with real OpenBao (its own AppRole), real NATS and a fresh database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from customer_vault.main import build_runtime
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vault_testkit import MIGRATIONS, RunningVault, TokenMint, identity_signer, vault_settings


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    """Settings a test module wants different (override this fixture)."""
    return {}


@pytest.fixture
async def customer_vault(
    database_url: str,
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
    vault_overrides: dict[str, object],
) -> AsyncIterator[RunningVault]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = vault_settings(
        database_url=database_url,
        identity=identity_service,
        openbao=openbao,
        credentials=openbao_credentials,
        **vault_overrides,
    )
    database = Database(database_url)
    mint = TokenMint(identity_signer(openbao, dict(openbao_credentials)))
    try:
        async with (
            serving(await build_runtime(settings)) as target,
            open_channel(target) as channel,
        ):
            yield RunningVault(
                target=target,
                stub=customer_vault_pb2_grpc.CustomerVaultServiceStub(channel),
                settings=settings,
                database=database,
                mint=mint,
                openbao=openbao,
            )
    finally:
        await database.dispose()


@pytest.fixture
async def identity(identity_service: IdentityProcess) -> AsyncIterator[IdentityDriver]:
    """The session's real identity, driven as the gateway and services drive it."""
    async with open_channel(identity_service.addr) as channel:
        yield IdentityDriver(identity_service, identity_pb2_grpc.IdentityServiceStub(channel))
