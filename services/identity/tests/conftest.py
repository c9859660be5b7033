"""A real identity service for tests: in-process gRPC server on a free port,
backed by real OpenBao (identity's own AppRole), real NATS and a fresh database."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from fieldvault.identity.v1 import identity_pb2_grpc
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.nats import NatsServer
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade
from identity.main import build_runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_testkit import RunningIdentity, identity_settings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
def identity_overrides() -> dict[str, object]:
    """Settings a test module wants different (override this fixture)."""
    return {}


@pytest.fixture
async def identity(
    database_url: str,
    nats_server: NatsServer,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
    identity_overrides: dict[str, object],
) -> AsyncIterator[RunningIdentity]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    operator_token = secrets.token_urlsafe(32)
    service_secrets = {
        name: secrets.token_urlsafe(32)
        for name in ("work_order", "notification", "customer_vault", "identity")
    }
    settings = identity_settings(
        database_url=database_url,
        nats_url=nats_server.url,
        openbao=openbao,
        credentials=openbao_credentials,
        operator_token=operator_token,
        service_secrets=service_secrets,
        **identity_overrides,
    )
    database = Database(database_url)
    try:
        async with (
            serving(await build_runtime(settings)) as target,
            open_channel(target) as channel,
        ):
            yield RunningIdentity(
                target=target,
                stub=identity_pb2_grpc.IdentityServiceStub(channel),
                settings=settings,
                database=database,
                operator_token=operator_token,
                service_secrets=service_secrets,
            )
    finally:
        await database.dispose()
