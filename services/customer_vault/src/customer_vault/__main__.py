"""Entry point: ``python -m customer_vault [serve|migrate|parked-events|rotate-tenant-key
TENANT_ID|open-overdue-rotation-tasks|alert-overdue-keys]``."""

from __future__ import annotations

from pathlib import Path

from customer_vault.operator import OPERATOR_COMMANDS
from customer_vault.runtime_role import grant_runtime_privileges
from customer_vault.settings import Settings
from fieldvault_platform.runtime import command_line

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _after_migrate() -> None:
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    if settings.runtime_database_role:
        await grant_runtime_privileges(settings.database_url, settings.runtime_database_role)


async def _serve() -> None:
    # Imported here, not at the top: `migrate` (a process of its own at every
    # start) then skips loading the gRPC server, telemetry and the rest.
    from customer_vault.main import run

    await run(Settings())  # type: ignore[call-arg]  # values come from the environment


def main() -> None:
    command_line(
        service="customer_vault",
        serve_main=_serve,
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
        operator_commands=OPERATOR_COMMANDS,
        after_migrate=_after_migrate,
    )


if __name__ == "__main__":
    main()
