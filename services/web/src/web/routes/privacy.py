"""The DPO's answers to a customer's request: find the customer, who accessed their
data, the export as a file, and erasure after a typed confirmation.

The typed confirmation (the customer's name) guards against a slip of the hand; the
API decides whether the erasure may happen and records it with its reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.office import (
    MAX_ID,
    SignedIn,
    as_file,
    customer_search,
    gathered,
    gettext,
    in_words,
    items,
    office_page,
)

router = APIRouter()


@router.get("/office/privacy")
async def find(request: Request, caller: SignedIn) -> Response:
    search = request.query_params.get("q", "").strip()[:320]
    found: list[dict[str, object]] = []
    if search:
        found = items(await caller.api("GET", "/v1/customers", params=customer_search(search)))
    return await office_page(
        request,
        caller,
        "office/privacy.html",
        {"search": search, "searched": bool(search), "customers": found},
        current="privacy",
    )


async def _request_page(
    request: Request,
    caller: Caller,
    customer_id: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    try:
        customer = await caller.api("GET", f"/v1/customers/{customer_id}")
    except GatewayRefused as refused:
        if refused.status != 410:
            raise
        return await office_page(
            request, caller, "office/erased.html", {}, current="privacy", status_code=410
        )
    accesses, people = await gathered(
        caller.api(
            "GET", "/v1/audit-events", params={"customer_id": customer_id, "page_size": 200}
        ),
        caller.api("GET", "/v1/users", params={"page_size": 200}),
    )
    return await office_page(
        request,
        caller,
        "office/data_request.html",
        {
            "customer": customer,
            "accesses": items(accesses),
            "names": {str(p["id"]): str(p["name"]) for p in items(people)},
            "error": error,
        },
        current="privacy",
        status_code=status_code,
    )


@router.get("/office/privacy/customers/{customer_id}")
async def data_request(request: Request, customer_id: str, caller: SignedIn) -> Response:
    return await _request_page(request, caller, customer_id[:MAX_ID])


@router.get("/office/privacy/customers/{customer_id}/export")
async def export(request: Request, customer_id: str, caller: SignedIn) -> Response:
    """The export document (codes by kind, without values) as a file to keep."""
    customer_id = customer_id[:MAX_ID]
    document = await caller.api("GET", f"/v1/customers/{customer_id}/export", raw=True)
    document.disposition = f'attachment; filename="customer-{customer_id}.json"'
    return as_file(document, f"customer-{customer_id}.json")


@router.post("/office/privacy/customers/{customer_id}/erase")
async def erase(
    request: Request, customer_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    customer_id = customer_id[:MAX_ID]
    typed = (await form_text(request, "confirm", limit=400)).strip()
    reason = (await form_text(request, "reason", limit=1000)).strip()
    etag = (await form_text(request, "etag", limit=200)).strip()
    customer = await caller.api("GET", f"/v1/customers/{customer_id}")
    _ = gettext(request)
    if typed != str(customer.get("name") or "").strip() or not reason:
        return await _request_page(
            request,
            caller,
            customer_id,
            error=_("Type the customer's name exactly, and say why, to erase."),
            status_code=400,
        )
    try:
        await caller.api(
            "POST",
            f"/v1/customers/{customer_id}/erase",
            json={"reason": reason},
            if_match=etag or None,
        )
    except GatewayRefused as refused:
        words = in_words(request, refused)
        if refused.status == 412:
            words = _(
                "The customer's data changed after you opened this page. Reload and look again."
            )
        return await _request_page(
            request, caller, customer_id, error=words, status_code=refused.status
        )
    return RedirectResponse(f"/office/privacy/customers/{customer_id}", status_code=303)
