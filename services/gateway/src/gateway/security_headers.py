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

from functools import partial

from fieldvault_platform.security_headers import HSTS, SecurityHeadersMiddleware

__all__ = ["API_CSP", "HSTS", "api_security_headers"]

#: JSON is never a document: no source of anything, no framing.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _is_api(path: str) -> bool:
    return path.startswith("/v1/")


#: The gateway's policy; /docs sends its own CSP (gateway.docs): same-origin script
#: and styles.
api_security_headers = partial(
    SecurityHeadersMiddleware, no_store=_is_api, unless_set={"Content-Security-Policy": API_CSP}
)
