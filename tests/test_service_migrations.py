"""Each service's Alembic migrations build exactly the tables its models declare,
on SQLite and on PostgreSQL, and can be rolled back."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from fieldvault_platform.db import create_engine
from fieldvault_platform.migrations import alembic_config, upgrade

ROOT = Path(__file__).resolve().parents[1]
DB_SERVICES = ["identity", "customer_vault", "work_order", "notification"]

pytestmark = pytest.mark.integration


async def _schema_differences(database_url: str, metadata: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def compare(sync_connection: Any) -> list[Any]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def _table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", DB_SERVICES)
async def test_migrations_create_exactly_what_the_models_declare(
    service: str, database_url: str
) -> None:
    migrations = ROOT / "services" / service / "migrations"
    models = importlib.import_module(f"{service}.models")
    await asyncio.to_thread(upgrade, migrations, database_url)

    assert {"outbox_events", "processed_events"} <= await _table_names(database_url)
    differences = await _schema_differences(database_url, _merged(models.MIGRATED_METADATA))
    assert not differences, (
        f"{service}: models and migrations differ, add a migration: {differences}"
    )

    await asyncio.to_thread(command.downgrade, alembic_config(migrations, database_url), "base")
    assert await _table_names(database_url) <= {"alembic_version"}


def _merged(metadatas: list[MetaData]) -> MetaData:
    merged = MetaData()
    for metadata in metadatas:
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged
