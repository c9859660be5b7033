"""GDPR reports in the office console, each printable: the record of processing
activities (admins, DPOs), a customer's access report (DPOs) and the access query —
who could and who did reveal a site's codes in a time range (auditors, DPOs).

The API builds and authorises every report; a page only lays it out. People are
shown by name where the reader may list people (admins), otherwise by short id, as
the audit trail shows them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.auth import Caller
from web.gateway import GatewayRefused
from web.office import (
    MAX_ID,
    SignedIn,
    form_moment,
    gathered,
    gettext,
    in_words,
    items,
    moment_from_form,
    office_page,
)

router = APIRouter()


async def _names(caller: Caller) -> dict[str, str]:
    """Names of people and organisations, for readers who may list them; else none."""
    people, organisations = await gathered(
        caller.api("GET", "/v1/users", params={"page_size": 200}),
        caller.api("GET", "/v1/organizations", params={"page_size": 200}),
    )
    return {str(x["id"]): str(x["name"]) for x in items(people) + items(organisations)}


@router.get("/office/records-of-processing")
async def records_of_processing(request: Request, caller: SignedIn) -> Response:
    record = await caller.api("GET", "/v1/records-of-processing")
    return await office_page(
        request,
        caller,
        "office/processing_record.html",
        {"record": record},
        current="processing",
    )


@router.get("/office/privacy/customers/{customer_id}/access-report")
async def access_report(request: Request, customer_id: str, caller: SignedIn) -> Response:
    customer_id = customer_id[:MAX_ID]
    report = await caller.api("GET", f"/v1/customers/{customer_id}/access-report")
    customer: dict[str, Any] | None = None
    if not report.get("customer_erased"):
        customer = await caller.api("GET", f"/v1/customers/{customer_id}")
    return await office_page(
        request,
        caller,
        "office/access_report.html",
        {"report": report, "customer": customer, "names": await _names(caller)},
        current="privacy",
    )


@router.get("/office/access-query")
async def access_query(request: Request, caller: SignedIn) -> Response:
    query = request.query_params
    site_id = query.get("site", "").strip()[:MAX_ID]
    start = moment_from_form(request, query.get("from", "")[:40])
    end = moment_from_form(request, query.get("to", "")[:40])
    answer: dict[str, Any] | None = None
    error = ""
    status_code = 200
    asked = bool(site_id or query.get("from") or query.get("to"))
    if asked:
        if not (site_id and start and end):
            error = "incomplete"
            status_code = 400
        else:
            try:
                answer = await caller.api(
                    "GET",
                    "/v1/access-query",
                    params={"site_id": site_id, "from": start, "to": end},
                )
            except GatewayRefused as refused:
                if refused.status not in (400, 404, 422):
                    raise
                error = in_words(request, refused)
                if refused.status == 400:
                    error = gettext(request)(
                        "The period must start before it ends (and span at most ten years)."
                    )
                status_code = refused.status
    return await office_page(
        request,
        caller,
        "office/access_query.html",
        {
            "site": site_id,
            "start": form_moment(request, start) if start else "",
            "end": form_moment(request, end) if end else "",
            "answer": answer,
            "error": error,
            "names": await _names(caller) if answer else {},
        },
        current="access",
        status_code=status_code,
    )
