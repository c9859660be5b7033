"""Composition root: builds the FastAPI app from settings.

Nothing here runs at import. ``create_app`` is called by ``python -m gateway``
and by tests, each with its own settings; the gRPC channels live as long as
the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fieldvault_platform import telemetry
from gateway import problems
from gateway.middleware import REQUEST_ID_HEADER, RequestIdMiddleware
from gateway.peers import open_peers
from gateway.routes import health
from gateway.settings import GatewaySettings

SERVICE_NAME = "gateway"

DESCRIPTION = """\
The public REST API of fieldvault: customers, sites and their secrets, work
orders, people and organisations, notifications and webhooks.

Errors are RFC 9457 `application/problem+json` bodies with a stable `code` and
the `request_id` (also sent as the `X-Request-Id` header) to quote to support.
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: GatewaySettings = app.state.settings
    peers = open_peers(settings)
    app.state.peers = peers
    try:
        yield
    finally:
        await peers.close()


def create_app(settings: GatewaySettings) -> FastAPI:
    # Before any channel exists: the gRPC client instrumentation wraps channel creation.
    telemetry.setup(SERVICE_NAME)

    app = FastAPI(
        title="fieldvault API",
        version="1",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings

    problems.install(app)
    app.include_router(health.router)

    app.add_middleware(RequestIdMiddleware)
    if settings.cors_origins:
        # Added last so it is outermost: its headers also reach error responses,
        # otherwise a browser hides the problem body from the web app.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            # Bearer tokens, no cookies: credentials mode is never needed.
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                REQUEST_ID_HEADER,
            ],
            expose_headers=[REQUEST_ID_HEADER, "ETag", "Retry-After", "Location"],
        )

    telemetry.instrument_fastapi(app)
    return app
