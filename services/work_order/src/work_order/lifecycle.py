"""The work order lifecycle as an explicit state machine.

::

    new ──schedule──▶ scheduled ──assign──▶ assigned ──start──▶ in_progress ──complete──▶ completed
     │                    ▲  │                 ▲  │ ▲                │
     └──────assign────────┼──┼─────────────────┘  │ └──reassign──────┘
                          │  └─schedule (move)    └─schedule (move), assign (reassign)
    new, scheduled, assigned, in_progress ──cancel──▶ cancelled
    assigned, in_progress ──return──▶ new (──schedule──▶ scheduled, if it has a schedule)

Scheduling may come before or after assignment: a schedule set on a *new*
work order makes it *scheduled*; on an assigned or started one it only moves
the window (and the grant with it). Reassigning a started job sends it back
to *assigned* for the new assignee to start. *completed* and *cancelled* are
final. *Return* gives the job back to the office, unassigned: the service's
own when the assignee may no longer do it (deactivated, DPA lapsed, not in the
job's new area), or the assignee's when they report they cannot do it (no
access, customer absent, parts needed, unsafe, other). Anything else is
refused as ``invalid_transition``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from fieldvault_platform.errors import FailedPrecondition


class Status(StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Event(StrEnum):
    SCHEDULE = "schedule"
    ASSIGN = "assign"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    RETURN = "return"


TRANSITIONS: Final[dict[tuple[Status, Event], Status]] = {
    (Status.NEW, Event.SCHEDULE): Status.SCHEDULED,
    (Status.NEW, Event.ASSIGN): Status.ASSIGNED,
    (Status.NEW, Event.CANCEL): Status.CANCELLED,
    (Status.SCHEDULED, Event.SCHEDULE): Status.SCHEDULED,
    (Status.SCHEDULED, Event.ASSIGN): Status.ASSIGNED,
    (Status.SCHEDULED, Event.CANCEL): Status.CANCELLED,
    (Status.ASSIGNED, Event.SCHEDULE): Status.ASSIGNED,
    (Status.ASSIGNED, Event.ASSIGN): Status.ASSIGNED,
    (Status.ASSIGNED, Event.START): Status.IN_PROGRESS,
    (Status.ASSIGNED, Event.CANCEL): Status.CANCELLED,
    (Status.IN_PROGRESS, Event.SCHEDULE): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Event.ASSIGN): Status.ASSIGNED,
    (Status.IN_PROGRESS, Event.COMPLETE): Status.COMPLETED,
    (Status.IN_PROGRESS, Event.CANCEL): Status.CANCELLED,
    (Status.ASSIGNED, Event.RETURN): Status.NEW,
    (Status.IN_PROGRESS, Event.RETURN): Status.NEW,
}

#: Statuses in which the assignee may reveal the site's secrets (a grant exists).
ACTIVE: Final = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
FINAL: Final = frozenset({Status.COMPLETED, Status.CANCELLED})


class InvalidTransition(FailedPrecondition):
    code = "invalid_transition"

    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"a {status.value} work order cannot {event.value}")


def next_status(status: Status, event: Event) -> Status:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


def allowed_events(status: Status) -> frozenset[Event]:
    return frozenset(event for (source, event) in TRANSITIONS if source is status)
