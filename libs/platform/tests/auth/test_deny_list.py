"""DenyList: what each kind of revocation covers, how long it is kept, and overflow."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldvault_platform.auth import DenyList, Principal, TokenVerifier
from fieldvault_platform.auth.principal import principal_from_claims
from fieldvault_platform.errors import Unauthenticated

T0 = 1_000_000.0


def principal(issued_at: float = T0, **overrides: Any) -> Principal:
    claims: dict[str, Any] = {
        "sub": "user-1",
        "aud": "work_order",
        "jti": "jti-1",
        "tid": "tenant-a",
        "sid": "session-1",
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + 300,
    }
    claims.update(overrides)
    return principal_from_claims({k: v for k, v in claims.items() if v is not None})


def on_behalf_of(user_id: str = "user-1", session_id: str | None = None) -> Principal:
    act = {"sub": user_id, "tid": "tenant-a", "roles": []}
    if session_id:
        act["sid"] = session_id
    return principal(sub="service:work_order", sid=None, jti="jti-obo", act=act)


@pytest.fixture
def clock(clock: Any) -> Any:
    clock.now = T0 + 10
    return clock


@pytest.fixture
def denied(clock: Any) -> DenyList:
    return DenyList(max_token_lifetime=600, leeway=30, clock=clock)


def test_revoked_session_refuses_every_token_of_that_session_only(denied: DenyList) -> None:
    denied.revoke_session("tenant-a", "session-1")

    assert denied.is_revoked(principal())
    assert denied.is_revoked(principal(issued_at=T0 + 5, jti="jti-later"))
    assert not denied.is_revoked(principal(sid="session-2", jti="jti-2"))
    # Session ids are scoped by tenant.
    assert not denied.is_revoked(principal(tid="tenant-b"))


def test_revoked_user_refuses_tokens_issued_up_to_the_revocation_but_not_after(
    denied: DenyList,
) -> None:
    denied.revoke_user("tenant-a", "user-1", revoked_at=T0 + 5)

    assert denied.is_revoked(principal(issued_at=T0))
    assert denied.is_revoked(principal(issued_at=T0 + 5))
    assert not denied.is_revoked(principal(issued_at=T0 + 6, sid="session-new"))
    assert not denied.is_revoked(principal(sub="user-2"))
    assert not denied.is_revoked(principal(tid="tenant-b"))


def test_a_later_revocation_of_the_same_user_widens_an_earlier_one(denied: DenyList) -> None:
    denied.revoke_user("tenant-a", "user-1", revoked_at=T0 + 5)
    denied.revoke_user("tenant-a", "user-1", revoked_at=T0 + 8)
    denied.revoke_user("tenant-a", "user-1", revoked_at=T0 + 1)  # a replayed older event

    assert denied.is_revoked(principal(issued_at=T0 + 8))
    assert not denied.is_revoked(principal(issued_at=T0 + 9))


def test_a_revoked_api_client_refuses_its_tokens_for_every_service_but_no_other_subject(
    denied: DenyList,
) -> None:
    denied.revoke_client("tenant-a", "fvc_1", revoked_at=T0 + 5)

    def client(**claims: Any) -> Principal:
        return principal(**{"sub": "client:fvc_1", "sid": None} | claims)

    assert denied.is_revoked(client())
    assert denied.is_revoked(client(aud="customer_vault", jti="jti-exchanged"))
    assert not denied.is_revoked(client(sub="client:fvc_2"))
    assert not denied.is_revoked(client(tid="tenant-b"))
    assert not denied.is_revoked(principal(sub="fvc_1"))


def test_revoked_token_id_refuses_only_that_token(denied: DenyList) -> None:
    denied.revoke_token("jti-1", expires_at=T0 + 300)

    assert denied.is_revoked(principal())
    assert not denied.is_revoked(principal(jti="jti-2"))


def test_on_behalf_of_tokens_are_refused_with_their_user_or_session(denied: DenyList) -> None:
    assert not denied.is_revoked(on_behalf_of("user-1", "session-9"))

    denied.revoke_session("tenant-a", "session-9")
    assert denied.is_revoked(on_behalf_of("user-1", "session-9"))

    denied.revoke_user("tenant-a", "user-7", revoked_at=T0 + 1)
    assert denied.is_revoked(on_behalf_of("user-7"))
    assert not denied.is_revoked(on_behalf_of("user-8"))


def test_entries_are_pruned_once_their_tokens_would_have_expired(
    denied: DenyList, clock: Any
) -> None:
    denied.revoke_session("tenant-a", "session-1", revoked_at=T0)
    denied.revoke_user("tenant-a", "user-9", revoked_at=T0)
    denied.revoke_token("jti-1", expires_at=T0 + 60)
    assert len(denied) == 3

    clock.now = T0 + 89
    assert denied.prune() == 0  # its token is still accepted within the leeway
    clock.now = T0 + 90
    assert denied.prune() == 1  # the jti entry: its token has expired (+ leeway)
    clock.now = T0 + 629
    assert denied.prune() == 0
    assert denied.is_revoked(principal(jti="jti-x"))
    clock.now = T0 + 630  # max lifetime + leeway after the revocation
    assert not denied.is_revoked(principal(jti="jti-x"))  # checks prune as they go
    assert len(denied) == 0


def test_a_revocation_too_old_to_matter_is_not_stored(denied: DenyList, clock: Any) -> None:
    denied.revoke_user("tenant-a", "user-1", revoked_at=clock.now - 631)

    assert len(denied) == 0


def test_a_full_list_evicts_and_fails_closed_for_what_it_evicted(clock: Any) -> None:
    denied = DenyList(max_token_lifetime=600, leeway=30, max_entries=3, clock=clock)
    for n in range(5):
        denied.revoke_session("tenant-a", f"session-{n}", revoked_at=T0 + n)

    assert len(denied) == 3
    # session-0 and session-1 were evicted, but their tokens are still refused …
    assert denied.is_revoked(principal(issued_at=T0 + 1, sid="session-0"))
    assert denied.is_revoked(principal(issued_at=T0, sid="session-1"))
    # … at the price of refusing every token issued up to the last evicted revocation,
    assert denied.is_revoked(principal(issued_at=T0 + 1, sid="session-unrelated"))
    # while tokens issued after it pass.
    assert not denied.is_revoked(principal(issued_at=T0 + 2, sid="session-unrelated"))


def test_repeated_revocations_do_not_grow_memory_without_bound(clock: Any) -> None:
    denied = DenyList(max_token_lifetime=600, leeway=30, max_entries=10, clock=clock)
    for n in range(10_000):
        denied.revoke_user("tenant-a", "user-1", revoked_at=T0 + n / 1000)

    assert len(denied) == 1
    assert len(denied._expiry_heap) <= 2 * 10 + 64


@settings(max_examples=200, deadline=None)
@given(
    revocations=st.lists(
        st.tuples(st.sampled_from(["user-1", "user-2"]), st.integers(0, 20)), max_size=20
    ),
    issued_at=st.integers(0, 20),
    user=st.sampled_from(["user-1", "user-2"]),
)
def test_a_user_token_is_refused_exactly_when_a_revocation_at_or_after_its_iat_exists(
    revocations: list[tuple[str, int]], issued_at: int, user: str
) -> None:
    denied = DenyList(max_token_lifetime=600, leeway=30, clock=lambda: T0 + 25)
    for revoked_user, at in revocations:
        denied.revoke_user("tenant-a", revoked_user, revoked_at=T0 + at)

    expected = any(u == user and T0 + issued_at <= T0 + at for u, at in revocations)
    assert denied.is_revoked(principal(issued_at=T0 + issued_at, sub=user)) == expected


async def test_verifier_refuses_revoked_tokens_and_accepts_a_later_login(
    issuer: Any, verifier: TokenVerifier, deny_list: DenyList
) -> None:
    now = int(time.time())
    before = issuer.mint(iat=now - 10, nbf=now - 10, sid="session-old")
    deny_list.revoke_user("tenant-a", "user-1", revoked_at=now - 5)
    after = issuer.mint(iat=now, nbf=now, sid="session-new")

    with pytest.raises(Unauthenticated, match="token revoked"):
        await verifier.verify(before)
    assert (await verifier.verify(after)).session_id == "session-new"

    deny_list.revoke_session("tenant-a", "session-new")
    with pytest.raises(Unauthenticated, match="token revoked"):
        await verifier.verify(after)

    by_jti = issuer.mint(sid="session-3", jti="jti-3")
    await verifier.verify(by_jti)
    deny_list.revoke_token("jti-3", expires_at=now + 300)
    with pytest.raises(Unauthenticated, match="token revoked"):
        await verifier.verify(by_jti)
