"""Async database access: one engine per service, one unit of work per RPC.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is used in
production and CI. Service functions never commit: the edge opens a unit of
work with :meth:`Database.unit_of_work`, which commits when the block succeeds
and rolls back when it raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from fieldvault_platform.errors import Unavailable

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A fresh ``MetaData`` with the shared naming convention, one per service.

    Each service declares its own declarative base on it, so a process that
    imports several services (the test suite) never mixes their tables.
    """
    return MetaData(naming_convention=NAMING_CONVENTION)


class PlatformBase(DeclarativeBase):
    """Declarative base of the platform's own tables (outbox, processed events).

    Every event-producing or -consuming service creates these tables in its
    own database through its own migrations (``target_metadata`` lists both
    the service's metadata and this one).
    """

    metadata = service_metadata()


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the outbox relay read while a request writes; foreign keys are
    # off by default in SQLite; busy_timeout waits for a writer instead of
    # failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite(url):
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
    return engine


class Database:
    """A service's database: engine, session factory and the unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = create_engine(self.url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any exception.

        A database that cannot be reached (at connect time or mid-transaction)
        surfaces as :class:`Unavailable` rather than a driver stack trace; the
        block's own errors pass through unchanged.
        """
        async with self.sessions() as session:
            try:
                # Connect eagerly, so "cannot reach the database" is told apart
                # from errors raised by the code inside the block.
                await session.connection()
            except (DBAPIError, OSError) as exc:
                raise Unavailable("the database is unavailable") from exc
            try:
                yield session
                await session.commit()
            except DBAPIError as exc:
                await _rollback_quietly(session)
                if exc.connection_invalidated or isinstance(exc, OperationalError):
                    raise Unavailable("the database is unavailable") from exc
                raise
            except BaseException:
                await _rollback_quietly(session)
                raise

    async def ping(self) -> bool:
        """True when the database answers a trivial query (readiness)."""
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _rollback_quietly(session: AsyncSession) -> None:
    # A rollback on a dead connection fails too; the original error is what matters.
    with suppress(DBAPIError, OSError):
        await session.rollback()


def as_utc(value: datetime) -> datetime:
    """A timestamp read back from the database, as an aware UTC datetime.

    SQLite hands ``DateTime(timezone=True)`` values back naive; every service
    writes them in UTC, so naive means UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
