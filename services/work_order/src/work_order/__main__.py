"""Entry point: ``python -m work_order [serve|migrate]``."""

from __future__ import annotations

from pathlib import Path

from fieldvault_platform.runtime import command_line
from work_order.main import run
from work_order.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def main() -> None:
    command_line(
        service="work_order",
        serve_main=lambda: run(Settings()),  # type: ignore[call-arg]  # values come from the environment
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
    )


if __name__ == "__main__":
    main()
