"""Rate limits at the edge: per client address, per verified user, and stricter ones for
login, tokens and reveals; 429 ``rate_limited`` with ``Retry-After``, backend not called."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from gateway.ratelimit import Budget, RateLimiter

from .fake_customer_vault import fake_vault_gateway
from .fake_identity import fake_gateway

LOGIN = {"tenant": "lifts", "email": "ada@example.com", "password": "right password here"}


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_login_is_limited_more_strictly_than_other_requests(start_peer: Any) -> None:
    async with fake_gateway(
        start_peer, rate_limit_login_per_minute=2, rate_limit_client_per_minute=100
    ) as fake:
        logins = [await fake.client.post("/v1/auth/login", json=LOGIN) for _ in range(3)]
        others = [await fake.client.get("/.well-known/jwks.json") for _ in range(5)]

    assert [r.status_code for r in logins[:2]] == [200, 200]
    assert_rate_limited(logins[2])
    assert len(fake.identity.requests("Login")) == 2
    assert all(r.status_code == 200 for r in others)


async def test_logins_for_one_account_are_limited_whatever_the_address(start_peer: Any) -> None:
    async with fake_gateway(
        start_peer, rate_limit_login_account_per_minute=2, rate_limit_login_per_minute=100
    ) as fake:
        same = [await fake.client.post("/v1/auth/login", json=LOGIN) for _ in range(3)]
        # Case and spacing do not make another account.
        shouted = await fake.client.post(
            "/v1/auth/login", json=LOGIN | {"email": " ADA@example.com"}
        )
        other = await fake.client.post("/v1/auth/login", json=LOGIN | {"email": "bob@example.com"})

    assert [r.status_code for r in same[:2]] == [200, 200]
    assert_rate_limited(same[2])
    assert_rate_limited(shouted)
    assert other.status_code == 200
    assert len(fake.identity.requests("Login")) == 3


async def test_token_endpoints_share_a_strict_budget(start_peer: Any) -> None:
    async with fake_gateway(start_peer, rate_limit_token_per_minute=1) as fake:
        refreshed = await fake.client.post("/v1/auth/refresh", json={"refresh_token": "r-1"})
        token = await fake.client.post("/v1/oauth/token", data={"grant_type": "client_credentials"})

    assert refreshed.status_code == 200
    assert_rate_limited(token)
    assert fake.identity.requests("IssueClientToken") == []


async def test_every_client_address_has_a_budget_but_probes_are_never_limited(
    gateway: Any,
) -> None:
    async with gateway(rate_limit_client_per_minute=3) as client:
        answers = [await client.get("/v1/missing") for _ in range(4)]
        probe = await client.get("/healthz")

    assert [r.status_code for r in answers[:3]] == [404, 404, 404]
    assert_rate_limited(answers[3])
    assert probe.status_code == 200


async def test_each_user_has_a_budget_of_their_own(start_peer: Any) -> None:
    async with fake_gateway(
        start_peer, rate_limit_user_per_minute=2, rate_limit_client_per_minute=100
    ) as fake:
        ada = fake.bearer(sub="user-ada")
        mine = [await fake.client.get("/v1/me", headers=ada) for _ in range(3)]
        bob = await fake.client.get("/v1/me", headers=fake.bearer(sub="user-bob"))

    assert [r.status_code for r in mine[:2]] == [200, 200]
    assert_rate_limited(mine[2])
    assert bob.status_code == 200


async def test_a_forged_token_does_not_spend_its_subjects_budget(start_peer: Any) -> None:
    forger = ed25519.Ed25519PrivateKey.generate()
    async with fake_gateway(
        start_peer, rate_limit_user_per_minute=2, rate_limit_client_per_minute=100
    ) as fake:
        forged = {"Authorization": f"Bearer {fake.identity.mint(private_key=forger, sub='ada')}"}
        refused = [await fake.client.get("/v1/me", headers=forged) for _ in range(3)]
        real = [await fake.client.get("/v1/me", headers=fake.bearer(sub="ada")) for _ in range(2)]

    assert all(r.status_code == 401 for r in refused)
    assert all(r.status_code == 200 for r in real)


async def test_reveals_are_limited_per_user_before_customer_vault_is_asked(
    start_peer: Any,
) -> None:
    async with fake_vault_gateway(start_peer, rate_limit_reveal_per_minute=1) as fake:
        path = "/v1/sites/s-1/secrets/door_code/reveal"
        first = await fake.client.post(path, headers=fake.bearer())
        second = await fake.client.post(path, headers=fake.bearer())
        listed = await fake.client.get("/v1/sites/s-1/secrets", headers=fake.bearer())

    assert first.status_code != 429
    assert_rate_limited(second)
    assert listed.status_code != 429
    assert len(fake.vault.requests("RevealSecret")) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_budgets_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    budget = Budget(per_minute=6)  # one every 10 s

    assert [limiter.acquire([("k", budget)]) for _ in range(6)] == [0] * 6
    assert limiter.acquire([("k", budget)]) == 10
    clock.now += 10
    assert limiter.acquire([("k", budget)]) == 0
    assert limiter.acquire([("k", budget)]) == 10


def test_a_refused_request_spends_from_none_of_its_buckets() -> None:
    limiter = RateLimiter(clock=Clock())
    roomy, tight = Budget(per_minute=100), Budget(per_minute=1)

    assert limiter.acquire([("user", roomy), ("reveal", tight)]) == 0
    for _ in range(5):
        assert limiter.acquire([("user", roomy), ("reveal", tight)]) > 0
    # Only the one allowed request was counted against the roomy bucket.
    assert [limiter.acquire([("user", roomy)]) for _ in range(99)] == [0] * 99
    assert limiter.acquire([("user", roomy)]) > 0


def test_memory_is_bounded_and_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(max_keys=100, clock=clock)
    budget = Budget(per_minute=10)

    for n in range(1000):
        limiter.acquire([(f"client-{n}", budget)])
    assert len(limiter) == 100

    clock.now += 61
    limiter.acquire([("late", budget)])
    assert len(limiter) == 1


async def test_opening_shares_is_limited_per_address_before_customer_vault_is_asked(
    start_peer: Any,
) -> None:
    """Opening a share is public, so guessing PINs from one address is held back like
    guessing passwords (customer_vault also kills a share after a few wrong PINs)."""
    async with fake_vault_gateway(
        start_peer, rate_limit_login_per_minute=2, rate_limit_client_per_minute=100
    ) as fake:
        body = {"token": "0" * 36 + "." + "x" * 43, "pin": "12345678"}
        opened = [await fake.client.post("/v1/shares/open", json=body) for _ in range(3)]
        # Signing in keeps its own budget.
        login = await fake.client.post("/v1/auth/login", json=LOGIN)

    assert [r.status_code for r in opened[:2]] == [410, 410]
    assert opened[0].json()["code"] == "share_unavailable"
    assert_rate_limited(opened[2])
    assert len(fake.vault.requests("OpenShare")) == 2
    assert login.status_code != 429
