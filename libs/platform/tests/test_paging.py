"""Keyset paging: every row exactly once, in order, whatever the page size; bad tokens refused.

Against a real database: SQLite in the test's temporary directory, or
PostgreSQL when ``FIELDVAULT_TEST_DATABASE_URL`` names a server.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldvault_platform.db import Database
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NOT_ISSUED_HERE,
    Keyset,
    PageRequest,
    page_size,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


class _Base(DeclarativeBase):
    pass


class Item(_Base):
    __tablename__ = "paged_items"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: One hypothesis example's rows: examples share the database.
    run: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sequence: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class Tag(_Base):
    __tablename__ = "paged_tags"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("paged_items.id"))


BY_CREATED = Keyset(Item.created_at, Item.id)
NEWEST_FIRST = Keyset(Item.created_at, Item.id, descending=True)
BY_ID = Keyset(Item.id)
BY_SEQUENCE_DOWN = Keyset(Item.sequence, descending=True)

_runs = itertools.count(1)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield database
    await database.dispose()


async def _every_page(
    database: Database, keyset: Keyset, size: int, run: int
) -> tuple[list[Item], int]:
    served: list[Item] = []
    token = ""
    pages = 0
    while True:
        request = keyset.request(size, token)
        async with database.unit_of_work() as session:
            rows, token = await request.fetch(session, select(Item).where(Item.run == run))
        pages += 1
        assert len(rows) <= page_size(size)
        assert pages <= 100, "paging does not move on"
        served += rows
        if not token:
            return served, pages


# Few distinct timestamps, so many rows share one (as rows written in one
# transaction do), some on a whole second (no microseconds in their text).
moments = st.integers(min_value=0, max_value=4).map(
    lambda n: T0 + timedelta(seconds=n // 2, microseconds=(n % 2) * 250_001)
)


# The database is made once per test; each example keeps to rows of its own run.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(moments, st.uuids(), st.integers(-5, 5)), max_size=23, unique_by=lambda r: r[1]
    ),
    size=st.integers(min_value=0, max_value=9),
    keyset=st.sampled_from([BY_CREATED, NEWEST_FIRST, BY_ID, BY_SEQUENCE_DOWN]),
)
async def test_paging_serves_every_row_exactly_once_in_order(
    database: Database,
    rows: list[tuple[datetime, UUID, int]],
    size: int,
    keyset: Keyset,
) -> None:
    run = next(_runs)
    # Digits and lowercase hex letters order alike under every collation; the
    # run's number keeps the ids of the examples apart.
    written = [
        Item(id=f"{run:06d}{uid.hex}", run=run, created_at=moment, sequence=n * 100 + i)
        for i, (moment, uid, n) in enumerate(rows)
    ]
    async with database.unit_of_work() as session:
        session.add_all(written)
    expected = sorted(
        written,
        key=lambda row: tuple(getattr(row, column.key) for column in keyset.columns),
        reverse=keyset.descending,
    )

    served, pages = await _every_page(database, keyset, size, run)

    assert [row.id for row in served] == [row.id for row in expected]
    # One row more than a page is fetched, so a full last page ends the listing.
    assert pages == max(1, math.ceil(len(written) / page_size(size)))


async def test_a_page_is_the_size_asked_for_within_the_bounds() -> None:
    assert page_size(0) == DEFAULT_PAGE_SIZE
    assert page_size(7) == 7
    assert page_size(MAX_PAGE_SIZE + 1) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument, match="page_size must not be negative"):
        page_size(-1)


async def test_tokens_keep_the_format_issued_before_the_shared_helper(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add_all(
            [
                Item(id="wo-1", run=0, created_at=T0, sequence=42),
                Item(id="wo-2", run=0, created_at=T0 + timedelta(microseconds=123456), sequence=41),
                Item(id="wo-3", run=0, created_at=T0 + timedelta(seconds=1), sequence=40),
            ]
        )
    run0 = select(Item).where(Item.run == 0)
    # Tokens as the services wrote them before (byte for byte), and the row each follows.
    issued = {
        BY_CREATED: ("W1siMjAyNC0wNS0wMVQwODowMDowMCswMDowMCIsICJ3by0xIl1d", "wo-1"),
        NEWEST_FIRST: (
            "W1siMjAyNC0wNS0wMVQwODowMDowMC4xMjM0NTYrMDA6MDAiLCAid28tMiJdXQ",
            "wo-2",
        ),
        BY_ID: ("WyJ3by0xIl0", "wo-1"),
        BY_SEQUENCE_DOWN: ("WzQyXQ", "wo-1"),
    }
    for keyset, (token, last) in issued.items():
        async with database.unit_of_work() as session:
            first = await keyset.request(1, "").fetch(session, run0)
            ([row], next_token) = first
            # Walk to the row the token follows, then compare the token it gets.
            while row.id != last:
                ([row], next_token) = await keyset.request(1, next_token).fetch(session, run0)
            assert next_token == token
            following, _ = await keyset.request(5, token).fetch(session, run0)
        # wo-1, wo-2, wo-3 by time and id; their sequences count down.
        ids = ["wo-3", "wo-2", "wo-1"] if keyset is NEWEST_FIRST else ["wo-1", "wo-2", "wo-3"]
        assert [item.id for item in following] == ids[ids.index(last) + 1 :]


async def test_a_joined_listing_is_keyed_by_its_first_entity(database: Database) -> None:
    async with database.unit_of_work() as session:
        session.add_all([Item(id=f"j-{n}", run=-1, created_at=T0, sequence=n) for n in range(3)])
        await session.flush()
        session.add_all([Tag(id=f"t-{n}", item_id=f"j-{n}") for n in range(3)])
    query = select(Item, Tag.id).join(Tag, Tag.item_id == Item.id)
    seen: list[tuple[str, str]] = []
    token = ""
    while True:
        async with database.unit_of_work() as session:
            rows, token = await BY_CREATED.request(2, token).fetch_rows(session, query)
        seen += [(item.id, tag) for item, tag in rows]
        if not token:
            break
    assert seen == [("j-0", "t-0"), ("j-1", "t-1"), ("j-2", "t-2")]


def forged(value: Any) -> str:
    """A token in the service's format holding ``value``."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


MOMENT = "2024-05-01T08:00:00+00:00"
TAMPERED = [
    "not a token",
    "%FF%FE" + "A" * 3000,
    "W10",  # []
    "WzFd",  # [1]
    forged([None]),
    forged({"a": 1}),
    forged("wo-1"),
    forged([[MOMENT, "wo-1"], "more"]),
    forged([[MOMENT]]),
    forged([[MOMENT, "wo-1", "extra"]]),
    forged([["yesterday", "wo-1"]]),
    forged([[1714550400, "wo-1"]]),
    forged([[MOMENT, 1]]),
    forged([{"at": MOMENT, "id": "wo-1"}]),
]


@pytest.mark.parametrize("token", TAMPERED)
def test_a_token_the_service_did_not_issue_is_refused_clearly(token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        BY_CREATED.request(10, token)
    assert str(refused.value) == NOT_ISSUED_HERE


@pytest.mark.parametrize(
    ("keyset", "token"),
    [
        (BY_ID, forged([42])),  # an id is text
        (BY_ID, forged([["wo-1"]])),
        (BY_ID, forged([[MOMENT, "wo-1"]])),
        (BY_SEQUENCE_DOWN, forged(["42"])),  # a sequence is a number
        (BY_SEQUENCE_DOWN, forged([True])),
        (BY_SEQUENCE_DOWN, forged([42.5])),
    ],
)
def test_a_token_of_another_keyset_is_refused_clearly(keyset: Keyset, token: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        keyset.request(10, token)
    assert str(refused.value) == NOT_ISSUED_HERE


def test_a_negative_size_is_refused_before_the_token_is_read() -> None:
    with pytest.raises(InvalidArgument, match="page_size"):
        BY_CREATED.request(-1, "not a token")


def test_a_timestamp_in_a_token_is_read_as_utc() -> None:
    request = BY_CREATED.request(1, forged([["2024-05-01T10:00:00+02:00", "wo-1"]]))
    assert request == PageRequest(BY_CREATED, 1, (T0, "wo-1"))
    assert request.after is not None and request.after[0].tzinfo is UTC
    # SQLite hands timestamps back naive, and naive means UTC there.
    naive = BY_CREATED.request(1, forged([["2024-05-01T08:00:00", "wo-1"]]))
    assert naive.after == (T0, "wo-1")


def test_a_keyset_refuses_a_column_a_token_cannot_hold() -> None:
    with pytest.raises(TypeError):
        Keyset(Item.flagged, Item.id)
    with pytest.raises(ValueError):
        Keyset()
