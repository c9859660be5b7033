"""The one conversion between datetimes and protobuf Timestamps, both ways.

``to_timestamp`` reads a naive datetime as UTC: SQLite hands ``DateTime`` columns
back naive and every service writes them in UTC. ``from_timestamp`` always gives
an aware UTC datetime, or None for a time the sender left unset.

A Timestamp holds 0001-01-01 to 9999-12-31 in UTC. A datetime can be inside
those years in its own offset and outside them in UTC (``0001-01-01T00:00+05:00``,
``9999-12-31T23:59-05:00``); converting one is a ``TimestampOutOfRange``, never
an ``OverflowError`` from deep inside datetime or protobuf.

(protobuf comes with the ``grpc`` extra.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, overload

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


class TimestampOutOfRange(ValueError):
    """A moment outside the years a protobuf Timestamp holds (1 to 9999, in UTC)."""


class TimestampMissing(ValueError):
    """A time the sender must set and did not."""


@overload
def to_timestamp(moment: datetime) -> Timestamp: ...
@overload
def to_timestamp(moment: None) -> None: ...
@overload
def to_timestamp(moment: datetime | None) -> Timestamp | None: ...
def to_timestamp(moment: datetime | None) -> Timestamp | None:
    """``moment`` as a Timestamp; None stays None, so the field is left unset."""
    if moment is None:
        return None
    stamp = Timestamp()
    try:
        stamp.FromDatetime(
            moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        )
    except (OverflowError, ValueError):
        raise TimestampOutOfRange(
            f"{moment.isoformat()} is outside the years 1 to 9999 (UTC) of a protobuf Timestamp"
        ) from None
    return stamp


@overload
def from_timestamp(
    message: Message, field: str, *, required: Literal[False] = False
) -> datetime | None: ...
@overload
def from_timestamp(message: Message, field: str, *, required: Literal[True]) -> datetime: ...
def from_timestamp(message: Message, field: str, *, required: bool = False) -> datetime | None:
    """The Timestamp ``field`` of ``message`` as an aware UTC datetime.

    Unset is None, or ``TimestampMissing`` when ``required``. The zero Timestamp
    (the epoch) reads as unset too: a sender without presence sends it for
    "no time", and the services have always read it so.
    """
    stamp: Timestamp = getattr(message, field)
    if not message.HasField(field) or (stamp.seconds == 0 and stamp.nanos == 0):
        if required:
            raise TimestampMissing(f"{field} is not set")
        return None
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise TimestampOutOfRange(
            f"{field} ({stamp.seconds}s {stamp.nanos}ns) is not a valid protobuf Timestamp"
        ) from None
