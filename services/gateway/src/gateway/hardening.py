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

from gateway.idempotency import IdempotencyMiddleware, IdempotencyStore
from gateway.ratelimit import RateLimiter, RateLimitMiddleware
from gateway.request_guard import RequestGuardMiddleware
from gateway.security_headers import api_security_headers
from gateway.settings import GatewaySettings


def install_request_guards(app: FastAPI, settings: GatewaySettings) -> None:
    """Call before adding the request-id middleware: these answer with its id."""
    limiter = RateLimiter(max_keys=settings.rate_limit_max_keys)
    store = IdempotencyStore(settings.idempotency_bucket, settings.idempotency_ttl_seconds)
    app.state.rate_limiter = limiter
    app.state.idempotency = store
    # Starlette wraps in reverse: the last added runs first.
    app.add_middleware(IdempotencyMiddleware, store=store)
    app.add_middleware(RequestGuardMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)


def install_security_headers(app: FastAPI, settings: GatewaySettings) -> None:
    """Call after adding the request-id middleware (and before CORS)."""
    app.add_middleware(api_security_headers, hsts=not settings.is_development)
