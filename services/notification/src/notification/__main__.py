"""Entry point: ``python -m notification [serve|migrate|parked-events|purge-retention [--now]]``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

from fieldvault_platform.db import Database
from fieldvault_platform.retention import (
    DELIVERY_LOGS,
    INBOX,
    Purge,
    RetentionPolicy,
    purge_command,
)
from fieldvault_platform.runtime import command_line
from notification.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _serve() -> None:
    # Imported here, not at the top: `migrate` (a process of its own at every
    # start) then skips loading the gRPC server, telemetry and the rest.
    from notification.main import run

    await run(Settings())  # type: ignore[call-arg]  # values come from the environment


async def _open_purge() -> tuple[Database, Purge, Callable[[], Awaitable[None]]]:
    from notification import retention

    database = Database(Settings().database_url)  # type: ignore[call-arg]

    async def run(
        policies: Mapping[str, RetentionPolicy], now: datetime
    ) -> Mapping[tuple[str, str], int]:
        return await retention.purge(database, policies=policies, now=now)

    return database, run, database.dispose


def main() -> None:
    command_line(
        service="notification",
        serve_main=_serve,
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
        operator_commands={
            "purge-retention": purge_command("notification", (INBOX, DELIVERY_LOGS), _open_purge)
        },
    )


if __name__ == "__main__":
    main()
