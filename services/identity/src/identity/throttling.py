"""Brute-force defence for logins: growing delays per account and per source.

Two counters stand between a caller and a password check:

* the **account** (tenant + normalised e-mail) — kept whether or not such a
  user exists, so the throttle behaves the same for both and cannot be used
  to find out which accounts exist;
* the **source** (the client's IP address; for IPv6 its /64, which one
  client typically owns whole) — so spraying one password over many
  accounts is slowed down too.

Each counter allows ``free_failures`` failed attempts within its ``window``
(a fixed window, from the first failure counted in it); after ``n`` failures
beyond those, the next attempt must wait ``base_delay * 2**n``, at most
``max_delay``. The window restarts once it has passed and no delay is
pending. Attempts made while a delay is pending are refused without being
counted: they check nothing, so they need not cost anything more, and
hammering cannot push an account's delay beyond what failures earned.
Delays rather than a lock-out keep an attacker from locking people out for
long; the price is that guessing never stops entirely (about 110 tries a day
per account with the defaults, a little over SP 800-63B's 100 consecutive
failures; a hard stop after N failures would need an unlock path).

Race-freedom: an attempt is counted as a failure *before* the password is
checked, by one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE <not delayed>
RETURNING`` per counter. That statement is atomic on PostgreSQL (it locks the
row) and on SQLite ≥ 3.35 (one writer at a time), so N parallel attempts can
never all see "one attempt left": exactly ``free_failures`` of them get a
password check, the others are told to retry later. A success then resets the
account counter and takes back its own count on the source (successes never
use up a source's allowance, and a success on one account does not reset the
failures counted on the source).
Should the process die between reservation and result, the attempt stays
counted as a failure: failing closed.

Usage by the login code, each step its own short unit of work so parallel
attempts really contend::

    async with database.unit_of_work() as session:
        decision = await reserve_attempt(session, account_key=..., source_key=..., now=now)
    decision.raise_if_denied()  # TooManyAttempts -> RESOURCE_EXHAUSTED -> 429 + Retry-After
    ok = await asyncio.to_thread(verify_password or dummy_verify, ...)
    async with database.unit_of_work() as session:
        await record_result(session, decision=decision, success=ok)

A denied attempt must not check the password at all: its answer would leak
whether the guess was right.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import grpc
from sqlalchemy import ColumnElement, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fieldvault_platform.db import as_utc
from fieldvault_platform.errors import DomainError
from identity.models import LoginThrottle

ACCOUNT = "account"
SOURCE = "source"


class TooManyAttempts(DomainError):
    """Too many failed logins for this account or from this source: wait and retry.

    The message holds only the number of seconds; the gRPC layer should send
    :attr:`retry_after_seconds` as trailing metadata for the gateway's
    ``Retry-After`` header.
    """

    status = grpc.StatusCode.RESOURCE_EXHAUSTED
    code = "rate_limited"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int
    base_delay: timedelta
    max_delay: timedelta
    window: timedelta

    def __post_init__(self) -> None:
        if self.free_failures < 1:
            raise ValueError("free_failures must be at least 1")
        if not timedelta(0) < self.base_delay <= self.max_delay:
            raise ValueError("need 0 < base_delay <= max_delay")
        if self.window < self.max_delay:
            # Otherwise every maximum delay would outlast the window, and each
            # one would end with a fresh set of free attempts.
            raise ValueError("window must be at least max_delay")

    def delay_after(self, failures: int) -> timedelta | None:
        """The wait imposed after ``failures`` counted failures, or None while still free."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return None
        if beyond >= 64:  # 2**64 * anything positive is past any sane maximum
            return self.max_delay
        return min(self.max_delay, self.base_delay * (1 << beyond))

    def distinct_delays(self) -> list[timedelta]:
        """``delay_after(free_failures + i)`` for i = 0, 1, ... until one reaches the maximum."""
        delays: list[timedelta] = []
        failures = self.free_failures
        while True:
            delay = self.delay_after(failures)
            assert delay is not None
            delays.append(delay)
            if delay >= self.max_delay:
                return delays
            failures += 1


# A day's window: a persistent guesser gets 5 free tries, 10 more within the
# next 17 minutes, then one per 15 minutes: about 110 a day (SP 800-63B asks
# for no more than 100 consecutive failures; see the module notes). A real user
# feels nothing before the sixth failure, and a success resets it all.
ACCOUNT_POLICY = ThrottlePolicy(
    free_failures=5,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(minutes=15),
    window=timedelta(hours=24),
)
# More free failures and a short window, because offices and mobile carriers put
# many people behind one address, whose typos all count here.
SOURCE_POLICY = ThrottlePolicy(
    free_failures=20,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(minutes=15),
    window=timedelta(hours=1),
)


@dataclass(frozen=True, slots=True)
class _Reservation:
    """What an allowed attempt counted, so its result can be settled exactly."""

    account: str
    source: str
    #: The source row as this attempt left it.
    source_failures: int
    source_locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptDecision:
    allowed: bool
    #: Seconds to wait before the next attempt can be allowed; 0 when allowed.
    retry_after_seconds: int = 0
    _reservation: _Reservation | None = field(default=None, repr=False, compare=False)

    def raise_if_denied(self) -> None:
        if not self.allowed:
            raise TooManyAttempts(self.retry_after_seconds)


def account_key(*, tenant_id: str, email: str) -> str:
    """The account an attempt is aimed at, whether or not it exists: tenant + e-mail, normalised."""
    return f"{tenant_id}\n{unicodedata.normalize('NFKC', email).strip().casefold()}"


def source_key(address: str) -> str:
    """The source of an attempt: the IP address; for IPv6 its /64 (one client's usual share)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


async def reserve_attempt(
    session: AsyncSession,
    *,
    account_key: str,
    source_key: str,
    now: datetime,
    account_policy: ThrottlePolicy = ACCOUNT_POLICY,
    source_policy: ThrottlePolicy = SOURCE_POLICY,
) -> AttemptDecision:
    """Count one attempt against the account and the source, if neither has a delay pending.

    Allowed: both counters went up by one (as if the attempt will fail).
    Denied: neither changed, and ``retry_after_seconds`` says how long the
    longer of the pending delays still runs. Call it in its own unit of work,
    and commit it before checking the password.
    """
    now = as_utc(now)
    account = _digest(ACCOUNT, account_key)
    source = _digest(SOURCE, source_key)
    # Always the account row before the source row: one lock order, no deadlocks.
    if await _count_attempt(session, ACCOUNT, account, now, account_policy) is None:
        waits = [
            await _wait(session, scope, key, now)
            for scope, key in ((ACCOUNT, account), (SOURCE, source))
        ]
        return AttemptDecision(allowed=False, retry_after_seconds=max(waits))
    counted = await _count_attempt(session, SOURCE, source, now, source_policy)
    if counted is None:
        await _take_back(session, ACCOUNT, account)
        wait = await _wait(session, SOURCE, source, now)
        return AttemptDecision(allowed=False, retry_after_seconds=wait)
    source_failures, source_locked_until = counted
    return AttemptDecision(
        allowed=True,
        _reservation=_Reservation(account, source, source_failures, source_locked_until),
    )


async def record_result(session: AsyncSession, *, decision: AttemptDecision, success: bool) -> None:
    """Settle an allowed attempt; call it in a unit of work after the password check.

    A failure was counted already, so nothing changes. A success clears the
    account's counter and takes the attempt back from the source's: successes
    never use up a source's allowance, yet cannot clear failures counted there.
    """
    reservation = decision._reservation
    if reservation is None:
        raise ValueError("only an allowed attempt has a result to record")
    if not success:
        return
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == ACCOUNT, LoginThrottle.key == reservation.account
        )
    )
    await _refund(session, reservation)


async def reset_account(session: AsyncSession, *, account_key: str) -> None:
    """Forget an account's failures: its owner has just accepted an invitation to it."""
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == ACCOUNT, LoginThrottle.key == _digest(ACCOUNT, account_key)
        )
    )


async def purge_expired(
    session: AsyncSession,
    *,
    now: datetime,
    account_policy: ThrottlePolicy = ACCOUNT_POLICY,
    source_policy: ThrottlePolicy = SOURCE_POLICY,
) -> int:
    """Delete counters whose window has passed and that have no delay pending; how many."""
    now = as_utc(now)
    removed = 0
    for scope, policy in ((ACCOUNT, account_policy), (SOURCE, source_policy)):
        result = await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.scope == scope,
                LoginThrottle.window_start <= now - policy.window,
                _not_delayed(now),
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


# --- the statements ------------------------------------------------------------------


async def _count_attempt(
    session: AsyncSession, scope: str, key: str, now: datetime, policy: ThrottlePolicy
) -> tuple[int, datetime | None] | None:
    """One atomic upsert: count the attempt unless a delay is pending.

    The row as counted (failures, locked_until), or None when a delay is pending.
    """
    table = LoginThrottle.__table__
    window_over = table.c.window_start <= now - policy.window
    failures_after = case((window_over, 1), else_=table.c.failures + 1)
    insert = _insert_for(session)(table).values(
        scope=scope,
        key=key,
        failures=1,
        window_start=now,
        locked_until=_delay_end(now, policy.delay_after(1)),
    )
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={
            "failures": failures_after,
            "window_start": case((window_over, now), else_=table.c.window_start),
            "locked_until": _locked_until_after(failures_after, now, policy),
        },
        where=_not_delayed(now),
    ).returning(table.c.failures, table.c.locked_until)
    row = (await session.execute(statement)).first()
    return None if row is None else (row.failures, row.locked_until)


async def _take_back(session: AsyncSession, scope: str, key: str) -> None:
    """Undo :func:`_count_attempt` earlier in this transaction, which still holds the row.

    The counted attempt was allowed, so no delay was pending before it: no
    delay is exactly the state it found.
    """
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        .values(failures=LoginThrottle.failures - 1, locked_until=None)
    )


async def _refund(session: AsyncSession, reservation: _Reservation) -> None:
    """Take back a source attempt counted in an earlier transaction, because it succeeded.

    When nothing has been counted there since, the row is put back exactly as
    the attempt found it, without the delay the attempt itself may have set.
    Otherwise only the count goes down: the delay may be a failure's, and
    letting a success clear it would let an attacker's own logins lift it.
    """
    row = LoginThrottle.__table__.c
    untouched_since = and_(
        row.failures == reservation.source_failures,
        row.locked_until.is_(None)
        if reservation.source_locked_until is None
        else row.locked_until == reservation.source_locked_until,
    )
    await session.execute(
        update(LoginThrottle)
        .where(row.scope == SOURCE, row.key == reservation.source, row.failures > 0)
        .values(
            failures=row.failures - 1,
            locked_until=case((untouched_since, _null_time()), else_=row.locked_until),
        )
    )


async def _wait(session: AsyncSession, scope: str, key: str, now: datetime) -> int:
    locked_until = await session.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.scope == scope, LoginThrottle.key == key
        )
    )
    if locked_until is None:
        return 0
    return max(0, math.ceil((as_utc(locked_until) - now).total_seconds()))


def _locked_until_after(
    failures: ColumnElement[Any], now: datetime, policy: ThrottlePolicy
) -> ColumnElement[Any]:
    # Portable SQL has no exponentiation over timestamps, but the delays are a
    # short list ending at the maximum: spell them out as bound values.
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (failures < policy.free_failures, _null_time()),
    ]
    delays = policy.distinct_delays()
    for offset, delay in enumerate(delays[:-1]):
        whens.append((failures == policy.free_failures + offset, _time(now + delay)))
    return case(*whens, else_=_time(now + delays[-1]))


def _not_delayed(now: datetime) -> ColumnElement[bool]:
    table = LoginThrottle.__table__
    return or_(table.c.locked_until.is_(None), table.c.locked_until <= now)


def _delay_end(now: datetime, delay: timedelta | None) -> datetime | None:
    return None if delay is None else now + delay


def _time(value: datetime) -> ColumnElement[Any]:
    return literal(value, LoginThrottle.__table__.c.locked_until.type)


def _null_time() -> ColumnElement[Any]:
    return literal(None, LoginThrottle.__table__.c.locked_until.type)


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"login throttling needs PostgreSQL or SQLite, not {dialect}")


def _digest(scope: str, key: str) -> str:
    # Pseudonymous keys: the table need not hold e-mail or IP addresses in clear.
    return hashlib.sha256(f"{scope}\n{key}".encode("utf-8", "surrogatepass")).hexdigest()
