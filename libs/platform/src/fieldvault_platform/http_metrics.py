"""Request counts and latencies of an ASGI app by method, route template and status.

:func:`instrument_app` adds the measuring middleware, and only that: the
counts are served on a listener of their own (``METRICS_PORT``, through
:func:`fieldvault_platform.metrics.serve_metrics`), never on the app's public
port, where ``/metrics`` is a path like any unknown one (404).

The route is the template the router matched
(``/v1/work-orders/{work_order_id}``), read after routing, so ids in paths
never become label values; a path no route knows is ``unmatched``. Methods
outside the standard set are ``other``: both labels have a fixed set of values
whatever callers send.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldvault_platform.metrics import HTTP_DURATION, HTTP_REQUESTS, trace_exemplar

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope, routes: list[BaseRoute]) -> str:
    """The template of the route that handled (or would handle) the request."""
    route = scope.get("route")
    if route is None:
        # Not routed (an outer middleware answered, or no route took it): the
        # first route whose path matches, whatever the method.
        route = next((r for r in routes if r.matches(scope)[0] is not Match.NONE), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Pure ASGI (no body buffering): times the request, counts the status it ended with."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started is answered with 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            labels = (method, route_template(scope, self.routes), str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_DURATION.labels(*labels).observe(
                time.perf_counter() - started, exemplar=trace_exemplar()
            )


def instrument_app(app: Any) -> None:
    """Measure every request of a FastAPI/Starlette ``app``; it serves no ``/metrics``.

    Call after the app's other middleware is added: added last, it is outermost
    and sees every answer, those of other middleware (429, CORS) included.
    """
    app.add_middleware(MetricsMiddleware, routes=app.router.routes)
