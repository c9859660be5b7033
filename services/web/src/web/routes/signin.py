"""Signing in (password, then the one-time code when enrolled), enrolling a second
factor, signing out, and the language switch.

The password reaches the gateway and, between the two steps of a sign-in with a
code, the sealed session entry (five minutes at most); it is never put in a page.
"""

from __future__ import annotations

import contextlib
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import (
    SESSION_COOKIE,
    Caller,
    SignInRequired,
    clear_session_cookie,
    client_address,
    current_session,
    keep_tokens,
    start_session,
)
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayClient, GatewayRefused
from web.i18n import LANGUAGES, Formatter, language_of, translations
from web.problems import explain
from web.rendering import page, remember_language
from web.sessions import SessionStore

router = APIRouter()

TENANT_COOKIE = "fv-tenant"


def _explain(request: Request, refusal: GatewayRefused) -> str:
    language = language_of(request)
    fmt = Formatter(language, request.app.state.settings.zone)
    return explain(refusal, translations(language).gettext, fmt.time)


def _sign_in_form(
    request: Request,
    *,
    error: str = "",
    notice: str = "",
    tenant: str = "",
    email: str = "",
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "signin.html",
        {
            "error": error,
            "notice": notice,
            "tenant": tenant or request.cookies.get(TENANT_COOKIE, ""),
            "email": email,
        },
        status_code=status_code,
    )


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    _ = translations(language_of(request)).gettext
    notice = ""
    if request.query_params.get("ended"):
        notice = _("Your session has ended. Sign in again.")
    elif request.query_params.get("enrolled"):
        notice = _("Second factor set up. Sign in with a code from your app.")
    elif request.query_params.get("accepted"):
        notice = _("Your password is set. Sign in.")
    elif request.query_params.get("signed_out") == "everywhere":
        notice = _("You have signed out on every device.")
    elif request.query_params.get("signed_out"):
        notice = _("You have signed out.")
    return _sign_in_form(request, notice=notice)


async def _login(request: Request, body: dict[str, str]) -> dict[str, Any]:
    gateway: GatewayClient = request.app.state.gateway
    answer: dict[str, Any] = await gateway.request(
        "POST", "/v1/auth/login", json=body, client_address=client_address(request)
    )
    return answer


def _remember_tenant(response: Response, tenant: str) -> None:
    response.set_cookie(
        TENANT_COOKIE,
        tenant,
        path="/",
        max_age=365 * 24 * 3600,
        secure=True,
        httponly=True,
        samesite="lax",
    )


async def _signed_in(request: Request, tenant: str, answer: dict[str, Any]) -> Response:
    store: SessionStore = request.app.state.sessions
    if answer.get("mfa_enrollment_required"):
        session = store.new("enrolling", tenant=tenant)
        keep_tokens(session, answer)
        response: Response = RedirectResponse("/mfa/enrol", status_code=303)
    else:
        session = store.new("signed_in", tenant=tenant)
        keep_tokens(session, answer)
        response = RedirectResponse("/", status_code=303)
    await start_session(request, response, session)
    _remember_tenant(response, tenant)
    return response


@router.post("/signin")
async def sign_in(request: Request, _csrf: CsrfChecked) -> Response:
    tenant = (await form_text(request, "tenant", limit=100)).strip().lower()
    email = (await form_text(request, "email", limit=320)).strip()
    password = await form_text(request, "password", limit=1000)
    body = {"tenant": tenant, "email": email, "password": password}
    try:
        answer = await _login(request, body)
    except GatewayRefused as refused:
        if refused.code == "mfa_required":
            store: SessionStore = request.app.state.sessions
            pending = store.new("pending_otp", tenant=tenant, pending=body)
            response: Response = RedirectResponse("/signin/code", status_code=303)
            await start_session(request, response, pending)
            _remember_tenant(response, tenant)
            return response
        return _sign_in_form(
            request,
            error=_explain(request, refused),
            tenant=tenant,
            email=email,
            status_code=refused.status if refused.status in (401, 429) else 400,
        )
    return await _signed_in(request, tenant, answer)


@router.get("/signin/code")
async def code_page(request: Request) -> Response:
    found = await current_session(request)
    if found is None or found[1].state != "pending_otp":
        raise SignInRequired("none")
    return page(request, "signin_code.html", {"error": ""})


@router.post("/signin/code")
async def sign_in_with_code(request: Request, _csrf: CsrfChecked) -> Response:
    found = await current_session(request)
    if found is None or found[1].state != "pending_otp":
        raise SignInRequired("none")
    session_id, session = found
    code = "".join((await form_text(request, "code", limit=20)).split())
    try:
        answer = await _login(request, {**session.pending, "otp": code})
    except GatewayRefused as refused:
        status = refused.status if refused.status in (401, 429) else 400
        if refused.code == "mfa_required":
            # Sent without a code: ask again.
            refused = GatewayRefused(401, "invalid_otp")
        return page(
            request,
            "signin_code.html",
            {"error": _explain(request, refused)},
            status_code=status,
        )
    store: SessionStore = request.app.state.sessions
    await store.delete(session_id)
    return await _signed_in(request, session.tenant, answer)


@router.get("/mfa/enrol")
async def enrol_page(request: Request) -> Response:
    """The QR code and the secret as text; each visit starts the enrolment afresh."""
    found = await current_session(request)
    if found is None or found[1].state not in ("enrolling", "signed_in"):
        raise SignInRequired("none")
    _, session = found
    gateway: GatewayClient = request.app.state.gateway
    try:
        enrolment = await gateway.request("POST", "/v1/me/mfa/totp", token=session.access_token)
    except GatewayRefused as refused:
        if refused.status == 401:
            raise SignInRequired("expired") from None
        return page(request, "message.html", {"message": _explain(request, refused)})
    qr = segno.make(enrolment["otpauth_uri"], error="m")
    return page(
        request,
        "mfa_enrol.html",
        {
            "qr_svg": qr.svg_inline(scale=5, border=2, dark="#000", light="#fff", omitsize=True),
            "secret": enrolment["secret"],
            "error": "",
        },
    )


@router.post("/mfa/enrol")
async def confirm_enrolment(request: Request, _csrf: CsrfChecked) -> Response:
    found = await current_session(request)
    if found is None or found[1].state not in ("enrolling", "signed_in"):
        raise SignInRequired("none")
    session_id, session = found
    code = "".join((await form_text(request, "code", limit=20)).split())
    gateway: GatewayClient = request.app.state.gateway
    try:
        await gateway.request(
            "POST", "/v1/me/mfa/totp/confirm", token=session.access_token, json={"code": code}
        )
    except GatewayRefused as refused:
        return page(
            request,
            "mfa_enrol.html",
            {"qr_svg": "", "secret": "", "error": _explain(request, refused)},
            status_code=400,
        )
    if session.state == "signed_in":
        response: Response = RedirectResponse("/me?mfa=1", status_code=303)
        return response
    # The enrolment token may do nothing else: sign in again, now with a code.
    store: SessionStore = request.app.state.sessions
    await store.delete(session_id)
    response = RedirectResponse("/signin?enrolled=1", status_code=303)
    clear_session_cookie(response)
    return response


@router.post("/signout")
async def sign_out(request: Request, _csrf: CsrfChecked) -> Response:
    found = await current_session(request)
    if found is not None:
        session_id, session = found
        gateway: GatewayClient = request.app.state.gateway
        if session.access_token:
            # Already ended at identity: ending it here is all that is left.
            with contextlib.suppress(GatewayRefused):
                await gateway.request("POST", "/v1/auth/logout", token=session.access_token)
        store: SessionStore = request.app.state.sessions
        await store.delete(session_id)
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    clear_session_cookie(response)
    return response


@router.post("/signout-everywhere")
async def sign_out_everywhere(request: Request, _csrf: CsrfChecked) -> Response:
    """A lost phone: every session of the account ends, this one too."""
    found = await current_session(request)
    if found is None or found[1].state != "signed_in":
        raise SignInRequired("none")
    session_id, session = found
    caller = Caller(request, session_id, session)
    await caller.api("POST", "/v1/auth/logout-everywhere")
    store: SessionStore = request.app.state.sessions
    await store.delete(session_id)
    response = RedirectResponse("/signin?signed_out=everywhere", status_code=303)
    clear_session_cookie(response)
    return response


@router.post("/language")
async def switch_language(request: Request, _csrf: CsrfChecked) -> Response:
    language = await form_text(request, "lang", limit=5)
    back = await form_text(request, "next", limit=200)
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    if language in LANGUAGES:
        remember_language(response, language)
    return response


__all__ = ["SESSION_COOKIE", "router"]
