"""Me: change password, second-factor status, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller, signed_in
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.i18n import Formatter, language_of, translations
from web.nav import navigation
from web.problems import explain
from web.rendering import page

router = APIRouter()

SignedIn = Annotated[Caller, Depends(signed_in)]


async def _me_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    password_error: str = "",
    status_code: int = 200,
) -> Response:
    me = await caller.api("GET", "/v1/me")
    nav = await navigation(caller)
    return page(
        request,
        "me.html",
        {
            "me": me,
            "message": message,
            "password_error": password_error,
            "nav": nav,
            "current": "me",
        },
        status_code=status_code,
    )


@router.get("/me")
async def me(request: Request, caller: SignedIn) -> Response:
    _ = translations(language_of(request)).gettext
    message = ""
    if request.query_params.get("password"):
        message = _("Password changed.")
    elif request.query_params.get("mfa"):
        message = _("Second factor set up.")
    return await _me_page(request, caller, message=message)


@router.post("/me/password")
async def change_password(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    current = await form_text(request, "current_password", limit=1000)
    new = await form_text(request, "new_password", limit=1000)
    try:
        await caller.api(
            "POST", "/v1/me/password", json={"current_password": current, "new_password": new}
        )
    except GatewayRefused as refused:
        language = language_of(request)
        why = explain(
            refused,
            translations(language).gettext,
            Formatter(language, request.app.state.settings.zone).time,
        )
        if refused.status in (400, 422) and refused.detail:
            why = f"{why} {refused.detail}"
        return await _me_page(request, caller, password_error=why, status_code=refused.status)
    return RedirectResponse("/me?password=1", status_code=303)
