"""Physical keys: the technician's "my keys" (and handing one back), and the office's
register of a site's keys — register one and print its tag, hand it out, take it back,
mark it lost — and the look-up of a found key's tag.

The API decides who may do what (a key goes only to a technician with a job at its
site; a tag names its site only to the area's dispatchers and admins); the pages say
its answers in words. A tag code is typed into a form that is posted, never put in a
URL, so it stays out of access logs and browser history.
"""

from __future__ import annotations

import asyncio
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.nav import navigation
from web.office import MAX_ID, SignedIn, gathered, gettext, in_words, items, office_page
from web.rendering import page

router = APIRouter()

KINDS = ("key", "fob", "card")
NO_STORE = {"Cache-Control": "no-store"}


def _refusal(request: Request, refused: GatewayRefused) -> str:
    _ = gettext(request)
    if refused.code == "no_active_grant":
        return _(
            "That technician has no job at this site right now, so the key cannot be "
            "handed to them."
        )
    if refused.code == "key_out":
        return _("The key is out with someone else. Take it back first.")
    if refused.code == "key_lost":
        return _("The key is marked lost. Take it back in when it is found.")
    return in_words(request, refused)


# --- the field app -----------------------------------------------------------------


async def _my_keys_page(
    request: Request, caller: Caller, *, message: str = "", error: str = "", status: int = 200
) -> Response:
    listing, nav = await asyncio.gather(caller.api("GET", "/v1/me/keys"), navigation(caller))
    return page(
        request,
        "keys.html",
        {
            "keys": items(listing),
            "nav": nav,
            "current": "keys",
            "message": message,
            "error": error,
        },
        status_code=status,
    )


@router.get("/keys")
async def my_keys(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {"returned": _("Key handed back.")}.get(request.query_params.get("done", ""), "")
    return await _my_keys_page(request, caller, message=done)


@router.post("/keys/{key_id}/check-in")
async def hand_back(
    request: Request, key_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    try:
        await caller.api("POST", f"/v1/keys/{key_id[:MAX_ID]}/check-in")
    except GatewayRefused as refused:
        return await _my_keys_page(
            request, caller, error=_refusal(request, refused), status=refused.status
        )
    return RedirectResponse("/keys?done=returned", status_code=303)


# --- the office --------------------------------------------------------------------


async def _site_keys_page(
    request: Request,
    caller: Caller,
    site_id: str,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    site = await caller.api("GET", f"/v1/sites/{site_id}")
    keys = await caller.api("GET", f"/v1/sites/{site_id}/keys")
    (people,) = await gathered(caller.api("GET", "/v1/users", params={"page_size": 200}))
    everyone = items(people)
    names = {str(p["id"]): str(p["name"]) for p in everyone}
    technicians = [p for p in everyone if "technician" in (p.get("roles") or ())]
    return await office_page(
        request,
        caller,
        "office/keys.html",
        {
            "site": site,
            "keys": items(keys),
            "kinds": KINDS,
            "names": names,
            "technicians": technicians,
            "message": message,
            "error": error,
        },
        current="customers",
        status_code=status_code,
    )


@router.get("/office/sites/{site_id}/keys")
async def site_keys(request: Request, site_id: str, caller: SignedIn) -> Response:
    _ = gettext(request)
    message = {
        "out": _("Key handed out."),
        "in": _("Key taken back."),
        "lost": _("Key marked lost. A task to change the lock was opened."),
    }.get(request.query_params.get("done", ""), "")
    return await _site_keys_page(request, caller, site_id[:MAX_ID], message=message)


@router.post("/office/sites/{site_id}/keys")
async def register_key(
    request: Request, site_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    site_id = site_id[:MAX_ID]
    kind = await form_text(request, "kind", limit=10)
    label = (await form_text(request, "label", limit=200)).strip()
    _ = gettext(request)
    if kind not in KINDS:
        return await _site_keys_page(
            request, caller, site_id, error=_("Choose a key, fob or card."), status_code=400
        )
    body: dict[str, Any] = {"kind": kind}
    if label:
        body["label"] = label
    try:
        registered = await caller.api("POST", f"/v1/sites/{site_id}/keys", json=body)
    except GatewayRefused as refused:
        return await _site_keys_page(
            request, caller, site_id, error=in_words(request, refused), status_code=refused.status
        )
    tag_code = str(registered["tag_code"])
    # The QR holds the tag code alone: no address, no customer, no link.
    qr = segno.make(tag_code, error="q")
    return await office_page(
        request,
        caller,
        "office/key_registered.html",
        {
            "site_id": site_id,
            "key": registered["key"],
            "tag_code": tag_code,
            "qr_svg": qr.svg_inline(scale=6, border=2, dark="#000", light="#fff", omitsize=True),
        },
        current="customers",
    )


async def _key_action(
    request: Request, caller: Caller, key_id: str, action: str, done: str
) -> Response:
    site_id = (await form_text(request, "site_id", limit=MAX_ID)).strip()
    body: dict[str, Any] | None = None
    if action == "check-out":
        user_id = (await form_text(request, "user_id", limit=MAX_ID)).strip()
        if not user_id:
            _ = gettext(request)
            return await _site_keys_page(
                request, caller, site_id, error=_("Choose who takes the key."), status_code=400
            )
        body = {"user_id": user_id}
    try:
        await caller.api("POST", f"/v1/keys/{key_id[:MAX_ID]}/{action}", json=body)
    except GatewayRefused as refused:
        return await _site_keys_page(
            request,
            caller,
            site_id,
            error=_refusal(request, refused),
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/sites/{site_id}/keys?done={done}", status_code=303)


@router.post("/office/keys/{key_id}/check-out")
async def hand_out(request: Request, key_id: str, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    return await _key_action(request, caller, key_id, "check-out", "out")


@router.post("/office/keys/{key_id}/check-in")
async def take_back(
    request: Request, key_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    return await _key_action(request, caller, key_id, "check-in", "in")


@router.post("/office/keys/{key_id}/lost")
async def mark_lost(
    request: Request, key_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    return await _key_action(request, caller, key_id, "lost", "lost")


@router.get("/office/keys")
async def find_form(request: Request, caller: SignedIn) -> Response:
    return await office_page(
        request, caller, "office/key_find.html", {"found": None, "error": ""}, current="keys"
    )


@router.post("/office/keys")
async def find(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    tag = (await form_text(request, "tag", limit=40)).strip()
    _ = gettext(request)
    found: Any = None
    error = ""
    status = 200
    if not tag:
        error, status = _("Type the code on the tag."), 400
    else:
        try:
            found = await caller.api("GET", "/v1/keys", params={"tag": tag})
        except GatewayRefused as refused:
            status = refused.status
            if refused.status == 404:
                error = _("No key with that code that you may see.")
            elif refused.status in (400, 422):
                error = _("A tag code is 16 letters and digits, like 7K3M-QX9P-2D4F-HR8T.")
            else:
                error = in_words(request, refused)
    return await office_page(
        request,
        caller,
        "office/key_find.html",
        {"found": found, "error": error},
        current="keys",
        status_code=status,
    )
