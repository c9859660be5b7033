"""The security schemes of the OpenAPI document, and which operations need which.

Routes read the bearer token themselves (a dependency per backend), so FastAPI
cannot see it; the document is told here instead: a person's access token
(``bearerAuth``, from ``/v1/auth/login``), a partner system's token from the
client-credentials flow (``partnerClientCredentials``), or the platform
operator's token for creating tenants (``operatorToken``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

#: Operations anyone may call: signing in, public keys, invitations, opening a share, probes.
PUBLIC = frozenset(
    {
        ("post", "/v1/auth/login"),
        ("post", "/v1/auth/refresh"),
        ("post", "/v1/oauth/token"),
        ("get", "/.well-known/jwks.json"),
        ("post", "/v1/invitations/accept"),
        ("post", "/v1/shares/open"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    }
)
OPERATOR = frozenset({("post", "/v1/tenants"), ("get", "/v1/operator/parked-events")})
PARTNER_SCOPES = {
    "work_orders:read": "Read work orders and their status",
    "work_orders:write": "File work orders",
    "customers:read": "Read customers and sites",
    "customers:write": "Record customers and sites",
    "webhooks:manage": "Manage webhook subscriptions",
}
SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A person's access token from POST /v1/auth/login",
    },
    "partnerClientCredentials": {
        "type": "oauth2",
        "description": "A partner system's token (client credentials); no scope reveals a secret",
        "flows": {"clientCredentials": {"tokenUrl": "/v1/oauth/token", "scopes": PARTNER_SCOPES}},
    },
    "operatorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The platform operator's token from the deployment",
    },
}
_METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the schemes and each operation's requirement."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = SCHEMES
            for path, operations in schema["paths"].items():
                for method, operation in operations.items():
                    if method in _METHODS:
                        operation["security"] = requirement(method, path)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def requirement(method: str, path: str) -> list[dict[str, list[str]]]:
    if (method, path) in PUBLIC:
        return []
    if (method, path) in OPERATOR:
        return [{"operatorToken": []}]
    return [{"bearerAuth": []}, {"partnerClientCredentials": []}]
