"""What every office page shares: the signed-in caller, the wide layout, refusals in
words, the form's local times, and documents passed on as files.

The office pages are the same app as the field pages (same session, CSRF, headers and
catalogues); they only lay out wider. No rule is decided here: a page sends what the
person asked for and shows what the API answered.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from web.auth import Caller, signed_in
from web.gateway import Download, GatewayRefused
from web.i18n import Formatter, language_of, translations
from web.nav import navigation
from web.problems import explain
from web.rendering import page

SignedIn = Annotated[Caller, Depends(signed_in)]
#: An id in a path is an opaque token of this length at most.
MAX_ID = 64


def gettext(request: Request) -> Callable[[str], str]:
    return translations(language_of(request)).gettext


def formatter(request: Request) -> Formatter:
    return Formatter(language_of(request), request.app.state.settings.zone)


def in_words(request: Request, refusal: GatewayRefused) -> str:
    if refusal.code in ("validation_error", "invalid_argument"):
        # The field pages' only form of this kind is a password; here it is any field.
        _ = gettext(request)
        return _("Some of what you entered was not accepted. Check the fields and try again.")
    return explain(refusal, gettext(request), formatter(request).time)


async def office_page(
    request: Request,
    caller: Caller,
    template: str,
    context: dict[str, Any],
    *,
    current: str,
    status_code: int = 200,
) -> Response:
    nav = await navigation(caller)
    return page(
        request,
        template,
        {"nav": nav, "current": current, "wide": True, **context},
        status_code=status_code,
    )


def moment_from_form(request: Request, value: str) -> str | None:
    """A ``datetime-local`` field (the app's time zone) as RFC 3339, or None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=request.app.state.settings.zone)
    return local.isoformat()


def form_moment(request: Request, value: Any) -> str:
    """An API time as a ``datetime-local`` field's value, in the app's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


def as_file(download: Download, filename: str) -> Response:
    """A document for the browser to save; the API's own name when it gave one."""
    disposition = download.disposition or f'attachment; filename="{filename}"'
    return Response(
        content=download.content,
        media_type=download.content_type,
        headers={"Content-Disposition": disposition},
    )


#: What a phone number may be typed with (customer_vault normalises the rest).
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*")


def customer_search(search: str) -> dict[str, str]:
    """The customer search to ask for: an e-mail address, a phone number or a whole name.

    Each is an exact match in customer_vault (a keyed blind index, no plaintext),
    so the one box needs no choice of field: "@" means e-mail, digits mean phone.
    """
    if "@" in search:
        return {"email": search}
    if _PHONE_LIKE.fullmatch(search):
        return {"phone": search}
    return {"name": search}


def items(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        return list(answer.get("items") or [])
    return list(answer or [])


async def gathered(*calls: Any) -> list[Any]:
    """Answers of independent calls; a refusal becomes None (that part is left out)."""
    answers = await asyncio.gather(*calls, return_exceptions=True)
    for answer in answers:
        if isinstance(answer, BaseException) and not isinstance(answer, GatewayRefused):
            raise answer
    return [None if isinstance(a, GatewayRefused) else a for a in answers]
