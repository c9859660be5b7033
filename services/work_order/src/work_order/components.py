"""What work-order's use cases and servicer work with, built once in ``main.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.db import Database
from work_order.peer_clients import Directory
from work_order.settings import Settings


class Wakeable(Protocol):
    def wake(self) -> None: ...


@dataclass(frozen=True)
class Components:
    settings: Settings
    database: Database
    callers: Callers
    directory: Directory
    #: Delivers queued grant changes to customer-vault; woken after each commit.
    grant_sync: Wakeable
    #: Nudges the outbox relay after a commit that added events.
    wake_relay: Callable[[], None]
