"""``python -m gateway`` (or the ``fieldvault-gateway`` script): serve the REST API."""

from __future__ import annotations

import uvicorn

from fieldvault_platform import telemetry
from fieldvault_platform.logging import configure_logging
from gateway.main import SERVICE_NAME, create_app
from gateway.middleware import install_request_id_logging
from gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging(SERVICE_NAME, settings.log_level)
    install_request_id_logging()
    app = create_app(settings)
    try:
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            # Keep our JSON logging; uvicorn's own config would replace it.
            log_config=None,
            # Our middleware writes the access log without query strings, which
            # can carry personal data (``?email=``).
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
