"""Customers and sites for the office: find and add customers, their sites, contracts,
and a site's codes — by kind and when they last changed, set or replaced in a
write-only field. A dispatcher's break-glass reveal asks for a reason (and the second
factor when the tenant's policy says so) and says plainly that auditors are told.
"""

from __future__ import annotations

from typing import Any

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
from web.rendering import page
from web.views import CODE_KINDS

router = APIRouter()

#: The largest document the page passes on; the API has its own limit.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CUSTOMER_FIELDS = ("name", "email", "phone", "address", "notes", "area_id")
SITE_FIELDS = ("name", "address", "access_instructions", "area_id")


async def _customers_page(
    request: Request,
    caller: Caller,
    *,
    error: str = "",
    submitted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    search = request.query_params.get("q", "").strip()[:320]
    params: dict[str, Any] = {"page_size": 50}
    if search:
        params.update(customer_search(search))
    # The list is the page: a refusal is said as such (the global handler), not hidden.
    listing = await caller.api("GET", "/v1/customers", params=params)
    (areas,) = await gathered(caller.api("GET", "/v1/areas"))
    return await office_page(
        request,
        caller,
        "office/customers.html",
        {
            "customers": items(listing),
            "search": search,
            "areas": items(areas),
            "error": error,
            "submitted": submitted or {},
        },
        current="customers",
        status_code=status_code,
    )


@router.get("/office/customers")
async def customers(request: Request, caller: SignedIn) -> Response:
    return await _customers_page(request, caller)


async def _fields(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {name: (await form_text(request, name, limit=4000)).strip() for name in names}


@router.post("/office/customers")
async def add_customer(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    form = await _fields(request, CUSTOMER_FIELDS)
    body = {name: value for name, value in form.items() if value}
    try:
        customer = await caller.api("POST", "/v1/customers", json=body)
    except GatewayRefused as refused:
        return await _customers_page(
            request,
            caller,
            error=in_words(request, refused),
            submitted=form,
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/customers/{customer['id']}?done=added", status_code=303)


async def _customer_page(
    request: Request,
    caller: Caller,
    customer_id: str,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    try:
        customer = await caller.api("GET", f"/v1/customers/{customer_id}")
    except GatewayRefused as refused:
        if refused.status != 410:
            raise
        return await office_page(
            request, caller, "office/erased.html", {}, current="customers", status_code=410
        )
    sites, contracts, areas = await gathered(
        caller.api("GET", "/v1/sites", params={"customer_id": customer_id}),
        caller.api("GET", f"/v1/customers/{customer_id}/contracts"),
        caller.api("GET", "/v1/areas"),
    )
    return await office_page(
        request,
        caller,
        "office/customer.html",
        {
            "customer": customer,
            "sites": items(sites),
            "contracts": items(contracts),
            "areas": items(areas),
            "message": message,
            "error": error,
        },
        current="customers",
        status_code=status_code,
    )


@router.get("/office/customers/{customer_id}")
async def customer(request: Request, customer_id: str, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {
        "added": _("Customer added."),
        "uploaded": _("Contract uploaded."),
    }.get(request.query_params.get("done", ""), "")
    return await _customer_page(request, caller, customer_id[:MAX_ID], message=done)


@router.post("/office/customers/{customer_id}/sites")
async def add_site(
    request: Request, customer_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    customer_id = customer_id[:MAX_ID]
    form = await _fields(request, SITE_FIELDS)
    body = {"customer_id": customer_id, **{k: v for k, v in form.items() if v}}
    try:
        site = await caller.api("POST", "/v1/sites", json=body)
    except GatewayRefused as refused:
        return await _customer_page(
            request,
            caller,
            customer_id,
            error=in_words(request, refused),
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/sites/{site['id']}?done=added", status_code=303)


@router.post("/office/customers/{customer_id}/contracts")
async def upload_contract(
    request: Request, customer_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    customer_id = customer_id[:MAX_ID]
    upload = (await request.form()).get("file")
    _ = gettext(request)
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await _customer_page(
            request, caller, customer_id, error=_("Choose a file to upload."), status_code=400
        )
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        await caller.api(
            "POST",
            f"/v1/customers/{customer_id}/contracts",
            files={
                "file": (
                    upload.filename,
                    content,
                    upload.content_type or "application/octet-stream",
                )
            },
        )
    except GatewayRefused as refused:
        return await _customer_page(
            request,
            caller,
            customer_id,
            error=in_words(request, refused),
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/customers/{customer_id}?done=uploaded", status_code=303)


@router.get("/office/contracts/{contract_id}")
async def download_contract(request: Request, contract_id: str, caller: SignedIn) -> Response:
    document = await caller.api("GET", f"/v1/contracts/{contract_id[:MAX_ID]}/content", raw=True)
    return as_file(document, "contract")


async def _site_page(
    request: Request,
    caller: Caller,
    site_id: str,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    site = await caller.api("GET", f"/v1/sites/{site_id}")
    codes, people = await gathered(
        caller.api("GET", f"/v1/sites/{site_id}/secrets"),
        caller.api("GET", "/v1/users", params={"page_size": 200}),
    )
    names = {str(p["id"]): str(p["name"]) for p in items(people)}
    return await office_page(
        request,
        caller,
        "office/site.html",
        {
            "site": site,
            "codes": items(codes),
            "kinds": CODE_KINDS,
            "names": names,
            "message": message,
            "error": error,
        },
        current="customers",
        status_code=status_code,
    )


@router.get("/office/sites/{site_id}")
async def site(request: Request, site_id: str, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {"added": _("Site added."), "saved": _("Code saved.")}.get(
        request.query_params.get("done", ""), ""
    )
    return await _site_page(request, caller, site_id[:MAX_ID], message=done)


@router.post("/office/sites/{site_id}/codes")
async def set_code(
    request: Request, site_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    """Write-only: the value goes to the vault and is never shown back."""
    site_id = site_id[:MAX_ID]
    kind = await form_text(request, "kind", limit=40)
    value = (await form_text(request, "value", limit=200)).strip()
    _ = gettext(request)
    if kind not in CODE_KINDS or not value:
        return await _site_page(
            request,
            caller,
            site_id,
            error=_("Choose what kind of code it is and type the code."),
            status_code=400,
        )
    try:
        await caller.api("PUT", f"/v1/sites/{site_id}/secrets/{kind}", json={"value": value})
    except GatewayRefused as refused:
        return await _site_page(
            request, caller, site_id, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse(f"/office/sites/{site_id}?done=saved", status_code=303)


def _break_glass_refusal(request: Request, refusal: GatewayRefused) -> str:
    _ = gettext(request)
    if refusal.code == "step_up_required":
        return _("Your organisation asks for the code from your authenticator app. Enter it.")
    if refusal.code == "mfa_not_enrolled":
        return _(
            "Emergency access needs an authenticator app, and you have none. Set one up "
            "under Me first."
        )
    if refusal.code == "invalid_otp":
        return _("That code is not right or has expired. Try the newest code.")
    return in_words(request, refusal)


@router.post("/office/sites/{site_id}/break-glass")
async def break_glass(
    request: Request, site_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    site_id = site_id[:MAX_ID]
    kind = await form_text(request, "kind", limit=40)
    reason = (await form_text(request, "reason", limit=1000)).strip()
    otp = (await form_text(request, "otp", limit=16)).strip()
    _ = gettext(request)
    if kind not in CODE_KINDS or not reason:
        return await _site_page(
            request, caller, site_id, error=_("Say why you need the code."), status_code=400
        )
    body: dict[str, Any] = {"break_glass": True, "reason": reason}
    if otp:
        body["otp"] = otp
    try:
        revealed = await caller.api("POST", f"/v1/sites/{site_id}/secrets/{kind}/reveal", json=body)
    except GatewayRefused as refused:
        return await _site_page(
            request,
            caller,
            site_id,
            error=_break_glass_refusal(request, refused),
            status_code=refused.status,
        )
    settings = request.app.state.settings
    seconds = max(
        1, min(int(revealed.get("hide_after_seconds") or 30), settings.reveal_max_seconds)
    )
    # A page of its own (no-store like every page) that goes back to the site in time.
    return page(
        request,
        "office/revealed.html",
        {"site_id": site_id, "kind": kind, "value": revealed["value"], "seconds": seconds},
        headers={"Refresh": f"{seconds}; url=/office/sites/{site_id}"},
    )
