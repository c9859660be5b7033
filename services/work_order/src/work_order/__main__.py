"""Entry point: ``python -m work_order [serve|migrate|parked-events|purge-retention [--now]]``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

from fieldvault_platform.db import Database
from fieldvault_platform.retention import WORK_ORDER_TEXT, Purge, RetentionPolicy, purge_command
from fieldvault_platform.runtime import command_line
from work_order.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _serve() -> None:
    # Imported here, not at the top: `migrate` (a process of its own at every
    # start) then skips loading the gRPC server, telemetry and the rest.
    from work_order.main import run

    await run(Settings())  # type: ignore[call-arg]  # values come from the environment


async def _open_purge() -> tuple[Database, Purge, Callable[[], Awaitable[None]]]:
    from work_order import retention

    database = Database(Settings().database_url)  # type: ignore[call-arg]

    async def run(
        policies: Mapping[str, RetentionPolicy], now: datetime
    ) -> Mapping[tuple[str, str], int]:
        return await retention.purge(database, policies=policies, now=now)

    return database, run, database.dispose


def main() -> None:
    command_line(
        service="work_order",
        serve_main=_serve,
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
        operator_commands={
            "purge-retention": purge_command("work_order", (WORK_ORDER_TEXT,), _open_purge)
        },
    )


if __name__ == "__main__":
    main()
