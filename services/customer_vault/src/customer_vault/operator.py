"""Operator commands run with the service's own configuration (its Vault and database).

``python -m customer_vault rotate-tenant-key TENANT_ID`` adds a version to the
tenant's key-encryption key in Vault Transit and re-wraps every data key of
that tenant with it, while the service keeps serving (records are not
re-encrypted, except codes sealed before their site was bound into the
associated data, which are re-sealed). It prints counts only, never key material.

``python -m customer_vault open-overdue-rotation-tasks`` runs the daily
overdue-code job now, for every tenant with a secret-age policy; it opens one
task per overdue code version, so running it again opens nothing twice.

``python -m customer_vault purge-retention [--now]`` purges ended grants and
audit records past the tenants' retention (see :mod:`customer_vault.access.retention`);
run it with the database owner's URL.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from customer_vault.access import retention
from customer_vault.access.secret_age import run_overdue_rotation
from customer_vault.audit import AuditTrail, ChainAnchor
from customer_vault.crypto import DataKeyCache
from customer_vault.keys import TenantKeys
from customer_vault.records import key_overdue
from customer_vault.records.site_secrets import reseal_site_unbound
from customer_vault.settings import Settings
from fieldvault_platform.db import Database
from fieldvault_platform.retention import Purge, RetentionPolicy, purge_command
from fieldvault_platform.vault import VaultClient


async def rotate_tenant_key(arguments: list[str]) -> None:
    if len(arguments) != 1:
        sys.exit("usage: python -m customer_vault rotate-tenant-key TENANT_ID")
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    database = Database(settings.database_url)
    try:
        keys = TenantKeys(VaultClient(settings), DataKeyCache(max_entries=0, ttl_seconds=0))
        result = await keys.rotate(database, arguments[0])
        resealed = await reseal_site_unbound(keys, database, arguments[0])
    finally:
        await database.dispose()
    print(  # noqa: T201 (a command's answer to the operator)
        f"tenant key now at version {result.key_version}; {result.rewrapped} data keys "
        f"re-wrapped; {resealed} codes re-sealed to their site"
    )


async def alert_overdue_keys(arguments: list[str]) -> None:
    """Run the overdue-key sweep now (it also runs in every replica); prints a count."""
    if arguments:
        sys.exit("usage: python -m customer_vault alert-overdue-keys")
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    database = Database(settings.database_url)
    try:
        trail = AuditTrail(ChainAnchor(VaultClient(settings)))
        alerted = await key_overdue.alert_overdue_keys(
            database,
            trail,
            grace=timedelta(minutes=settings.key_return_grace_minutes),
            now=datetime.now(UTC),
        )
    finally:
        await database.dispose()
    print(  # noqa: T201 (a command's answer to the operator)
        f"{alerted} overdue key check-outs announced (the outbox relay of a running "
        "replica publishes them)"
    )


async def open_overdue_rotation_tasks(arguments: list[str]) -> None:
    """Run the daily overdue-code job now (idempotent: each code version gets one task)."""
    if arguments:
        sys.exit("usage: python -m customer_vault open-overdue-rotation-tasks")
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    database = Database(settings.database_url)
    try:
        opened = await run_overdue_rotation(database, datetime.now(UTC))
    finally:
        await database.dispose()
    print(f"{opened} rotation tasks opened for overdue codes")  # noqa: T201


async def _open_purge() -> tuple[Database, Purge, Callable[[], Awaitable[None]]]:
    # Run with the owner's database URL (the CronJob's): only the owner may
    # delete audit records, and only those a checkpoint covers.
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    database = Database(settings.database_url)
    anchor = ChainAnchor(VaultClient(settings))

    async def run(
        policies: Mapping[str, RetentionPolicy], now: datetime
    ) -> Mapping[tuple[str, str], int]:
        return await retention.purge(database, anchor, policies=policies, now=now)

    return database, run, database.dispose


OPERATOR_COMMANDS = {
    "rotate-tenant-key": rotate_tenant_key,
    "alert-overdue-keys": alert_overdue_keys,
    "open-overdue-rotation-tasks": open_overdue_rotation_tasks,
    "purge-retention": purge_command(retention.SERVICE, retention.CATEGORIES, _open_purge),
}
