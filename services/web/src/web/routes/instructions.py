"""The tenant's data-handling instructions: read and acknowledged by everyone, published by
the admin, and the report of who has and has not acknowledged, by organisation.

When the API refuses customer data because the person has not acknowledged the
instructions in force, any page sends them here (``web.main``); the button records
the acknowledgement and takes them back to where they were (``next``, a path of this
app only). The text is rendered by :mod:`web.markdown` (raw HTML escaped).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.markdown import render
from web.nav import navigation
from web.office import SignedIn, gettext, in_words, office_page
from web.rendering import page
from web.views import moment

router = APIRouter()

#: Longest ``next`` kept; a longer one is dropped for the home page.
_MAX_NEXT = 500
MAX_GRACE_DAYS = 90


def safe_next(value: str) -> str:
    """A path of this app to return to, or "" — never another site (``//x``, ``\\x``, a scheme)."""
    value = value.strip()
    if not value or len(value) > _MAX_NEXT or not value.isprintable():
        return ""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


#: A form post's page, from the post's own path (the app sends no Referer):
#: ``/jobs/<id>/codes/door_code/reveal`` was posted from ``/jobs/<id>``.
_POSTED_FROM = (
    re.compile(r"^(/jobs/[^/]+)/"),
    re.compile(r"^(/office/[a-z-]+/[^/]+)/"),
    re.compile(r"^(/office/[a-z-]+)(?:/[^/]+)?$"),
)


def where_it_was(request: Request) -> str:
    """Where a refused request came from: the page itself, or for a form post the page
    that posted it."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_next(f"{request.url.path}{query}")
    for pattern in _POSTED_FROM:
        match = pattern.match(request.url.path)
        if match:
            return safe_next(match.group(1))
    return ""


def instructions_url(request: Request) -> str:
    back = where_it_was(request)
    if back.startswith("/instructions"):
        back = ""
    return "/instructions" + (f"?next={quote(back, safe='/')}" if back else "")


def _view(current: dict[str, Any]) -> dict[str, Any] | None:
    instructions = current.get("instructions")
    if not instructions:
        return None
    return {
        "version": instructions["version"],
        "html": render(str(instructions["markdown"])),
        "effective_from": moment(instructions.get("effective_from")),
        "published_at": moment(instructions.get("published_at")),
        "grace_days": instructions.get("grace_days", 0),
    }


async def _reading_page(
    request: Request, caller: Caller, *, back: str, error: str = "", status_code: int = 200
) -> Response:
    current = await caller.api("GET", "/v1/tenant/instructions")
    nav = await navigation(caller)
    return page(
        request,
        "instructions.html",
        {
            "instructions": _view(current),
            "acknowledged_version": current.get("acknowledged_version", 0),
            "due": bool(current.get("acknowledgement_due")),
            "next": back,
            "error": error,
            "nav": nav,
            "current": "instructions",
        },
        status_code=status_code,
    )


@router.get("/instructions")
async def read_instructions(request: Request, caller: SignedIn) -> Response:
    back = safe_next(request.query_params.get("next", ""))
    return await _reading_page(request, caller, back=back)


@router.post("/instructions/acknowledgement")
async def acknowledge(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    back = safe_next(await form_text(request, "next", limit=_MAX_NEXT))
    version = await form_text(request, "version", limit=10)
    _ = gettext(request)
    if not version.isdigit():
        return await _reading_page(
            request, caller, back=back, error=_("Reload the page and try again."), status_code=400
        )
    try:
        await caller.api("PUT", f"/v1/tenant/instructions/{int(version)}/acknowledgement")
    except GatewayRefused as refused:
        words = in_words(request, refused)
        if refused.code == "not_current_version":
            words = _("A newer version was published while you were reading. Read it below.")
        return await _reading_page(
            request, caller, back=back, error=words, status_code=refused.status
        )
    return RedirectResponse(back or "/", status_code=303)


# --- the office: publishing and the report ------------------------------------------


async def _publish_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    error: str = "",
    draft: str = "",
    grace_days: str = "14",
    status_code: int = 200,
) -> Response:
    current = await caller.api("GET", "/v1/tenant/instructions")
    shown = _view(current)
    latest = current.get("instructions") or {}
    return await office_page(
        request,
        caller,
        "office/instructions.html",
        {
            "instructions": shown,
            "draft": draft or latest.get("markdown", ""),
            "grace_days": grace_days,
            "max_grace_days": MAX_GRACE_DAYS,
            "message": message,
            "error": error,
        },
        current="instructions",
        status_code=status_code,
    )


@router.get("/office/instructions")
async def publishing(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = _("New version published.") if request.query_params.get("done") == "published" else ""
    return await _publish_page(request, caller, message=done)


@router.post("/office/instructions")
async def publish(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    text = await form_text(request, "markdown", limit=50_000)
    grace = (await form_text(request, "grace_days", limit=3)).strip()
    _ = gettext(request)
    if not text.strip() or not grace.isdigit() or int(grace) > MAX_GRACE_DAYS:
        return await _publish_page(
            request,
            caller,
            error=_("Write the instructions and give a grace period of 0 to %(days)d days.")
            % {"days": MAX_GRACE_DAYS},
            draft=text,
            grace_days=grace,
            status_code=400,
        )
    try:
        await caller.api(
            "POST",
            "/v1/tenant/instructions",
            json={"markdown": text, "grace_days": int(grace)},
        )
    except GatewayRefused as refused:
        return await _publish_page(
            request,
            caller,
            error=in_words(request, refused),
            draft=text,
            grace_days=grace,
            status_code=refused.status,
        )
    return RedirectResponse("/office/instructions?done=published", status_code=303)


@router.get("/office/instructions/report")
async def report(request: Request, caller: SignedIn) -> Response:
    version = request.query_params.get("version", "")
    params = {"version": int(version)} if version.isdigit() and len(version) < 7 else {}
    try:
        answer = await caller.api("GET", "/v1/tenant/instructions/report", params=params)
    except GatewayRefused as refused:
        if refused.status != 404:
            raise
        answer = None
    return await office_page(
        request,
        caller,
        "office/instructions_report.html",
        {
            "report": answer,
            "effective_from": moment((answer or {}).get("instructions", {}).get("effective_from")),
        },
        current="instructions_report",
    )
