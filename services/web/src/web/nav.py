"""The navigation bar's one live number: unread messages.

The count is asked for at most every ``UNREAD_FRESH_SECONDS`` per session and
remembered in this process (a number, nothing else), so a page is one call to the
gateway, not two; the inbox itself always asks afresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from web.auth import Caller
from web.gateway import GatewayRefused

#: Counted up to this; more shows as "99+".
UNREAD_LIMIT = 99
UNREAD_FRESH_SECONDS = 20.0
#: Sessions remembered at most; the oldest are forgotten first.
_MAX_REMEMBERED = 10_000
_remembered: dict[str, tuple[float, Nav]] = {}


@dataclass
class Nav:
    unread: int
    more: bool

    @property
    def unread_label(self) -> str:
        return f"{UNREAD_LIMIT}+" if self.more else str(self.unread)


def forget_unread(caller: Caller) -> None:
    _remembered.pop(caller.session_id, None)


async def navigation(caller: Caller, *, fresh: bool = False) -> Nav:
    now = time.monotonic()
    known = _remembered.get(caller.session_id)
    if known is not None and not fresh and now - known[0] < UNREAD_FRESH_SECONDS:
        return known[1]
    try:
        inbox = await caller.api(
            "GET",
            "/v1/me/notifications",
            params={"unread_only": "true", "page_size": UNREAD_LIMIT},
        )
    except GatewayRefused:
        # The count is a courtesy; the page is what was asked for.
        return Nav(0, False)
    nav = Nav(len(inbox["items"]), bool(inbox.get("next_page_token")))
    if len(_remembered) >= _MAX_REMEMBERED:
        del _remembered[next(iter(_remembered))]
    _remembered[caller.session_id] = (now, nav)
    return nav
