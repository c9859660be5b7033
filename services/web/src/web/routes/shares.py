"""The sender's secure shares: share a contract, a DPA document or a one-off credential
with an external recipient (link by e-mail, PIN by SMS), see what became of each, revoke.

Who may share what is the API's to decide (admins and DPOs share documents; only
admins share a credential); the page sends what was typed and explains refusals.
Nothing the page shows holds the link, the PIN or the recipient's address: the API
never answers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.office import MAX_ID, SignedIn, formatter, gettext, in_words, items, office_page

router = APIRouter()

KINDS = ("contract", "dpa_document", "credential")


async def _page(
    request: Request,
    caller: Caller,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    message: str = "",
    status_code: int = 200,
) -> Response:
    shares = items(await caller.api("GET", "/v1/shares"))
    when = formatter(request)
    for share in shares:
        expires = share.get("expires_at")
        share["expires_text"] = (
            when.day_and_time(datetime.fromisoformat(str(expires).replace("Z", "+00:00")))
            if expires
            else ""
        )
    prefill = {
        "kind": request.query_params.get("kind", "contract")[:20],
        "document_id": request.query_params.get("document_id", "")[:MAX_ID],
    }
    return await office_page(
        request,
        caller,
        "office/shares.html",
        {
            "shares": shares,
            "form": form or prefill,
            "kinds": KINDS,
            "error": error,
            "message": message,
        },
        current="shares",
        status_code=status_code,
    )


@router.get("/office/shares")
async def list_shares(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    message = (
        _("Shared. The link is on its way by e-mail and the PIN by SMS.")
        if (request.query_params.get("shared"))
        else ""
    )
    return await _page(request, caller, message=message)


@router.post("/office/shares")
async def create_share(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    kind = (await form_text(request, "kind", limit=20)).strip()
    form = {
        "kind": kind,
        "document_id": (await form_text(request, "document_id", limit=MAX_ID)).strip(),
        "recipient_email": (await form_text(request, "recipient_email", limit=320)).strip(),
        "recipient_phone": (await form_text(request, "recipient_phone", limit=64)).strip(),
        "expires_in_hours": (await form_text(request, "expires_in_hours", limit=6)).strip(),
        "label": (await form_text(request, "label", limit=100)).strip(),
    }
    credential = await form_text(request, "credential", limit=2000)
    body: dict[str, Any] = {
        "kind": kind if kind in KINDS else "contract",
        "recipient_email": form["recipient_email"],
        "recipient_phone": form["recipient_phone"],
    }
    if kind == "credential":
        body["credential"] = credential
    else:
        body["document_id"] = form["document_id"]
    if form["expires_in_hours"].isdigit():
        body["expires_in_hours"] = int(form["expires_in_hours"])
    if form["label"]:
        body["label"] = form["label"]
    try:
        await caller.api("POST", "/v1/shares", json=body)
    except GatewayRefused as refused:
        _ = gettext(request)
        words = in_words(request, refused)
        if refused.code in ("invalid_argument", "validation_error") and refused.detail:
            # customer_vault names the field (never echoes a value).
            words = _("Not accepted: %(detail)s") % {"detail": refused.detail[:200]}
        return await _page(request, caller, form=form, error=words, status_code=refused.status)
    return RedirectResponse("/office/shares?shared=1", status_code=303)


@router.post("/office/shares/{share_id}/revoke")
async def revoke_share(
    request: Request, share_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    await caller.api("POST", f"/v1/shares/{share_id[:MAX_ID]}/revoke")
    return RedirectResponse("/office/shares", status_code=303)
