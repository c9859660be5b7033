"""Throwaway PostgreSQL databases for tests: one per test, dropped afterwards."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

ASYNC_DRIVER = "postgresql+asyncpg"

#: Names a PostgreSQL server for the tests (e.g. postgresql://postgres@127.0.0.1/test);
#: unset, they use SQLite.
TEST_DATABASE_URL_ENV = "FIELDVAULT_TEST_DATABASE_URL"


def normalise_postgres_url(url: str) -> URL:
    """``postgresql://``, ``postgres://`` or any ``postgresql+driver://`` -> asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string()}")
    return parsed.set(drivername=ASYNC_DRIVER)


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    # A worker thread with its own loop: fixtures may be set up while the
    # session event loop of pytest-asyncio exists, and asyncio.run() on this
    # thread would replace it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _execute(admin_url: URL, statement: str) -> None:
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _create_if_missing(admin_url: URL, name: str) -> None:
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def ensure_database(server_url: str, name: str) -> str:
    """The asyncpg URL of database ``name`` on the server of ``server_url``, made if missing.

    ``name`` must be a plain identifier (the launcher's ``fieldvault_<service>``).
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    admin_url = normalise_postgres_url(server_url)
    _run(_create_if_missing(admin_url, name))
    return admin_url.set(database=name).render_as_string(hide_password=False)


@contextmanager
def isolated_database(server_url: str) -> Iterator[str]:
    """Create ``fv_test_<hex>`` on the server in ``server_url``; yield its asyncpg URL; drop it."""
    admin_url = normalise_postgres_url(server_url)
    name = f"fv_test_{secrets.token_hex(6)}"  # hex only: safe to interpolate as an identifier
    _run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a test that leaked a connection must not leave the database behind.
        _run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
