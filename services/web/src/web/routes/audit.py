"""The auditor's trail: events filtered by person, site, customer, outcome, break-glass
and time; the chain's verification; the security alerts the auditor was sent.

The API filters by person, site, customer and time; outcome and break-glass are
filtered on the page over what it answered (the newest ``EVENTS_SHOWN``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.office import MAX_ID, SignedIn, gathered, items, office_page

router = APIRouter()

EVENTS_SHOWN = 200
OUTCOMES = ("allowed", "denied", "success", "failure")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/audit")
async def alert_link() -> Response:
    """Where the security alerts' links (``/audit``) land."""
    return RedirectResponse("/office/audit", status_code=303)


@router.get("/office/audit")
async def audit(request: Request, caller: SignedIn) -> Response:
    query = request.query_params
    zone = request.app.state.settings.zone
    filters = {
        name: query.get(name, "").strip()[:MAX_ID]
        for name in ("person", "site", "customer", "outcome", "break_glass", "from", "until")
    }
    params: dict[str, Any] = {"page_size": EVENTS_SHOWN}
    for name, api_name in (
        ("person", "actor_id"),
        ("site", "site_id"),
        ("customer", "customer_id"),
    ):
        if filters[name]:
            params[api_name] = filters[name]
    since, until = _day(filters["from"]), _day(filters["until"])
    if since:
        params["since"] = datetime.combine(since, time(), zone).isoformat()
    if until:
        params["until"] = datetime.combine(until + timedelta(days=1), time(), zone).isoformat()
    events, verification, alerts = await gathered(
        caller.api("GET", "/v1/audit-events", params=params),
        caller.api("GET", "/v1/audit-events/verify"),
        caller.api("GET", "/v1/me/notifications", params={"page_size": 50}),
    )
    if events is None:
        # Refused: the API's own answer, in words.
        events = await caller.api("GET", "/v1/audit-events", params=params)
    shown = [
        event
        for event in items(events)
        if (not filters["outcome"] or event.get("outcome") == filters["outcome"])
        and (filters["break_glass"] != "yes" or event.get("break_glass"))
    ]
    outcomes = sorted({str(e.get("outcome")) for e in items(events)} | set(OUTCOMES))
    return await office_page(
        request,
        caller,
        "office/audit.html",
        {
            "events": shown,
            "filters": filters,
            "outcomes": outcomes,
            "verification": verification,
            "alerts": [a for a in items(alerts) if str(a.get("type", "")).startswith("security.")],
        },
        current="audit",
    )
