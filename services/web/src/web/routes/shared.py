"""The page an external recipient opens a secure share with: the link from the e-mail,
the PIN from the SMS (docs/security-model.md#secure-sharing).

The link carries its token in the fragment (``/shared#token=…``), which browsers never
send to a server: the page's script copies it into the form and removes it from the
address bar, like an invitation's. The recipient has no account and no session. The
document is served once as a download, a credential is shown once on a page; both,
like every answer of this app, ``Cache-Control: no-store``. Every way a share can be
gone — opened, revoked, locked by wrong PINs, expired, never existed — reads the same.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.auth import client_address
from web.forms import CsrfChecked, form_text
from web.gateway import Download, GatewayClient, GatewayRefused
from web.i18n import language_of, translations
from web.rendering import page

router = APIRouter()

_ATTEMPTS_LEFT = re.compile(r"(\d+) attempt")


def _form(request: Request, **context: object) -> Response:
    status_code = int(str(context.pop("status_code", 200)))
    values = {"token": "", "error": "", "gone": False, **context}
    return page(request, "shared.html", values, status_code=status_code)


@router.get("/shared")
async def share_page(request: Request) -> Response:
    return _form(request)


@router.post("/shared")
async def open_share(request: Request, _csrf: CsrfChecked) -> Response:
    _ = translations(language_of(request)).gettext
    token = (await form_text(request, "token", limit=300)).strip()
    pin = "".join((await form_text(request, "pin", limit=64)).split())
    if not pin:
        return _form(request, token=token, error=_("Enter the PIN from the text message."))
    gateway: GatewayClient = request.app.state.gateway
    try:
        download: Download = await gateway.request(
            "POST",
            "/v1/shares/open",
            json={"token": token, "pin": pin},
            client_address=client_address(request),
            raw=True,
        )
    except GatewayRefused as refused:
        if refused.code == "share_pin_wrong":
            match = _ATTEMPTS_LEFT.search(refused.detail)
            left = int(match.group(1)) if match else 0
            error = _("The PIN is not correct. Attempts left: %(left)d.") % {"left": left}
            return _form(request, token=token, error=error, status_code=403)
        if refused.status == 429:
            error = _("Too many attempts. Try again in %(seconds)d seconds.") % {
                "seconds": refused.retry_after or 60
            }
            return _form(request, token=token, error=error, status_code=429)
        # Opened, revoked, locked, expired, unknown or mangled: one answer for all.
        return _form(request, gone=True, status_code=410)
    if download.disposition:
        return Response(
            content=download.content,
            media_type=download.content_type,
            headers={
                "Content-Disposition": download.disposition,
                "X-Content-Type-Options": "nosniff",
            },
        )
    return page(request, "shared_credential.html", {"credential": download.content.decode("utf-8")})
