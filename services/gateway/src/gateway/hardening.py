"""The abuse-resistance middlewares, installed by the composition root in their order.

Outermost first: CORS, the security headers (:mod:`gateway.security_headers`, so every answer gets
the headers, the request-id middleware's last-resort 500 too), the request-id
middleware, then :class:`RateLimitMiddleware` (before any body is read),
:class:`RequestGuardMiddleware` (body size and media type) and
:class:`IdempotencyMiddleware` (which reads the capped body) next to the routes.
The idempotency middleware must stay inside the security headers: it tells an
answer holding a secret shown once by the route's own ``Cache-Control: no-store``,
not by the blanket one added to every ``/v1`` answer further out.
Their answers (413, 415, 429) are documented with every other error by
:mod:`gateway.openapi_errors`.
"""

from __future__ import annotations

from fastapi import FastAPI
from nats.aio.client import Client as NatsClient

from gateway.idempotency import IdempotencyMiddleware, IdempotencyStore
from gateway.ratelimit import Limits, RateLimiter, RateLimitMiddleware
from gateway.request_guard import RequestGuardMiddleware
from gateway.security_headers import api_security_headers
from gateway.settings import GatewaySettings
from gateway.shared_ratelimit import SharedRateLimiter


def install_request_guards(app: FastAPI, settings: GatewaySettings) -> None:
    """Call before adding the request-id middleware: these answer with its id."""
    limiter = rate_limiter(app, settings)
    store = IdempotencyStore(
        settings.idempotency_bucket,
        settings.idempotency_ttl_seconds,
        replicas=settings.nats_replicas,
    )
    app.state.rate_limiter = limiter
    app.state.idempotency = store
    # Starlette wraps in reverse: the last added runs first.
    app.add_middleware(IdempotencyMiddleware, store=store)
    app.add_middleware(RequestGuardMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)


def rate_limiter(app: FastAPI, settings: GatewaySettings) -> Limits:
    """Shared by every replica in NATS (``rate_limit_store = "nats"``), or in this one's memory."""
    local = RateLimiter(max_keys=settings.rate_limit_max_keys)
    if settings.rate_limit_store == "memory":
        return local

    def connection() -> NatsClient | None:
        # The gateway's one NATS connection, opened by the revocation feed.
        return getattr(getattr(app.state, "edge_auth", None), "nats", None)

    return SharedRateLimiter(
        settings.rate_limit_bucket, connection, local, replicas=settings.nats_replicas
    )


def install_security_headers(app: FastAPI, settings: GatewaySettings) -> None:
    """Call after adding the request-id middleware (and before CORS)."""
    app.add_middleware(api_security_headers, hsts=not settings.is_development)
