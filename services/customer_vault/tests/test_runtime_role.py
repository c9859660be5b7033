"""PostgreSQL with migrations run as the owner: the runtime role serves, but cannot change,
delete or unguard the audit records (only SELECT and INSERT on them)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from vault_testkit import (
    MIGRATIONS,
    TIMEOUT,
    RunningVault,
    TokenMint,
    grant,
    identity_signer,
    new_place,
    new_tenant_id,
    reveal,
    vault_settings,
)

from customer_vault.main import build_runtime
from customer_vault.runtime_role import grant_runtime_privileges
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.customer_vault.v1 import customer_vault_pb2_grpc
from fieldvault_devstack.identity_service import IdentityProcess
from fieldvault_devstack.in_process import serving
from fieldvault_devstack.openbao import OpenBaoServer
from fieldvault_platform.db import Database
from fieldvault_platform.grpc_client import open_channel
from fieldvault_platform.migrations import upgrade

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime_role(database_url: str) -> AsyncIterator[str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("roles and grants are PostgreSQL's (set FIELDVAULT_TEST_DATABASE_URL)")
    role = f"fv_runtime_{uuid.uuid4().hex[:10]}"
    owner = Database(database_url)
    try:
        async with owner.engine.begin() as connection:
            await connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        yield role
    finally:
        async with owner.engine.begin() as connection:
            await connection.execute(text(f'DROP OWNED BY "{role}"'))
            await connection.execute(text(f'DROP ROLE "{role}"'))
        await owner.dispose()


@pytest.fixture
async def vault_as_runtime_role(
    database_url: str,
    runtime_role: str,
    identity_service: IdentityProcess,
    openbao: OpenBaoServer,
    openbao_credentials: Mapping[str, tuple[str, str]],
) -> AsyncIterator[RunningVault]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)  # as the owner
    granted = await grant_runtime_privileges(database_url, runtime_role)
    assert f'GRANT SELECT, INSERT ON TABLE "audit_records" TO "{runtime_role}"' in granted
    runtime_url = make_url(database_url).set(username=runtime_role).render_as_string(False)
    settings = vault_settings(
        database_url=runtime_url,
        identity=identity_service,
        openbao=openbao,
        credentials=openbao_credentials,
    )
    database = Database(runtime_url)
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
                mint=TokenMint(identity_signer(openbao, dict(openbao_credentials))),
                openbao=openbao,
            )
    finally:
        await database.dispose()


async def test_the_runtime_role_serves_but_cannot_rewrite_or_unguard_the_audit_trail(
    vault_as_runtime_role: RunningVault,
) -> None:
    vault = vault_as_runtime_role
    place = await new_place(vault, new_tenant_id())
    await grant(vault, place, user_id="tech-1")
    technician = await vault.mint.user(place.tenant_id, roles=["technician"], user_id="tech-1")
    assert (await reveal(vault, place.site.id, technician)).value == "DOOR-4711-CANARY"
    for statement in (
        "UPDATE audit_records SET outcome = 'denied'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
        "ALTER TABLE audit_records DISABLE TRIGGER USER",
        "DROP TRIGGER audit_records_append_only ON audit_records",
        "DELETE FROM audit_chain_heads",
    ):
        with pytest.raises(Exception, match=r"permission denied|must be owner"):
            async with vault.database.engine.begin() as connection:
                await connection.execute(text(statement))
    auditor = await vault.mint.user(place.tenant_id, roles=["auditor"])
    verified = await vault.stub.VerifyAuditTrail(
        pb.VerifyAuditTrailRequest(), metadata=auditor, timeout=TIMEOUT
    )
    assert (verified.ok, verified.checked) == (True, 5)


async def test_the_runtime_role_must_not_be_the_owner(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("roles and grants are PostgreSQL's (set FIELDVAULT_TEST_DATABASE_URL)")
    owner = str(make_url(database_url).username)
    with pytest.raises(ValueError, match="must not be the role that runs migrations"):
        await grant_runtime_privileges(database_url, owner)
