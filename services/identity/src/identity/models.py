"""identity tables.

Importing the event models registers the outbox and processed-event tables on
the shared metadata, so this service's migrations create them.
"""

from __future__ import annotations

from fieldvault_platform.db import Base
from fieldvault_platform.events import OutboxEvent, ProcessedEvent

__all__ = ["Base", "OutboxEvent", "ProcessedEvent"]
