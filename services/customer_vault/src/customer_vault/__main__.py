"""Entry point: ``python -m customer_vault [serve|migrate|rotate-tenant-key TENANT_ID]``."""

from __future__ import annotations

from pathlib import Path

from customer_vault.main import run
from customer_vault.operator import OPERATOR_COMMANDS
from customer_vault.settings import Settings
from fieldvault_platform.runtime import command_line

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def main() -> None:
    command_line(
        service="customer_vault",
        serve_main=lambda: run(Settings()),  # type: ignore[call-arg]  # values come from the environment
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
        operator_commands=OPERATOR_COMMANDS,
    )


if __name__ == "__main__":
    main()
