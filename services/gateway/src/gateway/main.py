"""Composition root: builds the FastAPI app from settings.

Nothing here runs at import. ``create_app`` is called by ``python -m gateway``
and by tests, each with its own settings; the gRPC channels live as long as
the app's lifespan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fieldvault_platform import http_metrics, telemetry
from fieldvault_platform.metrics import MetricsServer, serve_metrics
from gateway import docs, openapi_errors, openapi_security, problems
from gateway.auth import feed_revocations, open_edge_auth
from gateway.hardening import install_request_guards, install_security_headers
from gateway.middleware import REQUEST_ID_HEADER, RequestIdMiddleware
from gateway.operation_ids import operation_id
from gateway.peers import open_peers
from gateway.routes import (
    api_clients,
    areas,
    audit,
    auth,
    contracts,
    customers,
    dpa_documents,
    gdpr_reports,
    grants,
    health,
    instructions,
    invitations,
    jwks,
    keys,
    me,
    my_work_orders,
    notifications,
    organizations,
    retention,
    rotation,
    shares,
    sites,
    tenants,
    users,
    webhooks,
    work_orders,
)
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

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
    # Prometheus scrapes a listener of its own, never the public port.
    metrics_server: MetricsServer | None = None
    if settings.metrics_port is not None:
        metrics_server = serve_metrics(settings.http_host, settings.metrics_port)
    app.state.metrics_server = metrics_server
    peers = open_peers(settings)
    app.state.peers = peers
    edge_auth = open_edge_auth(identity=peers.identity, issuer=settings.token_issuer)
    app.state.edge_auth = edge_auth
    stop = asyncio.Event()
    revocations = asyncio.create_task(feed_revocations(edge_auth, settings.nats_url, stop))
    try:
        yield
    finally:
        stop.set()
        # Not wait_for: it would wait for the cancellation too, without a bound.
        await asyncio.wait((revocations,), timeout=settings.request_timeout_seconds)
        if not revocations.done():
            log.warning("revocation feed did not stop in time; cancelled")
            revocations.cancel()
        await peers.close()
        if metrics_server is not None:
            metrics_server.stop()


def create_app(settings: GatewaySettings) -> FastAPI:
    # Before any channel exists: the gRPC client instrumentation wraps channel creation.
    telemetry.setup(SERVICE_NAME)

    app = FastAPI(
        title="fieldvault API",
        version="1",
        description=DESCRIPTION,
        lifespan=_lifespan,
        generate_unique_id_function=operation_id,
        # Served by gateway.docs from a package; ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings

    problems.install(app)
    app.include_router(health.router)
    for router in (
        auth.router,
        jwks.router,
        me.router,
        tenants.router,
        instructions.router,
        invitations.router,
        areas.router,
        organizations.router,
        users.router,
        api_clients.router,
        customers.router,
        sites.router,
        contracts.router,
        dpa_documents.router,
        shares.router,
        grants.router,
        keys.router,
        audit.router,
        gdpr_reports.router,
        rotation.router,
        work_orders.router,
        my_work_orders.router,
        notifications.router,
        webhooks.router,
        retention.router,
    ):
        app.include_router(router)

    docs.install(app)
    openapi_security.install(app)
    openapi_errors.install(app)
    install_request_guards(app, settings)
    app.add_middleware(RequestIdMiddleware)
    install_security_headers(app, settings)
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

    # Outermost of ours: counts every answer, other middleware's too. It serves no
    # /metrics here: the lifespan does, on METRICS_PORT.
    http_metrics.instrument_app(app)
    telemetry.instrument_fastapi(app)
    return app
