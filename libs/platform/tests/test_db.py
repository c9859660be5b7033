"""One unit of work per request: commit on success, roll back on failure; clear unavailability."""

from __future__ import annotations

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import Database, normalise_url
from fieldvault_platform.errors import Unavailable

pytestmark = pytest.mark.integration


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


async def _create(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)


async def _count(database: Database) -> int:
    async with database.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(Note)) or 0)


async def test_unit_of_work_commits_when_the_block_succeeds(database_url: str) -> None:
    database = Database(database_url)
    await _create(database.engine)
    async with database.unit_of_work() as session:
        session.add(Note(text="kept"))
    assert await _count(database) == 1
    await database.dispose()


async def test_unit_of_work_rolls_back_everything_when_the_block_raises(database_url: str) -> None:
    database = Database(database_url)
    await _create(database.engine)
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as session:
            session.add(Note(text="lost"))
            await session.flush()
            raise RuntimeError("use case failed")
    assert await _count(database) == 0
    await database.dispose()


async def test_an_unreachable_database_is_unavailable_not_a_driver_error(
    unused_tcp_port: int,
) -> None:
    database = Database(f"postgresql://nobody@127.0.0.1:{unused_tcp_port}/nothing")
    with pytest.raises(Unavailable, match="the database is unavailable"):
        async with database.unit_of_work() as session:
            await session.execute(select(1))
    assert not await database.ping()
    await database.dispose()


@pytest.mark.parametrize(
    ("given", "expected_driver"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
    ],
)
def test_plain_urls_get_the_async_drivers(given: str, expected_driver: str) -> None:
    assert normalise_url(given).startswith(expected_driver + "://")
