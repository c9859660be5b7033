from __future__ import annotations

import os

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from fieldvault_devstack.databases import isolated_database, normalise_postgres_url


async def test_database_url_gives_a_fresh_working_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT)"))
            await connection.execute(text("INSERT INTO jobs (id, title) VALUES (1, 'lift check')"))
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, title FROM jobs"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "lift check")]


async def test_database_url_is_isolated_from_other_tests(database_url: str) -> None:
    # The previous test created `jobs`; a fresh database must not have it.
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert "jobs" not in tables
            await connection.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY)"))
    finally:
        await engine.dispose()


def test_postgres_urls_are_normalised_to_asyncpg() -> None:
    for raw in (
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgres://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ):
        url = normalise_postgres_url(raw)
        assert url.drivername == "postgresql+asyncpg"
        assert url.database == "test"


@pytest.mark.skipif(
    not os.environ.get("FIELDVAULT_TEST_DATABASE_URL"), reason="needs a PostgreSQL server"
)
async def test_isolated_postgres_database_is_dropped_afterwards() -> None:
    server_url = os.environ["FIELDVAULT_TEST_DATABASE_URL"]
    with isolated_database(server_url) as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("fv_test_")
    engine = create_async_engine(normalise_postgres_url(server_url))
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": name}
            )
    finally:
        await engine.dispose()
    assert exists == 0
