"""The gateway's OpenAPI document as it is committed in ``docs/openapi.json``.

``make openapi`` (``python -m gateway.openapi_export docs/openapi.json``) writes it;
``services/gateway/tests/test_openapi_export.py`` builds it the same way and fails while the
committed copy differs. The document is built from the routes alone: settings
come from their defaults, never from the environment, and keys are sorted, so
the same code always gives the same bytes (see docs/api.md#the-route-reference).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from fieldvault_platform.settings import Environment
from gateway.main import create_app
from gateway.settings import GatewaySettings

#: Where the committed copy lives, relative to the repository root.
DOCUMENT_PATH = Path("docs/openapi.json")


class _DefaultGatewaySettings(GatewaySettings):
    """The gateway's settings at their defaults, whatever the environment says."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def build_document() -> dict[str, Any]:
    """The OpenAPI document of an app built with default production settings."""
    app = create_app(_DefaultGatewaySettings(environment=Environment.PRODUCTION))
    return app.openapi()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, UTF-8 as is, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else DOCUMENT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(build_document()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
