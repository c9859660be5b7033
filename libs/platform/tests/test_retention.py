"""Retention policies: bounds with clear errors, copies that only move forward, one
scheduled run a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldvault_platform.db import Database
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.retention import (
    AUDIT_RECORDS,
    CATEGORIES,
    DEFAULT_DAYS,
    INBOX,
    MAXIMUM_DAYS,
    MINIMUM_DAYS,
    RetentionBase,
    apply_policy_change,
    claim_run,
    daily_key,
    policy_of,
    tenant_policies,
    validated,
)

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_the_defaults_are_within_their_bounds() -> None:
    assert set(DEFAULT_DAYS) == set(CATEGORIES) == set(MINIMUM_DAYS)
    for category in CATEGORIES:
        assert MINIMUM_DAYS[category] <= DEFAULT_DAYS[category] <= MAXIMUM_DAYS
    assert MINIMUM_DAYS[AUDIT_RECORDS] >= 365


@given(
    category=st.sampled_from(CATEGORIES),
    days=st.integers(min_value=-10, max_value=MAXIMUM_DAYS + 10),
)
def test_a_period_is_accepted_exactly_within_its_bounds(category: str, days: int) -> None:
    within = MINIMUM_DAYS[category] <= days <= MAXIMUM_DAYS
    if within:
        policy = validated({category: days})
        assert policy.days[category] == days
        assert policy.cutoff(category, NOW) == NOW - timedelta(days=days)
        return
    with pytest.raises(InvalidArgument) as refused:
        validated({category: days})
    assert category in refused.value.message
    expected = (
        "retention_below_minimum" if days < MINIMUM_DAYS[category] else "invalid_retention_policy"
    )
    assert refused.value.code == expected


def test_an_unknown_category_or_a_fraction_is_refused_by_name() -> None:
    with pytest.raises(InvalidArgument, match="selfies"):
        validated({"selfies": 30})
    with pytest.raises(InvalidArgument, match="whole number"):
        validated({INBOX: 30.5})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="whole number"):
        validated({INBOX: True})


@pytest.fixture
async def database(database_url: str) -> Database:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(RetentionBase.metadata.create_all)
    return database


async def test_a_copy_moves_only_forward(database: Database) -> None:
    try:
        async with database.unit_of_work() as session:
            assert (await policy_of(session, "t1")).days == DEFAULT_DAYS
            assert await apply_policy_change(
                session, tenant_id="t1", days={INBOX: 30}, version=2, now=NOW
            )
        async with database.unit_of_work() as session:
            # An older event arriving late (or redelivered) changes nothing.
            assert not await apply_policy_change(
                session, tenant_id="t1", days={INBOX: 10}, version=1, now=NOW
            )
            assert not await apply_policy_change(
                session, tenant_id="t1", days={INBOX: 10}, version=2, now=NOW
            )
        async with database.unit_of_work() as session:
            assert (await policy_of(session, "t1")).days[INBOX] == 30
            assert await apply_policy_change(
                session, tenant_id="t1", days={INBOX: 60}, version=3, now=NOW
            )
        async with database.unit_of_work() as session:
            policies = await tenant_policies(session)
            assert policies["t1"].days[INBOX] == 60
            assert policies["t1"].days[AUDIT_RECORDS] == DEFAULT_DAYS[AUDIT_RECORDS]
            with pytest.raises(InvalidArgument):
                await apply_policy_change(
                    session, tenant_id="t2", days={AUDIT_RECORDS: 5}, version=1, now=NOW
                )
    finally:
        await database.dispose()


async def test_the_scheduled_run_is_claimed_once_a_day(database: Database) -> None:
    try:
        first = await claim_run(database, run_key=daily_key(NOW), now=NOW)
        assert first is not None
        assert (
            await claim_run(database, run_key=daily_key(NOW + timedelta(hours=3)), now=NOW) is None
        )
        assert await claim_run(database, run_key=daily_key(NOW + timedelta(days=1)), now=NOW)
    finally:
        await database.dispose()
