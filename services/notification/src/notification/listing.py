"""Keyset pages over (created_at, id), oldest or newest first, with opaque tokens."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from fieldvault_platform.paging import (
    decode_page_token,
    page_of,
    page_size,
    time_id_cursor,
    time_id_position,
)

T = TypeVar("T")


async def page(
    session: AsyncSession,
    query: Select[tuple[T]],
    *,
    created: InstrumentedAttribute[Any],
    row_id: InstrumentedAttribute[Any],
    requested_size: int,
    page_token: str,
    newest_first: bool = False,
) -> tuple[list[T], str]:
    size = page_size(requested_size)
    after = decode_page_token(page_token)
    key = tuple_(created, row_id)
    if after is not None:
        cursor = time_id_cursor(after)
        query = query.where(key < cursor if newest_first else key > cursor)
    order = (created.desc(), row_id.desc()) if newest_first else (created, row_id)
    rows: list[Any] = list((await session.scalars(query.order_by(*order).limit(size + 1))).all())
    return page_of(rows, size, lambda row: time_id_position(row.created_at, row.id))
