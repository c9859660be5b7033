"""Security headers on every answer, and ``Cache-Control: no-store`` on the API's.

The API answers JSON to scripts, never pages to render: nothing may sniff a type,
frame it, send a referrer from it, or keep a copy. Any ``/v1`` answer may hold a
token, a secret shown once, personal data or a decrypted document, so the simple
rule is ``no-store`` on all of them unless a route chose its own ``Cache-Control``;
only the public documents (OpenAPI, Swagger UI, JWKS, health) may be cached.
HSTS is sent outside development: the gateway is reached over TLS (terminated at
the ingress) there, and a browser must never try plain HTTP.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
#: JSON is never a document: no source of anything, no framing.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                # /docs sends its own (gateway.docs): same-origin script and styles.
                headers.setdefault("Content-Security-Policy", API_CSP)
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
                if path.startswith("/v1/") and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
