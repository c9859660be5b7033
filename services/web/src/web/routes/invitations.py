"""Accept an invitation: the link in the e-mail opens this page and sets a password.

The link carries its token in the fragment (``#token=…``), which browsers never send
to a server: the page's script copies it into the form and removes it from the
address bar. Without the script the token can be pasted into the field.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.forms import CsrfChecked, form_text
from web.gateway import GatewayClient, GatewayRefused
from web.i18n import language_of, translations
from web.rendering import page

router = APIRouter()


@router.get("/invitations/accept")
async def accept_page(request: Request) -> Response:
    return page(request, "accept.html", {"error": "", "token_error": "", "token": ""})


@router.post("/invitations/accept")
async def accept(request: Request, _csrf: CsrfChecked) -> Response:
    _ = translations(language_of(request)).gettext
    token = (await form_text(request, "token", limit=500)).strip()
    password = await form_text(request, "password", limit=1000)
    repeated = await form_text(request, "password_again", limit=1000)
    if password != repeated:
        return page(
            request,
            "accept.html",
            {"error": _("The two passwords are not the same."), "token_error": "", "token": token},
            status_code=400,
        )
    gateway: GatewayClient = request.app.state.gateway
    try:
        await gateway.request(
            "POST", "/v1/invitations/accept", json={"token": token, "password": password}
        )
    except GatewayRefused as refused:
        if refused.status in (400, 422) and "password" in refused.detail.lower():
            # The policy's own words, next to the field.
            error = _("The password does not meet the policy:") + " " + refused.detail
            # The token stays in the form (a no-store page) so only the password is typed again.
            return page(
                request,
                "accept.html",
                {"error": error, "token_error": "", "token": token},
                status_code=400,
            )
        token_error = _(
            "This invitation link is not valid any more (used, expired or mistyped). "
            "Ask your administrator for a new one."
        )
        return page(
            request,
            "accept.html",
            {"error": "", "token_error": token_error, "token": ""},
            status_code=refused.status,
        )
    return RedirectResponse("/signin?accepted=1", status_code=303)
