"""The navigation bar: the unread count, and the office pages the reader's roles open.

The count and the roles are asked for at most every ``UNREAD_FRESH_SECONDS`` per
session and remembered in this process (a number and role names, nothing else), so
a page is one call to the gateway, not three; the inbox itself always asks afresh.
Links follow the roles so that people see only what they may do; the API still
checks every call, and a page opened without its role shows the API's refusal.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from web.auth import Caller
from web.gateway import GatewayRefused

#: Counted up to this; more shows as "99+".
UNREAD_LIMIT = 99
UNREAD_FRESH_SECONDS = 20.0
#: Sessions remembered at most; the oldest are forgotten first.
_MAX_REMEMBERED = 10_000
_remembered: dict[str, tuple[float, Nav]] = {}


#: Office pages: (path, page key, the roles that may use it), in the bar's order.
OFFICE_PAGES: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("/office/work-orders", "board", frozenset({"dispatcher", "subcontractor_manager"})),
    ("/office/customers", "customers", frozenset({"dispatcher"})),
    ("/office/people", "people", frozenset({"admin"})),
    ("/office/areas", "areas", frozenset({"admin"})),
    ("/office/organisations", "organisations", frozenset({"admin"})),
    ("/office/integrations", "integrations", frozenset({"admin"})),
    ("/office/security", "security", frozenset({"admin"})),
    ("/office/keys", "keys", frozenset({"dispatcher", "admin"})),
    ("/office/audit", "audit", frozenset({"auditor"})),
    ("/office/privacy", "privacy", frozenset({"dpo"})),
    ("/office/shares", "shares", frozenset({"admin", "dpo"})),
    ("/office/access-query", "access", frozenset({"auditor", "dpo"})),
    ("/office/records-of-processing", "processing", frozenset({"admin", "dpo"})),
    ("/office/rotation-tasks", "rotation", frozenset({"dispatcher", "admin", "auditor"})),
    ("/office/instructions", "instructions", frozenset({"admin"})),
    ("/office/instructions/report", "instructions_report", frozenset({"auditor", "dpo"})),
)


@dataclass
class Nav:
    unread: int
    more: bool
    roles: frozenset[str] = field(default_factory=frozenset)

    def may(self, key: str) -> bool:
        return any(key == k and roles & self.roles for _, k, roles in OFFICE_PAGES)

    @property
    def office(self) -> list[tuple[str, str]]:
        """The office pages this reader may use: (path, key)."""
        return [(path, key) for path, key, roles in OFFICE_PAGES if roles & self.roles]

    @property
    def field_worker(self) -> bool:
        return "technician" in self.roles or not self.office

    @property
    def home(self) -> str:
        return "/" if self.field_worker else self.office[0][0]

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
    inbox: Any
    me: Any
    inbox, me = await asyncio.gather(
        caller.api(
            "GET",
            "/v1/me/notifications",
            params={"unread_only": "true", "page_size": UNREAD_LIMIT},
        ),
        caller.api("GET", "/v1/me"),
        return_exceptions=True,
    )
    for outcome in (inbox, me):
        if isinstance(outcome, BaseException) and not isinstance(outcome, GatewayRefused):
            raise outcome
    # The count and the links are a courtesy; the page is what was asked for.
    roles = frozenset(me.get("roles") or ()) if isinstance(me, dict) else frozenset()
    if isinstance(inbox, dict):
        nav = Nav(len(inbox["items"]), bool(inbox.get("next_page_token")), roles)
    else:
        nav = Nav(0, False, roles)
    if len(_remembered) >= _MAX_REMEMBERED:
        del _remembered[next(iter(_remembered))]
    _remembered[caller.session_id] = (now, nav)
    return nav
