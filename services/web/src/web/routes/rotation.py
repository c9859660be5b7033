"""After someone leaves: the rotation tasks of the reader's areas (filter, close with a
reason), codes older than the tenant's policy allows, and the exposure report of a person
or an organisation.

Every rule is the API's: a dispatcher is shown the tasks of their own areas, admins and
auditors all of them; exposure reports are the admins' and auditors'.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.office import MAX_ID, SignedIn, gathered, gettext, in_words, items, office_page

router = APIRouter()

STATUSES = ("open", "closed")
MAX_REASON = 500
TASKS_SHOWN = 200


def _filters(request: Request) -> dict[str, str]:
    query = request.query_params
    filters = {name: query.get(name, "").strip()[:MAX_ID] for name in ("area", "site")}
    status = query.get("status", "open")
    filters["status"] = status if status in (*STATUSES, "") else "open"
    return filters


@router.get("/office/rotation-tasks")
async def rotation_tasks(request: Request, caller: SignedIn) -> Response:
    _ = gettext(request)
    done = {"closed": _("The task is closed.")}.get(request.query_params.get("done", ""), "")
    return await _tasks_page(request, caller, message=done)


async def _tasks_page(
    request: Request,
    caller: Caller,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    filters = _filters(request)
    params: dict[str, Any] = {"page_size": TASKS_SHOWN, "status": filters["status"]}
    if filters["area"]:
        params["area_id"] = filters["area"]
    if filters["site"]:
        params["site_id"] = filters["site"]
    tasks, areas = await gathered(
        caller.api("GET", "/v1/rotation-tasks", params=params),
        caller.api("GET", "/v1/areas"),
    )
    if tasks is None:
        # Refused: the API's own answer, in words.
        tasks = await caller.api("GET", "/v1/rotation-tasks", params=params)
    area_names = {area["id"]: area["name"] for area in items(areas)}
    return await office_page(
        request,
        caller,
        "office/rotation_tasks.html",
        {
            "tasks": items(tasks),
            "areas": items(areas),
            "area_names": area_names,
            "filters": filters,
            "statuses": STATUSES,
            "message": message,
            "error": error,
            "back": urlencode({k: v for k, v in filters.items() if v}),
        },
        current="rotation",
        status_code=status_code,
    )


@router.post("/office/rotation-tasks/{task_id}/close")
async def close_task(
    request: Request, task_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    _ = gettext(request)
    reason = (await form_text(request, "reason", limit=MAX_REASON)).strip()
    if len(reason) < 3:
        return await _tasks_page(
            request,
            caller,
            error=_("Say in a few words why the code needs no change."),
            status_code=400,
        )
    try:
        await caller.api(
            "POST", f"/v1/rotation-tasks/{task_id[:MAX_ID]}/close", json={"reason": reason}
        )
    except GatewayRefused as refused:
        words = in_words(request, refused)
        if refused.code == "task_closed":
            words = _("The task was closed already.")
        return await _tasks_page(request, caller, error=words, status_code=refused.status)
    back = (await form_text(request, "back", limit=300)).strip()
    query = f"{back}&done=closed" if back else "done=closed"
    return RedirectResponse(f"/office/rotation-tasks?{query}", status_code=303)


@router.get("/office/overdue-codes")
async def overdue_codes(request: Request, caller: SignedIn) -> Response:
    area = request.query_params.get("area", "").strip()[:MAX_ID]
    params = {"area_id": area} if area else {}
    overdue, policy, areas = await gathered(
        caller.api("GET", "/v1/secrets/overdue", params=params),
        caller.api("GET", "/v1/tenant/secret-age-policy"),
        caller.api("GET", "/v1/areas"),
    )
    if overdue is None:
        overdue = await caller.api("GET", "/v1/secrets/overdue", params=params)
    return await office_page(
        request,
        caller,
        "office/overdue_codes.html",
        {
            "codes": items(overdue),
            "policy": (policy or {}).get("max_age_days") or {},
            "areas": items(areas),
            "area_names": {a["id"]: a["name"] for a in items(areas)},
            "area": area,
        },
        current="overdue",
    )


@router.get("/office/exposure")
async def exposure(request: Request, caller: SignedIn) -> Response:
    query = request.query_params
    user = query.get("user", "").strip()[:MAX_ID]
    organisation = query.get("organisation", "").strip()[:MAX_ID]
    report: Any = None
    missing = False
    if user or organisation:
        path = (
            f"/v1/users/{user}/exposure" if user else f"/v1/organizations/{organisation}/exposure"
        )
        try:
            report = await caller.api("GET", path)
        except GatewayRefused as refused:
            if refused.status != 404:
                raise
            missing = True
    return await office_page(
        request,
        caller,
        "office/exposure.html",
        {"report": report, "missing": missing, "user": user, "organisation": organisation},
        current="rotation",
    )
