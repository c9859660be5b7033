"""Plain view models the templates read: what a job card shows, in the reader's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from web.i18n import Formatter

#: Code kinds (docs/openapi.json), in the order a technician meets them at a door.
CODE_KINDS = ("door_code", "key_safe_code", "alarm_code")


def moment(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class JobCard:
    id: str
    reference: str
    title: str
    status: str
    priority: str
    site_name: str
    address: str
    maps_url: str
    window: str
    start: datetime | None

    @classmethod
    def of(cls, order: dict[str, Any], fmt: Formatter) -> JobCard:
        site = order.get("site") or {}
        address = str(site.get("address") or "")
        start, end = moment(order.get("scheduled_start")), moment(order.get("scheduled_end"))
        return cls(
            id=str(order["id"]),
            reference=reference(order),
            title=str(order.get("title") or ""),
            status=str(order.get("status") or ""),
            priority=str(order.get("priority") or "normal"),
            site_name=str(site.get("name") or ""),
            address=address,
            maps_url=maps_url(address),
            window=window(start, end, fmt),
            start=start,
        )


def reference(order: Mapping[str, Any]) -> str:
    """The reference people read out over the phone and search by (``WO-000123``); an
    answer without one (an older gateway) falls back to the id's first eight characters."""
    return str(order.get("reference") or str(order["id"]).replace("-", "")[:8].upper())


def maps_url(address: str) -> str:
    # geo: opens the phone's own maps app (Android, iOS maps through it too).
    return f"geo:0,0?q={quote(address)}" if address else ""


def window(start: datetime | None, end: datetime | None, fmt: Formatter) -> str:
    if start is None:
        return ""
    text = fmt.day_and_time(start)
    if end is not None:
        same_day = fmt.local(start).date() == fmt.local(end).date()
        text += f"\u2013{fmt.time(end) if same_day else fmt.day_and_time(end)}"
    return text


@dataclass
class Day:
    today: list[JobCard]
    upcoming: list[JobCard]
    completed: list[JobCard]


def plan_of_day(orders: list[dict[str, Any]], fmt: Formatter, today: date) -> Day:
    """Today: scheduled today, in progress, or assigned without a schedule; then the rest."""
    day = Day([], [], [])
    for order in orders:
        card = JobCard.of(order, fmt)
        status = card.status
        if status == "cancelled":
            continue
        if status == "completed":
            day.completed.append(card)
        elif status == "in_progress" or card.start is None or fmt.local(card.start).date() <= today:
            day.today.append(card)
        else:
            day.upcoming.append(card)
    day.today.sort(key=lambda c: (c.status != "in_progress", c.start is None, c.start or 0))
    day.upcoming.sort(key=lambda c: c.start or 0)
    completed_order = {o["id"]: moment(o.get("updated_at")) for o in orders}
    day.completed.sort(key=lambda c: completed_order.get(c.id) or 0, reverse=True)
    day.completed = day.completed[:5]
    return day
