"""work_order tables.

The service's own tables are declared on :class:`Base`. Its migrations also
create the platform's outbox and processed-event tables in its database.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from fieldvault_platform.db import service_metadata
from fieldvault_platform.events import OutboxEvent


class Base(DeclarativeBase):
    metadata = service_metadata()


#: Everything this service's migrations create, for Alembic's ``target_metadata``.
MIGRATED_METADATA: list[MetaData] = [Base.metadata, OutboxEvent.metadata]
