"""Headers every answer carries, and the CSRF token every form carries.

Pages are rendered with data only the signed-in person may see, so every answer
but the static files is ``Cache-Control: no-store`` (also keeping pages out of the
back/forward cache). The Content-Security-Policy allows nothing inline: scripts and
styles come only from ``/static``.

CSRF: a random ``__Host-fv-csrf`` cookie (HttpOnly, Secure, SameSite=Strict) is set
on the first page; every form carries an HMAC of it, which a POST must send back.
Another site can neither read the page's token nor set a ``__Host-`` cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"

CSRF_COOKIE = "__Host-fv-csrf"
CSRF_FIELD = "csrf"
#: A fetch() from the page's own script sends the token in this header instead.
CSRF_HEADER = "X-CSRF-Token"


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
                headers["Content-Security-Policy"] = CSP
                headers["Referrer-Policy"] = "no-referrer"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
                if not path.startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"fieldvault-web-form", hashlib.sha256).hexdigest()


def csrf_secret(request: Request) -> str:
    """This browser's CSRF secret: its cookie, or a new one the response will set."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if existing:
        return existing
    fresh: str | None = getattr(request.state, "new_csrf_secret", None)
    if fresh is None:
        fresh = new_csrf_secret()
        request.state.new_csrf_secret = fresh
    return fresh


def csrf_valid(request: Request, submitted: str) -> bool:
    secret = request.cookies.get(CSRF_COOKIE, "")
    if not secret or not submitted:
        return False
    return hmac.compare_digest(csrf_token_for(secret), submitted)
