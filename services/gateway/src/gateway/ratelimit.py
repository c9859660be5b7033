"""Rate limits at the edge: token buckets per client address, per user, and stricter
ones for sign-in, token and reveal endpoints.

Every request spends a token from its client address's bucket and — with a
verified bearer token — from its user's (or partner client's) bucket. Login,
token and reveal requests also spend from a bucket of their own kind, and a login
from one for its tenant + e-mail (:func:`check_login_account`, called by the
route once the body is parsed). A request that finds one of its buckets empty
is answered 429 ``rate_limited`` with ``Retry-After`` (the seconds until it
holds a token again) and never reaches a backend.

Where the buckets live is ``rate_limit_store``: ``nats`` keeps them in a
JetStream key-value bucket shared by every replica
(:class:`~gateway.shared_ratelimit.SharedRateLimiter`, what the chart sets);
``memory`` (the local default) in this replica's memory, where with N replicas
a client gets up to N times the budget. Either way the limits that must hold
exactly are enforced by the backends too (identity's login throttle per account
and source, customer_vault's reveal rate per user). In memory, size is
bounded: buckets are kept in least-recently-used order, an idle one that has
refilled completely is dropped (it is the same as a fresh one), and beyond
``rate_limit_max_keys`` the least recently used go first.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge import answer_problem, client_key, settings_of, verified_principal
from gateway.problems import Problem
from gateway.settings import GatewaySettings

#: Probes are never limited: a throttled kubelet would restart a healthy gateway.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
LOGIN_PATH = "/v1/auth/login"
#: Opening a secure share: public, guessing PINs is what a flood would do.
SHARE_OPEN_PATH = "/v1/shares/open"
TOKEN_PATHS = frozenset({"/v1/oauth/token", "/v1/auth/refresh"})
_REVEAL_PATH = re.compile(r"/v1/sites/[^/]+/secrets/[^/]+/reveal")


@dataclass(frozen=True)
class Budget:
    """``per_minute`` requests a minute, all of them at once at most.

    ``fail_closed``: when a shared store cannot be reached, a request charging
    this budget is refused (503) rather than let through on a per-replica budget.
    """

    per_minute: int
    fail_closed: bool = False

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0


class RateLimitUnavailable(Exception):
    """A fail-closed budget could not be checked: the shared store is unreachable."""


class Limits(Protocol):
    async def spend(self, charges: Sequence[tuple[str, Budget]]) -> int:
        """0 when one token was spent from each bucket, else the seconds until there
        would be; :class:`RateLimitUnavailable` when a fail-closed budget cannot be
        checked."""
        ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    max_keys: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict, repr=False)

    def __len__(self) -> int:
        return len(self._buckets)

    async def spend(self, charges: Sequence[tuple[str, Budget]]) -> int:
        return self.acquire(charges)

    def acquire(self, charges: Iterable[tuple[str, Budget]]) -> int:
        """Spend one token from each ``(key, budget)`` bucket and answer 0, or spend
        nothing and answer the seconds until every one of them holds a token again."""
        now = self.clock()
        self._evict_idle(now)
        held: list[tuple[_Bucket, Budget]] = []
        wait = 0.0
        for key, budget in charges:
            bucket = self._bucket(key, budget, now)
            held.append((bucket, budget))
            if bucket.tokens < 1.0:
                wait = max(wait, (1.0 - bucket.tokens) / budget.rate)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket, _ in held:
            bucket.tokens -= 1.0
        return 0

    def _bucket(self, key: str, budget: Budget, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(budget.per_minute), now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(
                float(budget.per_minute), bucket.tokens + (now - bucket.updated) * budget.rate
            )
            bucket.updated = now
            self._buckets.move_to_end(key)
        return bucket

    def _evict_idle(self, now: float) -> None:
        # The least recently used first; one idle for a minute has refilled completely
        # whatever its budget (a budget refills in 60 s), so forgetting it changes nothing.
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if now - oldest.updated < 60.0:
                return
            del self._buckets[key]


async def limiter_of(request: Request) -> Limits:
    limiter: Limits = request.app.state.rate_limiter
    return limiter


Limiter = Annotated[Limits, Depends(limiter_of)]


def rate_limited(retry_after: int) -> Problem:
    return Problem(
        429,
        "rate_limited",
        "too many requests; retry later",
        headers={"Retry-After": str(retry_after)},
    )


def unavailable() -> Problem:
    return Problem(
        503,
        "unavailable",
        "the rate limits cannot be checked right now; retry later",
        headers={"Retry-After": "5"},
    )


async def check_login_account(
    limiter: Limits, settings: GatewaySettings, *, tenant: str, email: str
) -> None:
    """429 when this tenant + e-mail has used its login budget (whoever tries)."""
    key = f"login-account:{tenant.strip().lower()}:{email.strip().lower()}"
    budget = Budget(settings.rate_limit_login_account_per_minute, fail_closed=True)
    try:
        retry_after = await limiter.spend([(key, budget)])
    except RateLimitUnavailable:
        raise unavailable() from None
    if retry_after:
        raise rate_limited(retry_after)


def _route_class(scope: Scope) -> str | None:
    if scope.get("method") != "POST":
        return None
    path: str = scope.get("path", "")
    if path == LOGIN_PATH:
        return "login"
    if path == SHARE_OPEN_PATH:
        return "share_open"
    if path in TOKEN_PATHS:
        return "token"
    if _REVEAL_PATH.fullmatch(path):
        return "reveal"
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: Limits) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        settings = settings_of(scope)
        client = client_key(scope)
        try:
            # The address first, so a flood of forged tokens costs no verification.
            retry_after = await self.limiter.spend(
                [(f"client:{client}", Budget(settings.rate_limit_client_per_minute))]
            )
            if not retry_after:
                retry_after = await self._caller_and_route(scope, settings, client)
        except RateLimitUnavailable:
            await answer_problem(
                scope,
                receive,
                send,
                status=503,
                code="unavailable",
                detail="the rate limits cannot be checked right now; retry later",
                headers={"Retry-After": "5"},
            )
            return
        if retry_after:
            await answer_problem(
                scope,
                receive,
                send,
                status=429,
                code="rate_limited",
                detail="too many requests; retry later",
                headers={"Retry-After": str(retry_after)},
            )
            return
        await self.app(scope, receive, send)

    async def _caller_and_route(self, scope: Scope, settings: GatewaySettings, client: str) -> int:
        charges: list[tuple[str, Budget]] = []
        kind = _route_class(scope)
        anonymous = ("login", "token", "share_open")
        principal = await verified_principal(scope) if kind not in anonymous else None
        caller = f"user:{principal.tenant_id}:{principal.subject}" if principal else None
        if caller is not None:
            charges.append((caller, Budget(settings.rate_limit_user_per_minute)))
        # Sign-in, token and reveal budgets fail closed (see gateway.shared_ratelimit).
        if kind == "login":
            budget = Budget(settings.rate_limit_login_per_minute, fail_closed=True)
            charges.append((f"login:{client}", budget))
        elif kind == "share_open":
            # Guessing at a share's PIN is guessing at a password: the same budget.
            budget = Budget(settings.rate_limit_login_per_minute, fail_closed=True)
            charges.append((f"share-open:{client}", budget))
        elif kind == "token":
            budget = Budget(settings.rate_limit_token_per_minute, fail_closed=True)
            charges.append((f"token:{client}", budget))
        elif kind == "reveal":
            who = caller or f"client:{client}"
            budget = Budget(settings.rate_limit_reveal_per_minute, fail_closed=True)
            charges.append((f"reveal:{who}", budget))
        return await self.limiter.spend(charges) if charges else 0
