"""The navigation bar's one live number: unread messages."""

from __future__ import annotations

from dataclasses import dataclass

from web.auth import Caller
from web.gateway import GatewayRefused

#: Counted up to this; more shows as "99+".
UNREAD_LIMIT = 99


@dataclass
class Nav:
    unread: int
    more: bool

    @property
    def unread_label(self) -> str:
        return f"{UNREAD_LIMIT}+" if self.more else str(self.unread)


async def navigation(caller: Caller) -> Nav:
    try:
        inbox = await caller.api(
            "GET",
            "/v1/me/notifications",
            params={"unread_only": "true", "page_size": UNREAD_LIMIT},
        )
    except GatewayRefused:
        # The count is a courtesy; the page is what was asked for.
        return Nav(0, False)
    return Nav(len(inbox["items"]), bool(inbox.get("next_page_token")))
