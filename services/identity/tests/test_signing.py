"""Token signing with the key in Vault Transit, against a real OpenBao and
identity's own AppRole (never root): tokens verify with PyJWT from the JWKS,
tampering breaks them, rotation logs nobody out, the key cannot be exported
or borrowed, and neither the token nor key material reaches logs or spans."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import hvac
import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from fieldvault_devstack.openbao import OpenBaoServer, bootstrap_vault
from fieldvault_platform.errors import Unauthenticated, Unavailable
from fieldvault_platform.settings import Environment, VaultSettings
from fieldvault_platform.vault import VaultClient, VaultRefused
from identity.signing import TokenSigner, b64url, kid_for, parse_kid

pytestmark = pytest.mark.integration

ISSUER = "fieldvault-identity"
AUDIENCE = "work_order"
CANARY = "CANARY-sid-7f3a9c"


def _identity_vault(addr: str, credentials: Mapping[str, tuple[str, str]]) -> VaultClient:
    role_id, secret_id = credentials["identity"]
    return VaultClient(
        VaultSettings(
            environment=Environment.DEVELOPMENT,
            vault_addr=addr,
            vault_auth_method="approle",
            vault_role_id=role_id,
            vault_secret_id=SecretStr(secret_id),
        )
    )


@pytest.fixture
def vault(
    openbao: OpenBaoServer, openbao_credentials: Mapping[str, tuple[str, str]]
) -> VaultClient:
    return _identity_vault(openbao.addr, openbao_credentials)


@pytest.fixture
def key_name() -> str:
    """A key of this test's own: the OpenBao server is shared by the session."""
    return f"fv-identity-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def signer(vault: VaultClient, key_name: str) -> TokenSigner:
    # No activation delay: these tests look at a rotated-in key at once.
    signer = TokenSigner(vault, key_name=key_name, issuer=ISSUER, activation_delay_seconds=0)
    await signer.ensure_key()
    return signer


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "tid": "tenant-1",
        "org": "org-1",
        "roles": ["technician"],
        "areas": ["north"],
        "scope": "work_orders:read secrets:reveal",
        "sid": "session-1",
        "amr": ["pwd"],
    }
    claims.update(overrides)
    return claims


def _verify(token: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """What another service does: pick the JWK by the token's kid, verify locally."""
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER
    )
    return claims


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")

    def decode(segment: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
        return value

    return decode(header), decode(payload), signature


def _encode(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


# -- signing and verification ----------------------------------------------------------


async def test_a_signed_token_verifies_with_the_published_jwks(
    signer: TokenSigner, key_name: str
) -> None:
    claims = _claims()
    token = await signer.sign(claims)

    header, _, signature = _segments(token)
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": f"{key_name}:v1"}
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64 and "=" not in signature
    assert _verify(token, await signer.jwks()) == {**claims, "iss": ISSUER}


async def test_the_jwks_holds_only_public_ed25519_keys(signer: TokenSigner, key_name: str) -> None:
    jwks = await signer.jwks()
    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": jwks["keys"][0]["x"],
                "kid": f"{key_name}:v1",
                "alg": "EdDSA",
                "use": "sig",
            }
        ]
    }
    assert len(base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "=")) == 32


async def test_tokens_are_compact_and_deterministic(signer: TokenSigner) -> None:
    claims = _claims()
    reordered = dict(reversed(list(claims.items())))
    first, second = await signer.sign(claims), await signer.sign(reordered)
    assert first == second  # sorted keys, compact JSON, deterministic Ed25519
    payload = base64.urlsafe_b64decode(first.split(".")[1] + "==").decode()
    compact = json.dumps({**claims, "iss": ISSUER}, separators=(",", ":"), sort_keys=True)
    assert payload == compact


async def test_a_tampered_payload_fails_verification(signer: TokenSigner) -> None:
    token = await signer.sign(_claims())
    header, _, signature = token.split(".")
    _, claims, _ = _segments(token)
    forged = f"{header}.{_encode({**claims, 'roles': ['admin']})}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, await signer.jwks())


async def test_a_tampered_header_fails_verification(signer: TokenSigner) -> None:
    token = await signer.sign(_claims())
    _, payload, signature = token.split(".")
    header, _, _ = _segments(token)
    forged = f"{_encode({**header, 'typ': 'JWT'})}.{payload}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, await signer.jwks())


async def test_a_flipped_signature_bit_fails_verification(signer: TokenSigner) -> None:
    token = await signer.sign(_claims())
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(f"{header}.{payload}.{b64url(bytes(raw))}", await signer.jwks())


async def test_claims_naming_another_issuer_are_not_signed(signer: TokenSigner) -> None:
    with pytest.raises(ValueError, match="issuer"):
        await signer.sign(_claims(iss="someone-else"))


# -- rotation ---------------------------------------------------------------------------


async def test_rotation_changes_the_kid_and_keeps_earlier_tokens_valid(
    signer: TokenSigner, key_name: str
) -> None:
    before = await signer.sign(_claims(sub="before"))

    assert await signer.rotate() == f"{key_name}:v2"
    after = await signer.sign(_claims(sub="after"))

    assert jwt.get_unverified_header(after)["kid"] == f"{key_name}:v2"
    jwks = await signer.jwks()
    assert [key["kid"] for key in jwks["keys"]] == [f"{key_name}:v2", f"{key_name}:v1"]
    assert jwks["keys"][0]["x"] != jwks["keys"][1]["x"]
    assert _verify(before, jwks)["sub"] == "before"
    assert _verify(after, jwks)["sub"] == "after"
    # The old key does not verify the new token: the kid really selects the key.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(after, jwt.PyJWK(jwks["keys"][1]), algorithms=["EdDSA"], audience=AUDIENCE)


async def test_a_rotated_in_key_is_published_first_and_signs_after_the_activation_delay(
    vault: VaultClient, key_name: str
) -> None:
    wall = [time.time()]
    signer = TokenSigner(
        vault, key_name=key_name, activation_delay_seconds=60, wall_clock=lambda: wall[0]
    )
    await signer.ensure_key()
    assert await signer.current_kid() == f"{key_name}:v1", "a first version signs at once"

    assert await signer.rotate() == f"{key_name}:v2"
    jwks_kids = [key["kid"] for key in (await signer.jwks())["keys"]]
    assert f"{key_name}:v2" in jwks_kids, "published at once, for verifiers to fetch"
    early = await signer.sign(_claims())
    assert jwt.get_unverified_header(early)["kid"] == f"{key_name}:v1"

    wall[0] += 61
    later = await signer.sign(_claims())
    assert jwt.get_unverified_header(later)["kid"] == f"{key_name}:v2"


async def test_another_replica_picks_up_a_rotation_when_its_cache_expires(
    vault: VaultClient, signer: TokenSigner, key_name: str
) -> None:
    now = [1000.0]
    replica = TokenSigner(
        vault,
        key_name=key_name,
        cache_ttl_seconds=30,
        activation_delay_seconds=0,
        clock=lambda: now[0],
    )
    assert jwt.get_unverified_header(await replica.sign(_claims()))["kid"] == f"{key_name}:v1"

    await signer.rotate()
    # Within the TTL the replica still signs with v1, which remains valid.
    stale = await replica.sign(_claims())
    assert jwt.get_unverified_header(stale)["kid"] == f"{key_name}:v1"
    assert _verify(stale, await signer.jwks())

    now[0] += 31
    assert jwt.get_unverified_header(await replica.sign(_claims()))["kid"] == f"{key_name}:v2"
    assert len((await replica.jwks())["keys"]) == 2


async def test_versions_below_min_decryption_version_leave_the_jwks(
    openbao: OpenBaoServer, vault: VaultClient, signer: TokenSigner, key_name: str
) -> None:
    old = await signer.sign(_claims())
    await signer.rotate()
    await signer.rotate()
    openbao.client().secrets.transit.update_key_configuration(
        name=key_name, min_decryption_version=2
    )
    fresh = TokenSigner(vault, key_name=key_name)
    jwks = await fresh.jwks()
    assert [key["kid"] for key in jwks["keys"]] == [f"{key_name}:v3", f"{key_name}:v2"]
    with pytest.raises(ValueError):  # its key is no longer published
        _verify(old, jwks)


# -- cost -------------------------------------------------------------------------------


async def test_signing_costs_one_vault_call_per_token(
    vault: VaultClient, signer: TokenSigner, key_name: str, spans: InMemorySpanExporter
) -> None:

    cold = TokenSigner(vault, key_name=key_name)
    spans.clear()
    tokens = await asyncio.gather(*(cold.sign(_claims()) for _ in range(20)))
    names = [span.name for span in spans.get_finished_spans()]
    assert names.count("vault transit.sign") == 20
    assert names.count("vault transit.read_key") == 1  # concurrent cold callers share one read
    assert len(set(tokens)) == 20


# -- what the identity AppRole may not do -----------------------------------------------


async def test_the_identity_approle_cannot_export_the_signing_key(
    openbao: OpenBaoServer, vault: VaultClient, signer: TokenSigner, key_name: str
) -> None:
    def export(client: hvac.Client) -> object:
        return client.secrets.transit.export_key(name=key_name, key_type="signing-key")

    with pytest.raises(VaultRefused, match="policy"):
        await vault.call(export, name="transit.export_key")
    # Not even root could: the key was created non-exportable.
    assert openbao.client().secrets.transit.read_key(name=key_name)["data"]["exportable"] is False
    with pytest.raises(hvac.exceptions.InvalidRequest):
        openbao.client().secrets.transit.export_key(name=key_name, key_type="signing-key")


async def test_the_identity_approle_cannot_sign_with_a_customer_vault_key(
    openbao: OpenBaoServer, vault: VaultClient
) -> None:
    # Even an ed25519 key, so only the policy stands in the way.
    openbao.client().secrets.transit.create_key(name="fv-tenant-x", key_type="ed25519")

    def sign(client: hvac.Client) -> object:
        return client.secrets.transit.sign_data(
            name="fv-tenant-x", hash_input=base64.b64encode(b"x").decode()
        )

    with pytest.raises(VaultRefused, match="policy"):
        await vault.call(sign, name="transit.sign")
    with pytest.raises(VaultRefused, match="policy"):
        await TokenSigner(vault, key_name="fv-tenant-x").sign(_claims())


async def test_a_transit_key_that_is_not_ed25519_is_refused(
    openbao: OpenBaoServer, vault: VaultClient, key_name: str
) -> None:
    openbao.client().secrets.transit.create_key(name=key_name, key_type="aes256-gcm96")
    with pytest.raises(VaultRefused, match="not an ed25519 signing key"):
        await TokenSigner(vault, key_name=key_name).ensure_key()


async def test_signing_before_the_key_exists_says_what_to_do(
    vault: VaultClient, key_name: str
) -> None:
    with pytest.raises(VaultRefused, match="ensure_key"):
        await TokenSigner(vault, key_name=key_name).sign(_claims())


# -- failure and secrecy ----------------------------------------------------------------


async def test_signing_while_vault_is_down_is_unavailable(openbao_factory: Any) -> None:
    server: OpenBaoServer = openbao_factory()
    credentials = bootstrap_vault(server.addr, server.root_token, server.data_dir / "credentials")
    signer = TokenSigner(_identity_vault(server.addr, credentials))
    await signer.ensure_key()
    await signer.sign(_claims())

    server.stop()
    with pytest.raises(Unavailable, match=r"transit\.sign"):
        await signer.sign(_claims())
    with pytest.raises(Unavailable):  # a cold signer needs the key metadata first
        await TokenSigner(_identity_vault(server.addr, credentials)).sign(_claims())


async def test_no_token_or_claim_canary_reaches_logs_or_spans(
    signer: TokenSigner, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await signer.sign(_claims(sid=CANARY))
    await signer.rotate()
    token_after = await signer.sign(_claims(sid=CANARY))
    _, payload, signature = token.split(".")

    forbidden = [CANARY, token, token_after, payload, signature, token_after.split(".")[2]]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    attributes = repr(
        [
            (
                span.name,
                dict(span.attributes or {}),
                [dict(e.attributes or {}) for e in span.events],
            )
            for span in spans.get_finished_spans()
        ]
    )
    assert spans.get_finished_spans() and caplog.records  # we did look at something
    for value in forbidden:
        assert value not in logged
        assert value not in attributes


# -- key ids ----------------------------------------------------------------------------


@given(
    name=st.from_regex(r"fv-identity-[a-z0-9:-]{0,20}", fullmatch=True),
    version=st.integers(min_value=1, max_value=10**6),
)
def test_a_kid_names_its_key_and_version(name: str, version: int) -> None:
    assert parse_kid(kid_for(name, version)) == (name, version)


@pytest.mark.parametrize(
    "kid", ["", "fv-identity-signing", "fv-identity-signing:v0", ":v1", "x:vv"]
)
def test_a_kid_that_is_not_ours_is_rejected(kid: str) -> None:
    with pytest.raises(ValueError):
        parse_kid(kid)


async def test_the_platform_verifier_accepts_signed_tokens_and_sees_the_claims(
    signer: TokenSigner,
) -> None:
    """Both sides of the access-token contract agree: identity signs, any service verifies."""
    from fieldvault_platform.auth import DenyList, JwksCache, TokenVerifier

    verifier = TokenVerifier(
        JwksCache(signer.jwks), issuer=ISSUER, audience=AUDIENCE, deny_list=DenyList()
    )
    principal = await verifier.verify(await signer.sign(_claims()))
    assert principal.tenant_id == "tenant-1"
    assert principal.session_id == "session-1"
    assert principal.has_scope("work_orders:read")

    other_service = TokenVerifier(
        JwksCache(signer.jwks), issuer=ISSUER, audience="customer_vault", deny_list=DenyList()
    )
    with pytest.raises(Unauthenticated, match="token not valid for this service"):
        await other_service.verify(await signer.sign(_claims()))
