"""Entry point: ``python -m notification [serve|migrate]``."""

from __future__ import annotations

from pathlib import Path

from fieldvault_platform.runtime import command_line
from notification.main import run
from notification.settings import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def main() -> None:
    command_line(
        service="notification",
        serve_main=lambda: run(Settings()),  # type: ignore[call-arg]  # values come from the environment
        migrations_dir=MIGRATIONS,
        database_url=lambda: Settings().database_url,  # type: ignore[call-arg]
    )


if __name__ == "__main__":
    main()
