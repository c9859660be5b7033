"""Step-up tokens: accepted only as identity's word for this caller, purpose and target."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from fieldvault_platform.auth import BREAK_GLASS, STEP_UP_TOKEN_TYPE, TokenVerifier

TARGET = {"site_id": "site-1", "kind": "door_code"}
CANARY = "CANARY7f3a9c1e"
#: conftest's TestIssuer (conftest is not importable under importlib mode).
Issuer = Any


def step_up(issuer: Issuer, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "purpose": BREAK_GLASS,
        "target": TARGET,
        "amr": ["otp"],
        "roles": None,
        "areas": None,
        "scope": None,
        "org": None,
        **overrides,
    }
    header = {"typ": STEP_UP_TOKEN_TYPE, **claims.pop("header", {})}
    return issuer.mint(header=header, **claims)


async def test_identitys_step_up_for_this_caller_and_target_is_accepted(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(issuer.mint())
    accepted = await verifier.verify_step_up(
        step_up(issuer), principal=principal, purpose=BREAK_GLASS, target=TARGET
    )
    assert accepted


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "user-2"},
        {"tid": "tenant-b"},
        {"sid": "session-2"},
        {"sid": None},
        {"purpose": "export"},
        {"target": {"site_id": "site-2", "kind": "door_code"}},
        {"target": {"site_id": "site-1", "kind": "alarm_code"}},
        {"aud": "customer_vault"},  # another service's step-up
        {"iss": "someone-else"},
        {"exp": int(time.time()) - 120},
        {"iat": int(time.time()) - 600, "exp": int(time.time()) + 60},
        {"header": {"typ": "at+jwt"}},  # an access token is no step-up
        {"header": {"typ": None}},
        {"jti": None},
    ],
)
async def test_a_step_up_for_anything_else_is_refused_without_quoting_it(
    issuer: Issuer,
    verifier: TokenVerifier,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    principal = await verifier.verify(issuer.mint())
    token = step_up(issuer, amr=[CANARY], **overrides)
    refused = await verifier.verify_step_up(
        token, principal=principal, purpose=BREAK_GLASS, target=TARGET
    )
    assert not refused
    assert token not in caplog.text and CANARY not in caplog.text


async def test_a_forged_or_garbled_step_up_is_refused(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(issuer.mint())
    genuine = step_up(issuer)
    head, body, signature = genuine.split(".")
    forged = f"{head}.{body}.{signature[::-1]}"
    for token in (forged, "", "a.b", "x" * 5000, genuine + "."):
        assert not await verifier.verify_step_up(
            token, principal=principal, purpose=BREAK_GLASS, target=TARGET
        )
