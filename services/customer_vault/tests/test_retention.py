"""Retention purge of customer_vault: ended grants and the oldest audit records, behind a
checkpoint MAC'd in Vault, so the rest of the chain still verifies."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select, text
from test_runtime_role import runtime_role, vault_as_runtime_role  # noqa: F401 (fixtures)
from vault_testkit import (
    OWN_ORG,
    TIMEOUT,
    RunningVault,
    new_place,
    new_tenant_id,
)

from customer_vault.access import retention
from customer_vault.audit import SYSTEM, AuditTrail, ChainAnchor, Entry
from customer_vault.models import AuditCheckpoint, AuditRecord, Grant, OutboxEvent
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.db import Database
from fieldvault_platform.retention import (
    AUDIT_RECORDS,
    ENDED_GRANTS,
    apply_policy_change,
    last_report,
    run_purge,
    tenant_policies,
)
from fieldvault_platform.vault import VaultClient

pytestmark = pytest.mark.integration

CANARY_REASON = "Canary purge reason Hollowmere 8841"
CANARY_NAME = "Canary Bartholomew Quince"
NOW = datetime.now(UTC)


def anchor_of(vault: RunningVault) -> ChainAnchor:
    return ChainAnchor(VaultClient(vault.settings))


async def verify(vault: RunningVault, tenant_id: str) -> pb.VerifyAuditTrailResponse:
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    response: pb.VerifyAuditTrailResponse = await vault.stub.VerifyAuditTrail(
        pb.VerifyAuditTrailRequest(), metadata=auditor, timeout=TIMEOUT
    )
    return response


async def old_records(vault: RunningVault, tenant_id: str, *ages_in_days: int) -> None:
    """Audit records appended as if they happened that many days ago (in chain order)."""
    trail = AuditTrail(anchor_of(vault))
    for age in ages_in_days:
        async with vault.database.unit_of_work() as session:
            await trail.record(
                session,
                tenant_id=tenant_id,
                actor=SYSTEM,
                entry=Entry(action="test.backdated", resource_type="test", reason=CANARY_REASON),
                now=NOW - timedelta(days=age),
            )


async def add_grant(
    vault: RunningVault,
    tenant_id: str,
    site_id: str,
    *,
    ended_days_ago: int | None,
    revoked: bool = False,
) -> str:
    """A grant that ended (expired, or was revoked) that long ago; None: still open."""
    grant_id = str(uuid.uuid4())
    ended = NOW - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    until = NOW + timedelta(hours=8) if ended is None or revoked else ended
    async with vault.database.unit_of_work() as session:
        session.add(
            Grant(
                id=grant_id,
                tenant_id=tenant_id,
                site_id=site_id,
                user_id="tech-1",
                organization_id=OWN_ORG,
                grantee="user:tech-1",
                subcontractor=False,
                fields=["door_code"],
                work_order_id=str(uuid.uuid4()),
                valid_from=(ended or NOW) - timedelta(days=1),
                valid_until=until,
                granted_by="test",
                created_at=(ended or NOW) - timedelta(days=1),
                revoked_at=ended if revoked else None,
                revoke_reason="completed" if revoked else None,
            )
        )
    return grant_id


async def grant_ids(vault: RunningVault, tenant_id: str) -> set[str]:
    async with vault.database.unit_of_work() as session:
        rows = await session.scalars(select(Grant.id).where(Grant.tenant_id == tenant_id))
        return set(rows.all())


async def sequences(vault: RunningVault, tenant_id: str) -> list[int]:
    async with vault.database.unit_of_work() as session:
        rows = await session.scalars(
            select(AuditRecord.sequence)
            .where(AuditRecord.tenant_id == tenant_id)
            .order_by(AuditRecord.sequence)
        )
        return list(rows.all())


async def purge_now(vault: RunningVault) -> dict[tuple[str, str], int]:
    async with vault.database.unit_of_work() as session:
        policies = await tenant_policies(session)
    return await retention.purge(vault.database, anchor_of(vault), policies=policies, now=NOW)


async def test_a_purge_removes_exactly_what_the_policy_says_and_a_second_run_nothing(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    # Default policy: ended grants 365 days, audit records 6 years (2190 days).
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400, 2300)  # sequences 1-3: past six years
    place = await new_place(vault, tenant)  # sequences 4-6: today
    await old_records(vault, tenant, 2600)  # 7: old, but after today's: the prefix ends at 3
    expired = await add_grant(vault, tenant, place.site.id, ended_days_ago=400)
    revoked = await add_grant(vault, tenant, place.site.id, ended_days_ago=366, revoked=True)
    recent = await add_grant(vault, tenant, place.site.id, ended_days_ago=100, revoked=True)
    current = await add_grant(vault, tenant, place.site.id, ended_days_ago=None)
    # A tenant with shorter periods: grants ended 100 days ago and records of 2 years go.
    strict = new_tenant_id()
    await old_records(vault, strict, 800, 700)
    strict_place = await new_place(vault, strict)
    strict_recent = await add_grant(vault, strict, strict_place.site.id, ended_days_ago=100)
    strict_current = await add_grant(vault, strict, strict_place.site.id, ended_days_ago=None)
    async with vault.database.unit_of_work() as session:
        await apply_policy_change(
            session,
            tenant_id=strict,
            days={ENDED_GRANTS: 30, AUDIT_RECORDS: 365},
            version=1,
            now=NOW,
        )

    counts = await purge_now(vault)

    assert counts[(tenant, ENDED_GRANTS)] == 2
    assert counts[(tenant, AUDIT_RECORDS)] == 3
    assert await grant_ids(vault, tenant) == {recent, current}
    assert expired not in await grant_ids(vault, tenant) and revoked not in await grant_ids(
        vault, tenant
    )
    assert await sequences(vault, tenant) == [4, 5, 6, 7]
    assert (counts[(strict, ENDED_GRANTS)], counts[(strict, AUDIT_RECORDS)]) == (1, 2)
    assert await grant_ids(vault, strict) == {strict_current}
    assert strict_recent not in await grant_ids(vault, strict)
    assert await sequences(vault, strict) == [3, 4, 5]

    again = await purge_now(vault)
    assert {key: value for key, value in again.items() if key[0] in (tenant, strict)} == {
        (tenant, ENDED_GRANTS): 0,
        (tenant, AUDIT_RECORDS): 0,
        (strict, ENDED_GRANTS): 0,
        (strict, AUDIT_RECORDS): 0,
    }

    for tenant_id, kept in ((tenant, 4), (strict, 3)):
        verified = await verify(vault, tenant_id)
        assert (verified.ok, verified.checked, verified.problem) == (True, kept, "")


async def test_the_chain_verifies_after_a_purge_and_keeps_growing(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400)
    await purge_now(vault)
    # Everything was past retention: the checkpoint alone stands for the chain.
    assert await sequences(vault, tenant) == []
    verified = await verify(vault, tenant)
    assert (verified.ok, verified.checked) == (True, 0)
    place = await new_place(vault, tenant)  # new records link to the purged head
    assert await sequences(vault, tenant) == [3, 4, 5]
    verified = await verify(vault, tenant)
    assert (verified.ok, verified.checked) == (True, 3)
    assert place.site.id


async def test_a_forged_or_missing_checkpoint_does_not_verify(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400, 2300)
    await new_place(vault, tenant)
    await purge_now(vault)
    assert (await verify(vault, tenant)).ok
    async with vault.database.unit_of_work() as session:
        checkpoint = await session.get(AuditCheckpoint, tenant)
        assert checkpoint is not None and checkpoint.sequence == 3
        # The owner moves the checkpoint forward to hide the next record, without Vault's key.
        checkpoint.sequence += 1
    forged = await verify(vault, tenant)
    assert (forged.ok, forged.problem) == (False, "checkpoint_forged")
    async with vault.database.unit_of_work() as session:
        await session.execute(
            text("DELETE FROM audit_checkpoints WHERE tenant_id = :t"), {"t": tenant}
        )
    missing = await verify(vault, tenant)
    assert (missing.ok, missing.problem) == (False, "checkpoint_missing")


async def test_a_broken_chain_is_not_purged_into_a_checkpoint(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400)
    await new_place(vault, tenant)
    async with vault.database.unit_of_work() as session:
        # The head rewound without Vault: the chain no longer verifies.
        await session.execute(
            text("UPDATE audit_chain_heads SET mac = 'vault:v1:forged' WHERE tenant_id = :t"),
            {"t": tenant},
        )
    counts = await purge_now(vault)
    assert counts[(tenant, AUDIT_RECORDS)] == 0
    assert await sequences(vault, tenant) == [1, 2, 3, 4, 5]
    async with vault.database.unit_of_work() as session:
        assert await session.get(AuditCheckpoint, tenant) is None


async def test_records_no_checkpoint_covers_still_cannot_be_deleted(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400)
    await new_place(vault, tenant)
    await purge_now(vault)
    with pytest.raises(Exception, match="append-only"):
        async with vault.database.unit_of_work() as session:
            await session.execute(
                text("DELETE FROM audit_records WHERE tenant_id = :t AND sequence = 3"),
                {"t": tenant},
            )
    assert await sequences(vault, tenant) == [3, 4, 5]


async def test_a_recorded_run_reports_its_counts_and_runs_once_a_day(
    customer_vault: RunningVault,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500)
    place = await new_place(vault, tenant)
    await add_grant(vault, tenant, place.site.id, ended_days_ago=400)

    async def purge(policies: object, now: datetime) -> dict[tuple[str, str], int]:
        return await retention.purge(
            vault.database,
            anchor_of(vault),
            policies=policies,
            now=now,  # type: ignore[arg-type]
        )

    day = f"daily:test-{uuid.uuid4()}"
    totals = await run_purge(
        vault.database, purge, categories=retention.CATEGORIES, run_key=day, now=NOW
    )
    assert totals is not None
    assert totals[ENDED_GRANTS] >= 1 and totals[AUDIT_RECORDS] >= 1
    # The same day again (the other replica): not run.
    assert (
        await run_purge(
            vault.database, purge, categories=retention.CATEGORIES, run_key=day, now=NOW
        )
        is None
    )
    async with vault.database.unit_of_work() as session:
        report = await last_report(session, tenant_id=tenant, categories=retention.CATEGORIES)
    assert [(r.category, r.purged) for r in report] == [(ENDED_GRANTS, 1), (AUDIT_RECORDS, 1)]
    assert all(r.last_run_at is not None for r in report)

    # Through the RPC: admins, auditors and DPOs read their own tenant's counts.
    for role in ("auditor", "dpo", "admin"):
        reader = await vault.mint.user(tenant, roles=[role])
        answer = await vault.stub.GetRetentionReport(
            pb.GetRetentionReportRequest(), metadata=reader, timeout=TIMEOUT
        )
        assert [(c.category, c.purged, c.retention_days) for c in answer.categories] == [
            (ENDED_GRANTS, 1, 365),
            (AUDIT_RECORDS, 1, 2190),
        ]
        assert all(c.HasField("last_run_time") for c in answer.categories)
    other = await vault.mint.user(new_tenant_id(), roles=["auditor"])
    elsewhere = await vault.stub.GetRetentionReport(
        pb.GetRetentionReportRequest(), metadata=other, timeout=TIMEOUT
    )
    assert [c.purged for c in elsewhere.categories] == [0, 0]
    for role in ("technician", "dispatcher"):
        refused_caller = await vault.mint.user(tenant, roles=[role])
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await vault.stub.GetRetentionReport(
                pb.GetRetentionReportRequest(), metadata=refused_caller, timeout=TIMEOUT
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_purge_leaks_no_canary_and_publishes_nothing(
    customer_vault: RunningVault,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    vault = customer_vault
    tenant = new_tenant_id()
    await old_records(vault, tenant, 2500, 2400)
    place = await new_place(vault, tenant, name=CANARY_NAME)
    await add_grant(vault, tenant, place.site.id, ended_days_ago=400)
    async with vault.database.unit_of_work() as session:
        outbox_before = await session.scalar(select(func.count()).select_from(OutboxEvent))
    spans.clear()
    caplog.clear()
    caplog.set_level(logging.DEBUG)

    counts = await purge_now(vault)

    assert counts[(tenant, AUDIT_RECORDS)] == 2
    async with vault.database.unit_of_work() as session:
        outbox_after = await session.scalar(select(func.count()).select_from(OutboxEvent))
    assert outbox_after == outbox_before, "the purge publishes no event"
    logged = [record.getMessage() + repr(record.__dict__) for record in caplog.records]
    assert any("retention purge" in line for line in logged)
    texts = logged + [
        span.name + repr(dict(span.attributes or {})) for span in spans.get_finished_spans()
    ]
    for line in texts:
        assert CANARY_REASON.lower() not in line.lower()
        assert CANARY_NAME.lower() not in line.lower()


async def test_on_postgresql_only_the_owners_purge_job_removes_audit_records(
    vault_as_runtime_role: RunningVault,  # noqa: F811 (the fixture imported above)
    database_url: str,
) -> None:
    """The service runs as the runtime role (SELECT, INSERT on the records); the purge runs
    as ``python -m customer_vault purge-retention --now`` with the owner's URL."""
    vault = vault_as_runtime_role
    tenant = new_tenant_id()
    owner_vault = RunningVault(
        target=vault.target,
        stub=vault.stub,
        settings=vault.settings.model_copy(update={"database_url": database_url}),
        database=Database(database_url),
        mint=vault.mint,
        openbao=vault.openbao,
    )
    try:
        await old_records(owner_vault, tenant, 2500, 2400)
        await new_place(vault, tenant)
        async with vault.database.engine.begin() as connection:
            assert (
                await connection.scalar(
                    text("SELECT count(*) FROM audit_records WHERE tenant_id = :t"), {"t": tenant}
                )
                == 5
            )
        # The runtime role can neither write a checkpoint nor delete what one would cover.
        for statement in (
            "INSERT INTO audit_checkpoints VALUES (:t, 2, 'x', now(), now(), 'vault:v1:x')",
            "DELETE FROM audit_records WHERE tenant_id = :t AND sequence <= 2",
        ):
            with pytest.raises(Exception, match="permission denied"):
                async with vault.database.engine.begin() as connection:
                    await connection.execute(text(statement), {"t": tenant})

        environment = dict(os.environ)
        for name, value in vault.settings.model_dump().items():
            if value is None:
                continue
            if hasattr(value, "get_secret_value"):
                value = value.get_secret_value()
            environment[f"FIELDVAULT_CUSTOMER_VAULT_{name.upper()}"] = str(value)
        environment["FIELDVAULT_CUSTOMER_VAULT_DATABASE_URL"] = database_url  # the owner
        environment.pop("FIELDVAULT_CUSTOMER_VAULT_RUNTIME_DATABASE_ROLE", None)
        job = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "customer_vault",
            "purge-retention",
            "--now",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await job.communicate()
        assert job.returncode == 0, err.decode()[-2000:]
        assert "audit_records" in out.decode()
        assert CANARY_REASON not in (out + err).decode()

        assert await sequences(owner_vault, tenant) == [3, 4, 5]
        verified = await verify(vault, tenant)
        assert (verified.ok, verified.checked) == (True, 3)
    finally:
        await owner_vault.database.dispose()
