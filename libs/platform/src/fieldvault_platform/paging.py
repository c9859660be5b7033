"""Cursor pagination (AIP-158): ``page_size``, opaque ``page_token``, ``next_page_token``.

A token is the sort key of the last row served, so a page is a keyset query
(``WHERE key > last``) that stays correct while rows are added. Tokens are
opaque to callers but not secret: they hold ids and timestamps only.

Every listing pages the same way::

    BY_CREATED = Keyset(Customer.created_at, Customer.id)

    request = BY_CREATED.request(requested_size, page_token)  # InvalidArgument if bad
    ...
    rows, next_token = await request.fetch(session, select(Customer).where(...))

A token is base64url (unpadded) of a one-element JSON list holding the
position of the last row served: the value itself for a one-column keyset
(``["org-1"]``, ``[42]``), else the list of values (``[["2024-05-01T08:00:00+00:00",
"wo-1"]]``). Timestamps are written as UTC ISO 8601.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import InvalidArgument

T = TypeVar("T")

#: A page of rows and the token of the next page ("" on the last page).
Page = tuple[list[T], str]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

#: The one answer to a token this service did not issue (or that was tampered with).
NOT_ISSUED_HERE = "page_token is not one this service issued"


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class Keyset:
    """The columns a listing is ordered by, all ascending or all descending.

    The last column must be unique within the listing (an id), so that rows
    sharing the leading values (records written in one transaction share a
    timestamp) are neither skipped nor repeated at a page boundary. Columns
    may be text, integer or timestamp columns.
    """

    def __init__(self, *columns: InstrumentedAttribute[Any], descending: bool = False) -> None:
        if not columns:
            raise ValueError("a keyset needs at least one column")
        self.columns = columns
        self.descending = descending
        # Checked here, once, so a column the token format cannot hold fails at import.
        self._readers = tuple(_reader(column) for column in columns)

    def request(self, requested_size: int, page_token: str) -> PageRequest:
        """The page asked for; InvalidArgument for a negative size or a bad token."""
        size = page_size(requested_size)
        last = decode_page_token(page_token)
        return PageRequest(self, size, None if last is None else self._cursor(last[0]))

    def position(self, entity: Any) -> Any:
        """The JSON position of ``entity`` (a row of the keyset's table) in this order."""
        values = [_written(getattr(entity, column.key)) for column in self.columns]
        return values[0] if len(values) == 1 else values

    def _cursor(self, position: Any) -> tuple[Any, ...]:
        if len(self.columns) == 1:
            position = [position]
        if not isinstance(position, list) or len(position) != len(self.columns):
            raise InvalidArgument(NOT_ISSUED_HERE)
        return tuple(read(value) for read, value in zip(self._readers, position, strict=True))


@dataclass(frozen=True)
class PageRequest:
    """One page of a :class:`Keyset` listing: its size and where it starts."""

    keyset: Keyset
    size: int
    #: The sort key of the last row of the previous page; None for the first page.
    after: tuple[Any, ...] | None

    def select(self, query: Select[Any]) -> Select[Any]:
        """``query`` restricted to the rows after the cursor, in order, one more than a page."""
        columns = self.keyset.columns
        if self.after is not None:
            query = query.where(self._beyond(self.after))
        order = tuple(column.desc() for column in columns) if self.keyset.descending else columns
        return query.order_by(*order).limit(self.size + 1)

    def page(self, rows: Sequence[T], entity: Callable[[T], Any] = lambda row: row) -> Page[T]:
        """The first ``size`` of ``rows`` (fetched with :meth:`select`) and the next token.

        ``entity`` picks out of a row the object that holds the keyset's columns.
        """
        if len(rows) <= self.size:
            return list(rows), ""
        served = list(rows[: self.size])
        return served, encode_page_token([self.keyset.position(entity(served[-1]))])

    async def fetch(self, session: AsyncSession, query: Select[tuple[T]]) -> Page[T]:
        """The page of a one-entity ``query`` (``select(Model)``) and the next token."""
        rows = (await session.scalars(self.select(query))).all()
        return self.page(rows)

    async def fetch_rows(self, session: AsyncSession, query: Select[Any]) -> Page[Row[Any]]:
        """The page of a several-column ``query`` whose first column is the keyset's entity
        (``select(Site, Customer)``), and the next token."""
        rows = (await session.execute(self.select(query))).all()
        return self.page(rows, lambda row: row[0])

    def _beyond(self, after: tuple[Any, ...]) -> ColumnElement[bool]:
        columns = self.keyset.columns
        # A row value comparison, (a, b) > (x, y): SQLite (3.15+) and PostgreSQL
        # both have it, and PostgreSQL serves it from an index on (a, b).
        key: Any = columns[0] if len(columns) == 1 else tuple_(*columns)
        last: Any = after[0] if len(columns) == 1 else after
        comparison: ColumnElement[bool] = key < last if self.keyset.descending else key > last
        return comparison


def encode_page_token(last: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> list[Any] | None:
    """The JSON list a token holds; None for no token; InvalidArgument for a bad one."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        value = None
    if not isinstance(value, list) or len(value) != 1:
        raise InvalidArgument(NOT_ISSUED_HERE)
    return value


def _written(value: Any) -> Any:
    # SQLite hands timestamps back naive (UTC); a token always names UTC.
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


def _reader(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    python_type = column.type.python_type
    if python_type is datetime:
        return _moment
    if python_type is str:
        return _text
    if python_type is int:
        return _integer
    raise TypeError(f"a keyset cannot page by {column} ({python_type.__name__})")


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise InvalidArgument(NOT_ISSUED_HERE)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise InvalidArgument(NOT_ISSUED_HERE)


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidArgument(NOT_ISSUED_HERE)
