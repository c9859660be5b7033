"""TokenVerifier: what it accepts, everything it refuses, and what it never says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import pytest

from fieldvault_platform.auth import PrincipalKind, TokenVerifier
from fieldvault_platform.errors import Unauthenticated

CANARY = "CANARY7f3a9c1e"


def b64url_json(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


async def refusal(
    verifier: TokenVerifier, token: str, caplog: pytest.LogCaptureFixture
) -> Unauthenticated:
    """Verify ``token`` expecting a refusal that leaks neither the token nor the canary."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    error = info.value
    rendered = "".join(traceback.format_exception(error)) + repr(error)
    for leaked in (CANARY, token) if token else (CANARY,):
        assert leaked not in rendered
        assert leaked not in caplog.text
        for record in caplog.records:
            assert leaked not in repr(vars(record))
    # Nothing chained that an error reporter could print.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


# --- accepted -----------------------------------------------------------------------------


async def test_valid_user_token_becomes_a_principal_with_its_claims(
    issuer: Any, verifier: TokenVerifier
) -> None:
    token = issuer.mint(sub="user-42", jti="jti-42")

    principal = await verifier.verify(token)

    assert principal.subject == "user-42"
    assert principal.kind is PrincipalKind.USER
    assert principal.acting_user_id == "user-42"
    assert principal.tenant_id == "tenant-a"
    assert principal.organization_id == "org-1"
    assert principal.roles == {"dispatcher"}
    assert principal.area_ids == {"area-1", "area-2"}
    assert principal.scopes == {"work_orders:read", "work_orders:write"}
    assert principal.session_id == "session-1"
    assert principal.token_id == "jti-42"
    assert principal.audience == "work_order"
    assert principal.amr == ("pwd", "otp")
    assert principal.actor is None
    assert principal.expires_at > datetime.now(UTC) > principal.issued_at.replace(microsecond=0)


async def test_on_behalf_of_service_token_names_both_service_and_user(
    issuer: Any, verifier: TokenVerifier
) -> None:
    token = issuer.mint(
        sub="service:work_order",
        sid=None,
        org=None,
        roles=[],
        scope="grants:write",
        act={"sub": "user-7", "tid": "tenant-a", "roles": ["dispatcher"]},
    )

    principal = await verifier.verify(token)

    assert principal.kind is PrincipalKind.SERVICE
    assert principal.name == "work_order"
    assert principal.actor is not None
    assert principal.actor.user_id == "user-7"
    assert principal.actor.roles == {"dispatcher"}
    assert principal.acting_user_id == "user-7"


async def test_partner_client_and_tenant_agnostic_service_tokens_are_accepted(
    issuer: Any, verifier: TokenVerifier
) -> None:
    client = await verifier.verify(issuer.mint(sub="client:erp-1", sid=None, amr=None))
    service = await verifier.verify(issuer.mint(sub="service:identity", tid=None, sid=None))

    assert (client.kind, client.name, client.tenant_id) == (
        PrincipalKind.CLIENT,
        "erp-1",
        "tenant-a",
    )
    assert (service.kind, service.tenant_id) == (PrincipalKind.SERVICE, None)


async def test_es256_tokens_are_accepted(issuer: Any, verifier: TokenVerifier) -> None:
    kid = issuer.add_key(algorithm="ES256")
    await verifier._jwks.refresh()

    principal = await verifier.verify(issuer.mint(kid=kid))

    assert principal.subject == "user-1"


async def test_clock_skew_within_the_leeway_is_tolerated(
    issuer: Any, verifier: TokenVerifier
) -> None:
    now = int(time.time())
    token = issuer.mint(iat=now + 20, nbf=now + 20, exp=now - 20 + 300)
    expired_within_leeway = issuer.mint(iat=now - 300, nbf=now - 300, exp=now - 20)

    await verifier.verify(token)
    await verifier.verify(expired_within_leeway)


# --- refused ------------------------------------------------------------------------------


async def test_token_with_a_bad_signature_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    header, payload, _signature = issuer.mint(sub=CANARY).split(".")
    other = issuer.mint(sub="user-1").split(".")[2]

    error = await refusal(verifier, f"{header}.{payload}.{other}", caplog)

    assert error.message == "token invalid"


async def test_token_signed_by_a_key_not_in_the_jwks_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    rogue = issuer.add_key("key-rogue")
    issuer.published.remove(rogue)
    # Same kid as the genuine key, different private key.
    issuer.private_keys["key-1-forged"] = issuer.private_keys[rogue]
    issuer.algorithms["key-1-forged"] = "EdDSA"
    token = issuer.mint(kid="key-1-forged", header={"kid": "key-1"}, org=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_alg_none_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = unsigned({"alg": "none", "kid": "key-1", "typ": "at+jwt"}, issuer.claims(sub=CANARY))

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


@pytest.mark.parametrize("key_form", ["jwk_x", "raw", "pem"])
async def test_hs256_signed_with_the_public_key_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture, key_form: str
) -> None:
    """Algorithm confusion: whoever holds the public key must not be able to mint tokens."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = issuer.private_keys["key-1"].public_key()
    secret = {
        "jwk_x": issuer.jwk("key-1")["x"].encode(),
        "raw": public.public_bytes(Encoding.Raw, PublicFormat.Raw),
        "pem": public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    }[key_form]
    header = {"alg": "HS256", "kid": "key-1", "typ": "at+jwt"}
    signing_input = f"{b64url_json(header)}.{b64url_json(issuer.claims(sub=CANARY))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_header_naming_another_allowed_alg_than_the_key_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    es_kid = issuer.add_key(algorithm="ES256")
    await verifier._jwks.refresh()
    # Signed with the ES256 key, but presenting the Ed25519 key's kid.
    token = issuer.mint(kid=es_kid, header={"kid": "key-1"}, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_token_for_another_service_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    for audience in ("customer_vault", ["work_order", "customer_vault"], ["work_order"]):
        token = issuer.mint(aud=audience, sub=CANARY)
        error = await refusal(verifier, token, caplog)
        assert error.message == "token not valid for this service"


async def test_token_from_another_issuer_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint(iss="someone-else", sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_expired_token_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    token = issuer.mint(iat=now - 400, nbf=now - 400, exp=now - 100, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token expired"


async def test_token_issued_longer_ago_than_any_token_lives_is_refused_despite_its_exp(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    token = issuer.mint(iat=now - 3600, nbf=now - 3600, exp=now + 3600, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token expired"


async def test_not_yet_valid_token_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    for claims in ({"nbf": now + 120}, {"iat": now + 120, "nbf": now + 120}):
        token = issuer.mint(exp=now + 600, sub=CANARY, **claims)
        assert (await refusal(verifier, token, caplog)).message == "token not yet valid"


async def test_token_without_kid_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint(header={"kid": None}, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"
    assert issuer.fetch_count == 0  # refused before any key lookup


async def test_token_with_an_unknown_kid_is_refused_after_one_refresh(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture, clock: Any
) -> None:
    await verifier.verify(issuer.mint())
    fetches = issuer.fetch_count
    clock.advance(31)  # past the refresh rate limit
    issuer.published.remove(issuer.add_key("key-unpublished"))
    token = issuer.mint(kid="key-unpublished", sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"
    assert issuer.fetch_count == fetches + 1


async def test_token_without_at_jwt_type_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    """An ID token or other JWT signed by identity is not an access token."""
    token = issuer.mint(header={"typ": "JWT"}, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


@pytest.mark.parametrize(
    "claims",
    [
        {"jti": None},
        {"exp": None},
        {"iat": None},
        {"nbf": None},
        {"sub": None},
        {"tid": None},  # a user token must name its tenant
        {"sid": None},  # a user token must name its session
        {"roles": "admin"},
        {"scope": ["work_orders:read"]},
        {"sub": "admin:root"},
        {"sub": "client:"},
        {"act": {"sub": "user-7", "tid": "tenant-a", "roles": []}},  # act on a user token
        {"exp": "tomorrow"},
        {"iat": True},
        {"exp": str(int(time.time()) + 300)},  # PyJWT alone would int() these
        {"iat": str(int(time.time()))},
        {"nbf": "0"},
    ],
    ids=repr,
)
async def test_token_breaking_the_claims_contract_is_refused(
    issuer: Any,
    verifier: TokenVerifier,
    caplog: pytest.LogCaptureFixture,
    claims: dict[str, Any],
) -> None:
    token = issuer.mint(org=CANARY, **claims)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_on_behalf_of_token_for_another_tenants_user_is_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint(
        sub="service:work_order",
        sid=None,
        act={"sub": CANARY, "tid": "tenant-b", "roles": []},
    )

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        f"{CANARY}.{CANARY}.{CANARY}",
        f"eyJhbGciOiJFZERTQSJ9.{CANARY}",
        "a.b.c.d",
        "eyJ" + "A" * 9000 + ".e30.",
        "bm90IGpzb24.e30.",  # header is base64 of 'not json'
        "WyJhIl0.e30.",  # header is a JSON list
    ],
)
async def test_malformed_token_is_refused(
    verifier: TokenVerifier, caplog: pytest.LogCaptureFixture, token: str
) -> None:
    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_critical_header_extensions_are_refused(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    token = issuer.mint(header={"crit": ["exp"]}, sub=CANARY)

    assert (await refusal(verifier, token, caplog)).message == "token invalid"


async def test_refusals_log_the_kid_and_verified_jti_but_nothing_else(
    issuer: Any, verifier: TokenVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    token = issuer.mint(iat=now - 3600, nbf=now - 3600, exp=now + 60, jti="jti-9", sub=CANARY)

    await refusal(verifier, token, caplog)

    (record,) = [r for r in caplog.records if r.getMessage() == "access token refused"]
    logged = tuple(getattr(record, name) for name in ("kid", "jti", "reason"))
    assert logged == ("key-1", "jti-9", "token expired")


def test_verifier_refuses_an_audience_outside_the_contract(make_verifier: Any) -> None:
    with pytest.raises(ValueError, match="audience"):
        make_verifier(audience="work-order")


def test_verifier_refuses_a_deny_list_that_forgets_too_early(make_verifier: Any) -> None:
    from fieldvault_platform.auth import DenyList

    with pytest.raises(ValueError, match="deny_list"):
        make_verifier(deny_list=DenyList(max_token_lifetime=60))
