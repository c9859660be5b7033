"""``python -m web`` (or the ``fieldvault-web`` script): serve the field app."""

from __future__ import annotations

import uvicorn

from fieldvault_platform.logging import configure_logging
from web.main import SERVICE_NAME, create_app
from web.settings import WebSettings


def main() -> None:
    settings = WebSettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Keep the platform's redacting JSON logging.
        log_config=None,
        # An access log would write paths with ids; the pages carry nothing else.
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
