"""Entry point: ``python -m customer_vault [serve|migrate|rotate-tenant-key TENANT_ID]``."""

from __future__ import annotations

from pathlib import Path

from customer_vault.main import run
from customer_vault.operator import OPERATOR_COMMANDS
from customer_vault.runtime_role import grant_runtime_privileges
from customer_vault.settings import Settings
from fieldvault_platform.runtime import command_line

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


async def _after_migrate() -> None:
    settings = Settings()  # type: ignore[call-arg]  # values come from the environment
    if settings.runtime_database_role:
        await grant_runtime_privileges(settings.database_url, settings.runtime_database_role)


def main() -> None:
    command_line(
        service="customer_vault",
        serve_main=lambda: run(Settings()),  # type: ignore[call-arg]  # values come from the environment
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
        operator_commands=OPERATOR_COMMANDS,
        after_migrate=_after_migrate,
    )


if __name__ == "__main__":
    main()
