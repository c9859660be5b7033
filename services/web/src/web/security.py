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
from functools import partial

from starlette.requests import Request

from fieldvault_platform.security_headers import BASELINE, SecurityHeadersMiddleware

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), interest-cohort=()"
)

CSRF_COOKIE = "__Host-fv-csrf"
CSRF_FIELD = "csrf"
#: A fetch() from the page's own script sends the token in this header instead.
CSRF_HEADER = "X-CSRF-Token"


def _is_page(path: str) -> bool:
    return not path.startswith("/static/")


#: The web app's policy: every answer but the static files is ``no-store``.
page_security_headers = partial(
    SecurityHeadersMiddleware,
    no_store=_is_page,
    always={
        **BASELINE,
        "Content-Security-Policy": CSP,
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    },
)


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
