"""One ASGI middleware for the headers every HTTP answer of the platform carries.

The gateway (JSON for scripts) and the web app (pages for people) differ in their
Content-Security-Policy and in which answers may be cached, not in how the headers
are set: each passes its own policy here. HSTS is sent outside development only,
where the service is reached over TLS terminated at the ingress.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
#: Sent on every answer, whatever the service.
BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeadersMiddleware:
    """Sets ``always`` (overriding), ``unless_set`` (only where a route set none) and
    ``Cache-Control: no-store`` on the paths ``no_store`` picks, unless the route
    chose its own ``Cache-Control``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        no_store: Callable[[str], bool],
        always: Mapping[str, str] = BASELINE,
        unless_set: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.always = dict(always)
        if hsts:
            self.always["Strict-Transport-Security"] = HSTS
        self.unless_set = dict(unless_set or {})
        self.no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.always.items():
                    headers[name] = value
                for name, value in self.unless_set.items():
                    headers.setdefault(name, value)
                if self.no_store(path) and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
