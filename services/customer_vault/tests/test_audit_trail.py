"""The audit trail is append-only in the database and tamper-evident by its hash chain."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import text
from vault_testkit import (
    TIMEOUT,
    RunningVault,
    audit_events,
    grant,
    new_place,
    new_tenant_id,
    published,
)

from customer_vault.audit import anchor_key_name
from fieldvault.customer_vault.v1 import customer_vault_events_pb2 as events_pb
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.vault import VaultClient

pytestmark = pytest.mark.integration


async def verify(vault: RunningVault, tenant_id: str) -> pb.VerifyAuditTrailResponse:
    auditor = await vault.mint.user(tenant_id, roles=["auditor"])
    response: pb.VerifyAuditTrailResponse = await vault.stub.VerifyAuditTrail(
        pb.VerifyAuditTrailRequest(), metadata=auditor, timeout=TIMEOUT
    )
    return response


async def tenant_with_history(vault: RunningVault) -> str:
    place = await new_place(vault, new_tenant_id())
    await grant(vault, place, user_id="tech-1")
    return place.tenant_id


async def as_database_owner(vault: RunningVault, statement: str, **values: object) -> None:
    """What an attacker with the database owner's rights does: lift the guard, change, restore."""
    async with vault.database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
            await connection.execute(text(statement), values)
            await connection.execute(text("ALTER TABLE audit_records ENABLE TRIGGER USER"))
        else:
            for operation in ("update", "delete"):
                await connection.execute(
                    text(f"DROP TRIGGER IF EXISTS audit_records_no_{operation}")
                )
            await connection.execute(text(statement), values)


async def test_an_untouched_trail_verifies(customer_vault: RunningVault) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    records = await audit_events(customer_vault, tenant_id)
    # customer.create, site.create, secret.write, grant.create
    assert len(records) == 4
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.checked, result.first_broken_event_id) == (True, 4, "")
    sequences = sorted(r.sequence for r in records)
    assert sequences == [1, 2, 3, 4]
    by_sequence = {r.sequence: r for r in records}
    assert all(by_sequence[n + 1].previous_hash == by_sequence[n].hash for n in (1, 2, 3))


async def test_the_service_cannot_update_or_delete_audit_records(
    customer_vault: RunningVault,
) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    for statement in (
        "UPDATE audit_records SET outcome = 'denied' WHERE tenant_id = :tenant",
        "DELETE FROM audit_records WHERE tenant_id = :tenant",
    ):
        with pytest.raises(Exception, match="append-only"):
            async with customer_vault.database.unit_of_work() as session:
                await session.execute(text(statement), {"tenant": tenant_id})
    assert (await verify(customer_vault, tenant_id)).ok


async def test_changing_one_record_is_detected_and_that_record_is_named(
    customer_vault: RunningVault,
) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    records = {r.sequence: r for r in await audit_events(customer_vault, tenant_id)}
    target = records[2]
    await as_database_owner(
        customer_vault,
        "UPDATE audit_records SET actor_id = 'someone-else' WHERE id = :id",
        id=target.id,
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.first_broken_event_id, result.problem) == (
        False,
        target.id,
        "hash_mismatch",
    )
    assert result.checked == 1


async def test_removing_a_record_is_detected_at_the_gap(customer_vault: RunningVault) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    records = {r.sequence: r for r in await audit_events(customer_vault, tenant_id)}
    await as_database_owner(
        customer_vault, "DELETE FROM audit_records WHERE id = :id", id=records[2].id
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.first_broken_event_id, result.problem) == (
        False,
        records[3].id,
        "sequence_gap",
    )


async def test_removing_the_newest_record_is_detected(customer_vault: RunningVault) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    records = {r.sequence: r for r in await audit_events(customer_vault, tenant_id)}
    await as_database_owner(
        customer_vault, "DELETE FROM audit_records WHERE id = :id", id=records[4].id
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.problem, result.first_broken_event_id) == (
        False,
        "truncated",
        records[3].id,
    )


async def test_another_tenants_trail_is_unaffected_by_tampering(
    customer_vault: RunningVault,
) -> None:
    tampered, intact = (
        await tenant_with_history(customer_vault),
        await tenant_with_history(customer_vault),
    )
    await as_database_owner(
        customer_vault,
        "UPDATE audit_records SET reason = 'x' WHERE tenant_id = :tenant",
        tenant=tampered,
    )
    assert not (await verify(customer_vault, tampered)).ok
    assert (await verify(customer_vault, intact)).ok


async def test_only_auditors_verify_and_only_auditors_and_dpos_read_the_trail(
    customer_vault: RunningVault,
) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    for roles in (["dispatcher"], ["technician"], ["admin"], ["dpo"]):
        caller = await customer_vault.mint.user(tenant_id, roles=roles)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await customer_vault.stub.VerifyAuditTrail(
                pb.VerifyAuditTrailRequest(), metadata=caller, timeout=TIMEOUT
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    dpo = await customer_vault.mint.user(tenant_id, roles=["dpo"])
    listed = await customer_vault.stub.ListAuditEvents(
        pb.ListAuditEventsRequest(), metadata=dpo, timeout=TIMEOUT
    )
    assert len(listed.events) == 4


async def test_deleting_the_newest_records_and_the_head_is_detected(
    customer_vault: RunningVault,
) -> None:
    # The owner drops the guard, removes the last records and the head row: what is
    # left is a perfect chain, and only the missing anchored head gives it away.
    tenant_id = await tenant_with_history(customer_vault)
    records = {r.sequence: r for r in await audit_events(customer_vault, tenant_id)}
    await as_database_owner(
        customer_vault,
        "DELETE FROM audit_records WHERE tenant_id = :tenant AND sequence > 2",
        tenant=tenant_id,
    )
    await as_database_owner(
        customer_vault, "DELETE FROM audit_chain_heads WHERE tenant_id = :tenant", tenant=tenant_id
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.problem, result.first_broken_event_id) == (
        False,
        "head_missing",
        records[2].id,
    )


async def test_a_head_rewritten_without_vaults_key_is_detected(
    customer_vault: RunningVault,
) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    other_tenant = await tenant_with_history(customer_vault)
    records = {r.sequence: r for r in await audit_events(customer_vault, tenant_id)}
    await as_database_owner(
        customer_vault, "DELETE FROM audit_records WHERE id = :id", id=records[4].id
    )
    # The head points at the new end; its MAC is a genuine one, of another tenant's head.
    await as_database_owner(
        customer_vault,
        "UPDATE audit_chain_heads SET sequence = 3, hash = :hash, "
        "mac = (SELECT mac FROM audit_chain_heads WHERE tenant_id = :other) "
        "WHERE tenant_id = :tenant",
        hash=records[3].hash,
        other=other_tenant,
        tenant=tenant_id,
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.problem) == (False, "head_forged")
    assert (await verify(customer_vault, other_tenant)).ok


async def test_every_append_publishes_its_anchored_head_so_a_rewind_is_caught_outside(
    customer_vault: RunningVault,
) -> None:
    tenant_id = await tenant_with_history(customer_vault)
    published_heads = [
        events_pb.AuditRecorded.FromString(payload)
        for payload in await published(
            customer_vault.settings.nats_url, tenant_id, "audit_recorded", count=4
        )
    ]
    assert [h.sequence for h in published_heads] == [1, 2, 3, 4]
    vault = VaultClient(customer_vault.settings)
    for head in published_heads:
        # What a SIEM allowed to verify with the key checks (the key never leaves Vault).
        assert head.head_mac.startswith("vault:v1:")
        assert await vault.hmac_matches(
            anchor_key_name(tenant_id),
            f"fieldvault-audit-head:v1:{tenant_id}:{head.sequence}:{head.hash}".encode(),
            head.head_mac,
        )
    # The owner keeps an old, genuine head and puts it back after removing record 4:
    # the database alone cannot tell, the published copy can.
    await as_database_owner(
        customer_vault,
        "DELETE FROM audit_records WHERE tenant_id = :tenant AND sequence = 4",
        tenant=tenant_id,
    )
    await as_database_owner(
        customer_vault,
        "UPDATE audit_chain_heads SET sequence = 3, hash = :hash, mac = :mac "
        "WHERE tenant_id = :tenant",
        hash=published_heads[2].hash,
        mac=published_heads[2].head_mac,
        tenant=tenant_id,
    )
    result = await verify(customer_vault, tenant_id)
    assert (result.ok, result.checked) == (True, 3)
    assert max(h.sequence for h in published_heads) > result.checked  # the rewind, seen outside
