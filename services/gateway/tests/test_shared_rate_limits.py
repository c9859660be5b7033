"""Rate limits shared by gateway replicas through a real nats-server's key-value bucket
(``rate_limit_store = "nats"``): one budget whichever replica answers, compare-and-set
under concurrency, and fail-closed sign-ins when NATS is out of reach."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest

from fieldvault_devstack.nats import NatsServer
from gateway.ratelimit import Budget, RateLimiter, RateLimitUnavailable
from gateway.shared_ratelimit import SharedRateLimiter, entry_name

from .fake_identity import FakeGateway, fake_gateway
from .test_idempotency import connected
from .test_rate_limits import LOGIN, Clock, assert_rate_limited


@pytest.fixture
def bucket() -> str:
    return f"rl_{uuid.uuid4().hex[:12]}"


async def two_replicas(
    stack: AsyncExitStack, start_peer: Any, nats_server: NatsServer, bucket: str, **limits: Any
) -> list[FakeGateway]:
    """Two gateway apps, each with its own NATS connection, on one shared bucket and clock."""
    clock = Clock()
    replicas = []
    for _ in range(2):
        fake = await stack.enter_async_context(
            fake_gateway(
                start_peer,
                nats_url=nats_server.url,
                rate_limit_store="nats",
                rate_limit_bucket=bucket,
                **limits,
            )
        )
        await connected(fake.app)
        limiter = fake.app.state.rate_limiter
        assert isinstance(limiter, SharedRateLimiter)
        # Frozen: the budget does not refill while the test runs, however slow the machine.
        limiter.clock = clock
        replicas.append(fake)
    return replicas


async def test_two_replicas_share_one_login_budget(
    start_peer: Any, nats_server: NatsServer, bucket: str
) -> None:
    async with AsyncExitStack() as stack:
        one, two = await two_replicas(
            stack, start_peer, nats_server, bucket, rate_limit_login_per_minute=3
        )
        answers = []
        for n in range(6):
            replica = (one, two)[n % 2]
            answers.append(await replica.client.post("/v1/auth/login", json=LOGIN))

    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    for refused in answers[3:]:
        assert_rate_limited(refused)
    # Per replica the budget would have let three through each; together only three reach identity.
    assert len(one.identity.requests("Login")) + len(two.identity.requests("Login")) == 3


async def test_two_replicas_share_each_users_budget(
    start_peer: Any, nats_server: NatsServer, bucket: str
) -> None:
    async with AsyncExitStack() as stack:
        one, two = await two_replicas(
            stack, start_peer, nats_server, bucket, rate_limit_user_per_minute=2
        )
        # Both fakes mint with their own key; each replica verifies its own identity's tokens.
        ada_one, ada_two = one.bearer(sub="user-ada"), two.bearer(sub="user-ada")
        first = await one.client.get("/v1/me", headers=ada_one)
        second = await two.client.get("/v1/me", headers=ada_two)
        third = await one.client.get("/v1/me", headers=ada_one)
        bob = await two.client.get("/v1/me", headers=two.bearer(sub="user-bob"))

    assert (first.status_code, second.status_code) == (200, 200)
    assert_rate_limited(third)
    assert bob.status_code == 200


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[Any]:
    clients = [await nats.connect(nats_server.url) for _ in range(2)]
    yield clients
    for client in clients:
        await client.close()


async def test_concurrent_spends_from_two_replicas_never_exceed_the_budget(
    nats_client: Any, bucket: str
) -> None:
    clock = Clock()
    limiters = [
        SharedRateLimiter(bucket, lambda c=client: c, RateLimiter(), clock=clock)
        for client in nats_client
    ]
    budget = Budget(per_minute=10, fail_closed=True)

    storm = await asyncio.gather(
        *(limiters[n % 2].spend([("client:203.0.113.9", budget)]) for n in range(40))
    )
    # Some may have lost every compare-and-set to the others and been refused; what
    # they left is still there, and spending goes on until the budget is gone.
    spent = storm.count(0)
    assert 1 <= spent <= 10
    after = [await limiters[n % 2].spend([("client:203.0.113.9", budget)]) for n in range(12)]
    assert spent + after.count(0) == 10
    assert after[-1] >= 1


async def test_a_refused_request_spends_from_none_of_its_shared_buckets(
    nats_client: Any, bucket: str
) -> None:
    limiter = SharedRateLimiter(bucket, lambda: nats_client[0], RateLimiter(), clock=Clock())
    roomy, tight = Budget(per_minute=5), Budget(per_minute=1)

    assert await limiter.spend([("user", roomy), ("reveal", tight)]) == 0
    for _ in range(3):
        assert await limiter.spend([("user", roomy), ("reveal", tight)]) > 0
    assert [await limiter.spend([("user", roomy)]) for _ in range(4)] == [0] * 4
    assert await limiter.spend([("user", roomy)]) > 0


async def test_entries_are_named_by_a_hash_not_by_address_or_email(
    nats_client: Any, bucket: str
) -> None:
    limiter = SharedRateLimiter(bucket, lambda: nats_client[0], RateLimiter(), clock=Clock())
    key = "login-account:lifts:canary-7731@example.com"
    await limiter.spend([(key, Budget(per_minute=5))])

    kv = await nats_client[1].jetstream().key_value(bucket)
    names = await kv.keys()
    assert names == [entry_name(key)]
    assert "canary" not in names[0]
    assert b"canary" not in ((await kv.get(names[0])).value or b"")


async def test_without_nats_sign_ins_fail_closed_and_other_requests_fall_back(
    start_peer: Any,
) -> None:
    # The default test settings point at a closed port: the gateway has no NATS.
    async with fake_gateway(
        start_peer, rate_limit_store="nats", rate_limit_client_per_minute=3
    ) as fake:
        login = await fake.client.post("/v1/auth/login", json=LOGIN)
        others = [await fake.client.get("/.well-known/jwks.json") for _ in range(4)]

    assert login.status_code == 503, login.text
    assert login.json()["code"] == "unavailable"
    assert login.headers["retry-after"] == "5"
    assert fake.identity.requests("Login") == []
    # Fail open to this replica's own budget, which still sheds a flood.
    assert [r.status_code for r in others[:2]] == [200, 200]
    assert_rate_limited(others[3])


async def test_a_fail_closed_budget_raises_when_the_store_is_unreachable() -> None:
    limiter = SharedRateLimiter("rl_none", lambda: None, RateLimiter())
    with pytest.raises(RateLimitUnavailable):
        await limiter.spend([("reveal:user", Budget(per_minute=5, fail_closed=True))])
    assert await limiter.spend([("client:x", Budget(per_minute=5))]) == 0
