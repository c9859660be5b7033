"""Cursor pagination (AIP-158): ``page_size``, opaque ``page_token``, ``next_page_token``.

A token is the sort key of the last row served, so a page is a keyset query
(``WHERE key > last``) that stays correct while rows are added. Tokens are
opaque to callers but not secret: they hold ids and timestamps only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def page_of(rows: list[T], size: int, sort_key: Callable[[T], Any]) -> tuple[list[T], str]:
    """The first ``size`` of ``rows`` (fetched with ``limit(size + 1)``) and the next token."""
    if len(rows) <= size:
        return rows, ""
    page = rows[:size]
    return page, encode_page_token([sort_key(page[-1])])


def encode_page_token(last: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> list[Any] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        value = None
    if not isinstance(value, list) or not value:
        raise InvalidArgument("page_token is not one this service issued")
    return value


def time_id_position(moment: datetime, row_id: str) -> list[str]:
    """The keyset position of a row listed by (time, id), for :func:`page_of`."""
    return [as_utc(moment).isoformat(), row_id]


def time_id_cursor(after: list[Any]) -> tuple[datetime, str]:
    """The (time, id) a :func:`time_id_position` token names; InvalidArgument if it is not one."""
    position = after[0]
    try:
        if not isinstance(position, list) or len(position) != 2:
            raise ValueError("not a (time, id) pair")
        return datetime.fromisoformat(str(position[0])), str(position[1])
    except (TypeError, ValueError):
        raise InvalidArgument("page_token is not one this service issued") from None
