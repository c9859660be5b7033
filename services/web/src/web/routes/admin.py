"""The admin's pages: people (invite, roles, areas, organisation, deactivate with a
confirmation), areas, organisations (DPA dates, the signed agreement, a warning as the
end nears), API clients and webhooks (each secret shown once, with a copy button; a
webhook's delivery log), and the tenant's second-factor policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.office import MAX_ID, SignedIn, as_file, gathered, gettext, in_words, items, office_page
from web.routes.board import dpa_state

router = APIRouter()

ROLES = ("admin", "dispatcher", "technician", "subcontractor_manager", "auditor", "dpo")
PARTNER_SCOPES = (
    "work_orders:read",
    "work_orders:write",
    "customers:read",
    "customers:write",
    "webhooks:manage",
)
WEBHOOK_EVENTS = (
    "*",
    "work_order.created",
    "work_order.scheduled",
    "work_order.assigned",
    "work_order.started",
    "work_order.completed",
    "work_order.cancelled",
    "work_order.updated",
)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


async def _chosen(request: Request, name: str) -> list[str]:
    return [v for v in (await request.form()).getlist(name) if isinstance(v, str) and v]


# --- people -------------------------------------------------------------------------


async def _people_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    people = await caller.api("GET", "/v1/users", params={"page_size": 200})
    areas, organisations = await gathered(
        caller.api("GET", "/v1/areas"),
        caller.api("GET", "/v1/organizations", params={"page_size": 200}),
    )
    return await office_page(
        request,
        caller,
        "office/people.html",
        {
            "people": items(people),
            "areas": items(areas),
            "area_names": {str(a["id"]): str(a["name"]) for a in items(areas)},
            "organisations": items(organisations),
            "org_names": {str(o["id"]): str(o["name"]) for o in items(organisations)},
            "roles": ROLES,
            "message": message,
            "error": error,
        },
        current="people",
        status_code=status_code,
    )


@router.get("/office/people")
async def people(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {
        "invited": _("Invitation sent."),
        "saved": _("Changes saved."),
        "deactivated": _("Deactivated. Their sessions have ended."),
    }.get(request.query_params.get("done", ""), "")
    return await _people_page(request, caller, message=done)


@router.post("/office/people")
async def invite(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    body: dict[str, Any] = {
        "email": (await form_text(request, "email", limit=320)).strip(),
        "name": (await form_text(request, "name", limit=200)).strip(),
        "roles": await _chosen(request, "roles"),
        "area_ids": await _chosen(request, "area_ids"),
    }
    organisation = await form_text(request, "organization_id", limit=MAX_ID)
    if organisation:
        body["organization_id"] = organisation
    try:
        await caller.api("POST", "/v1/users", json=body)
    except GatewayRefused as refused:
        return await _people_page(
            request, caller, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse("/office/people?done=invited", status_code=303)


@router.get("/office/people/{user_id}")
async def person(request: Request, user_id: str, caller: SignedIn) -> Response:
    return await _person_page(request, caller, user_id[:MAX_ID])


async def _person_page(
    request: Request, caller: Caller, user_id: str, *, error: str = "", status_code: int = 200
) -> Response:
    user = await caller.api("GET", f"/v1/users/{user_id}")
    areas, organisations = await gathered(
        caller.api("GET", "/v1/areas"),
        caller.api("GET", "/v1/organizations", params={"page_size": 200}),
    )
    return await office_page(
        request,
        caller,
        "office/person.html",
        {
            "user": user,
            "roles": ROLES,
            "areas": items(areas),
            "organisations": items(organisations),
            "error": error,
        },
        current="people",
        status_code=status_code,
    )


@router.post("/office/people/{user_id}")
async def change_person(
    request: Request, user_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    user_id = user_id[:MAX_ID]
    body = {
        "roles": await _chosen(request, "roles"),
        "area_ids": await _chosen(request, "area_ids"),
        "organization_id": await form_text(request, "organization_id", limit=MAX_ID),
    }
    etag = await form_text(request, "etag", limit=200)
    try:
        await caller.api("PATCH", f"/v1/users/{user_id}", json=body, if_match=etag or None)
    except GatewayRefused as refused:
        _ = gettext(request)
        words = in_words(request, refused)
        if refused.status == 412:
            words = _(
                "Someone else changed this person after you opened the page. Reload and try again."
            )
        return await _person_page(request, caller, user_id, error=words, status_code=refused.status)
    return RedirectResponse("/office/people?done=saved", status_code=303)


@router.post("/office/people/{user_id}/deactivate")
async def deactivate(
    request: Request, user_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    user_id = user_id[:MAX_ID]
    _ = gettext(request)
    if await form_text(request, "confirm", limit=10) != "yes":
        return await _person_page(
            request,
            caller,
            user_id,
            error=_("Tick the box to confirm the deactivation."),
            status_code=400,
        )
    etag = await form_text(request, "etag", limit=200)
    try:
        await caller.api("POST", f"/v1/users/{user_id}/deactivate", if_match=etag or None)
    except GatewayRefused as refused:
        return await _person_page(
            request, caller, user_id, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse("/office/people?done=deactivated", status_code=303)


# --- areas --------------------------------------------------------------------------


@router.get("/office/areas")
async def areas(request: Request, caller: SignedIn) -> Response:
    return await _areas_page(request, caller)


async def _areas_page(
    request: Request, caller: Caller, *, error: str = "", status_code: int = 200
) -> Response:
    listing = await caller.api("GET", "/v1/areas")
    return await office_page(
        request,
        caller,
        "office/areas.html",
        {"areas": items(listing), "error": error},
        current="areas",
        status_code=status_code,
    )


@router.post("/office/areas")
async def add_area(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    name = (await form_text(request, "name", limit=200)).strip()
    try:
        await caller.api("POST", "/v1/areas", json={"name": name})
    except GatewayRefused as refused:
        return await _areas_page(
            request, caller, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse("/office/areas", status_code=303)


# --- organisations ------------------------------------------------------------------


async def _organisations_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    listing = await caller.api("GET", "/v1/organizations", params={"page_size": 200})
    today = datetime.now(request.app.state.settings.zone).date()
    organisations = [{**o, "dpa": dpa_state(o, today)} for o in items(listing)]
    return await office_page(
        request,
        caller,
        "office/organisations.html",
        {"organisations": organisations, "message": message, "error": error},
        current="organisations",
        status_code=status_code,
    )


@router.get("/office/organisations")
async def organisations(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {"added": _("Organisation added with its agreement.")}.get(
        request.query_params.get("done", ""), ""
    )
    return await _organisations_page(request, caller, message=done)


@router.post("/office/organisations")
async def add_organisation(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    """A subcontractor with its DPA dates; the signed agreement is uploaded and linked."""
    body: dict[str, Any] = {"name": (await form_text(request, "name", limit=200)).strip()}
    for field in ("dpa_signed_on", "dpa_expires_on"):
        value = (await form_text(request, field, limit=10)).strip()
        if value:
            body[field] = value
    upload = (await request.form()).get("file")
    try:
        organisation = await caller.api("POST", "/v1/organizations", json=body)
        if upload is not None and not isinstance(upload, str) and upload.filename:
            content = await upload.read(MAX_UPLOAD_BYTES + 1)
            document = await caller.api(
                "POST",
                f"/v1/organizations/{organisation['id']}/dpa-documents",
                files={
                    "file": (upload.filename, content, upload.content_type or "application/pdf")
                },
            )
            await caller.api(
                "PATCH",
                f"/v1/organizations/{organisation['id']}",
                json={"dpa_document_id": document["id"]},
            )
    except GatewayRefused as refused:
        return await _organisations_page(
            request, caller, error=in_words(request, refused), status_code=refused.status
        )
    return RedirectResponse("/office/organisations?done=added", status_code=303)


@router.get("/office/dpa-documents/{document_id}")
async def download_dpa(request: Request, document_id: str, caller: SignedIn) -> Response:
    document = await caller.api(
        "GET", f"/v1/dpa-documents/{document_id[:MAX_ID]}/content", raw=True
    )
    return as_file(document, "agreement.pdf")


# --- API clients and webhooks: each secret shown once -------------------------------


async def _integrations_page(
    request: Request,
    caller: Caller,
    *,
    created_client: dict[str, Any] | None = None,
    created_webhook: dict[str, Any] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    clients = await caller.api("GET", "/v1/api-clients")
    (webhooks,) = await gathered(caller.api("GET", "/v1/webhooks"))
    return await office_page(
        request,
        caller,
        "office/integrations.html",
        {
            "clients": items(clients),
            "webhooks": items(webhooks),
            "scopes": PARTNER_SCOPES,
            "events": WEBHOOK_EVENTS,
            "created_client": created_client,
            "created_webhook": created_webhook,
            "error": error,
        },
        current="integrations",
        status_code=status_code,
    )


@router.get("/office/integrations")
async def integrations(request: Request, caller: SignedIn) -> Response:
    return await _integrations_page(request, caller)


@router.post("/office/api-clients")
async def add_api_client(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    body = {
        "name": (await form_text(request, "name", limit=200)).strip(),
        "scopes": await _chosen(request, "scopes"),
    }
    try:
        created = await caller.api("POST", "/v1/api-clients", json=body)
    except GatewayRefused as refused:
        return await _integrations_page(
            request, caller, error=in_words(request, refused), status_code=refused.status
        )
    # The answer of this post is the only place the secret is ever shown.
    return await _integrations_page(request, caller, created_client=created, status_code=201)


@router.post("/office/webhooks")
async def add_webhook(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    body = {
        "url": (await form_text(request, "url", limit=2048)).strip(),
        "events": await _chosen(request, "events"),
    }
    try:
        created = await caller.api("POST", "/v1/webhooks", json=body)
    except GatewayRefused as refused:
        return await _integrations_page(
            request, caller, error=in_words(request, refused), status_code=refused.status
        )
    return await _integrations_page(request, caller, created_webhook=created, status_code=201)


@router.get("/office/webhooks/{webhook_id}")
async def webhook_deliveries(request: Request, webhook_id: str, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {"enabled": _("Webhook re-enabled. New events are delivered again.")}.get(
        request.query_params.get("done", ""), ""
    )
    return await _webhook_page(request, caller, webhook_id[:MAX_ID], message=done)


async def _webhook_page(
    request: Request,
    caller: Caller,
    webhook_id: str,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    deliveries = await caller.api(
        "GET", f"/v1/webhooks/{webhook_id}/deliveries", params={"page_size": 100}
    )
    (hooks,) = await gathered(caller.api("GET", "/v1/webhooks"))
    hook = next((h for h in items(hooks) if h.get("id") == webhook_id), None)
    return await office_page(
        request,
        caller,
        "office/webhook.html",
        {"webhook": hook, "deliveries": items(deliveries), "message": message, "error": error},
        current="integrations",
        status_code=status_code,
    )


@router.post("/office/webhooks/{webhook_id}/enable")
async def enable_webhook(
    request: Request, webhook_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    webhook_id = webhook_id[:MAX_ID]
    try:
        await caller.api("POST", f"/v1/webhooks/{webhook_id}/enable")
    except GatewayRefused as refused:
        _ = gettext(request)
        why = {
            "webhook_client_revoked": _(
                "Its API client was revoked, so it stays off. Create a new webhook instead."
            ),
            "invalid_argument": _(
                "Its address is no longer accepted. Create a new webhook with another address."
            ),
        }.get(refused.code) or in_words(request, refused)
        return await _webhook_page(
            request, caller, webhook_id, error=why, status_code=refused.status
        )
    return RedirectResponse(f"/office/webhooks/{quote(webhook_id)}?done=enabled", status_code=303)


# --- the tenant's second-factor policy ----------------------------------------------


async def _security_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    policy = await caller.api("GET", "/v1/tenant/policy")
    return await office_page(
        request,
        caller,
        "office/security.html",
        {"policy": policy, "roles": ROLES, "message": message, "error": error},
        current="security",
        status_code=status_code,
    )


@router.get("/office/security")
async def security(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = _("Policy saved.") if request.query_params.get("done") == "saved" else ""
    return await _security_page(request, caller, message=done)


@router.post("/office/security")
async def set_policy(request: Request, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    body = {
        "mfa_required_roles": await _chosen(request, "roles"),
        "break_glass_step_up_required": await form_text(request, "step_up", limit=5) == "yes",
    }
    etag = await form_text(request, "etag", limit=200)
    try:
        await caller.api("PUT", "/v1/tenant/policy", json=body, if_match=etag or None)
    except GatewayRefused as refused:
        _ = gettext(request)
        words = in_words(request, refused)
        if refused.status == 412:
            words = _(
                "Someone else changed the policy after you opened the page. Reload and try again."
            )
        return await _security_page(request, caller, error=words, status_code=refused.status)
    return RedirectResponse("/office/security?done=saved", status_code=303)
