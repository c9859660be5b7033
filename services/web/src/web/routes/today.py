"""Today: my jobs for today, then upcoming and recently completed. Never a code."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller, signed_in
from web.gateway import GatewayRefused
from web.i18n import Formatter, language_of
from web.nav import navigation
from web.rendering import page
from web.views import plan_of_day

router = APIRouter()


@router.get("/")
async def today(request: Request, caller: Annotated[Caller, Depends(signed_in)]) -> Response:
    settings = request.app.state.settings
    fmt = Formatter(language_of(request), settings.zone)
    listing: Any
    nav: Any
    rules: Any
    listing, nav, rules = await asyncio.gather(
        caller.api("GET", "/v1/me/work-orders", params={"page_size": 100}),
        navigation(caller),
        caller.api("GET", "/v1/tenant/instructions"),
        return_exceptions=True,
    )
    if isinstance(nav, BaseException):
        raise nav
    if not nav.field_worker:
        # Office staff start on their own first page.
        return RedirectResponse(nav.home, status_code=303)
    # The jobs' sites stay hidden until the instructions in force are acknowledged: read
    # them first. A newer version still in its grace period is only announced.
    instructions_due = isinstance(rules, dict) and bool(rules.get("acknowledgement_due"))
    if instructions_due and rules.get("acknowledged_version", 0) < rules.get("required_version", 0):
        return RedirectResponse("/instructions?next=/", status_code=303)
    if isinstance(listing, GatewayRefused) and listing.status == 403:
        listing = {"items": []}  # someone who is given no jobs (an admin, an auditor)
    elif isinstance(listing, BaseException):
        raise listing
    items: list[dict[str, Any]] = listing["items"]
    day = plan_of_day(items, fmt, datetime.now(settings.zone).date())
    return page(
        request,
        "today.html",
        {"day": day, "nav": nav, "current": "today", "instructions_due": instructions_due},
    )
