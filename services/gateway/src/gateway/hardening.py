"""The abuse-resistance middlewares, installed by the composition root in their order.

Outermost first: CORS, :class:`SecurityHeadersMiddleware` (so every answer gets
the headers, the request-id middleware's last-resort 500 too), the request-id
middleware, then :class:`RateLimitMiddleware` (before any body is read),
:class:`RequestGuardMiddleware` (body size and media type) and
:class:`IdempotencyMiddleware` (which reads the capped body) next to the routes.
The idempotency middleware must stay inside the security headers: it tells an
answer holding a secret shown once by the route's own ``Cache-Control: no-store``,
not by the blanket one added to every ``/v1`` answer further out.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from gateway.idempotency import IdempotencyMiddleware, IdempotencyStore
from gateway.ratelimit import EXEMPT_PATHS, RateLimiter, RateLimitMiddleware
from gateway.request_guard import RequestGuardMiddleware
from gateway.security_headers import SecurityHeadersMiddleware
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
    document_edge_responses(app)


def install_security_headers(app: FastAPI, settings: GatewaySettings) -> None:
    """Call after adding the request-id middleware (and before CORS)."""
    app.add_middleware(SecurityHeadersMiddleware, hsts=not settings.is_development)


#: Answers any route may give at the edge, added to every operation of the OpenAPI document.
RATE_LIMITED = {
    "description": "Too many requests (rate_limited); see Retry-After",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "integer"},
        }
    },
}
TOO_LARGE = {"description": "The request body is larger than allowed (payload_too_large)"}
NOT_JSON = {"description": "The body is not application/json (unsupported_media_type)"}


def document_edge_responses(app: FastAPI) -> None:
    """429 on every operation (but the probes), 413 on those with a body, 415 on those
    with a JSON body: the middlewares answer them before any route runs."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if path not in EXEMPT_PATHS:
                    # A route may have described its 429 already (e.g. identity's throttle).
                    limited = responses.setdefault("429", dict(RATE_LIMITED))
                    limited.setdefault("headers", RATE_LIMITED["headers"])
                body = operation.get("requestBody")
                if body is not None:
                    responses.setdefault("413", TOO_LARGE)
                    if "application/json" in body.get("content", {}):
                        responses.setdefault("415", NOT_JSON)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
