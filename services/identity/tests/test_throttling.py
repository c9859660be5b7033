"""Login throttling against a real database: SQLite by default, PostgreSQL when
FIELDVAULT_TEST_DATABASE_URL names a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from fieldvault_platform.db import Database
from fieldvault_platform.migrations import upgrade
from identity.throttling import (
    ACCOUNT_POLICY,
    SOURCE_POLICY,
    AttemptDecision,
    ThrottlePolicy,
    TooManyAttempts,
    account_key,
    purge_expired,
    record_result,
    reserve_attempt,
    source_key,
)

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ALICE = account_key(tenant_id="t-1", email="alice@acme.example")
OFFICE = source_key("203.0.113.7")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def attempt(
    database: Database,
    *,
    account: str = ALICE,
    source: str = OFFICE,
    at: datetime = T0,
    succeeds: bool = False,
) -> AttemptDecision:
    """One login attempt the way the login code makes it: reserve, check, record."""
    async with database.unit_of_work() as session:
        decision = await reserve_attempt(session, account_key=account, source_key=source, now=at)
    if decision.allowed:
        async with database.unit_of_work() as session:
            await record_result(session, decision=decision, success=succeeds)
    return decision


def elsewhere(n: int) -> str:
    return source_key(f"198.51.100.{n}")


async def test_fifty_parallel_wrong_passwords_get_only_the_free_password_checks(
    database: Database,
) -> None:
    password_checks = 0

    async def wrong_password() -> AttemptDecision:
        nonlocal password_checks
        async with database.unit_of_work() as session:
            decision = await reserve_attempt(session, account_key=ALICE, source_key=OFFICE, now=T0)
        if decision.allowed:
            password_checks += 1
            await asyncio.sleep(0)  # the check takes time; let the others race meanwhile
            async with database.unit_of_work() as session:
                await record_result(session, decision=decision, success=False)
        return decision

    decisions = await asyncio.gather(*(wrong_password() for _ in range(50)))

    assert password_checks == ACCOUNT_POLICY.free_failures == 5
    denied = [decision for decision in decisions if not decision.allowed]
    assert len(denied) == 45
    assert all(decision.retry_after_seconds > 0 for decision in denied)


async def test_fifty_parallel_attempts_from_fifty_sources_cannot_race_past_the_account_limit(
    database: Database,
) -> None:
    async def from_source(n: int) -> AttemptDecision:
        async with database.unit_of_work() as session:
            return await reserve_attempt(
                session, account_key=ALICE, source_key=elsewhere(n), now=T0
            )

    decisions = await asyncio.gather(*(from_source(n) for n in range(50)))

    assert sum(decision.allowed for decision in decisions) == 5


async def test_one_source_is_stopped_after_its_free_failures_across_many_accounts(
    database: Database,
) -> None:
    accounts = [account_key(tenant_id="t-1", email=f"user{n}@acme.example") for n in range(30)]

    decisions = await asyncio.gather(*(attempt(database, account=a) for a in accounts))

    assert sum(decision.allowed for decision in decisions) == SOURCE_POLICY.free_failures == 20
    assert all(d.retry_after_seconds > 0 for d in decisions if not d.allowed)
    # The same accounts from another address are not affected.
    assert (await attempt(database, account=accounts[-1], source=elsewhere(1))).allowed


async def test_a_source_denial_does_not_use_up_the_accounts_attempts(database: Database) -> None:
    for n in range(SOURCE_POLICY.free_failures):
        await attempt(database, account=account_key(tenant_id="t-1", email=f"u{n}@x.example"))

    for _ in range(10):
        assert not (await attempt(database, account=ALICE)).allowed

    # From elsewhere Alice still has all five free attempts.
    allowed = [(await attempt(database, source=elsewhere(n))).allowed for n in range(6)]
    assert allowed == [True] * 5 + [False]


async def test_delays_double_after_the_free_failures_up_to_the_maximum(
    database: Database,
) -> None:
    now = T0
    for n in range(5):
        assert (await attempt(database, source=elsewhere(n), at=now)).allowed

    waits = []
    for n in range(5, 20):
        denied = await attempt(database, source=elsewhere(n), at=now)
        assert not denied.allowed
        waits.append(denied.retry_after_seconds)
        # Just before the delay runs out: still denied, and nothing counted.
        almost = now + timedelta(seconds=denied.retry_after_seconds) - timedelta(milliseconds=1)
        assert not (await attempt(database, source=elsewhere(n), at=almost)).allowed
        now += timedelta(seconds=denied.retry_after_seconds)
        assert (await attempt(database, source=elsewhere(n), at=now)).allowed

    assert waits[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert waits[10:] == [900] * 5  # capped at 15 minutes


async def test_a_success_resets_the_account(database: Database) -> None:
    for _ in range(5):
        await attempt(database)
    assert not (await attempt(database)).allowed

    later = T0 + timedelta(seconds=1)
    assert (await attempt(database, at=later, succeeds=True)).allowed

    allowed = [(await attempt(database, at=later)).allowed for _ in range(6)]
    assert allowed == [True] * 5 + [False]


async def test_a_success_neither_resets_nor_uses_up_the_sources_allowance(
    database: Database,
) -> None:
    others = [account_key(tenant_id="t-1", email=f"u{n}@x.example") for n in range(25)]
    for account in others[:19]:
        assert (await attempt(database, account=account)).allowed

    # The attacker's own, successful logins neither reset the count nor add to it.
    for _ in range(3):
        assert (await attempt(database, succeeds=True)).allowed

    assert (await attempt(database, account=others[19])).allowed  # the 20th failure
    assert not (await attempt(database, account=others[20])).allowed


async def test_an_unknown_account_is_throttled_exactly_like_a_known_one(
    database: Database,
) -> None:
    # The throttle never asks whether the user exists: a real user's account and
    # a made-up one go through the same counters and get the same answers.
    known = ALICE
    unknown = account_key(tenant_id="t-1", email="nobody@acme.example")

    async def history(account: str, source: str) -> list[tuple[bool, int]]:
        results = []
        for seconds in (0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3):
            decision = await attempt(
                database, account=account, source=source, at=T0 + timedelta(seconds=seconds)
            )
            results.append((decision.allowed, decision.retry_after_seconds))
        return results

    assert await history(known, elsewhere(1)) == await history(unknown, elsewhere(2))


async def test_an_account_is_the_same_whatever_the_case_or_form_of_the_email() -> None:
    assert account_key(tenant_id="t", email=" Alice@ACME.example ") == account_key(
        tenant_id="t", email="alice@acme.example"
    )
    assert account_key(tenant_id="t", email="a@x") != account_key(tenant_id="u", email="a@x")


def test_an_ipv6_client_is_one_source_for_its_whole_64_prefix() -> None:
    assert source_key("2001:db8:1:2::1") == source_key("2001:db8:1:2:ffff::9")
    assert source_key("2001:db8:1:2::1") != source_key("2001:db8:1:3::1")
    assert source_key("::ffff:203.0.113.7") == source_key("203.0.113.7")


async def test_the_window_restarts_once_it_has_passed(database: Database) -> None:
    for _ in range(5):
        await attempt(database)
    next_window = T0 + ACCOUNT_POLICY.window

    allowed = [(await attempt(database, at=next_window)).allowed for _ in range(6)]

    assert allowed == [True] * 5 + [False]


async def test_the_counters_live_in_the_database_across_processes(
    database: Database, database_url: str
) -> None:
    for _ in range(5):
        await attempt(database)

    restarted = Database(database_url)
    try:
        assert not (await attempt(restarted)).allowed
    finally:
        await restarted.dispose()


async def test_expired_counters_are_purged_and_pending_delays_kept(database: Database) -> None:
    for _ in range(5):
        await attempt(database)  # Alice: delayed until T0 + 1 s
    await attempt(database, account=account_key(tenant_id="t-1", email="bob@x.example"))

    async with database.unit_of_work() as session:
        assert await purge_expired(session, now=T0 + timedelta(minutes=5)) == 0
    async with database.unit_of_work() as session:
        # Both accounts' windows and the office's window have passed.
        assert await purge_expired(session, now=T0 + ACCOUNT_POLICY.window) == 3


def test_a_denial_maps_to_resource_exhausted_with_only_the_wait_in_the_message() -> None:
    with pytest.raises(TooManyAttempts) as caught:
        AttemptDecision(allowed=False, retry_after_seconds=16).raise_if_denied()

    assert caught.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after_seconds == 16
    assert caught.value.message == "too many login attempts; try again in 16 seconds"


def test_a_policy_whose_window_is_shorter_than_its_maximum_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        ThrottlePolicy(
            free_failures=5,
            base_delay=timedelta(seconds=1),
            max_delay=timedelta(minutes=15),
            window=timedelta(minutes=5),
        )
