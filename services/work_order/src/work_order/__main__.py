"""Entry point: ``python -m work_order [serve|migrate]``."""

from __future__ import annotations

from pathlib import Path

from fieldvault_platform.runtime import command_line
from work_order.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _serve() -> None:
    # Imported here, not at the top: `migrate` (a process of its own at every
    # start) then skips loading the gRPC server, telemetry and the rest.
    from work_order.main import run

    await run(Settings())  # type: ignore[call-arg]  # values come from the environment


def main() -> None:
    command_line(
        service="work_order",
        serve_main=_serve,
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
    )


if __name__ == "__main__":
    main()
