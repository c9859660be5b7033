"""The dispatcher's work-order board: filter, search by reference, file, edit (412 said
in words, never overwritten), assign, reschedule, cancel.

A subcontractor's manager uses the same board for their organisation's jobs and assigns
them to their own technicians; what each may do is the API's to decide.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.office import (
    MAX_ID,
    SignedIn,
    customer_search,
    form_moment,
    formatter,
    gathered,
    gettext,
    in_words,
    items,
    moment_from_form,
    office_page,
)
from web.views import JobCard, reference

router = APIRouter()

STATUSES = ("new", "scheduled", "assigned", "in_progress", "completed", "cancelled")
PRIORITIES = ("low", "normal", "high", "urgent")
#: A DPA this close to its end is shown with a warning.
DPA_WARNING_DAYS = 30


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/office/work-orders")
async def board(request: Request, caller: SignedIn) -> Response:
    query = request.query_params
    zone = request.app.state.settings.zone
    filters = {name: query.get(name, "")[:MAX_ID] for name in ("status", "area", "assignee")}
    wanted_reference = query.get("reference", "").strip()[:40]
    since, until = _day(query.get("from", "")), _day(query.get("until", ""))
    params: dict[str, Any] = {"page_size": 100}
    if filters["status"] in STATUSES:
        params["status"] = filters["status"]
    if filters["area"]:
        params["area_id"] = filters["area"]
    if filters["assignee"]:
        params["assignee_id"] = filters["assignee"]
    if since:
        params["scheduled_from"] = datetime.combine(since, time(), zone).isoformat()
    if until:
        params["scheduled_until"] = datetime.combine(
            until + timedelta(days=1), time(), zone
        ).isoformat()
    if wanted_reference:
        # Where the API knows references it filters; the page filters too.
        params["reference"] = wanted_reference
    listing, areas, people, organisations = await gathered(
        caller.api("GET", "/v1/work-orders", params=params),
        caller.api("GET", "/v1/areas"),
        caller.api("GET", "/v1/users", params={"page_size": 200}),
        caller.api("GET", "/v1/organizations", params={"page_size": 200}),
    )
    if listing is None:
        # Refused: the API's words (a manager's board is their organisation's jobs).
        listing = await caller.api("GET", "/v1/me/work-orders", params={"page_size": 100})
    fmt = formatter(request)
    names = {str(p["id"]): str(p["name"]) for p in items(people)}
    names.update({str(o["id"]): str(o["name"]) for o in items(organisations)})
    rows = []
    for order in items(listing):
        ref = reference(order)
        if wanted_reference and wanted_reference.upper().removeprefix("WO-") not in ref.upper():
            continue
        assignee = order.get("assignee_user_id") or order.get("assignee_organization_id") or ""
        rows.append(
            {
                "card": JobCard.of(order, fmt),
                "reference": ref,
                "assignee": names.get(str(assignee), "") if assignee else "",
            }
        )
    technicians = [p for p in items(people) if "technician" in (p.get("roles") or [])]
    return await office_page(
        request,
        caller,
        "office/board.html",
        {
            "rows": rows,
            "filters": {**filters, "reference": wanted_reference},
            "since": query.get("from", "")[:10],
            "until": query.get("until", "")[:10],
            "statuses": STATUSES,
            "areas": items(areas),
            "assignees": technicians
            + [o for o in items(organisations) if o.get("kind") == "subcontractor"],
        },
        current="board",
    )


async def _customer_choices(caller: Caller, search: str) -> list[dict[str, Any]]:
    """Customers found by the API's search: an e-mail, a phone number or a name, exactly."""
    if not search:
        return []
    found = await caller.api(
        "GET", "/v1/customers", params={**customer_search(search), "page_size": 20}
    )
    return items(found)


@router.get("/office/work-orders/new")
async def new_order(request: Request, caller: SignedIn) -> Response:
    return await _new_order_page(request, caller)


async def _new_order_page(
    request: Request,
    caller: Caller,
    *,
    error: str = "",
    submitted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    query = request.query_params
    search = query.get("q", "").strip()[:320]
    customer_id = (submitted or {}).get("customer_id") or query.get("customer", "")[:MAX_ID]
    customers = await _customer_choices(caller, search)
    customer: dict[str, Any] | None = None
    sites: list[dict[str, Any]] = []
    if customer_id:
        customer, site_list = await gathered(
            caller.api("GET", f"/v1/customers/{customer_id}"),
            caller.api("GET", "/v1/sites", params={"customer_id": customer_id}),
        )
        sites = items(site_list)
    return await office_page(
        request,
        caller,
        "office/work_order_new.html",
        {
            "search": search,
            "searched": bool(search),
            "customers": customers,
            "customer": customer,
            "sites": sites,
            "priorities": PRIORITIES,
            "error": error,
            "submitted": submitted or {},
        },
        current="board",
        status_code=status_code,
    )


@router.post("/office/work-orders")
async def file_order(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    form = {
        name: (await form_text(request, name, limit=4000)).strip()
        for name in ("customer_id", "site_id", "title", "description", "priority", "start", "end")
    }
    body: dict[str, Any] = {
        "site_id": form["site_id"],
        "title": form["title"],
        "priority": form["priority"] if form["priority"] in PRIORITIES else "normal",
    }
    if form["description"]:
        body["description"] = form["description"]
    for field, name in (("scheduled_start", "start"), ("scheduled_end", "end")):
        moment = moment_from_form(request, form[name])
        if moment:
            body[field] = moment
    _ = gettext(request)
    if not form["site_id"] or not form["title"]:
        return await _new_order_page(
            request,
            caller,
            error=_("Choose a site and give the work order a title."),
            submitted=form,
            status_code=400,
        )
    try:
        order = await caller.api("POST", "/v1/work-orders", json=body)
    except GatewayRefused as refused:
        return await _new_order_page(
            request,
            caller,
            error=in_words(request, refused),
            submitted=form,
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/work-orders/{order['id']}?done=filed", status_code=303)


def dpa_state(organisation: dict[str, Any], today: date) -> str:
    """``active``, ``expiring`` (within DPA_WARNING_DAYS), or ``inactive``: what the API said."""
    if not organisation.get("dpa_active"):
        return "inactive"
    expires = _day(str(organisation.get("dpa_expires_on") or ""))
    if expires and expires - today <= timedelta(days=DPA_WARNING_DAYS):
        return "expiring"
    return "active"


async def _order_page(
    request: Request,
    caller: Caller,
    order_id: str,
    *,
    message: str = "",
    error: str = "",
    stale: bool = False,
    submitted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    order = await caller.api("GET", f"/v1/work-orders/{order_id}")
    site, people, organisations, history = await gathered(
        caller.api("GET", f"/v1/sites/{order['site_id']}"),
        caller.api("GET", "/v1/users", params={"page_size": 200}),
        caller.api("GET", "/v1/organizations", params={"page_size": 200}),
        caller.api("GET", f"/v1/work-orders/{order_id}/history"),
    )
    today = datetime.now(request.app.state.settings.zone).date()
    area = str(order.get("area_id") or "")
    contractor = str(order.get("assignee_organization_id") or "")
    # The picker offers the technicians of the site's area (a subcontractor's manager:
    # their own people); the API decides in the end.
    technicians = [
        p
        for p in items(people)
        if "technician" in (p.get("roles") or [])
        and p.get("status") == "active"
        and (
            area in (p.get("area_ids") or [])
            or (contractor and p.get("organization_id") == contractor)
        )
    ]
    subcontractors = [
        {**o, "dpa": dpa_state(o, today)}
        for o in items(organisations)
        if o.get("kind") == "subcontractor"
    ]
    names = {str(p["id"]): str(p["name"]) for p in items(people)}
    names.update({str(o["id"]): str(o["name"]) for o in items(organisations)})
    fmt = formatter(request)
    values = submitted or {
        "title": str(order.get("title") or ""),
        "description": str(order.get("description") or ""),
        "priority": str(order.get("priority") or "normal"),
        "start": form_moment(request, order.get("scheduled_start")),
        "end": form_moment(request, order.get("scheduled_end")),
    }
    return await office_page(
        request,
        caller,
        "office/work_order.html",
        {
            "order": order,
            "card": JobCard.of({**order, "site": site}, fmt),
            "reference": reference(order),
            "site": site,
            "values": values,
            "priorities": PRIORITIES,
            "technicians": technicians,
            "subcontractors": subcontractors,
            "assignee": _assignee_label(request, order, names),
            "history": items(history),
            "names": names,
            "open": order.get("status") not in ("completed", "cancelled"),
            "message": message,
            "error": error,
            "stale": stale,
        },
        current="board",
        status_code=status_code,
    )


def _assignee_label(request: Request, order: dict[str, Any], names: dict[str, str]) -> str:
    """Who does the job, by name where the reader may list people and organisations."""
    _ = gettext(request)
    person = str(order.get("assignee_user_id") or "")
    organisation = str(order.get("assignee_organization_id") or "")
    if person:
        return names.get(person) or _("A technician")
    if organisation:
        return names.get(organisation) or _("A subcontractor")
    return ""


@router.get("/office/work-orders/{order_id}")
async def work_order(request: Request, order_id: str, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {
        "filed": _("Work order filed."),
        "saved": _("Changes saved."),
        "assigned": _("Assigned."),
        "cancelled": _("Work order cancelled."),
    }.get(request.query_params.get("done", ""), "")
    return await _order_page(request, caller, order_id[:MAX_ID], message=done)


@router.post("/office/work-orders/{order_id}/edit")
async def edit_order(
    request: Request, order_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    order_id = order_id[:MAX_ID]
    form = {
        name: (await form_text(request, name, limit=4000)).strip()
        for name in ("etag", "title", "description", "priority", "start", "end")
    }
    body: dict[str, Any] = {"title": form["title"], "description": form["description"]}
    if form["priority"] in PRIORITIES:
        body["priority"] = form["priority"]
    start, end = moment_from_form(request, form["start"]), moment_from_form(request, form["end"])
    if start:
        body["scheduled_start"] = start
    if end:
        body["scheduled_end"] = end
    try:
        await caller.api(
            "PATCH", f"/v1/work-orders/{order_id}", json=body, if_match=form["etag"] or None
        )
    except GatewayRefused as refused:
        _ = gettext(request)
        stale = refused.status == 412
        words = (
            _(
                "Someone else changed this work order after you opened it. Nothing was "
                "saved. Reload to see their changes, then make yours again."
            )
            if stale
            else in_words(request, refused)
        )
        return await _order_page(
            request,
            caller,
            order_id,
            error=words,
            stale=stale,
            submitted=form,
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/work-orders/{order_id}?done=saved", status_code=303)


@router.post("/office/work-orders/{order_id}/assign")
async def assign(request: Request, order_id: str, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    order_id = order_id[:MAX_ID]
    choice = await form_text(request, "assignee", limit=80)
    kind, _sep, chosen = choice.partition(":")
    body = {"organization_id": chosen} if kind == "org" else {"assignee_user_id": chosen}
    _ = gettext(request)
    if not chosen:
        return await _order_page(
            request, caller, order_id, error=_("Choose who does the job."), status_code=400
        )
    try:
        await caller.api("POST", f"/v1/work-orders/{order_id}/assign", json=body)
    except GatewayRefused as refused:
        return await _order_page(
            request,
            caller,
            order_id,
            error=in_words(request, refused),
            status_code=refused.status,
        )
    return RedirectResponse(f"/office/work-orders/{order_id}?done=assigned", status_code=303)


@router.post("/office/work-orders/{order_id}/cancel")
async def cancel(request: Request, order_id: str, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    order_id = order_id[:MAX_ID]
    why = (await form_text(request, "reason", limit=1000)).strip()
    _ = gettext(request)
    if not why:
        return await _order_page(
            request,
            caller,
            order_id,
            error=_("Say why the work order is cancelled."),
            status_code=400,
        )
    try:
        await caller.api("POST", f"/v1/work-orders/{order_id}/cancel", json={"reason": why})
    except GatewayRefused as refused:
        return await _order_page(
            request, caller, order_id, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse(f"/office/work-orders/{order_id}?done=cancelled", status_code=303)
