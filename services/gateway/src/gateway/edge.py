"""What the edge middlewares (rate limits, body limits, idempotency) share.

They run before routing, as pure ASGI middlewares, so they find the route a
request is for, the client's address and the verified caller themselves; the
caller is verified at most once per request and remembered in the scope.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

from fieldvault_platform.auth import Principal
from gateway import problems
from gateway.auth import VERIFIED_AT_EDGE, remember_verified
from gateway.client_address import client_address
from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


def app_state(scope: Scope) -> Any:
    return scope["app"].state


def settings_of(scope: Scope) -> GatewaySettings:
    settings: GatewaySettings = app_state(scope).settings
    return settings


_ROUTE_TABLE = "edge_route_table"
RouteTable = list[tuple[re.Pattern[str], APIRoute]]


def _route_table(app: Any) -> RouteTable:
    """Every API route with the regex of its full path (included routers flattened),
    built on the first request, when no more routes are added."""
    table: RouteTable | None = getattr(app.state, _ROUTE_TABLE, None)
    if table is None:
        table = []
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, APIRoute) and context.path:
                regex, _, _ = compile_path(context.path)
                table.append((regex, route))
        setattr(app.state, _ROUTE_TABLE, table)
    return table


def matched_route(scope: Scope) -> APIRoute | None:
    """The API route that will serve this request (path and method), if any."""
    matched = matched_route_and_parameters(scope)
    return matched[0] if matched is not None else None


def matched_route_and_parameters(scope: Scope) -> tuple[APIRoute, dict[str, str]] | None:
    """The API route that will serve this request and its path parameters (as sent)."""
    path: str = scope.get("path", "")
    method = scope.get("method")
    for regex, route in _route_table(scope["app"]):
        match = regex.match(path) if method in (route.methods or ()) else None
        if match is not None:
            return route, match.groupdict()
    return None


def client_key(scope: Scope) -> str:
    """The client's address as a rate-limit key; for IPv6 its /64, which one client
    typically owns whole (as identity's login throttle counts it)."""
    address = client_address(Request(scope), settings_of(scope))
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def bearer_token(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


async def verified_principal(scope: Scope) -> Principal | None:
    """The caller of a request with a valid gateway access token, else None.

    Verified like the routes do (signature, claims, deny list), never merely
    parsed: a forged ``sub`` must not spend someone else's budget or replay
    their idempotent answers. Any failure is None here; the route answers it.
    """
    token = bearer_token(scope)
    remembered = scope.get("state", {}).get(VERIFIED_AT_EDGE)
    if remembered is not None and remembered[0] == token:
        cached: Principal | None = remembered[1]
        return cached
    principal: Principal | None = None
    auth = getattr(app_state(scope), "edge_auth", None)
    if token is not None and auth is not None and token.count(".") == 2:
        try:
            principal = await auth.verify(token)
        except Exception:
            principal = None
    if token is not None:
        # Also what the route's own ``current_caller`` reuses instead of verifying again.
        remember_verified(scope, token, principal)
    return principal


def request_id(scope: Scope) -> str | None:
    value = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


async def answer_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    response = problems.problem(
        status=status, code=code, detail=detail, request_id=request_id(scope), headers=headers
    )
    await response(scope, receive, send)
