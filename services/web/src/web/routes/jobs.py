"""One job: details, access instructions, its codes by name, and what the technician does.

Show posts a reveal. With the page's script (``fetch`` with ``Accept:
application/json``) the answer is JSON that lives only in the page's memory and
DOM for the countdown; without it the answer is a page of its own (``no-store``,
with a ``Refresh`` back to the job when the countdown ends). Either way the value
never appears in the job page's HTML, a URL, a cookie or storage.

Recording a code is write-only: the confirmation says "saved", never the value.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web.auth import Caller, signed_in
from web.forms import CsrfChecked, form_text
from web.gateway import GatewayRefused
from web.i18n import Formatter, language_of, translations
from web.nav import navigation
from web.problems import explain
from web.rendering import page
from web.views import CODE_KINDS, JobCard, moment

router = APIRouter()

SignedIn = Annotated[Caller, Depends(signed_in)]
#: A job id or a code kind in a path is an opaque token of this shape at most.
_MAX_ID = 64


def _explain(request: Request, refusal: GatewayRefused) -> str:
    language = language_of(request)
    fmt = Formatter(language, request.app.state.settings.zone)
    return explain(refusal, translations(language).gettext, fmt.time)


async def _site_and_codes(caller: Caller, site_id: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The site (with access instructions) and the names of its stored codes, when visible."""
    if not site_id:
        return None, []
    site_call = caller.api("GET", f"/v1/sites/{site_id}")
    codes_call = caller.api("GET", f"/v1/sites/{site_id}/secrets")
    site: Any
    codes: Any
    site, codes = await asyncio.gather(site_call, codes_call, return_exceptions=True)
    for outcome in (site, codes):
        if isinstance(outcome, BaseException) and not isinstance(outcome, GatewayRefused):
            raise outcome
    site_view = site if isinstance(site, dict) else None
    stored: list[str] = []
    if isinstance(codes, list):
        stored = [str(c["kind"]) for c in codes]
    elif isinstance(codes, dict):
        stored = [str(c["kind"]) for c in codes.get("items", [])]
    return site_view, [kind for kind in CODE_KINDS if kind in stored]


async def _job_page(
    request: Request,
    caller: Caller,
    job_id: str,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    fmt = Formatter(language_of(request), settings.zone)
    try:
        order, nav = await asyncio.gather(
            caller.api("GET", f"/v1/work-orders/{job_id}"), navigation(caller)
        )
    except GatewayRefused as refused:
        return page(
            request,
            "message.html",
            {"message": _explain(request, refused), "nav": None},
            status_code=404 if refused.status in (403, 404) else refused.status,
        )
    site, codes = await _site_and_codes(caller, str(order.get("site_id") or ""))
    order = {**order, "site": site}
    return page(
        request,
        "job.html",
        {
            "job": JobCard.of(order, fmt),
            "description": order.get("description") or "",
            "notes": order.get("completion_notes") or "",
            "access_instructions": (site or {}).get("access_instructions") or "",
            "codes": codes,
            "kinds": CODE_KINDS,
            "completed_at": moment(order.get("updated_at"))
            if order.get("status") == "completed"
            else None,
            "message": message,
            "error": error,
            "nav": nav,
            "current": "today",
        },
        status_code=status_code,
    )


@router.get("/work-orders/{job_id}")
async def work_order_link(job_id: str) -> Response:
    """Where the inbox's and e-mails' links (``/work-orders/<id>``) land."""
    return RedirectResponse(f"/jobs/{job_id[:_MAX_ID]}", status_code=303)


@router.get("/jobs/{job_id}")
async def job(request: Request, job_id: str, caller: SignedIn) -> Response:
    _ = translations(language_of(request)).gettext
    done = {
        "start": _("Job started."),
        "complete": _("Job completed."),
        "saved": _("Code saved."),
    }.get(request.query_params.get("done", ""), "")
    return await _job_page(request, caller, job_id[:_MAX_ID], message=done)


async def _transition(
    request: Request, caller: Caller, job_id: str, action: str, body: dict[str, Any]
) -> Response:
    try:
        await caller.api("POST", f"/v1/work-orders/{job_id}/{action}", json=body)
    except GatewayRefused as refused:
        return await _job_page(
            request, caller, job_id, error=_explain(request, refused), status_code=refused.status
        )
    return RedirectResponse(f"/jobs/{job_id}?done={action}", status_code=303)


@router.post("/jobs/{job_id}/start")
async def start(request: Request, job_id: str, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    return await _transition(request, caller, job_id[:_MAX_ID], "start", {})


@router.post("/jobs/{job_id}/complete")
async def complete(request: Request, job_id: str, caller: SignedIn, _csrf: CsrfChecked) -> Response:
    notes = (await form_text(request, "notes", limit=4000)).strip()
    return await _transition(
        request, caller, job_id[:_MAX_ID], "complete", {"notes": notes} if notes else {}
    )


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/jobs/{job_id}/codes/{kind}/reveal")
async def reveal(
    request: Request, job_id: str, kind: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    job_id = job_id[:_MAX_ID]
    if kind not in CODE_KINDS:
        return JSONResponse({"error": "unknown code"}, status_code=404)
    order: dict[str, Any] = {}
    try:
        order = await caller.api("GET", f"/v1/work-orders/{job_id}")
        revealed = await caller.api(
            "POST", f"/v1/sites/{order['site_id']}/secrets/{kind}/reveal", json={}
        )
    except GatewayRefused as refused:
        why = _explain(request, refused)
        if refused.code == "no_active_grant" and order.get("status") in ("completed", "cancelled"):
            _ = translations(language_of(request)).gettext
            why = _("This job is finished, so its codes are closed.")
        if _wants_json(request):
            return JSONResponse({"error": why}, status_code=refused.status)
        return await _job_page(request, caller, job_id, error=why, status_code=refused.status)
    settings = request.app.state.settings
    seconds = max(
        1, min(int(revealed.get("hide_after_seconds") or 30), settings.reveal_max_seconds)
    )
    if _wants_json(request):
        return JSONResponse({"value": revealed["value"], "hide_after_seconds": seconds})
    # Without the script: a page of its own that goes back to the job when time is up.
    return page(
        request,
        "reveal.html",
        {"job_id": job_id, "kind": kind, "value": revealed["value"], "seconds": seconds},
        headers={"Refresh": f"{seconds}; url=/jobs/{job_id}"},
    )


@router.post("/jobs/{job_id}/codes")
async def record_code(
    request: Request, job_id: str, caller: SignedIn, _csrf: CsrfChecked
) -> Response:
    """A code learned on site goes straight into the vault; it is never shown back."""
    job_id = job_id[:_MAX_ID]
    kind = await form_text(request, "kind", limit=40)
    value = (await form_text(request, "value", limit=200)).strip()
    _ = translations(language_of(request)).gettext
    if kind not in CODE_KINDS or not value:
        return await _job_page(
            request,
            caller,
            job_id,
            error=_("Choose what kind of code it is and type the code."),
            status_code=400,
        )
    try:
        order = await caller.api("GET", f"/v1/work-orders/{job_id}")
        await caller.api(
            "PUT", f"/v1/sites/{order['site_id']}/secrets/{kind}", json={"value": value}
        )
    except GatewayRefused as refused:
        return await _job_page(
            request, caller, job_id, error=_explain(request, refused), status_code=refused.status
        )
    return RedirectResponse(f"/jobs/{job_id}?done=saved", status_code=303)
