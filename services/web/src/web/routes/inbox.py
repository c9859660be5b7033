"""The inbox: messages about my jobs, newest first; mark one as read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from web.auth import Caller, signed_in
from web.forms import CsrfChecked
from web.nav import forget_unread, navigation
from web.rendering import page
from web.views import moment

router = APIRouter()


@router.get("/inbox")
async def inbox(request: Request, caller: Annotated[Caller, Depends(signed_in)]) -> Response:
    listing = await caller.api("GET", "/v1/me/notifications", params={"page_size": 50})
    nav = await navigation(caller, fresh=True)
    messages = [
        {
            "id": item["id"],
            "subject": item.get("subject") or "",
            "body": item.get("body") or "",
            "job_id": item.get("work_order_id") or "",
            "created_at": moment(item.get("created_at")),
            "unread": item.get("read_at") is None,
        }
        for item in listing["items"]
    ]
    return page(request, "inbox.html", {"messages": messages, "nav": nav, "current": "inbox"})


@router.post("/inbox/{notification_id}/read")
async def mark_read(
    notification_id: str,
    caller: Annotated[Caller, Depends(signed_in)],
    _csrf: CsrfChecked,
) -> Response:
    await caller.api("POST", f"/v1/me/notifications/{notification_id[:64]}/read")
    forget_unread(caller)
    return RedirectResponse("/inbox", status_code=303)
